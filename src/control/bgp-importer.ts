// The import side of a control node's BGP: what a neighbour's UPDATE changes in the RIB. VPN paths go into
// bgp.l3vpn.0 (the RIB imports them into VRFs by route target) unless the loop checks refuse them; RT
// memberships go into the RTarget table, and a neighbour asking for every target is noted on its record.
// It sends nothing: when a wish for every target appears or goes, it asks the exporter (via `reExport`).
import type { RouteTargetNlri } from '../bgp/nlri.ts';
import type { RouteUpdate, VpnRoute } from '../bgp/routes.ts';
import type { PeerRef } from '../rib/index.ts';
import { fromBgpAttributes, ribRouteDistinguisher } from './bgp-attributes.ts';
import { FULL_TARGET_BITS, type PeerRecord, peerRef } from './bgp-peer-record.ts';
import type { ControlNode } from './control-node.ts';

export interface ImporterIdentity {
  asn: number;
  routerId: string;
  clusterId: string | null;
}

type Attempt = (what: string, work: () => void) => void;

export class BgpImporter {
  constructor(
    private readonly control: ControlNode,
    private readonly identity: ImporterIdentity,
    private readonly reExport: (record: PeerRecord) => void,
    private readonly log: (line: string) => void,
  ) {}

  apply(record: PeerRecord, u: RouteUpdate): void {
    const { peer } = record;
    const ref = peerRef(record);
    const rib = this.control.rib;
    const attempt: Attempt = (what, work) => {
      try {
        work();
      } catch (e) {
        this.log(`BGP: ignored ${what} from ${peer.name}: ${(e as Error).message}`);
      }
    };
    // The routes of one UPDATE share one attributes object: translate it once.
    let lastBgp: VpnRoute['attrs'] | undefined;
    let lastRib: ReturnType<typeof fromBgpAttributes> | undefined;
    // And they come in runs of one RD.
    let lastRd: string | undefined;
    let rd = '';
    rib.batch(() => {
      for (const route of u.reach) {
        if (route.rd !== lastRd) {
          lastRd = route.rd;
          rd = ribRouteDistinguisher(route.rd);
        }
        if (route.attrs !== lastBgp) {
          lastBgp = route.attrs;
          lastRib = fromBgpAttributes(route.attrs);
        }
        // Inline rather than through `attempt`: no closure and no message string per route unless it fails.
        try {
          if (this.isLoop(record, route)) {
            record.loopsRejected++;
            rib.removeVpnPath(rd, route.prefix, ref.name);
          } else {
            rib.addVpnPath({ peer: ref, rd, prefix: route.prefix, label: route.label, nextHop: route.nextHop, attrs: lastRib! });
          }
        } catch (e) {
          this.log(`BGP: ignored ${route.rd}:${route.prefix} from ${peer.name}: ${(e as Error).message}`);
        }
      }
      for (const key of u.withdraw) {
        if (key.rd !== lastRd) {
          lastRd = key.rd;
          rd = ribRouteDistinguisher(key.rd);
        }
        try {
          if (key.hostKey !== undefined) rib.removeVpnHostPath(rd, key.hostKey, ref.name);
          else rib.removeVpnPath(rd, key.prefix, ref.name);
        } catch (e) {
          this.log(`BGP: ignored withdraw of ${key.rd}:${key.prefix} from ${peer.name}: ${(e as Error).message}`);
        }
      }
      for (const m of u.rtReach) this.membership(record, ref, m, true, attempt);
      for (const m of u.rtWithdraw) this.membership(record, ref, m, false, attempt);
    });
  }

  /** RFC 4456 §8 and RFC 4271 §9.1.2: our own originator id, our cluster id or our AS mark a loop. */
  private isLoop(record: PeerRecord, route: VpnRoute): boolean {
    const { attrs } = route;
    const { clusterId } = this.identity;
    if (record.peer.isIbgp) {
      return attrs.originatorId === this.identity.routerId || (clusterId !== null && attrs.clusterList.includes(clusterId));
    }
    return attrs.asPath.some((segment) => segment.asns.includes(this.identity.asn));
  }

  private membership(record: PeerRecord, ref: PeerRef, m: RouteTargetNlri, reach: boolean, attempt: Attempt): void {
    const rib = this.control.rib;
    const text = `RT membership ${m.originAs}:${m.routeTarget ?? 'default'}/${m.prefixLength}`;
    if (m.routeTarget === null || m.prefixLength < FULL_TARGET_BITS) {
      // The default route or a partial target: treated as asking for every target (a superset is safe).
      const key = `${m.originAs}|${m.routeTarget ?? 'default'}|${m.prefixLength}`;
      const had = record.wantsAll.size > 0;
      if (reach) record.wantsAll.add(key);
      else record.wantsAll.delete(key);
      if (had !== record.wantsAll.size > 0) this.reExport(record);
      return;
    }
    const rt = m.routeTarget;
    attempt(text, () => {
      if (reach) rib.addRouteTargetMembership(ref, m.originAs, rt);
      else rib.removeRouteTargetMembership(ref.name, m.originAs, rt);
    });
  }
}
