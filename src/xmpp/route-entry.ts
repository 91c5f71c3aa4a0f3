// The inet route <entry> of xmpp_unicast.xsd (reference §5): typed model, encoder, and two decoders
// (a tight string scanner for the shapes Contrail peers emit, and an ltx-element walker that is the
// fallback and the reference behaviour).
import type { Element } from 'ltx';
import { childText, escapeXml, unescapeXml } from './xml-text.ts';

export type LoadBalanceField =
  | 'l3-source-address' | 'l3-destination-address' | 'l4-protocol' | 'l4-source-port' | 'l4-destination-port';

export const LOAD_BALANCE_FIELDS: readonly LoadBalanceField[] = [
  'l3-source-address', 'l3-destination-address', 'l4-protocol', 'l4-source-port', 'l4-destination-port',
];

export interface XmppNextHop {
  af: number; address: string; mac: string; label: number; vni: number;
  encapsulations: string[]; virtualNetwork: string; tags: number[]; localSequenceNumber: number;
}

export interface XmppRouteEntry {
  af: number; safi: number; prefix: string; nextHops: XmppNextHop[]; version: number;
  virtualNetwork: string; mobility: { seqno: number; sticky: boolean }; sequenceNumber: number;
  securityGroups: number[]; communityTags: string[]; localPreference: number; med: number;
  loadBalance: { fields: LoadBalanceField[]; decision: string }; subProtocol: string;
}

/** A next-hop with every field at its §5 zero value, overridden by `p`. */
export function makeNextHop(p: Partial<XmppNextHop> & { address: string }): XmppNextHop {
  return {
    af: 1, mac: '', label: 0, vni: 0, encapsulations: ['gre', 'udp'], virtualNetwork: '', tags: [],
    localSequenceNumber: 0, ...p,
  };
}

/** An entry with every field at its §5 zero value, overridden by `p`. */
export function makeRouteEntry(p: Partial<XmppRouteEntry> & { prefix: string }): XmppRouteEntry {
  return {
    af: 1, safi: 1, nextHops: [], version: 1, virtualNetwork: '', mobility: { seqno: 0, sticky: false },
    sequenceNumber: 0, securityGroups: [], communityTags: [], localPreference: 0, med: 0,
    loadBalance: { fields: [], decision: '' }, subProtocol: '', ...p,
  };
}

function list(container: string, item: string, values: readonly (string | number)[]): string {
  if (values.length === 0) return `<${container}/>`;
  let s = `<${container}>`;
  for (const v of values) s += `<${item}>${typeof v === 'number' ? v : escapeXml(v)}</${item}>`;
  return s + `</${container}>`;
}

function encodeNextHop(nh: XmppNextHop): string {
  return '<next-hop>' +
    `<af>${nh.af}</af><address>${escapeXml(nh.address)}</address><mac>${escapeXml(nh.mac)}</mac>` +
    `<label>${nh.label}</label><vni>${nh.vni}</vni>` +
    list('tunnel-encapsulation-list', 'tunnel-encapsulation', nh.encapsulations) +
    `<virtual-network>${escapeXml(nh.virtualNetwork)}</virtual-network>` +
    list('tag-list', 'tag', nh.tags) +
    `<local-sequence-number>${nh.localSequenceNumber}</local-sequence-number>` +
    '</next-hop>';
}

/** Every element in XSD order, zero/empty when unset, as the generated Contrail encoder does (§5). */
export function encodeRouteEntry(e: XmppRouteEntry): string {
  let nhs = '';
  for (const nh of e.nextHops) nhs += encodeNextHop(nh);
  return '<entry>' +
    `<nlri><af>${e.af}</af><safi>${e.safi}</safi><address>${escapeXml(e.prefix)}</address></nlri>` +
    (nhs === '' ? '<next-hops/>' : `<next-hops>${nhs}</next-hops>`) +
    `<version>${e.version}</version>` +
    `<virtual-network>${escapeXml(e.virtualNetwork)}</virtual-network>` +
    `<mobility seqno="${e.mobility.seqno}" sticky="${e.mobility.sticky}"/>` +
    `<sequence-number>${e.sequenceNumber}</sequence-number>` +
    list('security-group-list', 'security-group', e.securityGroups) +
    list('community-tag-list', 'community-tag', e.communityTags) +
    `<local-preference>${e.localPreference}</local-preference>` +
    `<med>${e.med}</med>` +
    '<load-balance>' + list('load-balance-fields', 'load-balance-field-list', e.loadBalance.fields) +
    `<load-balance-decision>${escapeXml(e.loadBalance.decision)}</load-balance-decision></load-balance>` +
    `<sub-protocol>${escapeXml(e.subProtocol)}</sub-protocol>` +
    '</entry>';
}

