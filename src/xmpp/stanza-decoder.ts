// Decoders of Contrail's XMPP stanzas (docs/protocol.md §2.2, §3, §4) and the control node's checks on a
// decoded agent publish. Decoders never throw. Decoding tries a string scanner for the fixed shapes peers
// emit (the publish + collection pair first in one pass, ./publish-scanner.ts), then falls back to a full
// ltx parse for anything else.
// It does not encode (./stanza-encoder.ts) nor decode the route entry itself (./route-entry.ts).
import { parse as parseLtx } from 'ltx';
import type { Element } from 'ltx';
import { isIpv4, parseIpv4Prefix } from '../net/ipv4.ts';
import { ROUTE_LABEL_MAX } from '../net/labels.ts';
import {
  EntryError, NOT_FAST, entryFromElement, entryFromString, type XmppRouteEntry,
} from './route-entry.ts';
import { KnownTag, readKnownTag, readOpenTag } from './xml-text.ts';
import { ownString, type EntryCache } from './entry-cache.ts';
import { scanAgentRouteStanza, type ScannedAgentStanza } from './publish-scanner.ts';
import { BGP_PEER_RESOURCE, END_OF_RIB_NODE, PUBSUB_NS } from './stanza-encoder.ts';

export type { ScannedAgentStanza } from './publish-scanner.ts';

export interface StanzaError { error: string }
export function isStanzaError(x: unknown): x is StanzaError {
  return typeof x === 'object' && x !== null && typeof (x as { error?: unknown }).error === 'string' &&
    !('kind' in x);
}

// A constant of this module rather than an import: agentFast matches it once per published route.
const PUBSUB_OPEN = `<pubsub xmlns="${PUBSUB_NS}">`;

export type AgentStanza =
  | { kind: 'subscribe' | 'unsubscribe'; from: string; id: string; instance: string; instanceId: number; noRibout: boolean }
  | { kind: 'publish'; from: string; id: string; node: string; afi: number; safi: number; instance: string; prefix: string; entry: XmppRouteEntry | null }
  | { kind: 'collection'; from: string; id: string; instance: string; action: 'associate' | 'dissociate'; node: string }
  | { kind: 'end-of-rib'; from: string }
  | { kind: 'other'; resource: string; element: Element };

export type ControlStanza =
  | { kind: 'items'; to: string; instance: string; afi: number; safi: number; entries: XmppRouteEntry[] }
  | { kind: 'retract'; to: string; instance: string; afi: number; safi: number; prefixes: string[] }
  | { kind: 'end-of-rib'; to: string }
  | { kind: 'other'; resource: string; element: Element };

const err = (error: string): StanzaError => ({ error });

function resourceOf(jid: string | undefined): string {
  if (!jid) return '';
  const slash = jid.indexOf('/');
  return slash < 0 ? '' : jid.slice(slash + 1);
}

function parseXml(raw: string): Element | StanzaError {
  if (raw.indexOf('<!') >= 0) return err('DOCTYPE, entity declarations, comments and CDATA are not accepted');
  if (raw.indexOf('<?') >= 0) return err('processing instructions are not accepted inside a stanza');
  try {
    const el = parseLtx(raw);
    return el;
  } catch (e) {
    return err(`malformed XML: ${(e as Error).message}`);
  }
}

