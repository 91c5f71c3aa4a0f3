// The vRouter agent's XMPP channel (docs/protocol.md §2.2, §2.4) on @xmpp/client's connection machinery: the TCP
// connection class, its status machine, @xmpp/reconnect and @xmpp/middleware are the library's.
// Replaced, because they fight Contrail's dialect:
//  * header(): the library writes `<?xml version='1.0'?>` (single quotes, which the real framer
//    rejects) and no `from` (which the control node requires). We write the docs/protocol.md §2.2 header.
//  * Parser: the library's ltx stream parser treats U+0200 keepalives as text of the root element
//    and hands out elements only; ours frames like the real node (stream-framer.ts) and also yields
//    the raw stanza for the tap and for callers that decode with the fast path.
//  * _onData: the library decodes each TCP segment on its own, which corrupts a UTF-8 keepalive
//    split across segments; the framer decodes incrementally.
//  * "online": the library waits for SASL/bind that Contrail never offers, so `open` (server header
//    received) is treated as established.
//  * Back-off: @xmpp/reconnect uses a fixed delay; its delay is set before each attempt per docs/protocol.md §2.4.
//  * STARTTLS (docs/protocol.md §2.3): @xmpp/starttls rides on stream-features and SASL machinery Contrail
//    lacks; the negotiation runs in _onData before the framer, then the library's socket is swapped for
//    a node:tls socket over it and the stream restarted, as @xmpp/starttls itself does.
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { certificateMismatch, encodeStartTls, findFeatures, findProceed, streamHeaderLength, type XmppTlsMaterial } from './starttls.ts';
import ConnectionTCP from '@xmpp/connection-tcp';
import reconnect, { type Reconnect } from '@xmpp/reconnect';
import middleware, { type MiddlewareApi } from '@xmpp/middleware';
import { Element, parse as parseLtx } from 'ltx';
import type { StanzaObserver } from './stanza-observer.ts';
import { CONTROL_NODE_JID, KEEPALIVE, STREAM_CLOSE, encodeAgentStreamOpen } from './stanza-encoder.ts';
import { StreamFramer, splitStanzas } from './stream-framer.ts';
import { DEFAULT_HOLD_TIME_SECONDS, DEFAULT_MAX_STANZA_BYTES } from './server.ts';

export interface AgentClientOptions {
  agentName: string;
  /** Source address of the TCP connection (each compute has its own 127.x address). */
  localAddress: string;
  host: string;
  port: number;
  holdTimeSeconds?: number;
  tap?: StanzaObserver;
  log?: (line: string) => void;
  /** Reconnect delay for the n-th consecutive failed attempt (0-based); default docs/protocol.md §2.4 back-off. */
  reconnectDelay?: (attempt: number) => number;
  /** Time allowed from TCP connect to the server's stream header (default 15000 ms). */
  openTimeoutMs?: number;
  maxStanzaBytes?: number;
  /**
   * Also parse each incoming stanza into an ltx element for @xmpp/middleware (default true). Set
   * false at scale when only the raw 'stanza' event is used: it skips a full XML parse per stanza
   * (malformed XML is then caught by the caller's decoder instead of here).
   */
  parseElements?: boolean;
  /** xmpp_auth_enable: STARTTLS, our certificate, and the names the control node's certificate may carry. */
  tls?: AgentTlsOptions;
}

export interface AgentTlsOptions extends XmppTlsMaterial {
  /** The control node's certificate must be issued to one of these (its name, its address). */
  serverNames: readonly string[];
}

const BACKOFF_SECONDS = [0.05, 1, 2, 4, 8, 16, 30];

/** docs/protocol.md §2.4: 50 ms, 1, 2, 4, 8, 16, then 30 s, each ±10 % jitter. */
export function contrailReconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_SECONDS[Math.min(attempt, BACKOFF_SECONDS.length - 1)] * 1000;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** Stream parser with the @xmpp/xml Parser's events (start, element, end, error) plus raw/keepalive/bad-input. */
class ContrailStreamParser extends EventEmitter {
  private readonly framer: StreamFramer;
  private root: Element | null = null;