export class EntryError extends Error {}

const INTEGER = /^\s*-?[0-9]+\s*$/;

function toInt(field: string, text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 0;
  if (!INTEGER.test(text)) throw new EntryError(`${field}: not an integer: ${JSON.stringify(text.slice(0, 40))}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new EntryError(`${field}: integer out of range: ${text.trim()}`);
  return n;
}

function toBool(field: string, text: string | undefined): boolean {
  if (text === undefined || text === '' || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  throw new EntryError(`${field}: not a boolean: ${JSON.stringify(text.slice(0, 40))}`);
}

function toFields(values: string[]): LoadBalanceField[] {
  for (const v of values) {
    if (!(LOAD_BALANCE_FIELDS as readonly string[]).includes(v)) {
      throw new EntryError(`load-balance-field-list: unknown field ${JSON.stringify(v.slice(0, 40))}`);
    }
  }
  return values as LoadBalanceField[];
}

// ---- ltx element path (fallback; also what validation-minded callers use) ----

function text(el: Element | undefined): string | undefined {
  return el === undefined ? undefined : el.getText();
}

function listTexts(el: Element | undefined, item: string): string[] {
  if (!el) return [];
  return el.getChildren(item).map((c) => c.getText());
}

/** Decodes an <entry> element; throws EntryError on a malformed field. */
export function entryFromElement(entry: Element): XmppRouteEntry {
  const nlri = entry.getChild('nlri');
  const nextHops: XmppNextHop[] = [];
  for (const nh of entry.getChild('next-hops')?.getChildren('next-hop') ?? []) {
    nextHops.push({
      af: toInt('next-hop/af', text(nh.getChild('af'))),
      address: text(nh.getChild('address')) ?? '',
      mac: text(nh.getChild('mac')) ?? '',
      label: toInt('next-hop/label', text(nh.getChild('label'))),
      vni: toInt('next-hop/vni', text(nh.getChild('vni'))),
      encapsulations: listTexts(nh.getChild('tunnel-encapsulation-list'), 'tunnel-encapsulation'),
      virtualNetwork: text(nh.getChild('virtual-network')) ?? '',
      tags: listTexts(nh.getChild('tag-list'), 'tag').map((t) => toInt('next-hop/tag', t)),
      localSequenceNumber: toInt('next-hop/local-sequence-number', text(nh.getChild('local-sequence-number'))),
    });
  }
  const mobility = entry.getChild('mobility');
  const lb = entry.getChild('load-balance');
  return {
    af: toInt('nlri/af', text(nlri?.getChild('af'))),
    safi: toInt('nlri/safi', text(nlri?.getChild('safi'))),
    prefix: text(nlri?.getChild('address')) ?? '',
    nextHops,
    version: toInt('version', text(entry.getChild('version'))),
    virtualNetwork: text(entry.getChild('virtual-network')) ?? '',
    mobility: {
      seqno: toInt('mobility/@seqno', mobility?.attrs.seqno),
      sticky: toBool('mobility/@sticky', mobility?.attrs.sticky),
    },
    sequenceNumber: toInt('sequence-number', text(entry.getChild('sequence-number'))),
    securityGroups: listTexts(entry.getChild('security-group-list'), 'security-group')
      .map((t) => toInt('security-group', t)),
    communityTags: listTexts(entry.getChild('community-tag-list'), 'community-tag'),
    localPreference: toInt('local-preference', text(entry.getChild('local-preference'))),
    med: toInt('med', text(entry.getChild('med'))),
    loadBalance: {
      fields: toFields(listTexts(lb?.getChild('load-balance-fields'), 'load-balance-field-list')),
      decision: text(lb?.getChild('load-balance-decision')) ?? '',
    },
    subProtocol: text(entry.getChild('sub-protocol')) ?? '',
  };
}

// ---- string scanner fast path ----

/** Signals "shape not understood here": the caller re-decodes with ltx. */
export const NOT_FAST = Symbol('not-fast');

function leaf(s: string, name: string, from: number, to: number): string | undefined | typeof NOT_FAST {
  const t = childText(s, name, from, to);
  if (t === undefined) return undefined;
  if (t.indexOf('<') >= 0) return NOT_FAST;
  const u = unescapeXml(t);
  return u === null ? NOT_FAST : u;
}

function leafList(s: string, container: string, item: string, from: number, to: number): string[] | typeof NOT_FAST {
  const inner = childText(s, container, from, to);
  if (inner === undefined || inner.trim() === '') return [];
  const out: string[] = [];
  const open = `<${item}>`;
  const close = `</${item}>`;
  let i = 0;
  for (;;) {
    while (i < inner.length && inner.charCodeAt(i) <= 32) i++;
    if (i >= inner.length) return out;
    if (!inner.startsWith(open, i)) return NOT_FAST;
    const end = inner.indexOf(close, i + open.length);
    if (end < 0) return NOT_FAST;
    const v = inner.slice(i + open.length, end);
    if (v.indexOf('<') >= 0) return NOT_FAST;
    const u = unescapeXml(v);
    if (u === null) return NOT_FAST;
    out.push(u);
    i = end + close.length;
  }
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) <= 32) i++;
  return i;
}

/** Bounds [start, end) of the content of the first `<name>` element in [from, to), or null. */
function section(s: string, name: string, from: number, to: number): [number, number] | null {
  const open = s.indexOf(`<${name}>`, from);
  if (open < 0 || open >= to) return null;
  const start = open + name.length + 2;
  const close = s.indexOf(`</${name}>`, start);
  if (close < 0 || close > to) return null;
  return [start, close];
}

/**
 * Decodes the <entry> whose content spans [from, to) of `s` without building a tree. Requires the
 * element-only shape our encoders and real agents emit (no attributes except on <mobility>);
 * returns NOT_FAST for anything else, and throws EntryError on bad field values (as the ltx path does).
 * The caller must have checked well-formedness (isSimpleWellFormed).
 */
export function entryFromString(s: string, from: number, to: number): XmppRouteEntry | typeof NOT_FAST {
  // Fixed shape: <nlri> first, <next-hops> right after it, every other leaf after both, since the
  // children of <nlri>/<next-hop> reuse entry-level names (af, address, virtual-network).
  let p = skipSpace(s, from);
  if (!s.startsWith('<nlri>', p)) return NOT_FAST;
  const nlri = section(s, 'nlri', p, to);
  if (!nlri) return NOT_FAST;
  p = skipSpace(s, nlri[1] + '</nlri>'.length);
  const nextHops: XmppNextHop[] = [];
  let rf: number;
  if (s.startsWith('<next-hops/>', p)) {
    rf = p + '<next-hops/>'.length;
  } else if (s.startsWith('<next-hops>', p)) {
    const nhs = section(s, 'next-hops', p, to);
    if (!nhs) return NOT_FAST;
    let q = skipSpace(s, nhs[0]);
    while (q < nhs[1]) {
      if (!s.startsWith('<next-hop>', q)) return NOT_FAST;
      const nh = section(s, 'next-hop', q, nhs[1]);
      if (!nh) return NOT_FAST;
      const [a, b] = nh;
      const af = leaf(s, 'af', a, b);
      const address = leaf(s, 'address', a, b);
      const mac = leaf(s, 'mac', a, b);
      const label = leaf(s, 'label', a, b);
      const vni = leaf(s, 'vni', a, b);
      const vn = leaf(s, 'virtual-network', a, b);
      const lsn = leaf(s, 'local-sequence-number', a, b);
      const encaps = leafList(s, 'tunnel-encapsulation-list', 'tunnel-encapsulation', a, b);
      const tags = leafList(s, 'tag-list', 'tag', a, b);
      if (af === NOT_FAST || address === NOT_FAST || mac === NOT_FAST || label === NOT_FAST || vni === NOT_FAST ||
        vn === NOT_FAST || lsn === NOT_FAST || encaps === NOT_FAST || tags === NOT_FAST) return NOT_FAST;
      nextHops.push({
        af: toInt('next-hop/af', af), address: address ?? '', mac: mac ?? '',
        label: toInt('next-hop/label', label), vni: toInt('next-hop/vni', vni), encapsulations: encaps,
        virtualNetwork: vn ?? '', tags: tags.map((t) => toInt('next-hop/tag', t)),
        localSequenceNumber: toInt('next-hop/local-sequence-number', lsn),
      });
      q = skipSpace(s, b + '</next-hop>'.length);
    }
    rf = nhs[1] + '</next-hops>'.length;
  } else {
    return NOT_FAST;
  }
  const rt = to;
  const af = leaf(s, 'af', nlri[0], nlri[1]);
  const safi = leaf(s, 'safi', nlri[0], nlri[1]);
  const prefix = leaf(s, 'address', nlri[0], nlri[1]);
  const version = leaf(s, 'version', rf, rt);
  const vn = leaf(s, 'virtual-network', rf, rt);
  const seq = leaf(s, 'sequence-number', rf, rt);
  const lp = leaf(s, 'local-preference', rf, rt);
  const med = leaf(s, 'med', rf, rt);
  const sub = leaf(s, 'sub-protocol', rf, rt);
  const sgs = leafList(s, 'security-group-list', 'security-group', rf, rt);
  const tags = leafList(s, 'community-tag-list', 'community-tag', rf, rt);
  if (af === NOT_FAST || safi === NOT_FAST || prefix === NOT_FAST || version === NOT_FAST || vn === NOT_FAST ||
    seq === NOT_FAST || lp === NOT_FAST || med === NOT_FAST || sub === NOT_FAST || sgs === NOT_FAST ||
    tags === NOT_FAST) return NOT_FAST;
  let lbFields: string[] = [];
  let lbDecision: string | undefined = '';
  const lb = section(s, 'load-balance', rf, rt);
  if (lb) {
    const f = leafList(s, 'load-balance-fields', 'load-balance-field-list', lb[0], lb[1]);
    const d = leaf(s, 'load-balance-decision', lb[0], lb[1]);
    if (f === NOT_FAST || d === NOT_FAST) return NOT_FAST;
    lbFields = f;
    lbDecision = d;
  } else if (s.indexOf('<load-balance', rf) >= 0 && s.indexOf('<load-balance', rf) < rt &&
    s.indexOf('<load-balance/>', rf) < 0) {
    return NOT_FAST;
  }
  let mobility = { seqno: 0, sticky: false };
  const mob = s.indexOf('<mobility', rf);
  if (mob >= 0 && mob < rt) {
    const m = /^<mobility(?:\s+seqno="(-?\d*)")?(?:\s+sticky="(true|false|0|1|)")?\s*\/>/.exec(s.slice(mob, mob + 80));
    if (!m) return NOT_FAST;
    mobility = { seqno: toInt('mobility/@seqno', m[1]), sticky: toBool('mobility/@sticky', m[2]) };
  }
  return {
    af: toInt('nlri/af', af), safi: toInt('nlri/safi', safi), prefix: prefix ?? '', nextHops,
    version: toInt('version', version), virtualNetwork: vn ?? '', mobility,
    sequenceNumber: toInt('sequence-number', seq), securityGroups: sgs.map((t) => toInt('security-group', t)),
    communityTags: tags, localPreference: toInt('local-preference', lp), med: toInt('med', med),
    loadBalance: { fields: toFields(lbFields), decision: lbDecision ?? '' }, subProtocol: sub ?? '',
  };
}
