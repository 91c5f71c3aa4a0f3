// The export side of a control node's BGP: which VPN paths of bgp.l3vpn.0 go to which neighbour, when. RIB
// changes are noted as they happen and exported once per turn; a neighbour that does not keep up gets its
// changes as a backlog once its socket drains; a new membership or session re-decides everything for the
// peers concerned. Also originates the RTarget routes of the local routing instances (docs/protocol.md §6.6).
// The per-route decision is ./bgp-export-policy.ts; sessions and Adj-RIB-Out are ../bgp/peer.ts.
import type { RouteTargetNlri } from '../bgp/nlri.ts';
import { defaultPathAttributes } from '../bgp/path-attributes.ts';
import { type RouteTargetRoute, type VpnKey, type VpnRoute, vpnKey } from '../bgp/routes.ts';
import type { BgpSpeaker } from '../bgp/speaker.ts';
import { VpnRouteTable } from '../bgp/vpn-route-table.ts';
import { RTARGET_TABLE, VPN_TABLE, type RouteChange } from '../rib/index.ts';
import { exportDecisionForPath, type ExportContext, type ExportTarget } from './bgp-export-policy.ts';
import { FULL_TARGET_BITS, type PeerRecord } from './bgp-peer-record.ts';
import type { ControlNode } from './control-node.ts';

/**
 * Unsent bytes at which a peer counts as not keeping up: its exports wait (as a set of keys, so that repeated
 * changes of one route cost nothing) until its socket drains. About 250k routes of packed UPDATEs.
 */
const SEND_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/**
 * Pending changes at which the export runs as soon as the current read is handled rather than at the end of
 * the turn. A turn reads up to ~2 MB from one socket (~170k routes of a feed); their change records lived
 * until the turn's export, long enough for V8 to copy them into the old generation (most of a withdraw's GC
 * time). 8k routes still fill ~30 UPDATEs per peer.
 */
const EXPORT_BATCH_ROUTES = 8192;

export interface ExporterIdentity {
  asn: number;
  clusterId: string | null;
  /** Next hop of the RTarget routes this node originates. */
  address: string;
}

export class BgpExporter {
  private readonly ctx: ExportContext;
  private readonly originated = new Map<string, RouteTargetRoute>();
  /**
   * VPN routes changed since the last export: the RIB's own change records, in order. A route changed twice in
   * one turn is decided twice, which costs less than a set of keys for every route of a feed; the Adj-RIB-Out
   * sends an unchanged route once and withdraws an absent one never.
   */
  private pendingVpn: VpnKey[] = [];
  private membershipChanged = false;
  private exportTimer: NodeJS.Immediate | null = null;
  private exportTickQueued = false;
  /** The last interestedPeers answer of the current export pass (memberships do not change during one). */
  private lastInterest: { targets: readonly string[]; names: ReadonlySet<string> } | null = null;

  constructor(
    private readonly control: ControlNode,
    private readonly speaker: BgpSpeaker,
    private readonly records: ReadonlyMap<string, PeerRecord>,
    private readonly identity: ExporterIdentity,
    private readonly log: (line: string) => void,
  ) {
    this.ctx = {
      asn: identity.asn,
      clusterId: identity.clusterId,
      interestedPeers: (targets) => {
        // Paths of one feed come together with equal target lists (often as distinct arrays): one RIB query per run.
        const previous = this.lastInterest;
        if (previous !== null && sameTargets(previous.targets, targets)) return previous.names;
        const names = new Set(this.control.rib.peersInterestedIn(targets).map((p) => p.name));
        this.lastInterest = { targets, names };
        return names;
      },
    };
  }

  /** Drops what is pending (the node stops). */
  stop(): void {
    if (this.exportTimer !== null) clearImmediate(this.exportTimer);
    this.exportTimer = null;
    this.pendingVpn = [];
  }

  /**
   * Runs inside the RIB's mutation (an UPDATE being read, an agent's publish): only notes what changed. The
   * export runs on the next turn, once for everything the turn changed, so that reading never waits on sending
   * and many routes leave in one UPDATE.
   */
  onRibChanges(changes: readonly RouteChange[]): void {
    for (const c of changes) {
      if (c.table === VPN_TABLE && isVpnChange(c)) this.pendingVpn.push(c);
      else if (c.table === RTARGET_TABLE) this.membershipChanged = true;
    }
    if (this.exportTimer === null && (this.pendingVpn.length > 0 || this.membershipChanged)) {
      this.exportTimer = setImmediate(() => this.flushExports());
    }
    if (!this.exportTickQueued && this.pendingVpn.length >= EXPORT_BATCH_ROUTES) {
      this.exportTickQueued = true;
      process.nextTick(() => {
        this.exportTickQueued = false;
        if (this.exportTimer !== null) this.flushExports();
      });
    }
  }

  private flushExports(): void {
    if (this.exportTimer !== null) clearImmediate(this.exportTimer);
    this.exportTimer = null;
    const pending = this.pendingVpn;
    const membershipChanged = this.membershipChanged;
    this.pendingVpn = [];
    this.membershipChanged = false;
    try {
      // A new or lost membership changes what RT-constrained peers may receive: re-decide every route.
      if (membershipChanged) this.exportAll();
      else this.exportKeys(pending, this.readyRecords(pending));
    } catch (e) {
      this.log(`BGP: export failed: ${(e as Error).message}`);
    }
  }