  constructor(maxStanzaBytes: number, private readonly parseElements: boolean) {
    super();
    this.framer = new StreamFramer(maxStanzaBytes);
  }

  write(data: Buffer | string): void {
    for (const ev of this.framer.push(data)) {
      switch (ev.type) {
        case 'keepalive':
          this.emit('keepalive');
          break;
        case 'header':
          this.emit('raw', ev.raw);
          this.root = new Element('stream:stream', ev.attrs);
          this.emit('start', this.root);
          break;
        case 'stanza': {
          this.emit('raw', ev.raw);
          if (!this.parseElements) break;
          let el: Element;
          try {
            el = ev.raw.includes('<!') ? badInput('DOCTYPE/entity/CDATA in a stanza') : parseLtx(ev.raw);
          } catch (e) {
            this.emit('bad-input', `malformed stanza: ${(e as Error).message}`);
            return;
          }
          el.parent = this.root;
          this.emit('element', el);
          break;
        }
        case 'stream-end':
          this.emit('end', this.root);
          break;
        case 'error':
          this.emit('bad-input', ev.reason);
          return;
      }
    }
  }

  end(data?: string): void {
    if (data) this.write(data);
  }
}

function badInput(reason: string): never {
  throw new Error(reason);
}

type TlsPhase = 'off' | 'await-header' | 'await-features' | 'await-proceed' | 'handshake' | 'secure';

class ContrailConnection extends ConnectionTCP {
  private tlsPhase: TlsPhase = 'off';
  private negotiation = '';

  constructor(service: string, private readonly agentName: string, private readonly localAddress: string,
    private readonly hooks: { raw(s: string): void; keepalive(): void; badInput(reason: string): void; headerOut(s: string): void; secured(protocol: string): void },
    parser: { maxStanzaBytes: number; parseElements: boolean },
    private readonly tlsOptions: AgentTlsOptions | undefined) {
    // @xmpp/reconnect reconnects to options.service.
    super({ domain: CONTROL_NODE_JID, service });
    // Connection.open() instantiates `this.Parser` with no arguments: bind ours to this connection's settings.
    this.Parser = class extends ContrailStreamParser {
      constructor() {
        super(parser.maxStanzaBytes, parser.parseElements);
      }
    };
  }

  override socketParameters(service: string): Record<string, unknown> | undefined {
    const p = super.socketParameters(service);
    return p ? { ...p, localAddress: this.localAddress } : p;
  }

  override header(): string {
    const h = encodeAgentStreamOpen(this.agentName);
    this.hooks.headerOut(h);
    return h;
  }

  /** A new TCP connection starts: with TLS configured, the negotiation starts over too. */
  resetTls(): void {
    this.tlsPhase = this.tlsOptions ? 'await-header' : 'off';
    this.negotiation = '';
  }

  /** Still before TLS: the server's first header is not the session's. */
  get negotiating(): boolean {
    return this.tlsPhase !== 'off' && this.tlsPhase !== 'secure';
  }

  get secure(): boolean {
    return this.tlsPhase === 'secure';
  }

  override _onData(data: Buffer): void {
    if (!this.negotiating) {
      this.parser?.write(data);
      return;
    }
    this.negotiation += data.toString('utf8');
    this.advance();
  }

  /** docs/protocol.md §2.3: server header, features with STARTTLS, our <starttls/>, its <proceed/>, then TLS. */
  private advance(): void {
    if (this.tlsPhase === 'await-header') {
      const n = streamHeaderLength(this.negotiation);
      if (n < 0) return;
      const header = this.negotiation.slice(0, n);
      this.negotiation = this.negotiation.slice(n);
      this.tlsPhase = 'await-features';
      this.parser?.write(header);
    }
    if (this.tlsPhase === 'await-features') {
      const step = findFeatures(this.negotiation);
      if (step.kind === 'incomplete') return;
      if (step.kind === 'refused') return this.hooks.badInput(`STARTTLS: ${step.why}`);
      this.negotiation = step.rest;
      this.tlsPhase = 'await-proceed';
      this.socket?.write(encodeStartTls());
    }
    if (this.tlsPhase === 'await-proceed') {
      const step = findProceed(this.negotiation);
      if (step.kind === 'incomplete') return;
      if (step.kind === 'refused') return this.hooks.badInput(`STARTTLS: ${step.why}`);
      this.negotiation = '';
      this.upgrade();
    }
  }

