// The export side of a control node's BGP: which VPN paths of bgp.l3vpn.0 go to which neighbour, when. RIB
// changes are noted as they happen and exported once per turn (sooner when one read brings thousands); a neighbour that does not keep up gets its
// changes as a backlog once its socket drains; a new membership or session re-decides everything for the
// peers concerned. Also originates the RTarget routes of the local routing instances (docs/protocol.md §6.6).
// What a neighbour was sent is kept as one bit per neighbour on each RIB route (VpnExportEntry), not as a
// table per neighbour: its Adj-RIB-Out (../bgp/adj-rib-out.ts) then stores no route (OwnerKeptVpnOut) and
// gets its view and a new session's table from here. Past EXPORT_MARK_PEERS neighbours, the others' Adj-RIB-Out
// keeps its own table as before.
// The per-route decision is ./bgp-export-policy.ts; sessions and Adj-RIB-Out are ../bgp/peer.ts.
import type { RouteTargetNlri } from '../bgp/nlri.ts';
import { defaultPathAttributes } from '../bgp/path-attributes.ts';
import { checkVpnRoutes } from '../bgp/adj-rib-out.ts';
import type { RouteTargetRoute, VpnKey, VpnRoute } from '../bgp/routes.ts';
import type { BgpSpeaker } from '../bgp/speaker.ts';
import { RdPrefixMap } from '../net/rd-prefix-map.ts';
import { RTARGET_TABLE, type RouteChange, type VpnExportEntry } from '../rib/index.ts';
import { exportDecisionForPath, type ExportContext, type ExportTarget } from './bgp-export-policy.ts';
import { EXPORT_MARK_PEERS, FULL_TARGET_BITS, type PeerRecord } from './bgp-peer-record.ts';
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
   * VPN routes changed since the last export, each once (the PENDING mark), in the order they changed. Routes
   * that left the table come too: their marks tell whom to withdraw them from.
   */
  private pendingVpn: VpnExportEntry[] = [];
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
    // Marks left by an earlier exporter on this RIB (BGP attached again) would claim sends this one never made.
    for (const e of control.rib.vpnEntries()) e.exportMarks = 0;
  }

  /** Drops what is pending (the node stops). */
  stop(): void {
    if (this.exportTimer !== null) clearImmediate(this.exportTimer);
    this.exportTimer = null;
    for (const e of this.pendingVpn) e.exportMarks &= ~PENDING;
    this.pendingVpn = [];
  }

  /**
   * Runs inside the RIB's mutation (an UPDATE being read, an agent's publish): only notes what changed. The
   * export runs on the next turn, once for everything the turn changed, so that reading never waits on sending
   * and many routes leave in one UPDATE.
   */
  onRibChanges(changes: readonly RouteChange[]): void {
    for (const c of changes) {
      const e = c.entry;
      if (e !== undefined) {
        if ((e.exportMarks & PENDING) === 0) {
          e.exportMarks |= PENDING;
          this.pendingVpn.push(e);
        }
      } else if (c.table === RTARGET_TABLE) this.membershipChanged = true;
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
    const pending = this.takePending();
    const membershipChanged = this.membershipChanged;
    this.membershipChanged = false;
    try {
      // A new or lost membership changes what RT-constrained peers may receive: re-decide every route.
      if (membershipChanged) {
        this.exportEntries(pending, this.allRecords());
        this.exportAll();
      } else this.exportEntries(pending, this.readyRecords(pending));
    } catch (e) {
      this.log(`BGP: export failed: ${(e as Error).message}`);
    }
  }

  private takePending(): VpnExportEntry[] {
    const pending = this.pendingVpn;
    this.pendingVpn = [];
    for (const e of pending) e.exportMarks &= ~PENDING;
    return pending;
  }

  private allRecords(): PeerRecord[] {
    return [...this.records.values()];
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

  /** Peers that keep up; the others add `entries` to their backlog and wait for their socket to drain. */
  private readyRecords(entries: readonly VpnExportEntry[]): PeerRecord[] {
    const ready: PeerRecord[] = [];
    for (const record of this.records.values()) {
      if (record.backlog === null && record.peer.unsentBytes < SEND_HIGH_WATER_BYTES) {
        ready.push(record);
        continue;
      }
      if (record.backlog === null) {
        const backlog = (record.backlog = new Set());
        record.peer.onceDrained(() => this.onDrained(record, backlog));
      }
      for (const e of entries) record.backlog.add(e);
    }
    return ready;
  }

  private onDrained(record: PeerRecord, backlog: Set<VpnExportEntry>): void {
    // A full re-export (session up or down, membership change) may have replaced this backlog meanwhile.
    if (record.backlog !== backlog) return;
    record.backlog = null;
    try {
      this.exportEntries([...backlog], [record]);
    } catch (e) {
      this.log(`BGP: export failed: ${(e as Error).message}`);
    }
  }

  /**
   * Decides each route for each peer and hands each peer its advertisements and withdrawals in one call each.
   * `all` (a full re-decision): a route a peer was sent and still gets is not sent again; any change of the
   * route itself came as a change and was sent then.
   */
  private exportEntries(entries: readonly VpnExportEntry[], records: readonly PeerRecord[], all = false): void {
    if (entries.length === 0 || records.length === 0) return;
    this.lastInterest = null;
    const rib = this.control.rib;
    // The best path itself, not a route view: no lookup and no allocation per changed route.
    const bests = entries.map((e) => rib.bestVpnPathOf(e));
    for (const record of records) {
      const target = this.target(record);
      const bit = record.exportBit;
      const advertise: VpnRoute[] = [];
      const advertised: VpnExportEntry[] = [];
      const withdraw: VpnKey[] = [];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        const decision = exportDecisionForPath(e.rd, e.prefix, bests[i], target, this.ctx);
        if (bit === 0) {
          if ('advertise' in decision) advertise.push(decision.advertise);
          else withdraw.push(e);
        } else if ('advertise' in decision) {
          if (all && (e.exportMarks & bit) !== 0) continue;
          advertise.push(decision.advertise);
          advertised.push(e);
        } else if ((e.exportMarks & bit) !== 0) {
          unmark(record, e);
          withdraw.push(e);
        }
      }
      try {
        if (withdraw.length > 0) record.peer.withdrawVpn(withdraw);
        if (advertise.length > 0) this.advertise(record, advertise, advertised);
      } catch (e) {
        // One peer's failure must not keep the others from their routes.
        this.log(`BGP: export to ${record.peer.name} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Sends `routes` (from `entries`, for a marking peer) and marks what went. */
  private advertise(record: PeerRecord, routes: readonly VpnRoute[], entries: readonly VpnExportEntry[]): void {
    try {
      record.peer.advertiseVpn(routes);
      for (const e of entries) mark(record, e);
      return;
    } catch {
      // advertiseVpn sends nothing when one route is bad: find it, and send the others.
    }
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      const e = entries[i];
      try {
        record.peer.advertiseVpn([route]);
        if (e !== undefined) mark(record, e);
      } catch (error) {
        // A path the wire cannot carry (a 24-bit VXLAN label, say) must not stop the others.
        this.log(`BGP: cannot advertise ${route.rd}:${route.prefix} to ${record.peer.name}: ${(error as Error).message}`);
        if (e === undefined) record.peer.withdrawVpn([{ rd: route.rd, prefix: route.prefix }]);
        else if ((e.exportMarks & record.exportBit) !== 0) {
          unmark(record, e);
          record.peer.withdrawVpn([e]);
        }
      }
    }
  }

  /** Re-decides every VPN route for the peers (all by default), withdrawing what the RIB no longer has. */
  exportAll(only?: PeerRecord): void {
    const records = only ? [only] : this.allRecords();
    for (const record of records) {
      const backlog = record.backlog;
      record.backlog = null;
      // What waited for a slow socket is decided in full: it may have changed, or left the table.
      if (backlog !== null) this.exportEntries([...backlog], [record]);
    }
    const entries = [...this.control.rib.vpnEntries()];
    this.exportEntries(entries, records, true);
    const storing = records.filter((r) => r.exportBit === 0);
    if (storing.length === 0) return;
    const present = new RdPrefixMap<true>();
    for (const e of entries) present.set(e.rd, e.prefix, true);
    for (const record of storing) {
      const stale = record.peer.adjRibOut().vpn.filter((r) => present.get(r.rd, r.prefix) === undefined);
      if (stale.length > 0) record.peer.withdrawVpn(stale.map(({ rd, prefix }) => ({ rd, prefix })));
    }
  }

  /** What a marking peer was sent, as it goes out now (a view). */
  markedRoutes(record: PeerRecord): VpnRoute[] {
    this.lastInterest = null;
    const rib = this.control.rib;
    const target = this.target(record);
    const routes: VpnRoute[] = [];
    for (const e of rib.vpnEntries()) {
      if ((e.exportMarks & record.exportBit) === 0) continue;
      const decision = exportDecisionForPath(e.rd, e.prefix, rib.bestVpnPathOf(e), target, this.ctx);
      if ('advertise' in decision) routes.push(decision.advertise);
    }
    return routes;
  }

  /**
   * A marking peer's session came up (or asked for a refresh): every route decided afresh, marks set to match,
   * and what it gets. Routes the wire cannot carry are left out (and logged).
   */
  sessionTable(record: PeerRecord): VpnRoute[] {
    const { peer, exportBit: bit } = record;
    // The 'established' listener sets this too, but only after the table went out: reflection needs it now.
    record.remoteRouterId = peer.status().remoteRouterId;
    // Routes that left the table while marked are only referenced from the backlog or the pending list.
    for (const e of record.backlog ?? []) e.exportMarks &= ~bit;
    for (const e of this.pendingVpn) e.exportMarks &= ~bit;
    record.backlog = null;
    this.lastInterest = null;
    const rib = this.control.rib;
    const target = this.target(record);
    const routes: VpnRoute[] = [];
    const entries: VpnExportEntry[] = [];
    for (const e of rib.vpnEntries()) {
      const decision = exportDecisionForPath(e.rd, e.prefix, rib.bestVpnPathOf(e), target, this.ctx);
      if ('advertise' in decision) {
        routes.push(decision.advertise);
        entries.push(e);
      }
      e.exportMarks &= ~bit;
    }
    record.exportedCount = 0;
    const sendable = this.sendable(record, routes);
    for (let i = 0; i < routes.length; i++) if (sendable[i]) mark(record, entries[i]!);
    return routes.filter((_, i) => sendable[i]);
  }

  private sendable(record: PeerRecord, routes: readonly VpnRoute[]): boolean[] {
    try {
      checkVpnRoutes(routes);
      return routes.map(() => true);
    } catch {
      return routes.map((route) => {
        try {
          checkVpnRoutes([route]);
          return true;
        } catch (e) {
          this.log(`BGP: cannot advertise ${route.rd}:${route.prefix} to ${record.peer.name}: ${(e as Error).message}`);
          return false;
        }
      });
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

/** Set on a route while it waits in the exporter's pending list; bits below it are peers (EXPORT_MARK_PEERS). */
const PENDING = 1 << EXPORT_MARK_PEERS;

function mark(record: PeerRecord, e: VpnExportEntry): void {
  if ((e.exportMarks & record.exportBit) !== 0) return;
  e.exportMarks |= record.exportBit;
  record.exportedCount++;
}

function unmark(record: PeerRecord, e: VpnExportEntry): void {
  e.exportMarks &= ~record.exportBit;
  record.exportedCount--;
}

function sameTargets(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
