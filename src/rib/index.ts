/**
 * The one entry to the RIB layer: everything outside src/rib imports from here, never from the modules
 * behind it (tests of those modules in test/rib excepted). Owns nothing itself.
 *
 * Typical use by the control node (XMPP side):
 *
 *   const rib = new Rib();
 *   rib.onChange((changes) => { for (const c of changes) if (c.instance) resend(c.instance, c.prefix); });
 *   rib.createInstance({ name, virtualNetwork, vnIndex, importTargets, exportTargets });
 *   rib.addPath(name, { peer: { kind: 'xmpp', name: 'compute-1', address }, rd: `${nextHop}:${instanceId}`,
 *     prefix, label, nextHop, attrs: { localPref, med: medForXmppPath(med, localPref), sequence, … } });
 *   rib.multipathPaths(instanceTableName(name), prefix);  // → the ECMP set the agent's <item> is built from
 *   rib.removePeer('compute-1');        // session lost (docs/protocol.md §6.7)
 *
 * BGP side: addVpnPath / removeVpnPath for received VPN routes, routes(VPN_TABLE) and the
 * VPN_TABLE changes for what to advertise, add/removeRouteTargetMembership and peersInterestedIn for
 * RT-constrain, removePeer when a session goes down. Graceful restart (docs/protocol.md §6.7): markPeerStale
 * when a restarting peer's session drops, markPeerLlgrStale after its restart time, sweepStale at its
 * End-of-RIB or when time runs out (what it announced again in between is fresh). Every path of a route view carries the reason for
 * its place (PathReason: 'best', 'ecmp' or the selection step it lost on).
 */
export {
  Rib,
  VPN_TABLE,
  RTARGET_TABLE,
  instanceTableName,
  type RoutingInstanceConfig,
  type RouteChange,
  type VpnExportEntry,
  type ChangeListener,
  type RouteView,
  type PathView,
  type InstanceView,
  type PeerPathCount,
} from './rib.ts';
export {
  makePath,
  medForXmppPath,
  asPathLength,
  type AsPathSegment,
  type OpaqueAttribute,
  normalizeAttributes,
  type PeerRef,
  type PeerKind,
  type PathInput,
  type PathAttributes,
  type Path,
  type BgpOrigin,
  type LoadBalance,
} from './path.ts';
export {
  compareUpToMed,
  comparePaths,
  decidingStep,
  type DecidedStep,
  isEcmpEqual,
  multipathSet,
  pathReason,
  type PathReason,
  type PathSelectionOptions,
  type SelectionStep,
} from './path-selection.ts';
export { membershipPrefix, type MembershipRoute } from './route-target-membership.ts';
export { RibError } from './route-syntax.ts';
