// BGP for a control node: a speaker with the peers it is given (the other control nodes, iBGP full mesh,
// docs/protocol.md §6.6, and gateways), wired to the RIB, with its status and introspect API. VPN paths of
// bgp.l3vpn.0 go out through ./bgp-exporter.ts (per ./bgp-export-policy.ts); VPN routes and RT memberships
// from peers come in through ./bgp-importer.ts.
// It does not know the topology: the node runtime derives the peers and passes a ControlBgpConfig.
import { type BgpPeer, type PeerConfig, type PeerReason, type PeerState, describeReason } from '../bgp/peer.ts';
import type { OwnerKeptVpnOut, OwnerKeptVpnRoutes, RouteUpdate, VpnRoute } from '../bgp/routes.ts';
import type { PeerGracefulRestart } from '../bgp/graceful-restart-capability.ts';
import { bgpRouteDistinguisher, toBgpAttributes } from './bgp-attributes.ts';
import { BgpSpeaker } from '../bgp/speaker.ts';
import { BgpExporter } from './bgp-exporter.ts';
import { EndOfRibDeferral } from './bgp-end-of-rib-deferral.ts';
import { BgpRestartHelper, type GracefulRestartSettings, type PeerRestartStatus } from './bgp-graceful-restart.ts';
import { BgpImporter } from './bgp-importer.ts';
import { EXPORT_MARK_PEERS, type PeerRecord } from './bgp-peer-record.ts';
import type { ControlNode } from './control-node.ts';
import type { LogFn } from '../net/log.ts';

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
  /**
   * Stops the speaker. `{ abrupt: true }`: the sessions close without a NOTIFICATION, as when the process dies, so
   * that GR-capable peers keep our routes (docs/protocol.md §6.7).
   */
  stop(options?: { abrupt?: boolean }): Promise<void>;
  /** Every peer's full status, for the introspect API. */
  peerDetails(): BgpPeerDetail[];
  /** A peer by name or address, or undefined. */
  findPeer(nameOrAddress: string): BgpPeer | undefined;
  /** Names of the configured peers, for error messages. */
  peerNames(): string[];
  /** Administrative reset (Cease/4): the session drops and comes back by itself. */
  resetPeer(peer: BgpPeer): void;
}

/** A peer's status with what the control node keeps beside it. */
export type BgpPeerDetail = Omit<ReturnType<BgpPeer['status']>, 'state'> & {
  state: string; loopsRejected: number; wantsAllTargets: boolean;
  /** Present while the peer restarts and we keep its paths (graceful restart helper). */
  restart?: PeerRestartStatus;
};

export type NamedPeerConfig = PeerConfig & { name: string };

/** The BGP side of one control node, as plain data. */
export interface ControlBgpConfig {
  /** The control node's name (log lines, errors). */
  nodeName: string;
  asn: number;
  routerId: string;
  clusterId?: string;
  /** Where to accept BGP connections; the address is also the next hop of originated RTarget routes. */
  listen: { address: string; port: number };
  /** Connect-retry and idle-hold timers default to short loopback values when a peer has none. */
  peers: readonly NamedPeerConfig[];
  /** Names the RIB already uses for other peers (the agents): a BGP peer may not take one. */
  reservedNames: readonly string[];
  /** Graceful restart on (offered to every peer, and helping peers that offer it): docs/protocol.md §6.7. */
  gracefulRestart?: GracefulRestartSettings & {
    /** Keep a restarting peer's paths (Contrail's bgp-helper-enable); without it GR is only offered. */
    helper?: boolean;
    /** Agents expected on this node: End-of-RIB to BGP peers waits for them (or end-of-rib-timeout). */
    expectedAgents?: readonly string[];
  };
}

const STATE_NAMES: Readonly<Record<PeerState, string>> = {
  idle: 'Idle', connect: 'Connect', active: 'Active', opensent: 'OpenSent', openconfirm: 'OpenConfirm', established: 'Established',
};

/** Short retry timers: on loopback a peer that is down now is usually back within a second or two. */
const CONNECT_RETRY_MS = 1000;
const IDLE_HOLD_MS = 1000;

export async function attachBgp(
  control: ControlNode,
  config: ControlBgpConfig,
  deps: { log?: LogFn },
): Promise<BgpAttachment> {
  // The RIB attributes paths to peers by name, agents and BGP neighbours alike: one name, one peer.
  const taken = new Set(config.reservedNames);
  for (const p of config.peers) {
    if (taken.has(p.name)) throw new Error(`${config.nodeName}: BGP peer name ${p.name} is already used by another peer or a compute`);
    taken.add(p.name);
  }
  if (config.peers.length === 0) return new IdleBgp(config);
  const log = deps.log ? (line: string) => deps.log!(`${config.nodeName}: ${line}`) : (line: string) => control.log(line);
  const routing = new BgpRouting(control, config, log);
  await routing.start();
  return routing;
}

