/**
 * A simulated SDN gateway (the edge router of docs/protocol.md §6.6, e.g. an MX): our BGP speaker peering
 * with the control nodes over MP-BGP, importing the VPNv4 routes of its networks' route targets into its
 * own table, installing up to `maxPaths` of them per prefix as ECMP, and forwarding outside clients'
 * packets into the underlay with the chosen path's label, like a compute does. It holds no flow table:
 * each packet is hashed again over the current path set (`stateless`) or through a resilient bucket
 * table. It advertises a default route into those networks, so replies come back to it.
 * Owns the node's sessions, FIB updates and packet path; not the hash (gateway-hash.ts), the table
 * (gateway-fib.ts) or the traffic runs (gateway-traffic.ts).
 */
import { BgpSpeaker } from '../bgp/speaker.ts';
import { defaultPathAttributes } from '../bgp/path-attributes.ts';
import { emptyExtendedCommunities } from '../bgp/extended-communities.ts';
import type { RouteUpdate } from '../bgp/routes.ts';
import type { BgpPeer } from '../bgp/peer.ts';
import type { PeerStatus } from '../bgp/peer.ts';
import { ipv4ToInt } from '../net/ipv4.ts';
import type { ForwardResult, Packet, TraceStep } from '../vrouter/packet.ts';
import { packetProblem } from '../vrouter/packet.ts';
import type { Underlay } from '../vrouter/underlay.ts';
import { BucketTable, DEFAULT_BUCKETS, statelessPick, tupleHash, type GatewayHashMode } from './gateway-hash.ts';
import { GatewayFib, type GatewayPath, type GatewayRoute } from './gateway-fib.ts';

export interface GatewayPeer {
  name: string;
  address: string;
  port: number;
  asn: number;
}

export interface GatewayOptions {
  name: string;
  /** loopback address: BGP source, router id and underlay address */
  address: string;
  asn: number;
  peers: readonly GatewayPeer[];
  /** route targets of the networks it imports (and exports its default route to) */
  routeTargets: readonly string[];
  maxPaths: number;
  hash: GatewayHashMode;
  buckets?: number;
  underlay: Underlay;
  holdTime?: number;
  log?: (line: string) => void;
}

/** The label of the gateway's default route: replies from computes arrive with it. */
export const GATEWAY_RETURN_LABEL = 16;

export interface GatewayChoice {
  prefix: string;
  nextHop: string;
  label: number;
  by: GatewayHashMode;
  /** installed paths of the route when the choice was made */
  paths: number;
}

export interface GatewayResult extends ForwardResult {
  gateway?: GatewayChoice;
}

export class Gateway {
  readonly name: string;
  readonly address: string;
  private readonly speaker: BgpSpeaker;
  private readonly fib: GatewayFib;
  private readonly tables = new Map<string, BucketTable>();
  private hashMode: GatewayHashMode;
  private readonly seed: number;
  private readonly buckets: number;
  readonly counters = { sent: 0, dropped: 0, repliesIn: 0, routeChanges: 0 };

  constructor(private readonly o: GatewayOptions) {
    this.name = o.name;
    this.address = o.address;
    this.hashMode = o.hash;
    this.buckets = o.buckets ?? DEFAULT_BUCKETS;
    this.seed = ipv4ToInt(o.address);
    this.fib = new GatewayFib(new Set(o.routeTargets), o.maxPaths);
    this.speaker = new BgpSpeaker({
      asn: o.asn,
      routerId: o.address,
      holdTime: o.holdTime ?? 90,
      families: ['inet-vpn', 'route-target'],
      peers: o.peers.map((p) => ({ name: p.name, address: p.address, port: p.port, asn: p.asn, localAddress: o.address, connectRetryMs: 1000, idleHoldMs: 1000 })),
    });
    this.speaker.on('update', (peer, update) => this.onUpdate(peer, update));
    this.speaker.on('peer-down', (peer, reason) => {
      o.log?.(`${this.name}: session with ${peer.name} down (${reason})`);
      for (const prefix of this.fib.forgetPeer(peer.name)) this.refresh(prefix);
    });
    this.speaker.on('peer-established', (peer) => o.log?.(`${this.name}: session with ${peer.name} established`));
  }

  async start(): Promise<void> {
    this.o.underlay.register(this.address, (label, p, from, trace) => this.receive(label, p, from, trace));
    // interest in its networks' targets (RFC 4684), and a default route back to itself in each of them
    const attrs = defaultPathAttributes({ origin: 'igp', localPref: 100 });
    this.speaker.advertiseRouteTargets('all', this.o.routeTargets.map((routeTarget) => ({ originAs: this.o.asn, routeTarget, prefixLength: 96, nextHop: this.address, attrs })));
    this.speaker.advertise('all', [{
      rd: `${this.address}:1`,
      prefix: '0.0.0.0/0',
      label: GATEWAY_RETURN_LABEL,
      nextHop: this.address,
      attrs: defaultPathAttributes({
        origin: 'igp',
        localPref: 100,
        extCommunities: { ...emptyExtendedCommunities(), routeTargets: [...this.o.routeTargets], encapsulations: ['udp', 'gre'] },
      }),
    }]);
    await this.speaker.start();
  }

