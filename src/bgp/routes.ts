import type { PathAttributes } from './path-attributes.ts';
import type { RouteTargetNlri } from './nlri.ts';

/** A labelled VPN-IPv4 path (AFI 1 / SAFI 128) as the control node exchanges it with BGP peers. */
export interface VpnRoute {
  /** '10.0.0.11:3' (type 1), '64512:1' (type 0), '4200000000:1' (type 2). */
  rd: string;
  /** '30.30.30.100/32' */
  prefix: string;
  label: number;
  nextHop: string;
  attrs: PathAttributes;
}

export interface VpnKey {
  rd: string;
  prefix: string;
  /** A /32's address as ../net/ipv4.ts hostPrefixKey gives it, when the holder has it: spares reading `prefix`. */
  readonly hostKey?: number | undefined;
}

/** An RT-constraint route (AFI 1 / SAFI 132, RFC 4684): the advertiser's interest in a route target. */
export interface RouteTargetRoute extends RouteTargetNlri {
  nextHop: string;
  attrs: PathAttributes;
}

/** A plain IPv4 unicast route (AFI 1 / SAFI 1). */
export interface InetRoute {
  prefix: string;
  nextHop: string;
  attrs: PathAttributes;
}

/**
 * A peer's received VPN routes as its owner keeps them, when the owner keeps them instead of the peer's
 * Adj-RIB-In (a control node's RIB holds every one anyway: a second copy per route was a third of its
 * memory). The Adj-RIB-In then passes VPN reach and withdrawals on without storing them, and answers its
 * size and view from here. The owner also drops them when a session ends (see BgpPeer's 'down' and
 * 'restarting'); the Adj-RIB-In's end-of-session withdrawal has no VPN routes to list.
 */
export interface OwnerKeptVpnRoutes {
  /** How many VPN routes the owner holds from this peer. */
  count(): number;
  /** Those routes, as received (the Adj-RIB-In view). */
  routes(): VpnRoute[];
}

/**
 * The VPN part of a peer's Adj-RIB-Out as its owner keeps it, when the owner knows what the peer is to have
 * without a table of its own (a control node marks each RIB route with the peers it went to, and derives the
 * routes from its export policy). The Adj-RIB-Out then sends what it is given, stores nothing per route, and
 * asks the owner for its size, its view and the table a new session gets. The owner must then advertise only
 * what it means to send and withdraw only what it advertised.
 */
export interface OwnerKeptVpnOut {
  /** How many VPN routes the peer is to have. */
  count(): number;
  /** Those routes as they go out now (a view: nothing changes). */
  routes(): VpnRoute[];
  /** A session came up or asked for a refresh: what it gets, decided afresh (the owner's marks follow). */
  table(): VpnRoute[];
}

/** What one UPDATE from a peer changed in its Adj-RIB-In. */
export interface RouteUpdate {
  reach: VpnRoute[];
  withdraw: VpnKey[];
  rtReach: RouteTargetRoute[];
  rtWithdraw: RouteTargetNlri[];
  inetReach: InetRoute[];
  inetWithdraw: string[];
}

export function emptyRouteUpdate(): RouteUpdate {
  return { reach: [], withdraw: [], rtReach: [], rtWithdraw: [], inetReach: [], inetWithdraw: [] };
}

export function isEmptyRouteUpdate(u: RouteUpdate): boolean {
  return Object.values(u).every((list: unknown[]) => list.length === 0);
}

export const vpnKey = (r: VpnKey): string => `${r.rd}|${r.prefix}`;
export const routeTargetKey = (r: RouteTargetNlri): string => `${r.originAs}|${r.routeTarget ?? 'default'}|${r.prefixLength}`;