/** Splits a publish node `<afi>/<safi>/<instance>/<prefix>/<plen>[/<primary-instance-id>]` (docs/protocol.md §3.2). */
export function parsePublishNode(node: string): { afi: number; safi: number; instance: string; prefix: string } | StanzaError {
  // Slash positions rather than split: this runs for every published route.
  const s1 = node.indexOf('/');
  const s2 = s1 < 0 ? -1 : node.indexOf('/', s1 + 1);
  const s3 = s2 < 0 ? -1 : node.indexOf('/', s2 + 1);
  const s4 = s3 < 0 ? -1 : node.indexOf('/', s3 + 1);
  const s5 = s4 < 0 ? -1 : node.indexOf('/', s4 + 1);
  if (s4 < 0 || (s5 >= 0 && node.indexOf('/', s5 + 1) >= 0)) {
    return err(`publish node ${JSON.stringify(node)}: expected <afi>/<safi>/<instance>/<prefix>/<plen>`);
  }
  if (!digitsOnly(node, 0, s1) || !digitsOnly(node, s1 + 1, s2)) return err(`publish node ${JSON.stringify(node)}: afi/safi must be integers`);
  if (s3 === s2 + 1) return err(`publish node ${JSON.stringify(node)}: empty instance`);
  return {
    afi: Number(node.slice(0, s1)),
    safi: Number(node.slice(s1 + 1, s2)),
    instance: node.slice(s2 + 1, s3),
    prefix: node.slice(s3 + 1, s5 < 0 ? node.length : s5),
  };
}

/** /^\d+$/ on node[from, to). */
function digitsOnly(node: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = node.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Splits an items node `<afi>/<safi>/<instance>` (docs/protocol.md §4). */
function parseItemsNode(node: string): { afi: number; safi: number; instance: string } | StanzaError {
  const m = /^(\d+)\/(\d+)\/(.+)$/.exec(node);
  if (!m || m[3].includes('/')) return err(`items node ${JSON.stringify(node)}: expected <afi>/<safi>/<instance>`);
  return { afi: Number(m[1]), safi: Number(m[2]), instance: m[3] };
}

function firstChildElement(el: Element): Element | undefined {
  for (const c of el.children) if (typeof c !== 'string') return c;
  return undefined;
}

function findDeep(el: Element, name: string): Element | undefined {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (c.name === name) return c;
    const d = findDeep(c, name);
    if (d) return d;
  }
  return undefined;
}

function agentFromElement(el: Element): AgentStanza | StanzaError {
  const from = el.attrs.from ?? '';
  if (el.name === 'message') {
    const items = el.getChild('event', PUBSUB_NS)?.getChild('items');
    // docs/protocol.md §3.4: the agent's EoR; a message without <items> is also EoR-like for the real agent (docs/protocol.md §4.3).
    if (!items || items.attrs.node === END_OF_RIB_NODE) return { kind: 'end-of-rib', from };
    return err(`unexpected message from an agent (items node ${JSON.stringify(items.attrs.node ?? '')})`);
  }
  if (el.name !== 'iq') return err(`unknown stanza <${el.name}>`);
  const resource = resourceOf(el.attrs.to);
  if (resource !== BGP_PEER_RESOURCE) return { kind: 'other', resource, element: el };
  const id = el.attrs.id ?? '';
  const pubsub = el.getChild('pubsub', PUBSUB_NS) ?? el.getChild('pubsub');
  if (!pubsub) return err('iq to bgp-peer without <pubsub>');
  const action = firstChildElement(pubsub);
  if (!action) return err('<pubsub> without an action element');
  const node = action.attrs.node;
  switch (action.name) {
    case 'subscribe':
    case 'unsubscribe': {
      if (!node) return err(`<${action.name}> without node`);
      // docs/protocol.md §3.1: the real control node searches the whole document for <options>.
      const options = findDeep(el, 'options');
      const idText = options?.getChildText('instance-id');
      if (idText === null || idText === undefined || !/^\s*\d+\s*$/.test(idText)) {
        return err(`<${action.name} node=${JSON.stringify(node)}>: missing or non-integer <instance-id>`);
      }
      const instanceId = Number(idText);
      if (instanceId > 0xffff) return err(`<${action.name}>: instance-id ${instanceId} exceeds 16 bits`);
      const noRibout = (options?.getChildText('no-ribout') ?? '').trim() === 'true';
      return { kind: action.name, from, id, instance: node, instanceId, noRibout };
    }
    case 'publish': {
      if (!node) return err('<publish> without node');
      const parsed = parsePublishNode(node);
      if (isStanzaError(parsed)) return parsed;
      const entryEl = action.getChild('item')?.getChild('entry');
      if (action.getChild('item') && !entryEl) return err('publish <item> without <entry>');
      let entry: XmppRouteEntry | null = null;
      if (entryEl) {
        try {
          entry = entryFromElement(entryEl);
        } catch (e) {
          if (e instanceof EntryError) return err(`publish ${node}: ${e.message}`);
          throw e;
        }
      }
      return { kind: 'publish', from, id, node, ...parsed, entry };
    }
    case 'collection': {
      if (!node) return err('<collection> without node');
      const inner = firstChildElement(action);
      if (!inner || (inner.name !== 'associate' && inner.name !== 'dissociate') || !inner.attrs.node) {
        return err(`<collection node=${JSON.stringify(node)}>: expected <associate node=…/> or <dissociate node=…/>`);
      }
      return { kind: 'collection', from, id, instance: node, action: inner.name, node: inner.attrs.node };
    }
    default:
      return err(`unknown pubsub action <${action.name}>`);
  }
}

