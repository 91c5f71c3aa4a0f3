// BGP for a control node: peers from the topology (the other control nodes, iBGP full mesh, §6.6, and
// the gateways of `bgpPeers`), wired to the RIB. VPN paths of bgp.l3vpn.0 go out per the export policy
// (./bgp-export-policy.ts); VPN routes and RT memberships from peers go into the RIB, which imports them
// into VRFs by route target and reflects them to agents.
import type { FamilyName } from '../bgp/families.ts';
import { ipv4ToNumber } from '../bgp/ipv4.ts';
import type { RouteTargetNlri } from '../bgp/nlri.ts';
import { defaultPathAttributes } from '../bgp/path-attributes.ts';
import type { BgpPeer, PeerConfig, PeerState } from '../bgp/peer.ts';
import { type RouteTargetRoute, type RouteUpdate, type VpnKey, type VpnRoute, vpnKey } from '../bgp/routes.ts';
import { BgpSpeaker } from '../bgp/speaker.ts';
import { VpnRouteTable } from '../bgp/vpn-route-table.ts';
import { ApiError, type ApiRouter } from '../inspect/api-router.ts';
import { RTARGET_TABLE, VPN_TABLE, type PeerRef, type RouteChange } from '../rib/index.ts';
import type { ControlNodeSpec, Topology } from '../topology/topology.ts';
import { fromBgpAttributes, ribRouteDistinguisher } from './bgp-attributes.ts';
import { exportDecision, type ExportContext, type ExportTarget } from './bgp-export-policy.ts';
import type { ControlNode } from './control-node.ts';

export interface BgpPeerSummary {
  name: string;
  address: string;
  asn: number;
  /** RFC 4271 state name: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  families: string[];
  prefixesIn: number;
  prefixesOut: number;
}

export interface BgpAttachment {
  /** Shown under `bgp` in the control node's /status. */
  status(): { asn: number; routerId: string; listen: string | null; clusterId: string | null; peers: BgpPeerSummary[] };
  stop(): Promise<void>;
  mountApi(router: ApiRouter): void;
}

const STATE_NAMES: Readonly<Record<PeerState, string>> = {
  idle: 'Idle', connect: 'Connect', active: 'Active', opensent: 'OpenSent', openconfirm: 'OpenConfirm', established: 'Established',
};

/** Short retry timers: on loopback a peer that is down now is usually back within a second or two. */
const CONNECT_RETRY_MS = 1000;
const IDLE_HOLD_MS = 1000;
/**
 * Unsent bytes at which a peer counts as not keeping up: its exports wait (as a set of keys, so that repeated
 * changes of one route cost nothing) until its socket drains. About 250k routes of packed UPDATEs.
 */
const SEND_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** RFC 4684: a membership NLRI covering the whole target (origin AS + 8 bytes) is 96 bits long. */
const FULL_TARGET_BITS = 96;

export async function attachBgp(
  control: ControlNode,
  topology: Topology,
  spec: ControlNodeSpec,
  deps: { log?: (line: string) => void },
): Promise<BgpAttachment> {
  const peers = peerConfigs(topology, spec);
  // The RIB attributes paths to peers by name, agents and BGP neighbours alike: one name, one peer.
  const taken = new Set(topology.computes.map((c) => c.name));
  for (const p of peers) {
    if (taken.has(p.name)) throw new Error(`${spec.name}: BGP peer name ${p.name} is already used by another peer or a compute`);
    taken.add(p.name);
  }
  if (peers.length === 0) return new IdleBgp(topology.asn, spec);
  const log = deps.log ? (line: string) => deps.log!(`${spec.name}: ${line}`) : (line: string) => control.log(line);
  const routing = new BgpRouting(control, topology.asn, spec, peers, log);
  await routing.start();
  return routing;
}

export type NamedPeerConfig = PeerConfig & { name: string };