  private target(record: PeerRecord): ExportTarget {
    const { peer } = record;
    const families = peer.state === 'established' ? peer.families : record.configuredFamilies;
    return {
      name: peer.name,
      isIbgp: peer.isIbgp,
      ...(record.remoteRouterId !== undefined && { routerId: record.remoteRouterId }),
      rtConstrained: families.includes('route-target'),
      wantsAllTargets: record.wantsAll.size > 0,
      longLived: Object.keys(peer.gracefulRestart?.longLived ?? {}).length > 0,
    };
  }

  /** Peers that keep up; the others add `keys` to their backlog and wait for their socket to drain. */
  private readyRecords(keys: readonly VpnKey[]): PeerRecord[] {
    const ready: PeerRecord[] = [];
    for (const record of this.records.values()) {
      if (record.backlog === null && record.peer.unsentBytes < SEND_HIGH_WATER_BYTES) {
        ready.push(record);
        continue;
      }
      if (record.backlog === null) {
        const backlog = (record.backlog = new VpnRouteTable());
        record.peer.onceDrained(() => this.onDrained(record, backlog));
      }
      for (const k of keys) record.backlog.set(k);
    }
    return ready;
  }

  private onDrained(record: PeerRecord, backlog: VpnRouteTable<VpnKey>): void {
    // A full re-export (session up or down, membership change) may have replaced this backlog meanwhile.
    if (record.backlog !== backlog) return;
    record.backlog = null;
    try {
      this.exportKeys([...backlog.values()], [record]);
    } catch (e) {
      this.log(`BGP: export failed: ${(e as Error).message}`);
    }
  }

  /** Decides (RD, prefix) for each peer and hands each peer its advertisements and withdrawals in one call each. */
  private exportKeys(keys: readonly VpnKey[], records: readonly PeerRecord[]): void {
    this.lastInterest = null;
    // The best path itself, not a route view: one lookup and no allocation per changed route.
    const bests = keys.map((k) => this.control.rib.bestVpnPath(k.rd, k.prefix));
    for (const record of records) {
      const target = this.target(record);
      const advertise: VpnRoute[] = [];
      const withdraw: VpnKey[] = [];
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const decision = exportDecisionForPath(k.rd, k.prefix, bests[i], target, this.ctx);
        if ('advertise' in decision) advertise.push(decision.advertise);
        else withdraw.push(keys[i]!);
      }
      try {
        if (withdraw.length > 0) record.peer.withdrawVpn(withdraw);
        if (advertise.length > 0) this.advertise(record, advertise);
      } catch (e) {
        // One peer's failure must not keep the others from their routes.
        this.log(`BGP: export to ${record.peer.name} failed: ${(e as Error).message}`);
      }
    }
  }

  private advertise(record: PeerRecord, routes: readonly VpnRoute[]): void {
    try {
      record.peer.advertiseVpn(routes);
      return;
    } catch {
      // advertiseVpn stores nothing when one route is bad: find it, and send the others.
    }
    for (const route of routes) {
      try {
        record.peer.advertiseVpn([route]);
      } catch (e) {
        // A path the wire cannot carry (a 24-bit VXLAN label, say) must not stop the others.
        this.log(`BGP: cannot advertise ${route.rd}:${route.prefix} to ${record.peer.name}: ${(e as Error).message}`);
        record.peer.withdrawVpn([{ rd: route.rd, prefix: route.prefix }]);
      }
    }
  }

  /** Re-decides every VPN route for the peers (all by default), withdrawing what the RIB no longer has. */
  exportAll(only?: PeerRecord): void {
    const keys: VpnKey[] = this.control.rib.routes(VPN_TABLE).map((r) => ({ rd: r.rd!, prefix: r.prefix }));
    const records = only ? [only] : [...this.records.values()];
    for (const record of records) record.backlog = null;
    this.exportKeys(keys, records);
    const present = new Set(keys.map(vpnKey));
    for (const record of records) {
      const stale = record.peer.adjRibOut().vpn.filter((r) => !present.has(vpnKey(r)));
      if (stale.length > 0) record.peer.withdrawVpn(stale.map(({ rd, prefix }) => ({ rd, prefix })));
    }
  }

  /** RTarget routes `<asn>:<rt>` for every import target of every configured routing instance (docs/protocol.md §6.6). */
  syncRouteTargets(): void {
    const wanted = new Set(this.control.rib.instances().flatMap((i) => i.importTargets));
    const added: RouteTargetRoute[] = [];
    const removed: RouteTargetNlri[] = [];
    for (const rt of wanted) {
      if (this.originated.has(rt)) continue;
      const route: RouteTargetRoute = {
        originAs: this.identity.asn, routeTarget: rt, prefixLength: FULL_TARGET_BITS, nextHop: this.identity.address,
        attrs: defaultPathAttributes({ origin: 'igp' }),
      };
      this.originated.set(rt, route);
      added.push(route);
    }
    for (const [rt, route] of this.originated) {
      if (wanted.has(rt)) continue;
      this.originated.delete(rt);
      removed.push({ originAs: route.originAs, routeTarget: rt, prefixLength: route.prefixLength });
    }
    if (removed.length > 0) this.speaker.withdrawRouteTargets('all', removed);
    for (const route of added) {
      try {
        this.speaker.advertiseRouteTargets('all', [route]);
      } catch (e) {
        // Kept in `originated` so that it is reported once, not every sync.
        this.log(`BGP: cannot originate RTarget ${route.originAs}:${route.routeTarget}: ${(e as Error).message}`);
      }
    }
  }
}

/** A change of bgp.l3vpn.0 carries its RD: it is the (RD, prefix) key export needs, without a copy. */
function isVpnChange(c: RouteChange): c is RouteChange & VpnKey {
  return c.rd !== undefined;
}

function sameTargets(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
