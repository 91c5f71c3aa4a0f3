/**
 * Public surface of the RIB layer: import from here, not from the modules behind it.
 *
 * Typical use by the control node (XMPP side):
 *
 *   const rib = new Rib();
 *   rib.onChange((changes) => { for (const c of changes) if (c.instance) resend(c.instance, c.prefix); });
 *   rib.createInstance({ name, virtualNetwork, vnIndex, importTargets, exportTargets });
 *   rib.addPath(name, { peer: { kind: 'xmpp', name: 'compute-1', address }, rd: `${nextHop}:${instanceId}`,
 *     prefix, label, nextHop, attrs: { localPref, med: medForXmppPath(med, localPref), sequence, … } });
 *   rib.agentRouteItem(name, prefix);   // → <item> content, or null → <retract>
 *   rib.removePeer('compute-1');        // session lost (docs/protocol.md §6.7)
 *
 * BGP side: addVpnPath / removeVpnPath for received VPN routes, routes(VPN_TABLE) and the
 * VPN_TABLE changes for what to advertise, add/removeRouteTargetMembership and peersInterestedIn for
 * RT-constrain, removePeer when a session goes down.
 */
export {
  Rib,
  VPN_TABLE,
  RTARGET_TABLE,
  instanceTableName,
  type RoutingInstanceConfig,
  type RouteChange,
  type ChangeListener,
  type RouteView,
  type PathView,
  type InstanceView,
  type PeerPathCount,
} from './rib.ts';
export {
  medForXmppPath,
  type PeerRef,
  type PeerKind,
  type PathInput,
  type PathAttributes,
  type Path,
  type BgpOrigin,
  type LoadBalance,
} from './path.ts';
export { compareUpToMed, comparePaths, isEcmpEqual, type PathSelectionOptions } from './path-selection.ts';
export { agentRouteItem, multipathSet, isDuplicateNextHop, type AgentRouteItem, type AgentNextHop } from './next-hop-list.ts';
export { membershipPrefix, type MembershipRoute } from './route-target-membership.ts';
export { RibError } from './route-syntax.ts';
