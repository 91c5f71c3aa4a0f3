import { EventEmitter } from 'node:events';
import { type Server, type Socket, createServer } from 'node:net';
import { stripV4Mapped } from './connection.ts';
import { ALL_FAMILIES, type FamilyName } from './families.ts';
import { requireIpv4 } from '../net/ipv4.ts';
import type { LocalGracefulRestart, PeerGracefulRestart } from './graceful-restart-capability.ts';
import { encodeMessage } from './messages.ts';
import type { RouteTargetNlri } from './nlri.ts';
import { BgpPeer, type FsmEvent, type PeerConfig, type PeerReason, type PeerState, type PeerStatus } from './peer.ts';
import { CeaseSubcode, ErrorCode } from './protocol-error.ts';
import type { InetRoute, RouteTargetRoute, RouteUpdate, VpnKey, VpnRoute } from './routes.ts';

export interface SpeakerConfig {
  asn: number;
  routerId: string;
  /** Where to accept BGP connections; omit to only connect out. Port 179 by default, 0 picks a free one. */
  listen?: { address: string; port?: number };
  /** Proposed hold time in seconds (default 90, docs/protocol.md §1). */
  holdTime?: number;
  /** Families offered to peers without their own list (default inet-vpn + route-target). */
  families?: FamilyName[];
  /** Offer graceful restart to every peer (RFC 4724; with longLivedStaleTime also RFC 9494). */
  gracefulRestart?: LocalGracefulRestart;
  peers?: PeerConfig[];
}

export interface WireInfo {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
}

export interface SpeakerEvents {
  'peer-established': [BgpPeer];
  /** After the peer's learned routes were withdrawn through an 'update' event: the reason as text and typed. */
  'peer-down': [BgpPeer, string, PeerReason];
  /**
   * Before 'peer-down': the session ended the way graceful restart covers, and the peer's routes of these
   * families were kept (not withdrawn through 'update'); the caller keeps them stale (docs/protocol.md §6.7).
   */
  'peer-restarting': [BgpPeer, PeerGracefulRestart];
  'peer-state': [BgpPeer, PeerState, PeerState, FsmEvent];
  update: [BgpPeer, RouteUpdate];
  'end-of-rib': [BgpPeer, FamilyName];
  'route-refresh': [BgpPeer, FamilyName];
  /** Every byte chunk sent or received, for captures (inspect layer). */
  wire: [BgpPeer, 'in' | 'out', Buffer, WireInfo];
  /** A connection from an address that is no configured peer was refused. */
  rejected: [string];
}

export type PeerTarget = string | 'all';

/**
 * A BGP speaker: one listener plus configured peers, each with its own session, Adj-RIB-In and Adj-RIB-Out.
 * The control node feeds it routes per peer (or 'all') and consumes 'update' events; route selection and
 * policy (split horizon, reflection, RT constraint) are the caller's.
 */
export class BgpSpeaker extends EventEmitter<SpeakerEvents> {
  private readonly peersByAddress = new Map<string, BgpPeer>();
  private server: Server | undefined;
  private started = false;
  readonly asn: number;
  readonly routerId: string;
  private readonly holdTime: number;
  private readonly families: FamilyName[];

  constructor(private readonly config: SpeakerConfig) {
    super();
    if (!Number.isInteger(config.asn) || config.asn < 1 || config.asn > 0xffffffff) throw new RangeError(`bad local ASN ${config.asn}`);
    if (requireIpv4(config.routerId) === 0) throw new RangeError('router id 0.0.0.0 is not allowed');
    this.asn = config.asn;
    this.routerId = config.routerId;
    this.holdTime = config.holdTime ?? 90;
    this.families = config.families ?? ['inet-vpn', 'route-target'];
    for (const f of this.families) if (!ALL_FAMILIES.includes(f)) throw new RangeError(`unknown family ${f}`);
    for (const p of config.peers ?? []) this.addPeer(p);
  }