/** Peers of one control node: every other control node (iBGP full mesh) and every gateway of the topology. */
export function peerConfigs(topology: Topology, spec: ControlNodeSpec): NamedPeerConfig[] {
  const self = ipv4ToNumber(spec.routerId);
  const mesh: NamedPeerConfig[] = topology.controlNodes
    .filter((c) => c.name !== spec.name)
    .map((c) => ({
      name: c.name,
      address: c.address,
      port: c.bgpPort,
      asn: topology.asn,
      families: ['inet-vpn', 'route-target'],
      // The lower router-id dials, the other waits: both dialling works too (§6.8), but costs a collision per start.
      passive: self > ipv4ToNumber(c.routerId),
      localAddress: spec.address,
      connectRetryMs: CONNECT_RETRY_MS,
      idleHoldMs: IDLE_HOLD_MS,
    }));
  const gateways: NamedPeerConfig[] = topology.bgpPeers.map((p) => ({
    name: p.name,
    address: p.address,
    port: p.port,
    asn: p.asn,
    families: [...p.families],
    passive: p.passive,
    holdTime: p.holdTime,
    localAddress: p.localAddress ?? spec.address,
    connectRetryMs: CONNECT_RETRY_MS,
    idleHoldMs: IDLE_HOLD_MS,
  }));
  return [...mesh, ...gateways];
}

/** A control node with no BGP neighbour listens for nothing. */
class IdleBgp implements BgpAttachment {
  constructor(private readonly asn: number, private readonly spec: ControlNodeSpec) {}
  status(): ReturnType<BgpAttachment['status']> {
    return { asn: this.asn, routerId: this.spec.routerId, listen: null, clusterId: this.spec.clusterId ?? null, peers: [] };
  }
  async stop(): Promise<void> {}
  mountApi(router: ApiRouter): void {
    router.on('GET', '/bgp/peers', () => ({ status: 200, body: [] }));
    router.on('GET', '/bgp/adj-rib-out', () => {
      throw new ApiError(404, `${this.spec.name} has no BGP peers`);
    });
  }
}

interface PeerRecord {
  readonly peer: BgpPeer;
  readonly configuredFamilies: readonly FamilyName[];
  /** RT-constraint NLRI by which the peer asked for every target (default route, or a partial target). */
  readonly wantsAll: Set<string>;
  remoteRouterId: string | undefined;
  /** VPN routes refused by the loop checks (own originator id, own cluster id, own AS in the path). */
  loopsRejected: number;
  /** While the peer does not keep up (its socket holds SEND_HIGH_WATER_BYTES or more): the routes to decide once it drains. */
  backlog: VpnRouteTable<VpnKey> | null;
}

class BgpRouting implements BgpAttachment {
  private readonly speaker: BgpSpeaker;
  private readonly records = new Map<string, PeerRecord>();
  private readonly clusterId: string | null;
  private readonly originated = new Map<string, RouteTargetRoute>();
  private readonly ctx: ExportContext;
  private unsubscribe: (() => void) | null = null;
  /** VPN routes changed since the last export. */
  private readonly pendingVpn = new VpnRouteTable<VpnKey>();
  private membershipChanged = false;
  private exportTimer: NodeJS.Immediate | null = null;
  /** The last interestedPeers answer of the current export pass (memberships do not change during one). */
  private lastInterest: { targets: readonly string[]; names: ReadonlySet<string> } | null = null;
  private stopInstanceWatch: (() => void) | null = null;

