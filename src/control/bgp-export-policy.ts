// Which VPN path a control node advertises to one BGP peer, and with what attributes (§6.6): the best path
// of each (RD, prefix); XMPP-learned paths to every peer; iBGP-learned paths not to iBGP peers (split
// horizon) unless a cluster-id makes this node an RFC 4456 route reflector; RT-constrained toward peers
// that negotiated route-target (RFC 4684). Next hop and label pass unchanged (no next-hop-self, §6.2).
import type { VpnRoute } from '../bgp/routes.ts';
import type { PathView, RouteView } from '../rib/index.ts';
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
}

export interface ExportContext {
  asn: number;
  /** Set: reflect iBGP-learned paths to iBGP peers (every iBGP peer is a client). */
  clusterId: string | null;
  /** Names of the peers that advertised interest in one of these targets. */
  interestedPeers(routeTargets: readonly string[]): ReadonlySet<string>;
}

/** Why a route is not advertised to a peer, for the logs and the tests. */
export type ExportRefusal = 'no-best-path' | 'learned-from-peer' | 'ibgp-split-horizon' | 'originator' | 'rt-constraint';

export type ExportDecision = { advertise: VpnRoute } | { refuse: ExportRefusal };

function bestPath(route: RouteView | undefined): PathView | undefined {
  const first = route?.paths[0];
  return first?.best ? first : undefined;
}

export function exportDecision(route: RouteView | undefined, target: ExportTarget, ctx: ExportContext): ExportDecision {
  const best = bestPath(route);
  if (!route || !best) return { refuse: 'no-best-path' };
  if (best.peer.name === target.name) return { refuse: 'learned-from-peer' };
  const attrs = toBgpAttributes(best.attrs, ctx.asn);
  const learnedOverIbgp = best.peer.kind === 'bgp' && best.peer.isIbgp === true;
  if (learnedOverIbgp && target.isIbgp) {
    if (ctx.clusterId === null) return { refuse: 'ibgp-split-horizon' };
    const originatorId = best.attrs.originatorId ?? best.peer.routerId ?? best.peer.address;
    if (target.routerId !== undefined && target.routerId === originatorId) return { refuse: 'originator' };
    attrs.originatorId = originatorId;
    attrs.clusterList = [ctx.clusterId, ...best.attrs.clusterList];
  }
  if (target.rtConstrained && !target.wantsAllTargets && !ctx.interestedPeers(best.attrs.routeTargets).has(target.name)) {
    return { refuse: 'rt-constraint' };
  }
  return { advertise: { rd: route.rd ?? best.rd, prefix: route.prefix, label: best.label, nextHop: best.nextHop, attrs } };
}
