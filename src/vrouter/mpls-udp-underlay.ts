// Underlay as real MPLS-over-UDP datagrams (RFC 7510) between the computes' loopback addresses, usable
// across OS processes. Delivery is asynchronous: send() returns an in-flight result with a ticket; the
// receiving compute answers with a delivery report, and settle() waits for it. Every outcome is also
// emitted as a 'delivery' event on the receiving side.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { ForwardResult, Packet, TraceStep } from './packet.ts';
import { isLoopback } from '../net/ipv4.ts';
import { decodeMplsOverUdp, encodeMplsOverUdp, encodeReport, MPLS_OVER_UDP_PORT } from './mpls-udp-codec.ts';
import { unknownComputeDrop, type Underlay, type UnderlayReceiver } from './underlay.ts';

export interface MplsOverUdpOptions {
  /** UDP port every compute listens on; 0 = an ephemeral port per compute, known only inside this underlay */
  port?: number;
  /** how long settle() waits for a delivery report */
  reportTimeoutMs?: number;
  /** where datagrams that cannot be decoded are reported (they are dropped and counted) */
  log?: (line: string) => void;
}

export interface MplsOverUdpCounters { sent: number; received: number; reports: number; malformed: number; sendErrors: number; timeouts: number }

const MAX_UNCLAIMED_REPORTS = 65536;

interface Endpoint { socket: dgram.Socket; port: number; bound: Promise<void> }

interface Pending { resolve: (r: ForwardResult) => void; timer: NodeJS.Timeout }

export interface MplsOverUdpUnderlay {
  on(event: 'delivery', listener: (result: ForwardResult, from: string, to: string) => void): this;
}

export class MplsOverUdpUnderlay extends EventEmitter implements Underlay {
  private readonly port: number;
  private readonly reportTimeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly pending = new Map<string, Pending>();
  /** reports that arrived before anyone asked for them (settle() after the answer) */
  private readonly early = new Map<string, ForwardResult>();
  private nextIdent = 1;
  readonly encapsulation = 'udp';
  readonly counters: MplsOverUdpCounters = { sent: 0, received: 0, reports: 0, malformed: 0, sendErrors: 0, timeouts: 0 };

  constructor(o: MplsOverUdpOptions = {}) {
    super();
    this.port = o.port ?? MPLS_OVER_UDP_PORT;
    this.reportTimeoutMs = o.reportTimeoutMs ?? 2000;
    this.log = o.log ?? (() => {});
  }

  register(routerId: string, rx: UnderlayReceiver): void {
    if (!isLoopback(routerId)) throw new Error(`underlay address ${routerId} must be a 127.0.0.0/8 address`);
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
    socket.on('message', (msg, info) => { void this.onDatagram(routerId, rx, socket, msg, info); });
    this.endpoints.set(routerId, endpoint);
  }

  private async onDatagram(routerId: string, rx: UnderlayReceiver, socket: dgram.Socket, msg: Buffer, info: dgram.RemoteInfo): Promise<void> {
    const decoded = decodeMplsOverUdp(msg);
    if ('error' in decoded) {
      this.counters.malformed++;
      this.log(`${routerId}: dropped datagram from ${info.address}:${info.port}: ${decoded.error}`);
      return;
    }
    if ('report' in decoded) {
      this.counters.reports++;
      this.complete(`${routerId}|${decoded.report.ident}`, decoded.report.result as ForwardResult);
      return;
    }
    this.counters.received++;
    const result = await this.settle(rx(decoded.label, decoded.packet, info.address));
    this.emit('delivery', result, info.address, routerId);
    if (this.endpoints.get(routerId)?.socket !== socket) return; // unregistered meanwhile
    socket.send(encodeReport(decoded.ident, result), info.port, info.address, (err) => {
      if (err) { this.counters.sendErrors++; this.log(`${routerId} report -> ${info.address}: ${err.message}`); }
    });
  }

  private complete(ticket: string, result: ForwardResult): void {
    const waiting = this.pending.get(ticket);
    if (waiting === undefined) {
      // nobody may ever ask (fire-and-forget sends): keep a bounded window, oldest out first
      if (this.early.size >= MAX_UNCLAIMED_REPORTS) this.early.delete(this.early.keys().next().value!);
      this.early.set(ticket, result);
      return;
    }
    clearTimeout(waiting.timer);
    this.pending.delete(ticket);
    waiting.resolve(result);
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
    if (trace !== undefined) {
      trace.push({ node: from, step: 'tunnel', detail: `MPLSoUDP datagram to ${to}:${port}; the remote side is not traced over a real underlay` });
      return { delivered: false, inFlight: true, node: to, hops: [to] };
    }
    const ident = this.nextIdent;
    this.nextIdent = ident === 0xffff ? 1 : ident + 1;
    this.counters.sent++;
    source.socket.send(encodeMplsOverUdp(label, p, ident), port, to, (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.log(`${from} -> ${to}: ${err.message}`);
      }
    });
    return { delivered: false, inFlight: true, node: to, hops: [to], ticket: `${from}|${ident}` };
  }

  private outcome(ticket: string, to: string): Promise<ForwardResult> {
    const early = this.early.get(ticket);
    if (early !== undefined) {
      this.early.delete(ticket);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(ticket);
        this.counters.timeouts++;
        resolve({ delivered: false, node: to, drop: { reason: 'underlay-timeout', detail: `no delivery report from ${to} within ${this.reportTimeoutMs} ms` }, hops: [] });
      }, this.reportTimeoutMs);
      this.pending.get(ticket)?.resolve({ delivered: false, node: to, drop: { reason: 'underlay-timeout', detail: 'ticket reused' }, hops: [] });
      this.pending.set(ticket, { resolve, timer });
    });
  }

  /** Replaces every in-flight part of a result (the packet, then the reply) by the remote outcome. */
  async settle(r: ForwardResult): Promise<ForwardResult> {
    let out = r;
    if (r.inFlight === true && r.ticket !== undefined) {
      const remote = await this.outcome(r.ticket, r.node);
      out = {
        ...remote,
        hops: [...r.hops.slice(0, -1), ...remote.hops],
        ...(r.member ?? remote.member ? { member: r.member ?? remote.member } : {}),
        ...(r.nat || remote.nat ? { nat: [...(r.nat ?? []), ...(remote.nat ?? [])] } : {}),
      };
    }
    if (out.reply !== undefined) out = { ...out, reply: await this.settle(out.reply) };
    return out;
  }

  async close(): Promise<void> {
    const all = [...this.endpoints.values()];
    this.endpoints.clear();
    for (const [ticket, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ delivered: false, node: ticket.split('|')[0], drop: { reason: 'underlay-timeout', detail: 'underlay closed' }, hops: [] });
    }
    this.pending.clear();
    this.early.clear();
    await Promise.all(all.map(async (e) => {
      await e.bound.catch(() => undefined);
      await new Promise<void>((resolve) => e.socket.close(() => resolve()));
    }));
  }
}