  constructor(
    private readonly control: ControlNode,
    private readonly asn: number,
    private readonly spec: ControlNodeSpec,
    peers: PeerConfig[],
    private readonly log: (line: string) => void,
  ) {
    this.clusterId = spec.clusterId ?? null;
    this.speaker = new BgpSpeaker({ asn, routerId: spec.routerId, listen: { address: spec.address, port: spec.bgpPort } });
    for (const config of peers) {
      const peer = this.speaker.addPeer(config);
      this.records.set(peer.name, { peer, configuredFamilies: config.families ?? [], wantsAll: new Set(), remoteRouterId: undefined, loopsRejected: 0, backlog: null });
    }
    this.ctx = {
      asn,
      clusterId: this.clusterId,
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

  async start(): Promise<void> {
    this.speaker.on('peer-established', (peer) => this.onEstablished(peer));
    this.speaker.on('peer-down', (peer, reason) => this.onDown(peer, reason));
    this.speaker.on('update', (peer, u) => this.onUpdate(peer, u));
    this.speaker.on('rejected', (address) => this.log(`BGP: refused a connection from ${address}: not a configured peer`));
    this.unsubscribe = this.control.onRouteChange((changes) => this.onRibChanges(changes));
    this.syncRouteTargets();
    this.exportAll();
    try {
      await this.speaker.start();
    } catch (e) {
      this.unsubscribe();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the address is in use (is another simulation running?)' : (e as Error).message;
      throw new Error(`${this.spec.name}: cannot listen for BGP on ${this.spec.address}:${this.spec.bgpPort}: ${why}`);
    }
    this.stopInstanceWatch = this.control.onInstancesChange(() => {
      try {
        this.syncRouteTargets();
      } catch (e) {
        this.log(`BGP: RTarget routes: ${(e as Error).message}`);
      }
    });
    const listen = this.speaker.listenAddress();
    this.log(`BGP listening on ${listen?.address}:${listen?.port}, ${this.records.size} peer(s)`);
  }

  async stop(): Promise<void> {
    this.stopInstanceWatch?.();
    this.stopInstanceWatch = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.exportTimer !== null) clearImmediate(this.exportTimer);
    this.exportTimer = null;
    this.pendingVpn.clear();
    await this.speaker.stop();
  }

  status(): ReturnType<BgpAttachment['status']> {
    const listen = this.speaker.listenAddress();
    return {
      asn: this.asn,
      routerId: this.spec.routerId,
      listen: listen ? `${listen.address}:${listen.port}` : null,
      clusterId: this.clusterId,
      peers: [...this.records.values()].map(({ peer, configuredFamilies }) => {
        const s = peer.status();
        return {
          name: s.name, address: s.address, asn: s.asn, state: STATE_NAMES[s.state],
          families: s.state === 'established' ? s.families : [...configuredFamilies],
          prefixesIn: s.prefixesIn, prefixesOut: s.prefixesOut,
        };
      }),
    };
  }

  mountApi(router: ApiRouter): void {
    router.on('GET', '/bgp/peers', () => ({
      status: 200,
      body: [...this.records.values()].map((r) => {
        const s = r.peer.status();
        return { ...s, state: STATE_NAMES[s.state], loopsRejected: r.loopsRejected, wantsAllTargets: r.wantsAll.size > 0 };
      }),
    }));
    router.on('GET', '/bgp/adj-rib-out', (req) => ({ status: 200, body: this.requireRecord(req.query.get('peer')).peer.adjRibOut() }));
    router.on('GET', '/bgp/adj-rib-in', (req) => ({ status: 200, body: this.requireRecord(req.query.get('peer')).peer.adjRibIn() }));
    router.on('POST', '/bgp/reset', (req) => {
      // Administrative reset (Cease/4): the session drops and comes back by itself.
      const { peer } = this.requireRecord(req.query.get('peer'));
      this.log(`BGP: resetting the session with ${peer.name} on request`);
      peer.reset();
      return { status: 200, body: { reset: peer.name } };
    });
  }

  private requireRecord(nameOrAddress: string | null): PeerRecord {
    if (!nameOrAddress) throw new ApiError(400, 'give peer=<name or address>');
    const found = this.records.get(nameOrAddress) ?? [...this.records.values()].find((r) => r.peer.address === nameOrAddress);
    if (!found) throw new ApiError(404, `${this.spec.name} has no BGP peer ${nameOrAddress}; peers: ${[...this.records.keys()].join(', ')}`);
    return found;
  }

  // ── export ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs inside the RIB's mutation (an UPDATE being read, an agent's publish): only notes what changed. The
   * export runs on the next turn, once for everything the turn changed, so that reading never waits on sending
   * and many routes leave in one UPDATE.
   */
  private onRibChanges(changes: readonly RouteChange[]): void {
    for (const c of changes) {
      if (c.table === VPN_TABLE && c.rd !== undefined) this.pendingVpn.set({ rd: c.rd, prefix: c.prefix });
      else if (c.table === RTARGET_TABLE) this.membershipChanged = true;
    }
    if (this.exportTimer === null && (this.pendingVpn.size > 0 || this.membershipChanged)) {
      this.exportTimer = setImmediate(() => this.flushExports());
    }
  }

  private flushExports(): void {
    this.exportTimer = null;
    const pending = [...this.pendingVpn.values()];
    const membershipChanged = this.membershipChanged;
    this.pendingVpn.clear();
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
    const routes = keys.map((k) => this.control.rib.route(VPN_TABLE, k.prefix, k.rd));
    for (const record of records) {
      const target = this.target(record);
      const advertise: VpnRoute[] = [];
      const withdraw: VpnKey[] = [];
      for (let i = 0; i < keys.length; i++) {
        const decision = exportDecision(routes[i], target, this.ctx);
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
  private exportAll(only?: PeerRecord): void {
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

  /** RTarget routes `<asn>:<rt>` for every import target of every configured routing instance (§6.6). */
  private syncRouteTargets(): void {
    const wanted = new Set(this.control.rib.instances().flatMap((i) => i.importTargets));
    const added: RouteTargetRoute[] = [];
    const removed: RouteTargetNlri[] = [];
    for (const rt of wanted) {
      if (this.originated.has(rt)) continue;
      const route: RouteTargetRoute = {
        originAs: this.asn, routeTarget: rt, prefixLength: FULL_TARGET_BITS, nextHop: this.spec.address,
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

  // ── import ─────────────────────────────────────────────────────────────────────────────────────────

  private record(peer: BgpPeer): PeerRecord {
    return this.records.get(peer.name)!;
  }

  private peerRef(record: PeerRecord): PeerRef {
    const { peer } = record;
    return {
      kind: 'bgp', name: peer.name, address: peer.address, asn: peer.asn, isIbgp: peer.isIbgp,
      ...(record.remoteRouterId !== undefined && { routerId: record.remoteRouterId }),
    };
  }

  private onEstablished(peer: BgpPeer): void {
    const record = this.record(peer);
    record.remoteRouterId = peer.status().remoteRouterId;
    this.log(`BGP: ${peer.name} (${peer.address}) established, families ${peer.families.join(' ')}`);
    // RT-constraint now follows what was negotiated rather than what was configured.
    this.exportAll(record);
  }

  private onDown(peer: BgpPeer, reason: string): void {
    const record = this.record(peer);
    record.wantsAll.clear();
    this.control.rib.removePeer(peer.name);
    this.log(`BGP: ${peer.name} (${peer.address}) down: ${reason}`);
    this.exportAll(record);
  }

  private onUpdate(peer: BgpPeer, u: RouteUpdate): void {
    const record = this.record(peer);
    const ref = this.peerRef(record);
    const rib = this.control.rib;
    const attempt = (what: string, work: () => void) => {
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
        try {
          rib.removeVpnPath(ribRouteDistinguisher(key.rd), key.prefix, ref.name);
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
    if (record.peer.isIbgp) {
      return attrs.originatorId === this.spec.routerId || (this.clusterId !== null && attrs.clusterList.includes(this.clusterId));
    }
    return attrs.asPath.some((segment) => segment.asns.includes(this.asn));
  }

  private membership(record: PeerRecord, ref: PeerRef, m: RouteTargetNlri, reach: boolean, attempt: (what: string, work: () => void) => void): void {
    const rib = this.control.rib;
    const text = `RT membership ${m.originAs}:${m.routeTarget ?? 'default'}/${m.prefixLength}`;
    if (m.routeTarget === null || m.prefixLength < FULL_TARGET_BITS) {
      // The default route or a partial target: treated as asking for every target (a superset is safe).
      const key = `${m.originAs}|${m.routeTarget ?? 'default'}|${m.prefixLength}`;
      const had = record.wantsAll.size > 0;
      if (reach) record.wantsAll.add(key);
      else record.wantsAll.delete(key);
      if (had !== record.wantsAll.size > 0) this.exportAll(record);
      return;
    }
    const rt = m.routeTarget;
    attempt(text, () => {
      if (reach) rib.addRouteTargetMembership(ref, m.originAs, rt);
      else rib.removeRouteTargetMembership(ref.name, m.originAs, rt);
    });
  }
}

function sameTargets(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
