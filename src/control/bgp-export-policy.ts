// Which VPN path a control node advertises to one BGP peer, and with what attributes (docs/protocol.md §6.6): the best path
// of each (RD, prefix); XMPP-learned paths to every peer; iBGP-learned paths not to iBGP peers (split
// horizon) unless a cluster-id makes this node an RFC 4456 route reflector; RT-constrained toward peers
// that negotiated route-target (RFC 4684). Next hop and label pass unchanged (no next-hop-self, docs/protocol.md §6.2).
import type { PathAttributes as BgpAttributes } from '../bgp/path-attributes.ts';
import type { VpnRoute } from '../bgp/routes.ts';
import type { AsPathSegment, OpaqueAttribute, PathView, RouteView } from '../rib/index.ts';
import { toBgpAttributes } from './bgp-attributes.ts';

export interface ExportTarget {
  name: string;
  isIbgp: boolean;
  /** The peer's BGP identifier once known (reflection must not hand a route back to its originator). */
  routerId?: string;
  /** The peer negotiated route-target: only routes carrying a target it asked for go to it. */
  rtConstrained: boolean;
  /** The peer asked for every target (the RFC 4684 default route). */
  wantsAllTargets: boolean;
  /** The session negotiated long-lived GR: LLGR-stale paths may go to it (RFC 9494 §4.5). */
  longLived?: boolean;
}

export interface ExportContext {
  asn: number;
  /** Set: reflect iBGP-learned paths to iBGP peers (every iBGP peer is a client). */
  clusterId: string | null;
  /** Names of the peers that advertised interest in one of these targets. */
  interestedPeers(routeTargets: readonly string[]): ReadonlySet<string>;
}

/** Why a route is not advertised to a peer, for the logs and the tests. */
export type ExportRefusal = 'no-best-path' | 'learned-from-peer' | 'ibgp-split-horizon' | 'originator' | 'rt-constraint' | 'llgr-stale';

export type ExportDecision = { advertise: VpnRoute } | { refuse: ExportRefusal };

const refusal = (refuse: ExportRefusal): ExportDecision => Object.freeze({ refuse });

/** One frozen decision per refusal: export decides every changed route for every peer, most of a withdraw refused. */
const REFUSED: { readonly [R in ExportRefusal]: ExportDecision } = {
  'no-best-path': refusal('no-best-path'),
  'learned-from-peer': refusal('learned-from-peer'),
  'ibgp-split-horizon': refusal('ibgp-split-horizon'),
  originator: refusal('originator'),
  'rt-constraint': refusal('rt-constraint'),
  'llgr-stale': refusal('llgr-stale'),
};

interface Translation {
  asn: number;
  plain: BgpAttributes;
  /** By `originatorId|clusterId`. */
  reflected: Map<string, BgpAttributes>;
}

/**
 * BGP attributes by the RIB attributes object they came from. The RIB shares one object among paths with
 * equal attributes and never changes a stored one, so routes exported together share their BGP attributes
 * too (one encoding per set on the wire, one object in each Adj-RIB-Out). Callers must not mutate them.
 */
const translations = new WeakMap<PathView['attrs'], Translation>();
/** The last translation made: paths of one feed arrive together, often with equal attributes in distinct objects. */
let last: { attrs: PathView['attrs']; translation: Translation } | undefined;

function translation(attrs: PathView['attrs'], asn: number): Translation {
  let t = translations.get(attrs);
  if (t !== undefined && t.asn === asn) return t;
  if (last !== undefined && last.translation.asn === asn && sameExportedAttributes(last.attrs, attrs)) t = last.translation;
  else t = { asn, plain: toBgpAttributes(attrs, asn), reflected: new Map() };
  translations.set(attrs, t);
  last = { attrs, translation: t };
  return t;
}

