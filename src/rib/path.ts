/**
 * What a path is: who brought it (PeerRef), where it points (label, next hop) and its attributes.
 * Attributes are normalised once at ingest so that comparisons and change detection never have to
 * guess at missing fields.
 */
import { RibError, checkIpv4Prefix, checkRouteDistinguisher, checkRouteTarget, ipv4ToNumber } from './route-syntax.ts';
import type { HashField } from '../net/hash-fields.ts';
import { ROUTE_LABEL_MAX } from '../net/labels.ts';
import { ownString } from '../net/own-string.ts';
import { hostPrefixKey } from '../net/ipv4.ts';

export type PeerKind = 'xmpp' | 'bgp';

/** The source of a path. Paths are attributed to `name`: two PeerRefs with the same name are one peer. */
export interface PeerRef {
  readonly kind: PeerKind;
  /** Agent name (XMPP JID) or BGP neighbour name; unique among peers. */
  readonly name: string;
  /** Session address (agent's source IP, BGP neighbour IP); last path-selection tie-break (docs/protocol.md §6.4). */
  readonly address: string;
  /** BGP only: the neighbour's AS. */
  readonly asn?: number;
  /** BGP identifier; defaults to `address` for the router-id tie-break. */
  readonly routerId?: string;
  /** BGP only: iBGP session (eBGP wins the tie-break, docs/protocol.md §6.4). */
  readonly isIbgp?: boolean;
}

export type BgpOrigin = 'igp' | 'egp' | 'incomplete';

/** One AS_PATH segment as received (RFC 4271 §4.3, RFC 5065 for the confederation kinds). */
export interface AsPathSegment {
  readonly type: 'sequence' | 'set' | 'confed-sequence' | 'confed-set';
  readonly asns: readonly number[];
}

/**
 * An optional transitive attribute no layer interprets, kept as received (docs/protocol.md §6.2): passed on to
 * BGP peers with the Partial bit set (RFC 4271 §5, §9), never shown to agents.
 */
export interface OpaqueAttribute {
  readonly flags: number;
  readonly type: number;
  /** The value bytes, hex. */
  readonly value: string;
}


export interface LoadBalance {
  /** Empty list means all five fields (docs/protocol.md §5). */
  readonly fields: readonly HashField[];
  readonly decision: 'field-hash' | 'source-bias';
}

export interface PathAttributes {
  /** LOCAL_PREF; 0 means the attribute is absent (docs/protocol.md §5). */
  readonly localPref: number;
  /** MED; undefined means absent, which compares as 0. XMPP paths get theirs from medForXmppPath. */
  readonly med: number | undefined;
  readonly origin: BgpOrigin;
  /**
   * AS_PATH segments as received, leftmost = nearest AS: a reflector passes them on unchanged. Empty for XMPP and
   * iBGP-local paths. Path selection counts its length with asPathLength.
   */
  readonly asPath: readonly AsPathSegment[];
  /** MAC-mobility / path-preference sequence number; higher wins (docs/protocol.md §6.4 step 5). */
  readonly sequence: number;
  readonly sticky: boolean;
  /** Kept by graceful restart after the session was lost (docs/protocol.md §6.7); loses against fresh paths. */
  readonly llgrStale: boolean;
  /** Tunnel encapsulations by XMPP name: 'gre', 'udp', 'vxlan', 'native' … in the order received. */
  readonly encapsulations: readonly string[];
  /** Origin VN fq-name; '' when unknown. Set from the routing instance for XMPP paths. */
  readonly virtualNetwork: string;
  /** Origin VN index (OriginVN extended community); 0 when unknown. */
  readonly vnIndex: number;
  readonly securityGroups: readonly number[];
  /** Standard communities as strings ('no-export', '64512:100'). */
  readonly communities: readonly string[];
  readonly tags: readonly number[];
  /** Route targets carried by the path (the VPN copy gets the instance's export targets, docs/protocol.md §6.2). */
  readonly routeTargets: readonly string[];
  /** undefined = default (all five fields, field-hash). */
  readonly loadBalance: LoadBalance | undefined;
  readonly originatorId: string | undefined;
  readonly clusterList: readonly string[];
  /** Router MAC of the next hop ('' = none). */
  readonly mac: string;
  readonly feasible: boolean;
  /** Unrecognised optional transitive attributes, in the order received (BGP paths only). */
  readonly opaqueTransitive: readonly OpaqueAttribute[];
}