// One reused tag for agentFast (single-threaded, and nothing it calls reads a tag).
const TAG = new KnownTag();
const COLLECTION_TAIL = ['collection', 'pubsub', 'iq'];
const ASSOCIATE_TAIL = ['associate', 'collection', 'pubsub', 'iq'];
const DISSOCIATE_TAIL = ['dissociate', 'collection', 'pubsub', 'iq'];
const EMPTY_PUBLISH_TAIL = ['publish', 'pubsub', 'iq'];
const PUBLISH_TAIL = ['item', 'publish', 'pubsub', 'iq'];

/**
 * Fast path for the two hot agent stanzas (publish, collection); undefined = use the ltx path, which
 * it also leaves every attribute it does not read to (see readKnownTag).
 */
function agentFast(raw: string): AgentStanza | StanzaError | undefined {
  if (!raw.startsWith('<iq ')) return undefined;
  const tag = TAG;
  if (!readKnownTag(raw, 0, tag) || tag.selfClosing || resourceOf(tag.to) !== BGP_PEER_RESOURCE) return undefined;
  const from = tag.from ?? '';
  const id = tag.id ?? '';
  let p = tag.end;
  while (raw.charCodeAt(p) <= 32) p++;
  if (raw.startsWith(PUBSUB_OPEN, p)) {
    p += PUBSUB_OPEN.length;
  } else {
    if (!readKnownTag(raw, p, tag) || tag.name !== 'pubsub' || tag.selfClosing) return undefined;
    p = tag.end;
  }
  while (raw.charCodeAt(p) <= 32) p++;
  if (!readKnownTag(raw, p, tag) || tag.selfClosing) return undefined;
  const isCollection = tag.name === 'collection';
  if (!isCollection && tag.name !== 'publish') return undefined;
  const node = tag.node;
  if (!node) return undefined;
  p = tag.end;
  while (raw.charCodeAt(p) <= 32) p++;
  if (isCollection) {
    if (!readKnownTag(raw, p, tag) || (tag.name !== 'associate' && tag.name !== 'dissociate') || !tag.node) return undefined;
    const action = tag.name;
    const tail = tag.selfClosing ? COLLECTION_TAIL : action === 'associate' ? ASSOCIATE_TAIL : DISSOCIATE_TAIL;
    if (!closesToEnd(raw, tag.end, tail)) return undefined;
    return { kind: 'collection', from, id, instance: node, action, node: tag.node };
  }
  const parsed = parsePublishNode(node);
  if (isStanzaError(parsed)) return parsed;
  const { afi, safi, instance, prefix } = parsed;
  if (raw.startsWith('</publish', p)) {
    return closesToEnd(raw, p, EMPTY_PUBLISH_TAIL) ? { kind: 'publish', from, id, node, afi, safi, instance, prefix, entry: null } : undefined;
  }
  if (!raw.startsWith('<item>', p)) return undefined;
  p += '<item>'.length;
  while (raw.charCodeAt(p) <= 32) p++;
  if (!raw.startsWith('<entry>', p)) return undefined;
  try {
    const r = entryFromString(raw, p + '<entry>'.length);
    if (r === NOT_FAST || !closesToEnd(raw, r.end, PUBLISH_TAIL)) return undefined;
    return { kind: 'publish', from, id, node, afi, safi, instance, prefix, entry: r.entry };
  } catch (e) {
    if (e instanceof EntryError) return err(`publish ${node}: ${e.message}`);
    throw e;
  }
}

