// The inet route <entry> of xmpp_unicast.xsd (docs/protocol.md §5): typed model, encoder, and two decoders
// (a tight string scanner for the shapes Contrail peers emit, and an ltx-element walker that is the
// fallback and the reference behaviour).
import type { Element } from 'ltx';
import type { HashField } from '../net/hash-fields.ts';
import { escapeXml, unescapeXml } from './xml-text.ts';

export type LoadBalanceField =
  | 'l3-source-address' | 'l3-destination-address' | 'l4-protocol' | 'l4-source-port' | 'l4-destination-port';

export const LOAD_BALANCE_FIELDS: readonly LoadBalanceField[] = [
  'l3-source-address', 'l3-destination-address', 'l4-protocol', 'l4-source-port', 'l4-destination-port',
];

// XMPP's wire names of the five hash fields of src/net (docs/protocol.md §5).
const WIRE_NAME: Readonly<Record<HashField, LoadBalanceField>> = {
  'source-ip': 'l3-source-address',
  'destination-ip': 'l3-destination-address',
  'ip-protocol': 'l4-protocol',
  'source-port': 'l4-source-port',
  'destination-port': 'l4-destination-port',
};
const HASH_FIELD = new Map(Object.entries(WIRE_NAME).map(([field, wire]) => [wire, field as HashField]));

export function loadBalanceFieldOf(field: HashField): LoadBalanceField {
  return WIRE_NAME[field];
}

export function hashFieldOf(field: LoadBalanceField): HashField {
  return HASH_FIELD.get(field)!;
}

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

/** A next-hop with every field at its docs/protocol.md §5 zero value, overridden by `p`. */
export function makeNextHop(p: Partial<XmppNextHop> & { address: string }): XmppNextHop {
  return {
    af: 1, mac: '', label: 0, vni: 0, encapsulations: ['gre', 'udp'], virtualNetwork: '', tags: [],
    localSequenceNumber: 0, ...p,
  };
}

/** An entry with every field at its docs/protocol.md §5 zero value, overridden by `p`. */
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

/** Every element in XSD order, zero/empty when unset, as the generated Contrail encoder does (docs/protocol.md §5). */
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