/** A peer's received VPN routes as the RIB holds them (its Adj-RIB-In view), for ../bgp/peer.ts. */
function ribKeptVpnRoutes(control: ControlNode, peerName: string, asn: number): OwnerKeptVpnRoutes {
  return {
    count: () => control.rib.vpnPathCount(peerName),
    routes: () => control.rib.vpnPathsOf(peerName).map((path): VpnRoute => ({
      rd: bgpRouteDistinguisher(path.rd), prefix: path.prefix, label: path.label, nextHop: path.nextHop,
      attrs: {
        ...toBgpAttributes(path.attrs, asn),
        ...(path.attrs.originatorId !== undefined && { originatorId: path.attrs.originatorId }),
        clusterList: [...path.attrs.clusterList],
      },
    })),
  };
}

/** A control node with no BGP neighbour listens for nothing. */
class IdleBgp implements BgpAttachment {
  constructor(private readonly config: ControlBgpConfig) {}
  status(): ReturnType<BgpAttachment['status']> {
    return { asn: this.config.asn, routerId: this.config.routerId, listen: null, clusterId: this.config.clusterId ?? null, peers: [] };
  }
  async stop(): Promise<void> {}
  peerDetails(): BgpPeerDetail[] {
    return [];
  }
  findPeer(): BgpPeer | undefined {
    return undefined;
  }
  peerNames(): string[] {
    return [];
  }
  resetPeer(): void {}
}

class BgpRouting implements BgpAttachment {
  private readonly speaker: BgpSpeaker;
  private readonly records = new Map<string, PeerRecord>();
  private readonly clusterId: string | null;
  private readonly exporter: BgpExporter;
  private readonly importer: BgpImporter;
  private readonly restarts: BgpRestartHelper | undefined;
  private readonly deferral: EndOfRibDeferral | undefined;
  private unsubscribe: (() => void) | null = null;
  private stopInstanceWatch: (() => void) | null = null;

  constructor(
    private readonly control: ControlNode,
    private readonly config: ControlBgpConfig,
    private readonly log: LogFn,
  ) {
    const { asn, routerId, listen } = config;
    this.clusterId = config.clusterId ?? null;
    const gr = config.gracefulRestart;
    this.speaker = new BgpSpeaker({
      asn, routerId, listen: { ...listen },
      ...(gr && { gracefulRestart: { restartTime: gr.restartTime, longLivedStaleTime: gr.longLivedRestartTime } }),
    });
    this.restarts = gr?.helper ? new BgpRestartHelper(control.rib, gr, log) : undefined;
    this.deferral = gr && new EndOfRibDeferral(control, this.speaker, gr.expectedAgents ?? [], gr.endOfRibTimeout, log);
    for (const p of config.peers) {
      const exportBit = this.records.size < EXPORT_MARK_PEERS ? 1 << this.records.size : 0;
      const peer = this.speaker.addPeer({
        ...p, connectRetryMs: p.connectRetryMs ?? CONNECT_RETRY_MS, idleHoldMs: p.idleHoldMs ?? IDLE_HOLD_MS,
        // The RIB holds every VPN route a peer sends: the peer's Adj-RIB-In keeps no second copy.
        vpnRoutesIn: ribKeptVpnRoutes(control, p.name, asn),
        // And what it is sent is a mark on each RIB route: its Adj-RIB-Out keeps no table either.
        ...(exportBit !== 0 && { vpnRoutesOut: this.markedVpnRoutesOut(p.name) }),
      });
      this.records.set(peer.name, {
        peer, configuredFamilies: p.families ?? [], wantsAll: new Set(), remoteRouterId: undefined, loopsRejected: 0, backlog: null,
        exportBit, exportedCount: 0,
      });
    }
    this.exporter = new BgpExporter(control, this.speaker, this.records, { asn, clusterId: this.clusterId, address: listen.address }, log);
    this.importer = new BgpImporter(control, { asn, routerId, clusterId: this.clusterId }, (record) => this.exporter.exportAll(record), log);
  }

  /** A marking peer's Adj-RIB-Out, kept by the exporter (../bgp/routes.ts OwnerKeptVpnOut); called before the exporter exists. */
  private markedVpnRoutesOut(name: string): OwnerKeptVpnOut {
    const record = () => this.records.get(name)!;
    return {
      count: () => record().exportedCount,
      routes: () => this.exporter.markedRoutes(record()),
      table: () => this.exporter.sessionTable(record()),
    };
  }