/** True when [p, end) is exactly the close tags `names` (blanks allowed between and before `>`). */
function closesToEnd(raw: string, p: number, names: readonly string[]): boolean {
  for (const name of names) {
    while (raw.charCodeAt(p) <= 32) p++;
    if (!raw.startsWith('</', p) || !raw.startsWith(name, p + 2)) return false;
    p += 2 + name.length;
    while (raw.charCodeAt(p) <= 32) p++;
    if (raw.charCodeAt(p) !== 62) return false;
    p++;
  }
  while (p < raw.length && raw.charCodeAt(p) <= 32) p++;
  return p === raw.length;
}

/**
 * Decodes one framed agent → control-node stanza (docs/protocol.md §3). Never throws. `read`: what the
 * server's framer already read `raw` as where it lay (./agent-route-reader.ts), if it did.
 */
export function decodeAgentStanza(raw: string, read?: ScannedAgentStanza): AgentStanza | StanzaError {
  if (read !== undefined) return read;
  return decodeStanza(raw, undefined, agentFastPaths, agentFromElement);
}

function agentFastPaths(raw: string): AgentStanza | StanzaError | undefined {
  return scanAgentRouteStanza(raw) ?? agentFast(raw);
}

/**
 * The frame both directions share: the shapes the peer emits read in place (`fast`), anything else parsed
 * as XML and read from the element; whatever throws becomes one error, never an exception.
 */
function decodeStanza<T>(
  raw: string, cache: EntryCache | undefined,
  fast: (raw: string, cache: EntryCache | undefined) => T | StanzaError | undefined,
  fromElement: (el: Element) => T | StanzaError,
): T | StanzaError {
  try {
    const read = fast(raw, cache);
    if (read) return read;
    const el = parseXml(raw);
    if (isStanzaError(el)) return el;
    return fromElement(el);
  } catch (e) {
    return err(`undecodable stanza: ${(e as Error).message}`);
  }
}

function controlFromElement(el: Element): ControlStanza | StanzaError {
  const to = el.attrs.to ?? '';
  const resource = resourceOf(to);
  const bareTo = resource === '' ? to : to.slice(0, to.length - resource.length - 1);
  if (el.name !== 'message') {
    if (el.name === 'iq') return { kind: 'other', resource, element: el };
    return err(`unknown stanza <${el.name}>`);
  }
  if (resource !== BGP_PEER_RESOURCE) return { kind: 'other', resource, element: el };
  const items = el.getChild('event', PUBSUB_NS)?.getChild('items') ?? el.getChild('event')?.getChild('items');
  if (!items || items.attrs.node === END_OF_RIB_NODE) return { kind: 'end-of-rib', to: bareTo };
  const parsed = parseItemsNode(items.attrs.node ?? '');
  if (isStanzaError(parsed)) return parsed;
  const children = items.getChildElements();
  if (children.length > 0 && children.every((c) => c.name === 'retract')) {
    const prefixes: string[] = [];
    for (const r of children) {
      if (!r.attrs.id) return err('<retract> without id');
      prefixes.push(r.attrs.id);
    }
    return { kind: 'retract', to: bareTo, ...parsed, prefixes };
  }
  const entries: XmppRouteEntry[] = [];
  for (const item of children) {
    if (item.name !== 'item') return err(`<items> mixes <${item.name}> with <item>`);
    const entryEl = item.getChild('entry');
    if (!entryEl) return err(`<item id=${JSON.stringify(item.attrs.id ?? '')}> without <entry>`);
    try {
      entries.push(entryFromElement(entryEl));
    } catch (e) {
      if (e instanceof EntryError) return err(`item ${item.attrs.id ?? ''}: ${e.message}`);
      throw e;
    }
  }
  return { kind: 'items', to: bareTo, ...parsed, entries };
}