  private upgrade(): void {
    const options = this.tlsOptions;
    const plain = this.socket;
    if (!options || !plain) return;
    this.tlsPhase = 'handshake';
    this._detachSocket();
    const secure = tls.connect({
      socket: plain,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      checkServerIdentity: (_host, cert) => {
        const why = certificateMismatch(cert, options.serverNames);
        return why ? new Error(`control node ${why}`) : undefined;
      },
    });
    this._attachSocket(secure as unknown as typeof plain);
    secure.once('secureConnect', () => {
      this.tlsPhase = 'secure';
      this.hooks.secured(secure.getProtocol() ?? 'TLS');
      // The stream starts over on the TLS socket: our header again, a new parser for the server's.
      this.restart().catch((e: Error) => this.hooks.badInput(`stream restart over TLS failed: ${e.message}`));
    });
  }

  override _attachParser(parser: EventEmitter): void {
    super._attachParser(parser);
    parser.on('raw', this.hooks.raw);
    parser.on('keepalive', this.hooks.keepalive);
    parser.on('bad-input', this.hooks.badInput);
  }
}

export class XmppAgentClient extends EventEmitter {
  readonly server: string;
  readonly entity: ContrailConnection;
  readonly reconnect: Reconnect;
  /** The library's middleware on incoming elements (e.g. for `/config` stanzas). */
  readonly middleware: MiddlewareApi;
  private isEstablished = false;
  private started = false;
  private attempt = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private openGuard: NodeJS.Timeout | undefined;
  private lastCloseReason = '';
  private readonly holdMs: number;
  private readonly counters = { in: 0, out: 0, keepalivesIn: 0, keepalivesOut: 0, connects: 0 };

  constructor(private readonly opts: AgentClientOptions) {
    super();
    this.server = `${opts.host}:${opts.port}`;
    this.holdMs = (opts.holdTimeSeconds ?? DEFAULT_HOLD_TIME_SECONDS) * 1000;
    if (!(this.holdMs > 0)) throw new RangeError(`holdTimeSeconds must be > 0, got ${opts.holdTimeSeconds}`);
    const self = this;
    this.entity = new ContrailConnection(this.service(), opts.agentName, opts.localAddress, {
      raw(raw: string) { self.onRaw(raw); },
      keepalive() { self.counters.keepalivesIn++; self.restartHold(); },
      badInput(reason: string) { self.drop(reason); },
      headerOut(h: string) { self.tapRecord('out', h); },
      secured(protocol: string) { self.log(`xmpp ${opts.agentName}: ${protocol} with ${self.server}`); },
    }, { maxStanzaBytes: opts.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES, parseElements: opts.parseElements ?? true }, opts.tls);
    this.entity.timeout = opts.openTimeoutMs ?? 15_000;
    // The library emits 'error' for socket errors and failed opens; unhandled it would crash the process.
    this.entity.on('error', (e: Error) => this.log(`xmpp ${opts.agentName}: ${e.message}`));
    this.entity.on('status', (status: string) => this.onStatus(status));
    // Registered before @xmpp/reconnect's own 'disconnect' listener so the delay is set in time.
    this.entity.on('disconnect', () => {
      this.reconnect.delay = (opts.reconnectDelay ?? contrailReconnectDelayMs)(this.attempt++);
    });
    this.reconnect = reconnect({ entity: this.entity });
    this.reconnect.stop(); // armed in start()
    this.middleware = middleware({ entity: this.entity });
  }

  get established(): boolean {
    return this.isEstablished;
  }

  stats(): { in: number; out: number; keepalivesIn: number; keepalivesOut: number; connects: number; established: boolean; tls: boolean } {
    return { ...this.counters, established: this.isEstablished, tls: this.entity.secure };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.reconnect.start();
    this.entity.connect(this.service())
      .then(() => this.entity.open({ domain: CONTROL_NODE_JID }))
      .catch((e: Error) => this.log(`xmpp ${this.opts.agentName}: first connect failed: ${e.message}`));
  }

