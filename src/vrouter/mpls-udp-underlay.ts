// Underlay as real MPLS-over-UDP datagrams (RFC 7510) between the computes' loopback addresses.
// Delivery is asynchronous: send() reports the datagram as in flight, and the receiving compute's
// outcome is emitted as a 'delivery' event.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { ForwardResult, Packet, TraceStep } from './packet.ts';
import { ipv4ToInt } from './packet.ts';
import { decodeMplsOverUdp, encodeMplsOverUdp, MPLS_OVER_UDP_PORT } from './mpls-udp-codec.ts';
import { unknownComputeDrop, type Underlay, type UnderlayReceiver } from './underlay.ts';

export interface MplsOverUdpOptions {
  /** UDP port every compute listens on; 0 = an ephemeral port per compute, known only inside this underlay */
  port?: number;
  /** where datagrams that cannot be decoded are reported (they are dropped and counted) */
  log?: (line: string) => void;
}

export interface MplsOverUdpCounters { sent: number; received: number; malformed: number; sendErrors: number }

interface Endpoint { socket: dgram.Socket; port: number; bound: Promise<void> }

export interface MplsOverUdpUnderlay {
  on(event: 'delivery', listener: (result: ForwardResult, from: string, to: string) => void): this;
}

export class MplsOverUdpUnderlay extends EventEmitter implements Underlay {
  private readonly port: number;
  private readonly log: (line: string) => void;
  private readonly endpoints = new Map<string, Endpoint>();
  readonly counters: MplsOverUdpCounters = { sent: 0, received: 0, malformed: 0, sendErrors: 0 };

  constructor(o: MplsOverUdpOptions = {}) {
    super();
    this.port = o.port ?? MPLS_OVER_UDP_PORT;
    this.log = o.log ?? (() => {});
  }

  register(routerId: string, rx: UnderlayReceiver): void {
    if (ipv4ToInt(routerId) < 0 || !routerId.startsWith('127.')) throw new Error(`underlay address ${routerId} must be a 127.0.0.0/8 address`);
    if (this.endpoints.has(routerId)) throw new Error(`underlay address ${routerId} is already registered`);
    const socket = dgram.createSocket('udp4');
    const endpoint: Endpoint = {
      socket,
      port: this.port,
      bound: new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.port, routerId, () => {
          socket.off('error', reject);
          endpoint.port = socket.address().port;
          resolve();
        });
      }),
    };
    socket.on('error', (err) => this.log(`${routerId}: ${err.message}`));
    socket.on('message', (msg, info) => {
      this.counters.received++;
      const decoded = decodeMplsOverUdp(msg);
      if ('error' in decoded) {
        this.counters.malformed++;
        this.log(`${routerId}: dropped datagram from ${info.address}:${info.port}: ${decoded.error}`);
        return;
      }
      const result = rx(decoded.label, decoded.packet, info.address);
      this.emit('delivery', result, info.address, routerId);
    });
    this.endpoints.set(routerId, endpoint);
  }

  /** Resolves when every registered compute's socket is bound (rejects with the bind error). */
  async ready(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((e) => e.bound));
  }

  unregister(routerId: string): void {
    const e = this.endpoints.get(routerId);
    if (e === undefined) return;
    this.endpoints.delete(routerId);
    e.bound.then(() => e.socket.close(), () => e.socket.close());
  }

  send(from: string, to: string, label: number, p: Packet, trace?: TraceStep[]): ForwardResult {
    const source = this.endpoints.get(from);
    const target = this.endpoints.get(to);
    // with ephemeral ports only computes of this underlay are reachable; with a fixed port, any host may answer
    if (source === undefined || (this.port === 0 && target === undefined)) return unknownComputeDrop(from, to);
    const port = target?.port ?? this.port;
    trace?.push({ node: from, step: 'tunnel', detail: `MPLSoUDP datagram to ${to}:${port}; the remote side is not traced over a real underlay` });
    if (trace === undefined) {
      const datagram = encodeMplsOverUdp(label, p);
      this.counters.sent++;
      source.socket.send(datagram, port, to, (err) => {
        if (err) {
          this.counters.sendErrors++;
          this.log(`${from} -> ${to}: ${err.message}`);
        }
      });
    }
    return { delivered: false, inFlight: true, node: to, hops: [to] };
  }

  async close(): Promise<void> {
    const all = [...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.all(all.map(async (e) => {
      await e.bound.catch(() => undefined);
      await new Promise<void>((resolve) => e.socket.close(() => resolve()));
    }));
  }
}