/** Integer text without regex or allocation; throws EntryError like toInt. */
function fastInt(field: string, s: string, a: number, b: number): number {
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  if (a === b) return 0;
  let neg = false;
  if (s.charCodeAt(a) === 45) { neg = true; a++; }
  if (a === b || b - a > 15) return toInt(field, s.slice(neg ? a - 1 : a, b));
  let n = 0;
  for (let i = a; i < b; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return toInt(field, s.slice(neg ? a - 1 : a, b));
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

const MOBILITY_TAG = /<mobility(?:\s+seqno="(-?\d*)")?(?:\s+sticky="(true|false|0|1|)")?\s*\/>/y;

// Scanner state: module-level so the helpers below stay allocation-free (single-threaded, and no
// helper calls out while a scan is in progress).
let S = '';
let P = 0;

/** S.startsWith(str, pos) without the builtin's per-call overhead, which dominates on short tags. */
function at(str: string, pos: number): boolean {
  const n = str.length;
  if (pos + n > S.length) return false;
  for (let k = 0; k < n; k++) if (S.charCodeAt(pos + k) !== str.charCodeAt(k)) return false;
  return true;
}

function blanks(): void {
  while (S.charCodeAt(P) <= 32 && P < S.length) P++;
}

/** Consumes `str` (after blanks) if it is next. */
function take(str: string): boolean {
  blanks();
  if (!at(str, P)) return false;
  P += str.length;
  return true;
}

/**
 * Consumes `<name>text</name>` or `<name/>` if next; returns the text bounds in A/B (empty for the
 * self-closed form), false when the element is not next. Throws NotFast on a shape we do not scan.
 */
let A = 0;
let B = 0;
class NotFast extends Error {}
const NOT_FAST_ERR = new NotFast();

function leafAt(name: string): boolean {
  blanks();
  if (S.charCodeAt(P) !== 60 || !at(name, P + 1)) return false;
  const q = P + 1 + name.length;
  const c = S.charCodeAt(q);
  if (c === 47 && S.charCodeAt(q + 1) === 62) {
    A = B = q;
    P = q + 2;
    return true;
  }
  if (c !== 62) return false;
  A = q + 1;
  B = S.indexOf('<', A);
  if (B < 0 || S.charCodeAt(B + 1) !== 47 || !at(name, B + 2) || S.charCodeAt(B + 2 + name.length) !== 62) throw NOT_FAST_ERR;
  P = B + 3 + name.length;
  return true;
}

function leafInt(field: string, name: string, dflt: number): number {
  return leafAt(name) ? fastInt(field, S, A, B) : dflt;
}

function leafStr(name: string): string {
  if (!leafAt(name)) return '';
  const t = S.slice(A, B);
  if (t.indexOf('>') >= 0) throw NOT_FAST_ERR;
  if (t.indexOf('&') < 0) return t;
  const u = unescapeXml(t);
  if (u === null) throw NOT_FAST_ERR;
  return u;
}

interface ListTags { empty: string; open: string; close: string; item: string }
const listTags = (container: string, item: string): ListTags =>
  ({ empty: `<${container}/>`, open: `<${container}>`, close: `</${container}>`, item });
const ENCAPS = listTags('tunnel-encapsulation-list', 'tunnel-encapsulation');
const TAGS = listTags('tag-list', 'tag');
const SGS = listTags('security-group-list', 'security-group');
const COMMUNITIES = listTags('community-tag-list', 'community-tag');
const LB_FIELDS = listTags('load-balance-fields', 'load-balance-field-list');

/** `<container>` (<item>…</item>)* `</container>`, or `<container/>`, or absent. */
function leafList(t: ListTags): string[] {
  const out: string[] = [];
  if (take(t.empty) || !take(t.open)) return out;
  while (leafAt(t.item)) {
    const v = S.slice(A, B);
    if (v.indexOf('>') >= 0) throw NOT_FAST_ERR;
    const u = v.indexOf('&') < 0 ? v : unescapeXml(v);
    if (u === null) throw NOT_FAST_ERR;
    out.push(u);
  }
  if (!take(t.close)) throw NOT_FAST_ERR;
  return out;
}

function intList(field: string, t: ListTags): number[] {
  const out: number[] = [];
  if (take(t.empty) || !take(t.open)) return out;
  while (leafAt(t.item)) out.push(fastInt(field, S, A, B));
  if (!take(t.close)) throw NOT_FAST_ERR;
  return out;
}

function scanNextHop(): XmppNextHop {
  const af = leafInt('next-hop/af', 'af', 0);
  const address = leafStr('address');
  const mac = leafStr('mac');
  const label = leafInt('next-hop/label', 'label', 0);
  const vni = leafInt('next-hop/vni', 'vni', 0);
  const encapsulations = leafList(ENCAPS);
  const virtualNetwork = leafStr('virtual-network');
  const tags = intList('next-hop/tag', TAGS);
  const localSequenceNumber = leafInt('next-hop/local-sequence-number', 'local-sequence-number', 0);
  if (!take('</next-hop>')) throw NOT_FAST_ERR;
  return { af, address, mac, label, vni, encapsulations, virtualNetwork, tags, localSequenceNumber };
}

function scanEntry(): XmppRouteEntry {
  if (!take('<nlri>')) throw NOT_FAST_ERR;
  const af = leafInt('nlri/af', 'af', 0);
  const safi = leafInt('nlri/safi', 'safi', 0);
  const prefix = leafStr('address');
  if (!take('</nlri>')) throw NOT_FAST_ERR;
  const nextHops: XmppNextHop[] = [];
  if (!take('<next-hops/>') && take('<next-hops>')) {
    for (;;) {
      if (take('<next-hop>')) nextHops.push(scanNextHop());
      else if (take('</next-hops>')) break;
      else throw NOT_FAST_ERR;
    }
  }
  const version = leafInt('version', 'version', 0);
  const virtualNetwork = leafStr('virtual-network');
  let mobility = { seqno: 0, sticky: false };
  blanks();
  if (at('<mobility', P)) {
    MOBILITY_TAG.lastIndex = P;
    const m = MOBILITY_TAG.exec(S);
    if (!m) throw NOT_FAST_ERR;
    mobility = { seqno: toInt('mobility/@seqno', m[1]), sticky: toBool('mobility/@sticky', m[2]) };
    P += m[0].length;
  }
  const sequenceNumber = leafInt('sequence-number', 'sequence-number', 0);
  const securityGroups = intList('security-group', SGS);
  const communityTags = leafList(COMMUNITIES);
  const localPreference = leafInt('local-preference', 'local-preference', 0);
  const med = leafInt('med', 'med', 0);
  let fields: string[] = [];
  let decision = '';
  if (!take('<load-balance/>') && take('<load-balance>')) {
    fields = leafList(LB_FIELDS);
    decision = leafStr('load-balance-decision');
    if (!take('</load-balance>')) throw NOT_FAST_ERR;
  }
  const subProtocol = leafStr('sub-protocol');
  if (!take('</entry>')) throw NOT_FAST_ERR;
  return {
    af, safi, prefix, nextHops, version, virtualNetwork, mobility, sequenceNumber, securityGroups, communityTags,
    localPreference, med, loadBalance: { fields: toFields(fields), decision }, subProtocol,
  };
}

/**
 * Decodes an <entry> starting just after its `<entry>` start tag with a scanner for the fixed
 * element order the generated Contrail encoder and ours emit (docs/protocol.md §5: every element, XSD order; blanks
 * and `<x/>` vs `<x></x>` allowed). Returns the entry and the index just past `</entry>`, or
 * NOT_FAST for any other shape (order, attributes, comments, missing or repeated elements in the
 * middle…), which the caller hands to ltx; throws EntryError on bad values.
 */
export function entryFromString(s: string, from: number): { entry: XmppRouteEntry; end: number } | typeof NOT_FAST {
  S = s;
  P = from;
  try {
    const entry = scanEntry();
    return { entry, end: P };
  } catch (e) {
    if (e === NOT_FAST_ERR) return NOT_FAST;
    throw e;
  } finally {
    S = '';
  }
}