function controlFast(raw: string, cache: EntryCache | undefined): ControlStanza | StanzaError | undefined {
  if (!raw.startsWith('<message ')) return undefined;
  const msg = readOpenTag(raw, 0);
  if (!msg || msg.selfClosing) return undefined;
  const to = msg.attrs.to ?? '';
  const resource = resourceOf(to);
  if (resource !== BGP_PEER_RESOURCE) return undefined;
  let p = msg.end;
  while (raw.charCodeAt(p) <= 32) p++;
  const ev = readOpenTag(raw, p);
  if (!ev || ev.name !== 'event' || ev.selfClosing) return undefined;
  p = ev.end;
  while (raw.charCodeAt(p) <= 32) p++;
  const items = readOpenTag(raw, p);
  if (!items || items.name !== 'items' || items.selfClosing || !items.attrs.node || items.attrs.node === END_OF_RIB_NODE) return undefined;
  const parsed = parseItemsNode(items.attrs.node);
  if (isStanzaError(parsed)) return parsed;
  if (cache !== undefined) parsed.instance = cache.name(parsed.instance);
  const bareTo = to.slice(0, to.length - resource.length - 1);
  p = items.end;
  // a body many agents receive alike (entry-cache.ts): decoded once per process
  const bodyFrom = p;
  const bodyTo = cache !== undefined && raw.endsWith(ITEMS_MESSAGE_CLOSE) ? raw.length - ITEMS_MESSAGE_CLOSE.length : -1;
  const known = bodyTo > bodyFrom ? cache!.lookupBody(raw, bodyFrom, bodyTo) : undefined;
  if (known !== undefined) return { kind: 'items', to: bareTo, ...parsed, entries: known as XmppRouteEntry[] };
  const entries: XmppRouteEntry[] = [];
  const prefixes: string[] = [];
  for (;;) {
    while (raw.charCodeAt(p) <= 32) p++;
    if (raw.startsWith('</items', p)) break;
    const tag = readOpenTag(raw, p);
    if (!tag) return undefined;
    if (tag.name === 'retract' && tag.selfClosing && tag.attrs.id && entries.length === 0) {
      prefixes.push(tag.attrs.id);
      p = tag.end;
      continue;
    }
    if (tag.name !== 'item' || tag.selfClosing || prefixes.length > 0) return undefined;
    p = tag.end;
    while (raw.charCodeAt(p) <= 32) p++;
    if (!raw.startsWith('<entry>', p)) return undefined;
    const from = p + '<entry>'.length;
    // entries nest nothing called <entry>: the text up to </entry> decides the decoded entry
    const shared = cache?.lookup(raw, from, '</entry>');
    const close = cache === undefined || shared !== undefined ? -1 : raw.indexOf('</entry>', from);
    if (shared !== undefined) {
      entries.push(shared.entry);
      p = shared.to + '</entry>'.length;
      while (raw.charCodeAt(p) <= 32) p++;
      if (!raw.startsWith('</item>', p)) return undefined;
      p += '</item>'.length;
      continue;
    }
    let r;
    try {
      if (close >= 0) {
        // decoded from a copy of its own so that the cached entry's strings do not keep the stanza alive
        const own = ownString(raw.slice(from, close + '</entry>'.length));
        const fromOwn = entryFromString(own, 0);
        if (fromOwn !== NOT_FAST) cache!.set(own.slice(0, own.length - '</entry>'.length), fromOwn.entry);
        r = fromOwn === NOT_FAST ? fromOwn : { entry: fromOwn.entry, end: close + '</entry>'.length };
      } else {
        r = entryFromString(raw, from);
      }
    } catch (e) {
      if (e instanceof EntryError) return err(`item ${tag.attrs.id ?? ''}: ${e.message}`);
      throw e;
    }
    if (r === NOT_FAST) return undefined;
    entries.push(r.entry);
    p = r.end;
    while (raw.charCodeAt(p) <= 32) p++;
    if (!raw.startsWith('</item>', p)) return undefined;
    p += '</item>'.length;
  }
  if (!closesToEnd(raw, p, ['items', 'event', 'message'])) return undefined;
  if (prefixes.length > 0) return { kind: 'retract', to: bareTo, ...parsed, prefixes };
  if (bodyTo > bodyFrom && p === bodyTo && entries.length > 0) cache!.setBody(ownString(raw.slice(bodyFrom, bodyTo)), entries);
  return { kind: 'items', to: bareTo, ...parsed, entries };
}