/** What a caller hands the RIB for one path. */
export interface PathInput {
  readonly peer: PeerRef;
  readonly rd: string;
  readonly prefix: string;
  readonly label: number;
  readonly nextHop: string;
  readonly attrs?: Partial<PathAttributes>;
}

/** A path as stored in a table. Immutable: a change replaces the object. */
export interface Path {
  readonly peer: PeerRef;
  readonly rd: string;
  readonly prefix: string;
  readonly label: number;
  readonly nextHop: string;
  readonly attrs: PathAttributes;
  /** Set on replicated (secondary) paths: the table the primary lives in (one shared object per table). */
  readonly replicatedFrom?: { readonly table: string };
}

const UINT32_MAX = 4294967295;

/**
 * Contrail's MED rule at XMPP ingest (docs/protocol.md §6.2): the item's MED if non-zero, otherwise derived from the
 * local preference (LP 100 → 200, LP 200 → 100, LP 0 → no MED, any other LP → 4294967295 − LP).
 */
export function medForXmppPath(med: number, localPref: number): number | undefined {
  if (med !== 0) return med;
  if (localPref === 100) return 200;
  if (localPref === 200) return 100;
  if (localPref === 0) return undefined;
  return UINT32_MAX - localPref;
}

function checkUint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw new RibError(`invalid ${what} ${String(value)}: expected an integer 0..4294967295`);
  }
  return value;
}

// Most attribute lists are empty: one shared frozen array spares an allocation per list per path.
const EMPTY: readonly never[] = Object.freeze([]);

/** A private copy of a caller's list (the caller may mutate theirs later); EMPTY when there is nothing. */
function listCopy<T>(list: readonly T[] | undefined): readonly T[] {
  return list === undefined || list.length === 0 ? EMPTY : [...list];
}

/** Fills defaults and validates: every field present, so sameAttributes compares like with like. */
export function normalizeAttributes(attrs: Partial<PathAttributes> = {}): PathAttributes {
  const med = attrs.med === undefined ? undefined : checkUint32(attrs.med, 'MED');
  for (const rt of attrs.routeTargets ?? []) checkRouteTarget(rt);
  for (const segment of attrs.asPath ?? []) {
    if (!SEGMENT_TYPES.has(segment.type)) throw new RibError(`invalid AS path segment type ${JSON.stringify(segment.type)}`);
    for (const asn of segment.asns) checkUint32(asn, 'AS number');
  }
  for (const a of attrs.opaqueTransitive ?? []) checkOpaque(a);
  if (attrs.originatorId !== undefined && ipv4ToNumber(attrs.originatorId) === null) {
    throw new RibError(`invalid originator id '${attrs.originatorId}': expected an IPv4 address`);
  }
  return {
    localPref: checkUint32(attrs.localPref ?? 0, 'local preference'),
    med,
    origin: attrs.origin ?? 'incomplete',
    asPath: attrs.asPath === undefined || attrs.asPath.length === 0 ? EMPTY : attrs.asPath.map((seg) => ({ type: seg.type, asns: [...seg.asns] })),
    sequence: checkUint32(attrs.sequence ?? 0, 'sequence number'),
    sticky: attrs.sticky ?? false,
    llgrStale: attrs.llgrStale ?? false,
    encapsulations: listCopy(attrs.encapsulations),
    virtualNetwork: attrs.virtualNetwork ?? '',
    vnIndex: checkUint32(attrs.vnIndex ?? 0, 'VN index'),
    securityGroups: listCopy(attrs.securityGroups),
    communities: listCopy(attrs.communities),
    tags: listCopy(attrs.tags),
    routeTargets: attrs.routeTargets === undefined || attrs.routeTargets.length === 0 ? EMPTY : [...new Set(attrs.routeTargets)],
    loadBalance: attrs.loadBalance === undefined ? undefined : { fields: [...attrs.loadBalance.fields], decision: attrs.loadBalance.decision },
    originatorId: attrs.originatorId,
    clusterList: listCopy(attrs.clusterList),
    mac: attrs.mac ?? '',
    feasible: attrs.feasible ?? true,
    opaqueTransitive: attrs.opaqueTransitive === undefined || attrs.opaqueTransitive.length === 0
      ? EMPTY
      : attrs.opaqueTransitive.map((a) => ({ flags: a.flags, type: a.type, value: a.value.toLowerCase() })),
  };
}