  /** Starts listening (if configured) and starts every peer. */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.config.listen) {
      const server = createServer((socket) => this.onIncoming(socket));
      const { address, port = 179 } = this.config.listen;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      server.on('error', () => undefined);
      this.server = server;
    }
    this.started = true;
    for (const p of this.peersByAddress.values()) p.start();
  }

  /**
   * Sends Cease to every peer and closes the listener. `{ abrupt: true }`: closes the sessions without a
   * NOTIFICATION, as when the process dies, so that GR-capable peers keep our routes (docs/protocol.md §6.7).
   */
  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    this.started = false;
    for (const p of this.peersByAddress.values()) p.stop(CeaseSubcode.administrativeShutdown, !options.abrupt);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bound listen address (port resolved when 0 was asked for). */
  listenAddress(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: stripV4Mapped(a.address), port: a.port } : undefined;
  }

  addPeer(config: PeerConfig): BgpPeer {
    if (this.peersByAddress.has(config.address)) throw new Error(`peer ${config.address} is already configured`);
    const listenAddress = this.config.listen?.address;
    const peer = new BgpPeer(config, {
      asn: this.asn, routerId: this.routerId, holdTime: this.holdTime, families: this.families,
      ...(this.config.gracefulRestart && { gracefulRestart: this.config.gracefulRestart }),
      ...(listenAddress && listenAddress !== '0.0.0.0' && { localAddress: listenAddress }),
    });
    peer.on('state', (from, to, event) => this.emit('peer-state', peer, from, to, event));
    peer.on('established', () => this.emit('peer-established', peer));
    peer.on('restarting', (gr) => this.emit('peer-restarting', peer, gr));
    peer.on('down', (text, reason) => this.emit('peer-down', peer, text, reason));
    peer.on('update', (u) => this.emit('update', peer, u));
    peer.on('end-of-rib', (f) => this.emit('end-of-rib', peer, f));
    peer.on('route-refresh', (f) => this.emit('route-refresh', peer, f));
    peer.on('wire', (dir, bytes, info) => this.emit('wire', peer, dir, bytes, info));
    this.peersByAddress.set(config.address, peer);
    if (this.started) peer.start();
    return peer;
  }

  /** Removes a peer, telling it so (Cease / peer de-configured). */
  removePeer(address: string): void {
    const peer = this.peersByAddress.get(address);
    if (!peer) throw new Error(`no peer ${address}`);
    peer.stop(CeaseSubcode.peerDeconfigured);
    this.peersByAddress.delete(address);
  }

  peer(address: string): BgpPeer | undefined {
    return this.peersByAddress.get(address);
  }

  peers(): PeerStatus[] {
    return [...this.peersByAddress.values()].map((p) => p.status());
  }

  resetPeer(address: string): void {
    this.requirePeer(address).reset();
  }

  /** Every peer holds End-of-RIB back from new sessions until releaseEndOfRib (RFC 4724 §4.1: a restarting speaker). */
  holdEndOfRib(): void {
    for (const p of this.peersByAddress.values()) p.holdEndOfRib();
  }

  releaseEndOfRib(): void {
    for (const p of this.peersByAddress.values()) p.releaseEndOfRib();
  }

  advertise(target: PeerTarget, routes: readonly VpnRoute[]): void {
    for (const p of this.targets(target)) p.advertiseVpn(routes);
  }

  withdraw(target: PeerTarget, keys: readonly VpnKey[]): void {
    for (const p of this.targets(target)) p.withdrawVpn(keys);
  }

  advertiseRouteTargets(target: PeerTarget, routes: readonly RouteTargetRoute[]): void {
    for (const p of this.targets(target)) p.advertiseRouteTargets(routes);
  }

  withdrawRouteTargets(target: PeerTarget, items: readonly RouteTargetNlri[]): void {
    for (const p of this.targets(target)) p.withdrawRouteTargets(items);
  }

  advertiseInet(target: PeerTarget, routes: readonly InetRoute[]): void {
    for (const p of this.targets(target)) p.advertiseInet(routes);
  }

  withdrawInet(target: PeerTarget, prefixes: readonly string[]): void {
    for (const p of this.targets(target)) p.withdrawInetPrefixes(prefixes);
  }

  private requirePeer(address: string): BgpPeer {
    const peer = this.peersByAddress.get(address);
    if (!peer) throw new Error(`no peer ${address}`);
    return peer;
  }

  private targets(target: PeerTarget): BgpPeer[] {
    return target === 'all' ? [...this.peersByAddress.values()] : [this.requirePeer(target)];
  }

  private onIncoming(socket: Socket): void {
    socket.on('error', () => undefined);
    const remote = stripV4Mapped(socket.remoteAddress ?? '');
    const peer = this.peersByAddress.get(remote);
    if (peer) {
      peer.acceptIncoming(socket);
      return;
    }
    this.emit('rejected', remote);
    socket.end(encodeMessage({ type: 'notification', code: ErrorCode.cease, subcode: CeaseSubcode.connectionRejected }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
