// The Adj-RIB-In of one BGP neighbour (RFC 4271 §3.2): the routes it advertised, per family, as decoded
// UPDATEs change them, with RFC 7606 treat-as-withdraw and the iBGP/eBGP LOCAL_PREF rules applied on the way
// in. Reading an UPDATE yields what it changed (a RouteUpdate) or the End-of-RIB it marks. Its VPN routes may
// be kept by its owner instead (./routes.ts OwnerKeptVpnRoutes): it then passes them on without a copy.
// It does not select routes, apply policy or talk to the network: the session (./peer-fsm.ts) hands it
// UPDATEs, and the caller of ./peer.ts decides what the changes mean.
import type { FamilyName } from './families.ts';
import {
  type InetRoute, type OwnerKeptVpnRoutes, type RouteTargetRoute, type RouteUpdate, type VpnRoute, emptyRouteUpdate, routeTargetKey,
} from './routes.ts';
import type { DecodedUpdate, MpNlri } from './update-message.ts';
import { VpnRouteTable } from './vpn-route-table.ts';

export interface AdjRibRoutes {
  vpn: VpnRoute[];
  routeTargets: RouteTargetRoute[];
  inet: InetRoute[];
}

/** What one UPDATE did to the Adj-RIB-In. */
export type UpdateEffect =
  | { kind: 'end-of-rib'; family: FamilyName }
  | { kind: 'changes'; update: RouteUpdate };

export class AdjRibIn {
  private readonly vpn = new VpnRouteTable<VpnRoute>();
  private readonly rt = new Map<string, RouteTargetRoute>();
  private readonly inet = new Map<string, InetRoute>();

  /** Whether the owner-kept VPN routes belong to the current session (none are listed once it ended). */
  private ownerKeptLive = false;

  /**
   * `isIbgp` decides the LOCAL_PREF rule (RFC 4271 §5.1.5). With `ownerKept`, VPN routes are passed on and not
   * stored here (see OwnerKeptVpnRoutes); a withdrawal is then passed on whether or not the route was known.
   */
  constructor(private readonly isIbgp: boolean, private readonly ownerKept?: OwnerKeptVpnRoutes) {}

  get size(): number {
    return this.vpn.size + this.rt.size + this.inet.size + (this.ownerKept !== undefined && this.ownerKeptLive ? this.ownerKept.count() : 0);
  }

  routes(): AdjRibRoutes {
    const vpn = this.ownerKept === undefined ? [...this.vpn.values()] : this.ownerKeptLive ? this.ownerKept.routes() : [];
    return { vpn, routeTargets: [...this.rt.values()], inet: [...this.inet.values()] };
  }

  /**
   * Applies one UPDATE; NLRI of families not in `negotiated` are ignored (withdrawals apply whatever the
   * family). The UPDATE's attributes object is kept by the stored routes: the caller must not reuse it.
   */
  apply(msg: DecodedUpdate, negotiated: readonly FamilyName[]): UpdateEffect {
    const endOfRib = endOfRibFamily(msg);
    if (endOfRib) return { kind: 'end-of-rib', family: endOfRib };
    const attrs = msg.attributes;
    // RFC 7606 §7.5 with RFC 4271 §5.1.5: LOCAL_PREF is mandatory on iBGP; on eBGP it is ignored.
    let withdrawAll = msg.treatAsWithdraw;
    if (attrs && this.isIbgp && attrs.localPref === undefined && (msg.nlri?.length || msg.mpReach)) withdrawAll = true;
    if (attrs && !this.isIbgp) delete attrs.localPref;
    this.ownerKeptLive = true;
    const u = emptyRouteUpdate();
    for (const p of msg.withdrawn ?? []) this.withdrawInet(p, u);
    if (msg.mpUnreach) this.applyWithdrawNlri(msg.mpUnreach, u);
    if (msg.nlri?.length && negotiated.includes('inet')) {
      for (const prefix of msg.nlri) {
        if (withdrawAll || !attrs || msg.nextHop === undefined) this.withdrawInet(prefix, u);
        else {
          const route = { prefix, nextHop: msg.nextHop, attrs };
          this.inet.set(prefix, route);
          u.inetReach.push(route);
        }
      }
    }
    if (msg.mpReach && attrs) {
      const { nextHop, nlri } = msg.mpReach;
      if (withdrawAll) this.applyWithdrawNlri(nlri, u);
      else if (nlri.family === 'inet-vpn' && negotiated.includes('inet-vpn')) {
        const store = this.ownerKept === undefined;
        for (const n of nlri.routes) {
          const route: VpnRoute = { rd: n.rd, prefix: n.prefix, label: n.label, nextHop, attrs };
          if (store) this.vpn.set(route);
          u.reach.push(route);
        }
      } else if (nlri.family === 'route-target' && negotiated.includes('route-target')) {
        for (const n of nlri.targets) {
          const route: RouteTargetRoute = { ...n, nextHop, attrs };
          this.rt.set(routeTargetKey(n), route);
          u.rtReach.push(route);
        }
      } else if (nlri.family === 'inet' && negotiated.includes('inet')) {
        for (const prefix of nlri.prefixes) {
          const route = { prefix, nextHop, attrs };
          this.inet.set(prefix, route);
          u.inetReach.push(route);
        }
      }
    }
    return { kind: 'changes', update: u };
  }

  /** Empties the table (the session ended) and returns the withdrawal of everything it held. */
  clear(): RouteUpdate {
    const u = emptyRouteUpdate();
    for (const r of this.vpn.values()) u.withdraw.push({ rd: r.rd, prefix: r.prefix });
    for (const r of this.rt.values()) u.rtWithdraw.push({ originAs: r.originAs, routeTarget: r.routeTarget, prefixLength: r.prefixLength });
    for (const r of this.inet.values()) u.inetWithdraw.push(r.prefix);
    this.vpn.clear();
    this.rt.clear();
    this.inet.clear();
    this.ownerKeptLive = false;
    return u;
  }

  private withdrawInet(prefix: string, u: RouteUpdate): void {
    if (this.inet.delete(prefix)) u.inetWithdraw.push(prefix);
  }

  private applyWithdrawNlri(nlri: MpNlri, u: RouteUpdate): void {
    switch (nlri.family) {
      case 'inet-vpn':
        // Owner-kept: the decoded NLRI objects are the keys (their label field is not read by anyone).
        if (this.ownerKept !== undefined) for (const n of nlri.routes) u.withdraw.push(n);
        else for (const n of nlri.routes) if (this.vpn.delete(n)) u.withdraw.push({ rd: n.rd, prefix: n.prefix });
        return;
      case 'route-target':
        for (const n of nlri.targets) if (this.rt.delete(routeTargetKey(n))) u.rtWithdraw.push(n);
        return;
      case 'inet':
        for (const p of nlri.prefixes) this.withdrawInet(p, u);
        return;
      case 'unknown':
        return;
    }
  }
}

/** RFC 4724 §2: an empty UPDATE (inet) or an MP_UNREACH with no NLRI marks the end of the initial dump. */
export function endOfRibFamily(msg: DecodedUpdate): FamilyName | undefined {
  if (!msg.attributes && !msg.withdrawn && !msg.nlri && !msg.mpReach && !msg.mpUnreach) return 'inet';
  const un = msg.mpUnreach;
  if (!un || msg.mpReach || msg.nlri || msg.withdrawn || un.family === 'unknown') return undefined;
  const empty = un.family === 'inet' ? un.prefixes.length === 0 : un.family === 'inet-vpn' ? un.routes.length === 0 : un.targets.length === 0;
  return empty ? un.family : undefined;
}