/** Equal in every field that toBgpAttributes and reflection read. */
function sameExportedAttributes(a: PathView['attrs'], b: PathView['attrs']): boolean {
  return a.origin === b.origin && a.llgrStale === b.llgrStale && a.localPref === b.localPref && a.med === b.med && a.vnIndex === b.vnIndex
    && a.sequence === b.sequence && a.sticky === b.sticky && a.mac === b.mac && a.originatorId === b.originatorId
    && sameAsPath(a.asPath, b.asPath) && sameOpaque(a.opaqueTransitive, b.opaqueTransitive) && sameList(a.routeTargets, b.routeTargets) && sameList(a.encapsulations, b.encapsulations)
    && sameList(a.securityGroups, b.securityGroups) && sameList(a.tags, b.tags) && sameList(a.communities, b.communities)
    && sameList(a.clusterList, b.clusterList)
    && (a.loadBalance === b.loadBalance || (a.loadBalance !== undefined && b.loadBalance !== undefined
      && a.loadBalance.decision === b.loadBalance.decision && sameList(a.loadBalance.fields, b.loadBalance.fields)));
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameAsPath(a: readonly AsPathSegment[], b: readonly AsPathSegment[]): boolean {
  return a === b || (a.length === b.length && a.every((seg, i) => seg.type === b[i]!.type && sameList(seg.asns, b[i]!.asns)));
}

function sameOpaque(a: readonly OpaqueAttribute[], b: readonly OpaqueAttribute[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x.type === b[i]!.type && x.flags === b[i]!.flags && x.value === b[i]!.value));
}

function bestPath(route: RouteView | undefined): PathView | undefined {
  const first = route?.paths[0];
  return first?.best ? first : undefined;
}

export function exportDecision(route: RouteView | undefined, target: ExportTarget, ctx: ExportContext): ExportDecision {
  const best = bestPath(route);
  if (!route || !best) return REFUSED['no-best-path'];
  return decide(route.rd ?? best.rd, route.prefix, best, target, ctx);
}

/** The fields of a best path the decision reads: a RIB path or its view. */
export type ExportedPath = Pick<PathView, 'peer' | 'rd' | 'label' | 'nextHop' | 'attrs'>;

/**
 * exportDecision for a VPN route given as its key and best feasible path (undefined: none), as
 * `Rib.bestVpnPath` answers: BGP export decides every changed route, and needs no route view for it.
 */
export function exportDecisionForPath(rd: string, prefix: string, best: ExportedPath | undefined, target: ExportTarget, ctx: ExportContext): ExportDecision {
  return best === undefined ? { refuse: 'no-best-path' } : decide(rd, prefix, best, target, ctx);
}

function decide(rd: string, prefix: string, best: ExportedPath, target: ExportTarget, ctx: ExportContext): ExportDecision {
  if (best.peer.name === target.name) return REFUSED['learned-from-peer'];
  if (best.attrs.llgrStale && target.longLived !== true) return REFUSED['llgr-stale'];
  const t = translation(best.attrs, ctx.asn);
  let attrs = t.plain;
  const learnedOverIbgp = best.peer.kind === 'bgp' && best.peer.isIbgp === true;
  if (learnedOverIbgp && target.isIbgp) {
    if (ctx.clusterId === null) return REFUSED['ibgp-split-horizon'];
    const originatorId = best.attrs.originatorId ?? best.peer.routerId ?? best.peer.address;
    if (target.routerId !== undefined && target.routerId === originatorId) return REFUSED['originator'];
    const key = `${originatorId}|${ctx.clusterId}`;
    let reflected = t.reflected.get(key);
    if (reflected === undefined) {
      reflected = { ...t.plain, originatorId, clusterList: [ctx.clusterId, ...best.attrs.clusterList] };
      t.reflected.set(key, reflected);
    }
    attrs = reflected;
  }
  if (target.rtConstrained && !target.wantsAllTargets && !ctx.interestedPeers(best.attrs.routeTargets).has(target.name)) {
    return REFUSED['rt-constraint'];
  }
  return { advertise: { rd, prefix, label: best.label, nextHop: best.nextHop, attrs } };
}