  async start(): Promise<void> {
    this.speaker.on('peer-established', (peer) => this.onEstablished(peer));
    this.speaker.on('peer-restarting', (peer, gr) => this.onRestarting(peer, gr));
    this.speaker.on('peer-down', (peer, _text, reason) => this.onDown(peer, reason));
    this.speaker.on('end-of-rib', (peer, family) => this.restarts?.endOfRib(peer.name, family));
    this.speaker.on('update', (peer, u) => this.onUpdate(peer, u));
    this.speaker.on('rejected', (address) => this.log(`BGP: refused a connection from ${address}: not a configured peer`, 'warn'));
    this.unsubscribe = this.control.onRouteChange((changes) => this.exporter.onRibChanges(changes));
    this.exporter.syncRouteTargets();
    this.exporter.exportAll();
    this.deferral?.start();
    try {
      await this.speaker.start();
    } catch (e) {
      this.unsubscribe();
      this.deferral?.stop();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the address is in use (is another simulation running?)' : (e as Error).message;
      const { address, port } = this.config.listen;
      throw new Error(`${this.config.nodeName}: cannot listen for BGP on ${address}:${port}: ${why}`);
    }
    this.stopInstanceWatch = this.control.onInstancesChange(() => {
      try {
        this.exporter.syncRouteTargets();
      } catch (e) {
        this.log(`BGP: RTarget routes: ${(e as Error).message}`, 'error');
      }
    });
    const listen = this.speaker.listenAddress();
    this.log(`BGP listening on ${listen?.address}:${listen?.port}, ${this.records.size} peer(s)`);
  }

  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    this.stopInstanceWatch?.();
    this.stopInstanceWatch = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.exporter.stop();
    this.restarts?.stop();
    this.deferral?.stop();
    await this.speaker.stop(options);
  }

  status(): ReturnType<BgpAttachment['status']> {
    const listen = this.speaker.listenAddress();
    return {
      asn: this.config.asn,
      routerId: this.config.routerId,
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

  peerDetails(): BgpPeerDetail[] {
    return [...this.records.values()].map((r) => {
      const s = r.peer.status();
      const restart = this.restarts?.status(r.peer.name);
      return { ...s, state: STATE_NAMES[s.state], loopsRejected: r.loopsRejected, wantsAllTargets: r.wantsAll.size > 0, ...(restart && { restart }) };
    });
  }

  findPeer(nameOrAddress: string): BgpPeer | undefined {
    return (this.records.get(nameOrAddress) ?? [...this.records.values()].find((r) => r.peer.address === nameOrAddress))?.peer;
  }

  peerNames(): string[] {
    return [...this.records.keys()];
  }

  resetPeer(peer: BgpPeer): void {
    this.log(`BGP: resetting the session with ${peer.name} on request`);
    peer.reset();
  }

  private record(peer: BgpPeer): PeerRecord {
    return this.records.get(peer.name)!;
  }

  private onEstablished(peer: BgpPeer): void {
    const record = this.record(peer);
    record.remoteRouterId = peer.status().remoteRouterId;
    this.log(`BGP: ${peer.name} (${peer.address}) established, families ${peer.families.join(' ')}${peer.gracefulRestart ? ', graceful restart' : ''}`);
    this.restarts?.sessionUp(peer.name, peer.gracefulRestart);
    // RT-constraint now follows what was negotiated rather than what was configured.
    this.exporter.exportAll(record);
  }

  private onRestarting(peer: BgpPeer, gr: PeerGracefulRestart): void {
    // The Adj-RIB-In withdraws the families graceful restart does not keep; VPN routes it leaves to the RIB.
    if (!gr.families.includes('inet-vpn')) this.control.rib.removePeerVpnPaths(peer.name);
    this.restarts?.sessionLost(peer.name, gr);
  }

  private onDown(peer: BgpPeer, reason: PeerReason): void {
    const record = this.record(peer);
    record.wantsAll.clear();
    // A restarting peer's paths stay (stale) until it returns or its time runs out.
    if (this.restarts?.isHelping(peer.name)) this.log(`BGP: ${peer.name}: keeping its paths while it restarts`);
    else if (this.restarts) this.restarts.sessionDown(peer.name);
    else this.control.rib.removePeer(peer.name);
    this.log(`BGP: ${peer.name} (${peer.address}) down: ${describeReason(reason)}`, 'warn');
    this.exporter.exportAll(record);
  }

  private onUpdate(peer: BgpPeer, u: RouteUpdate): void {
    this.importer.apply(this.record(peer), u);
  }
}