const ITEMS_MESSAGE_CLOSE = '</items></event></message>';

/** decodeAgentStanza without the fast path: the reference behaviour the fast path must agree with. */
export function decodeAgentStanzaFull(raw: string): AgentStanza | StanzaError {
  try {
    const el = parseXml(raw);
    return isStanzaError(el) ? el : agentFromElement(el);
  } catch (e) {
    return err(`undecodable stanza: ${(e as Error).message}`);
  }
}

/**
 * Decodes one framed control-node → agent stanza (docs/protocol.md §4). Never throws. With `cache`, route
 * entries whose text was decoded before are shared (the same object for every caller): the caller must not
 * change them.
 */
export function decodeControlStanza(raw: string, cache?: EntryCache): ControlStanza | StanzaError {
  return decodeStanza(raw, cache, controlFast, controlFromElement);
}

let lastValidNextHop: string | undefined;

/**
 * The control node's checks on an agent publish (docs/protocol.md §3.2, §5): null when acceptable, else the reason
 * (the caller closes the session). `withdraw` = the pair's collection was a dissociate.
 */
export function validateAgentRoute(p: { afi: number; safi: number; prefix: string; entry: XmppRouteEntry | null; instance: string }, withdraw = false): string | null {
  if (p.afi !== 1) return `publish ${p.prefix}: afi ${p.afi} is not inet (1)`;
  if (p.safi !== 1 && p.safi !== 4) return `publish ${p.prefix}: safi ${p.safi} is not unicast (1) or labeled (4)`;
  // Host bits are accepted: Contrail's parser masks them (docs/protocol.md §5).
  if (typeof parseIpv4Prefix(p.prefix, 'allow') === 'string') return `publish: prefix ${JSON.stringify(p.prefix)} is not a valid IPv4 prefix`;
  const e = p.entry;
  if (!e) return null;
  if (e.af !== 1) return `publish ${p.prefix}: entry nlri af ${e.af} is not 1`;
  // The NLRI almost always spells the node's prefix, checked just above.
  if (e.prefix !== p.prefix && typeof parseIpv4Prefix(e.prefix, 'allow') === 'string') return `publish ${p.prefix}: nlri address ${JSON.stringify(e.prefix)} is not a valid IPv4 prefix`;
  if (withdraw) return null;
  if (e.nextHops.length !== 1) return `publish ${p.prefix}: an agent route needs exactly one next-hop, got ${e.nextHops.length}`;
  const nh = e.nextHops[0];
  // An agent's routes share its one next hop: the last address found valid needs no second look.
  if (nh.address !== lastValidNextHop) {
    if (!isIpv4(nh.address)) return `publish ${p.prefix}: next-hop address ${JSON.stringify(nh.address)} is not IPv4`;
    lastValidNextHop = nh.address;
  }
  if (nh.label === 0 || nh.label < 0 || nh.label > ROUTE_LABEL_MAX) return `publish ${p.prefix}: label ${nh.label} outside 1..${ROUTE_LABEL_MAX}`;
  return null;
}

/** decodeControlStanza without the fast path. */
export function decodeControlStanzaFull(raw: string): ControlStanza | StanzaError {
  try {
    const el = parseXml(raw);
    return isStanzaError(el) ? el : controlFromElement(el);
  } catch (e) {
    return err(`undecodable stanza: ${(e as Error).message}`);
  }
}
