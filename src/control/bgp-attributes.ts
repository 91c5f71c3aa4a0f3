// Translation between the RIB's path attributes and BGP path attributes (docs/protocol.md §6.2, §6.3): what a control
// node puts on the wire for a VPN path, and what it keeps of a VPN route learned from a BGP peer.
import { emptyExtendedCommunities, type TunnelEncap } from '../bgp/extended-communities.ts';
import { HASH_FIELDS } from '../net/hash-fields.ts';
import { AS_TRANS, AttrFlag, defaultPathAttributes, type PathAttributes as BgpAttributes } from '../bgp/path-attributes.ts';
import type { PathAttributes as RibAttributes } from '../rib/index.ts';

const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, string>> = {
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'no-export-subconfed': '65535:65283',
  'accept-own': '65535:1',
  'no-reoriginate': '65535:0',
  // RFC 9494 §4.6: carried by LLGR-stale routes; a route with NO_LLGR is not kept LLGR-stale.
  'llgr-stale': '65535:6',
  'no-llgr': '65535:7',
};
const LLGR_STALE = WELL_KNOWN_COMMUNITIES['llgr-stale']!;
const COMMUNITY_NAMES = new Map(Object.entries(WELL_KNOWN_COMMUNITIES).map(([name, value]) => [value, name]));


/** Encapsulation names the extended-community codec knows (docs/protocol.md §6.3); others cannot be advertised. */
const ADVERTISABLE_ENCAPS = new Set(['gre', 'vxlan', 'nvgre', 'mpls', 'mpls-o-gre', 'vxlan-gpe', 'udp', 'native']);

/** ASN fields of SG/tag communities are 2 bytes; a 4-byte ASN goes as AS_TRANS (RFC 6793). */
function asn16(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/**
 * BGP attributes of a RIB path as a control node advertises it (docs/protocol.md §6.2): ORIGIN and AS_PATH segments as stored,
 * LOCAL_PREF unless 0, MED, route targets, encapsulations, OriginVN `<asn>:<vn-index>`, SGs, tags,
 * MAC mobility, router MAC, load balance and standard communities. Reflection attributes are the caller's.
 */
export function toBgpAttributes(attrs: RibAttributes, asn: number): BgpAttributes {
  const ext = emptyExtendedCommunities();
  ext.routeTargets = [...attrs.routeTargets];
  ext.encapsulations = attrs.encapsulations.filter((e) => ADVERTISABLE_ENCAPS.has(e));
  if (attrs.vnIndex > 0) ext.originVn = { asn, vnIndex: attrs.vnIndex };
  ext.securityGroups = attrs.securityGroups.map((id) => ({ asn: asn16(asn), id }));
  ext.tags = attrs.tags.map((tag) => ({ asn: asn16(asn), tag }));
  if (attrs.sequence > 0 || attrs.sticky) ext.macMobility = { sticky: attrs.sticky, sequence: attrs.sequence };
  if (attrs.mac !== '') ext.routerMac = attrs.mac;
  if (attrs.loadBalance) {
    const fields = attrs.loadBalance.fields.length === 0 ? [...HASH_FIELDS] : [...attrs.loadBalance.fields];
    ext.loadBalance = { fields, sourceBias: attrs.loadBalance.decision === 'source-bias' };
  }
  const communities = attrs.communities
    .map((c) => WELL_KNOWN_COMMUNITIES[c] ?? c)
    .filter((c) => /^\d+:\d+$/.test(c) && c.split(':').every((n) => Number(n) <= 0xffff));
  if (attrs.llgrStale && !communities.includes(LLGR_STALE)) communities.push(LLGR_STALE);
  return defaultPathAttributes({
    origin: attrs.origin,
    // Segments as received: a reflector must not merge a SET into the SEQUENCE (RFC 4271 §5.1.2); eBGP prepends
    // our AS in the Adj-RIB-Out.
    asPath: attrs.asPath.map((segment) => ({ type: segment.type, asns: [...segment.asns] })),
    ...(attrs.localPref !== 0 && { localPref: attrs.localPref }),
    ...(attrs.med !== undefined && { med: attrs.med }),
    communities,
    extCommunities: ext,
    // Passed on with the Partial bit set by the codec (RFC 4271 §9: we did not interpret them).
    unknown: attrs.opaqueTransitive.map((a) => ({ flags: a.flags, type: a.type, value: a.value })),
  });
}

function encapName(encap: TunnelEncap): string | undefined {
  return typeof encap === 'string' ? encap : undefined;
}

/**
 * What the RIB keeps of a VPN route learned from a BGP peer. A missing LOCAL_PREF (eBGP) counts as 100,
 * the default every BGP speaker assumes; the VN index comes from OriginVN; encapsulations with no name
 * are dropped (the agent could not use them).
 */
export function fromBgpAttributes(attrs: BgpAttributes): Partial<RibAttributes> {
  const ext = attrs.extCommunities;
  const lb = ext.loadBalance;
  return {
    localPref: attrs.localPref ?? 100,
    med: attrs.med,
    origin: attrs.origin,
    asPath: attrs.asPath,
    routeTargets: ext.routeTargets,
    encapsulations: ext.encapsulations.map(encapName).filter((e): e is string => e !== undefined),
    vnIndex: ext.originVn?.vnIndex ?? 0,
    securityGroups: ext.securityGroups.map((sg) => sg.id),
    tags: ext.tags.map((t) => t.tag),
    communities: attrs.communities.map((c) => COMMUNITY_NAMES.get(c) ?? c),
    // RFC 9494 §4.6: a route that arrives LLGR-stale stays one here (it loses against fresh paths).
    llgrStale: attrs.communities.includes(LLGR_STALE),
    sequence: ext.macMobility?.sequence ?? 0,
    sticky: ext.macMobility?.sticky ?? false,
    mac: ext.routerMac ?? '',
    loadBalance: lb && {
      fields: [...lb.fields],
      decision: lb.sourceBias ? 'source-bias' : 'field-hash',
    },
    originatorId: attrs.originatorId,
    clusterList: attrs.clusterList,
    // The codec keeps only transitive unknown attributes (RFC 4271 §9: a non-transitive one is dropped).
    // The extended-length bit is framing, not meaning.
    opaqueTransitive: attrs.unknown.map((a) => ({ flags: a.flags & ~AttrFlag.extendedLength, type: a.type, value: a.value })),
  };
}

/** The BGP codec's spelling of a RIB route distinguisher (ribRouteDistinguisher undone). */
export function bgpRouteDistinguisher(rd: string): string {
  const m = /^(\d+)L:(\d+)$/.exec(rd);
  return m ? `${m[1]}:${m[2]}` : rd;
}

/** The RIB writes 4-byte-ASN RDs as `<asn>L:<n>`; the BGP codec prints them without the L above 65535. */
export function ribRouteDistinguisher(rd: string): string {
  const m = /^(\d+):(\d+)$/.exec(rd);
  return m && Number(m[1]) > 0xffff ? `${m[1]}L:${m[2]}` : rd;
}