const SEGMENT_TYPES = new Set<string>(['sequence', 'set', 'confed-sequence', 'confed-set']);

function checkOpaque(a: OpaqueAttribute): void {
  if (!Number.isInteger(a.type) || a.type < 0 || a.type > 255 || !Number.isInteger(a.flags) || a.flags < 0 || a.flags > 255) {
    throw new RibError(`invalid opaque attribute: type ${String(a.type)} flags ${String(a.flags)} must be 0..255`);
  }
  if (typeof a.value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(a.value)) throw new RibError(`invalid opaque attribute ${a.type}: value is not hex`);
}

/**
 * AS path length for path selection (RFC 4271 §9.1.2.2 a): each AS of a sequence counts, a set counts as one,
 * confederation segments do not count (RFC 5065 §5.3).
 */
export function asPathLength(asPath: readonly AsPathSegment[]): number {
  let length = 0;
  for (const segment of asPath) {
    if (segment.type === 'sequence') length += segment.asns.length;
    else if (segment.type === 'set') length++;
  }
  return length;
}

/** The neighbour AS: the first AS of a leading AS_SEQUENCE (RFC 4271 §9.1.2.2 c), 0 when there is none. */
export function neighbourAsOf(asPath: readonly AsPathSegment[]): number {
  const first = asPath[0];
  return first !== undefined && first.type === 'sequence' ? first.asns[0] ?? 0 : 0;
}

/** Equal AS paths, segment by segment. */
export function sameAsPath(a: readonly AsPathSegment[], b: readonly AsPathSegment[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.type !== b[i]!.type || !sameList(a[i]!.asns, b[i]!.asns)) return false;
  }
  return true;
}

/** Equal opaque attribute lists, in order. */
export function sameOpaque(a: readonly OpaqueAttribute[], b: readonly OpaqueAttribute[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.type !== b[i]!.type || a[i]!.flags !== b[i]!.flags || a[i]!.value !== b[i]!.value) return false;
  }
  return true;
}

/** Validates a caller's path and turns it into a stored primary path. */
export function makePath(input: PathInput, overrides: Partial<PathAttributes> = {}): Path {
  checkPathInput(input);
  return storedPath(input, normalizeAttributes({ ...input.attrs, ...overrides }));
}

/**
 * makePath for a caller that already holds the normalised attributes (normalizeAttributes' result):
 * input.attrs is ignored. Lets the RIB normalise the attributes shared by many paths once.
 */
export function makePathWithAttributes(input: PathInput, attrs: PathAttributes): Path {
  checkPathInput(input);
  return storedPath(input, attrs);
}

// Paths arrive in runs of one RD and next hop (the routes of an UPDATE, an agent's items), and a string
// found valid stays valid: remembering the last one spares a parse per path. '' is valid as neither.
let lastValidRd = '';
let lastValidNextHop = '';