  async stop(): Promise<void> {
    this.started = false;
    this.reconnect.stop();
    this.clearTimers();
    clearTimeout(this.openGuard);
    const socket = this.entity.socket;
    if (socket && !socket.destroyed) {
      this.lastCloseReason = 'stopped';
      // Not entity.stop(): it waits up to `timeout` for the server's footer, which Contrail may never send.
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (this.isEstablished) socket.write(STREAM_CLOSE);
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 1000);
      await closed;
      clearTimeout(timer);
    }
    this.lost('stopped');
  }

  /** Writes already-encoded stanzas; returns false (and drops them) while not established. */
  send(raw: string): boolean {
    if (!this.isEstablished) return false;
    for (const one of splitStanzas(raw)) {
      this.counters.out++;
      this.tapRecord('out', one);
    }
    this.entity.write(raw).catch((e: Error) => this.log(`xmpp ${this.opts.agentName}: write failed: ${e.message}`));
    return true;
  }

  private service(): string {
    return `xmpp://${this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host}:${this.opts.port}`;
  }

  private onStatus(status: string): void {
    switch (status) {
      case 'connecting':
        this.entity.resetTls();
        this.lastCloseReason = '';
        clearTimeout(this.openGuard);
        // @xmpp/reconnect swallows a failed open and leaves the socket up; bound connect+open here.
        this.openGuard = setTimeout(() => this.drop('no stream header from the server in time'), this.entity.timeout);
        break;
      case 'open':
        // The header before STARTTLS opens nothing yet (docs/protocol.md §2.3); the guard covers the handshake too.
        if (this.entity.negotiating) break;
        clearTimeout(this.openGuard);
        this.onOpen();
        break;
      case 'disconnect':
        clearTimeout(this.openGuard);
        this.clearTimers();
        this.lost(this.lastCloseReason || 'connection closed');
        break;
    }
  }

  private onOpen(): void {
    this.isEstablished = true;
    this.attempt = 0;
    this.counters.connects++;
    // docs/protocol.md §2.4: the client sends one keepalive as soon as the server header arrives.
    this.writeKeepalive();
    this.keepaliveTimer = setInterval(() => this.writeKeepalive(), this.holdMs / 3);
    this.restartHold();
    this.log(`xmpp ${this.opts.agentName}: established with ${this.server}`);
    this.emit('established');
  }

  private lost(reason: string): void {
    if (!this.isEstablished) return;
    this.isEstablished = false;
    this.log(`xmpp ${this.opts.agentName}: disconnected from ${this.server}: ${reason}`);
    this.emit('disconnected', reason);
  }

  private writeKeepalive(): void {
    const s = this.entity.socket;
    if (!s || s.destroyed) return;
    this.counters.keepalivesOut++;
    s.write(KEEPALIVE);
  }

  private onRaw(raw: string): void {
    this.tapRecord('in', raw);
    if (raw.startsWith('<stream:stream') || raw.startsWith('<?xml')) return;
    this.counters.in++;
    this.restartHold();
    try {
      this.emit('stanza', raw);
    } catch (e) {
      this.drop(`stanza handler failed: ${(e as Error).message}`);
    }
  }

  private restartHold(): void {
    if (!this.isEstablished) return;
    if (this.holdTimer) this.holdTimer.refresh();
    else this.holdTimer = setTimeout(() => this.drop(`hold timer expired (${this.holdMs / 1000} s)`), this.holdMs);
  }

  /** Closes the TCP connection (no `</stream:stream>`, as on hold expiry); @xmpp/reconnect takes over. */
  private drop(reason: string): void {
    this.lastCloseReason = reason;
    this.log(`xmpp ${this.opts.agentName}: closing connection: ${reason}`);
    this.clearTimers();
    this.entity.socket?.destroy();
  }

  private clearTimers(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  private tapRecord(direction: 'in' | 'out', raw: string): void {
    this.opts.tap?.record({ node: this.opts.agentName, peer: CONTROL_NODE_JID, direction, raw });
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