  async stop(): Promise<void> {
    this.o.underlay.unregister(this.address);
    await this.speaker.stop();
  }

  get hash(): GatewayHashMode {
    return this.hashMode;
  }

  /** Switches the hash of new packets (every packet: the gateway keeps no flows). */
  setHash(mode: GatewayHashMode): void {
    this.hashMode = mode;
  }

  peers(): PeerStatus[] {
    return this.speaker.peers();
  }

  routes(): GatewayRoute[] {
    return this.fib.routes();
  }

  /** Buckets per next hop of a prefix's resilient table. */
  bucketCounts(prefix: string): Record<string, number> {
    return Object.fromEntries(this.tables.get(prefix)?.counts() ?? []);
  }

  private onUpdate(peer: BgpPeer, update: RouteUpdate): void {
    const changed = new Set<string>();
    for (const key of update.withdraw) if (this.fib.forget(peer.name, key)) changed.add(key.prefix);
    for (const route of update.reach) {
      const prefix = this.fib.learn(peer.name, route);
      if (prefix !== undefined) changed.add(prefix);
    }
    for (const prefix of changed) this.refresh(prefix);
  }

  /** Keeps the prefix's bucket table in step with its installed paths. */
  private refresh(prefix: string): void {
    this.counters.routeChanges++;
    const route = this.fib.route(prefix);
    if (route === undefined) {
      this.tables.delete(prefix);
      return;
    }
    let table = this.tables.get(prefix);
    if (table === undefined) this.tables.set(prefix, (table = new BucketTable(this.buckets)));
    table.update(route.paths.map((p) => p.nextHop));
  }

  /** Which path a packet takes, without sending it. */
  choose(p: Packet): { route: GatewayRoute; path: GatewayPath } | string {
    const route = this.fib.lookup(p.dst);
    if (route === undefined || route.paths.length === 0) return `no route to ${p.dst} on ${this.name}`;
    const hash = tupleHash(p, this.seed);
    const nextHop = this.hashMode === 'stateless' ? statelessPick(hash, route.paths.map((x) => x.nextHop)) : this.tables.get(route.prefix)?.pick(hash);
    const path = route.paths.find((x) => x.nextHop === nextHop);
    if (path === undefined) return `route ${route.prefix} has no usable path`;
    return { route, path };
  }

  /** An outside client's packet: route, hash, tunnel with the path's label to the compute. */
  send(p: Packet, trace?: TraceStep[]): GatewayResult {
    const problem = packetProblem(p);
    if (problem !== undefined) return this.drop('bad-packet', problem);
    const chosen = this.choose(p);
    if (typeof chosen === 'string') return this.drop('no-route', chosen);
    const { route, path } = chosen;
    trace?.push({ node: this.name, step: 'route', detail: `${route.prefix}: ${route.paths.length} path(s), ${this.hashMode} hash -> ${path.nextHop} label ${path.label}` });
    this.counters.sent++;
    const remote = this.o.underlay.send(this.address, path.nextHop, path.label, p, trace);
    const gateway: GatewayChoice = { prefix: route.prefix, nextHop: path.nextHop, label: path.label, by: this.hashMode, paths: route.paths.length };
    if (remote.hops.length === 0) return { ...remote, node: this.name, hops: [this.name], gateway };
    return { ...remote, hops: [this.name, ...remote.hops], gateway };
  }

  /** Waits for the outcome over an asynchronous underlay (processes mode). */
  async sendSettled(p: Packet): Promise<GatewayResult> {
    const result = this.send(p);
    if (result.inFlight !== true || this.o.underlay.settle === undefined) return result;
    const settled = await this.o.underlay.settle(result);
    return { ...settled, hops: [this.name, ...settled.hops], gateway: result.gateway };
  }

  /** A reply from a compute, on the default route's label: it leaves towards the outside client. */
  private receive(label: number, p: Packet, from: string, trace: TraceStep[] | undefined): ForwardResult {
    if (label !== GATEWAY_RETURN_LABEL) return { delivered: false, node: this.name, drop: { reason: 'unknown-label', detail: `label ${label} is not the gateway's` }, hops: [this.name] };
    trace?.push({ node: this.name, step: 'deliver', detail: `reply from ${from} leaves for ${p.dst}` });
    if (trace === undefined) this.counters.repliesIn++;
    return { delivered: true, node: this.name, interface: 'outside', packet: p, hops: [this.name] };
  }

  private drop(reason: 'bad-packet' | 'no-route', detail: string): GatewayResult {
    this.counters.dropped++;
    return { delivered: false, node: this.name, drop: { reason, detail }, hops: [this.name] };
  }

  status(): Record<string, unknown> {
    return {
      name: this.name,
      kind: 'gateway',
      address: this.address,
      hash: this.hashMode,
      maxPaths: this.o.maxPaths,
      routeTargets: this.o.routeTargets,
      peers: this.peers().map((p) => ({ name: p.name, address: p.address, state: p.state })),
      routes: this.fib.routes().length,
      counters: { ...this.counters },
    };
  }
}