function checkPathInput(input: PathInput): void {
  if (!input.peer || typeof input.peer.name !== 'string' || input.peer.name === '') {
    throw new RibError('invalid path: the peer needs a non-empty name');
  }
  if (input.peer.kind !== 'xmpp' && input.peer.kind !== 'bgp') {
    throw new RibError(`invalid path from '${input.peer.name}': peer kind must be 'xmpp' or 'bgp'`);
  }
  // A canonical a.b.c.d/32 (nearly every path) reads as a host key without the full parser's result object.
  if (typeof input.prefix !== 'string' || hostPrefixKey(input.prefix) === undefined) checkIpv4Prefix(input.prefix);
  if (input.rd !== lastValidRd) lastValidRd = checkRouteDistinguisher(input.rd);
  if (!Number.isInteger(input.label) || input.label < 0 || input.label > ROUTE_LABEL_MAX) {
    throw new RibError(`invalid label ${String(input.label)} for ${input.prefix}: expected 0..${ROUTE_LABEL_MAX}`);
  }
  if (input.nextHop !== lastValidNextHop) {
    if (ipv4ToNumber(input.nextHop) === null) {
      throw new RibError(`invalid next hop '${input.nextHop}' for ${input.prefix}: expected an IPv4 address`);
    }
    lastValidNextHop = input.nextHop;
  }
}

// The last RD given and its own copy: an agent's (or an UPDATE's) paths share one RD string, so they keep
// sharing one once stored, instead of a copy per path.
let lastRd = { given: '', own: '' };

// Strings cut out of a received stanza are V8 slices of the whole socket chunk they arrived in (from 13
// characters on): a stored path holding one kept every chunk alive, ~1.4 KB per route (../net/own-string.ts).
function storedPath(input: PathInput, attrs: PathAttributes): Path {
  if (input.rd !== lastRd.given) lastRd = { given: input.rd, own: ownString(input.rd) };
  return { peer: input.peer, rd: lastRd.own, prefix: ownString(input.prefix), label: input.label, nextHop: ownString(input.nextHop), attrs };
}


/** Same destination and attributes: replacing one by the other changes nothing anyone can see. */
export function samePathContent(a: Path, b: Path): boolean {
  return (
    a.label === b.label &&
    a.nextHop === b.nextHop &&
    a.peer.address === b.peer.address &&
    a.peer.kind === b.peer.kind &&
    a.peer.asn === b.peer.asn &&
    a.peer.routerId === b.peer.routerId &&
    a.peer.isIbgp === b.peer.isIbgp &&
    (a.attrs === b.attrs || sameAttributes(a.attrs, b.attrs))
  );
}

export function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Field-by-field equality of two normalised attribute sets (lists in order), without serialising them:
 * this runs for every path a re-sync offers again, e.g. each member of an ECMP route on every change.
 */
export function sameAttributes(a: PathAttributes, b: PathAttributes): boolean {
  return (
    a.localPref === b.localPref &&
    a.med === b.med &&
    a.origin === b.origin &&
    a.sequence === b.sequence &&
    a.sticky === b.sticky &&
    a.llgrStale === b.llgrStale &&
    a.virtualNetwork === b.virtualNetwork &&
    a.vnIndex === b.vnIndex &&
    a.originatorId === b.originatorId &&
    a.mac === b.mac &&
    a.feasible === b.feasible &&
    sameAsPath(a.asPath, b.asPath) &&
    sameOpaque(a.opaqueTransitive, b.opaqueTransitive) &&
    sameList(a.encapsulations, b.encapsulations) &&
    sameList(a.securityGroups, b.securityGroups) &&
    sameList(a.communities, b.communities) &&
    sameList(a.tags, b.tags) &&
    sameList(a.routeTargets, b.routeTargets) &&
    sameList(a.clusterList, b.clusterList) &&
    (a.loadBalance === b.loadBalance ||
      (a.loadBalance !== undefined &&
        b.loadBalance !== undefined &&
        a.loadBalance.decision === b.loadBalance.decision &&
        sameList(a.loadBalance.fields, b.loadBalance.fields)))
  );
}
