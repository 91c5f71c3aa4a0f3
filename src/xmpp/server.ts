// The control node's XMPP listener (docs/protocol.md §2.2, §2.4): one session per TCP connection, Contrail framing,
// open/hold/keepalive timers, and the duplicate-name rule. Bad input closes only its own session. With TLS
// material (docs/protocol.md §2.3) every session must STARTTLS after its first header, present a
// certificate signed by the CA for the name it opened with, and open the stream again over TLS.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { certificateMismatch, certificateNotTrusted, parseCertificateBundle, encodeProceed, encodeStartTlsFeatures, encodeTlsFailure, findStartTls, type XmppTlsMaterial } from './starttls.ts';
import type { StanzaObserver } from './stanza-observer.ts';
import { KEEPALIVE, STREAM_CLOSE, encodeServerStreamOpen } from './stanza-encoder.ts';
import { StreamFramer, countStanzas, splitStanzas, type FrameEvent } from './stream-framer.ts';
import { AgentRouteReader } from './agent-route-reader.ts';

export interface XmppServerOptions {
  host: string;
  port: number;
  /** Node name recorded in the tap. */
  name?: string;
  holdTimeSeconds?: number;
  openTimeoutMs?: number;
  maxStanzaBytes?: number;
  /** Returns a reason to refuse the peer (strict mode), or null to accept. */
  acceptPeer?: (peerName: string, remoteAddress: string) => string | null;
  tap?: StanzaObserver;
  log?: (line: string) => void;
  /**
   * Runs the handling of one received segment's stanzas, when it holds more than one: the control node makes
   * it one RIB batch, so that a segment's routes are replicated and reported once, not once per route.
   */
  segmentScope?: (work: () => void) => void;
  /** xmpp_auth_enable: STARTTLS required, client certificates checked against this CA (docs/protocol.md §2.3). */
  tls?: XmppTlsMaterial;
}

/** Pending connections the listener queues (docs/architecture.md, "Scale"). */
export const XMPP_LISTEN_BACKLOG = 4096;
export const DEFAULT_HOLD_TIME_SECONDS = 90;
export const DEFAULT_OPEN_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_STANZA_BYTES = 1 << 20;

export interface SessionStats {
  in: number; out: number; keepalivesIn: number; keepalivesOut: number; bytesIn: number; bytesOut: number;
}

export class XmppServerSession extends EventEmitter {
  private name = '';
  readonly remoteAddress: string;
  private since: Date = new Date(0);
  private state: 'opening' | 'established' | 'closed' = 'opening';
  private framer: StreamFramer;
  /** docs/protocol.md §2.3: off (no TLS configured), then await-starttls → handshake → secure. */
  private tlsState: 'off' | 'await-starttls' | 'handshake' | 'secure' = 'off';
  private negotiation = '';
  private readonly onSocketData = (chunk: Buffer) => this.onData(chunk);
  private readonly onSocketError = (e: Error) => this.close(this.tlsState === 'handshake' ? `TLS handshake failed: ${e.message}` : `socket error: ${e.message}`);
  private readonly onSocketClose = () => this.close('peer closed the connection');
  private readonly onSocketDrain = () => this.emit('drain');
  private readonly counters: SessionStats = { in: 0, out: 0, keepalivesIn: 0, keepalivesOut: 0, bytesIn: 0, bytesOut: 0 };
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private whyClosed: string | undefined;

  /** @internal created by XmppServer */
  constructor(private socket: net.Socket, private readonly server: XmppServer, private readonly cfg: Required<Pick<XmppServerOptions, 'holdTimeSeconds' | 'openTimeoutMs' | 'maxStanzaBytes' | 'name'>>) {
    super();
    this.remoteAddress = socket.remoteAddress ?? '';
    this.framer = new StreamFramer(cfg.maxStanzaBytes, true, new AgentRouteReader());
    socket.setNoDelay(true);
    this.openTimer = setTimeout(() => this.close(`no stream header within ${cfg.openTimeoutMs} ms`), cfg.openTimeoutMs);
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', this.onSocketData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
  }

  private unlisten(socket: net.Socket): void {
    socket.off('data', this.onSocketData);
    socket.off('error', this.onSocketError);
    socket.off('close', this.onSocketClose);
    socket.off('drain', this.onSocketDrain);
  }

  /** Whether the session runs over TLS (docs/protocol.md §2.3). */
  get secure(): boolean {
    return this.tlsState === 'secure';
  }

  /** The agent's `from` name, once its header has arrived. */
  get peerName(): string {
    return this.name;
  }

  get establishedAt(): Date {
    return this.since;
  }

  get established(): boolean {
    return this.state === 'established';
  }

  /** Why the session closed (undefined while open). */
  get closeReason(): string | undefined {
    return this.whyClosed;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  stats(): SessionStats & { established: boolean; establishedAt: string; peerName: string; remoteAddress: string; tls: boolean } {
    return { ...this.counters, established: this.established, establishedAt: this.establishedAt.toISOString(), peerName: this.peerName, remoteAddress: this.remoteAddress, tls: this.secure };
  }

  /** Bytes written to the socket that it has not handed to the kernel yet: what the agent has not read. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Writes one or more already-framed stanzas. A no-op returning false once closed (the caller may
   * race the close); otherwise returns the socket's backpressure signal (false = wait for 'drain').
   */
  send(raw: string): boolean {
    if (this.state !== 'established') return false;
    // Cutting the message into stanzas costs a copy of each; only a tap needs them one by one.
    if (this.server.tapping) {
      const stanzas = splitStanzas(raw);
      this.counters.out += stanzas.length;
      for (const one of stanzas) this.server.tapRecord(this.peerName, 'out', one);
    } else {
      this.counters.out += countStanzas(raw);
    }
    this.counters.bytesOut += Buffer.byteLength(raw);
    return this.socket.write(raw);
  }

  /**
   * Writes parts that together are exactly `stanzas` whole stanzas, without joining them: a Buffer part
   * (a message body shared by many subscribers, say) goes to the socket by reference. Same return as send.
   */
  sendParts(parts: readonly (string | Buffer)[], stanzas: number): boolean {
    if (this.state !== 'established') return false;
    // The tap sees stanzas one by one, as text: a shared Buffer part is decoded once for all the sessions
    // it goes to (the bytes still go to the socket by reference).
    if (this.server.tapping) {
      const text = joinParts(parts);
      if (stanzas === 1) this.server.tapRecord(this.peerName, 'out', text);
      else for (const one of splitStanzas(text)) this.server.tapRecord(this.peerName, 'out', one);
    }
    this.counters.out += stanzas;
    let open = true;
    this.socket.cork();
    for (const part of parts) {
      this.counters.bytesOut += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
      open = this.socket.write(part);
    }
    this.socket.uncork();
    return open;
  }

  /**
   * Writes several stanzas, each given as its parts (as sendParts), in one write to the socket: one system
   * call for a run of messages. Same return as send.
   */
  sendStanzas(stanzas: readonly (readonly (string | Buffer)[])[]): boolean {
    if (this.state !== 'established') return false;
    if (this.server.tapping) for (const parts of stanzas) this.server.tapRecord(this.peerName, 'out', joinParts(parts));
    this.counters.out += stanzas.length;
    let open = true;
    this.socket.cork();
    for (const parts of stanzas) {
      for (const part of parts) {
        this.counters.bytesOut += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
        open = this.socket.write(part);
      }
    }
    this.socket.uncork();
    return open;
  }

  /** Closes the TCP connection without `</stream:stream>` (as the real node on hold expiry or bad input). */
  close(reason: string, opts: { streamClose?: boolean } = {}): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    this.state = 'closed';
    this.whyClosed = reason;
    clearTimeout(this.holdTimer);
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.openTimer);
    // The footer only answers a peer's own `</stream:stream>` (a clean stop); every other close is abrupt.
    if (opts.streamClose && wasEstablished) this.socket.end(STREAM_CLOSE);
    else this.socket.destroy();
    this.server.log(`xmpp session ${this.peerName || '?'} from ${this.remoteAddress} closed: ${reason}`);
    this.server.sessionClosed(this, wasEstablished, reason);
    this.emit('closed', reason);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.counters.bytesIn += chunk.length;
    if (this.tlsState === 'await-starttls') return this.negotiate(chunk);
    let events: FrameEvent[];
    try {
      events = this.framer.push(chunk);
    } catch (e) {
      this.close(`framing failed: ${(e as Error).message}`);
      return;
    }
    const scope = this.server.segmentScope;
    if (scope === undefined || events.length < 2) return this.onEvents(events);
    try {
      scope(() => this.onEvents(events));
    } catch (e) {
      // What the scope does after the stanzas (the RIB's change listeners) failed: bad input for this session only.
      this.close(`stanza handler failed: ${(e as Error).message}`);
    }
  }

  private onEvents(events: FrameEvent[]): void {
    // Keepalives and stanzas restart the hold timer; every event of a chunk arrives at the same moment, so
    // once per chunk is the same timer at a fraction of the cost (a refresh re-inserts it in the timer list).
    let heard = false;
    for (const ev of events) {
      if (this.closed) return;
      switch (ev.type) {
        case 'keepalive':
          this.counters.keepalivesIn++;
          heard = true;
          break;
        case 'header':
          if (heard) this.restartHold();
          heard = false;
          this.onHeader(ev.raw, ev.attrs);
          break;
        case 'stanza':
          this.counters.in++;
          heard = true;
          if (this.server.tapping) this.server.tapRecord(this.peerName, 'in', ev.raw);
          try {
            // The second argument: the stanza as the framer's reader read it (an agent's publish or
            // collection of the usual shape), for decodeAgentStanza; undefined otherwise.
            this.emit('stanza', ev.raw, ev.read);
          } catch (e) {
            // A consumer that throws on a stanza marks it as bad input for this session only.
            this.close(`stanza handler failed: ${(e as Error).message}`);
          }
          break;
        case 'stream-end':
          this.close('peer closed the stream', { streamClose: true });
          break;
        case 'error':
          this.close(ev.reason);
          break;
      }
    }
    if (heard && !this.closed) this.restartHold();
  }

  private onHeader(raw: string, attrs: Record<string, string>): void {
    const from = attrs.from;
    this.server.tapRecord(from ?? '', 'in', raw);
    if (!from) {
      this.close('stream header without from');
      return;
    }
    // The handshake is over once TLS data flows; 'secure' may not have been emitted yet.
    if (this.tlsState === 'handshake' && !this.verifyPeer()) return;
    if (this.tlsState === 'secure' && from !== this.name) {
      this.close(`stream header over TLS from ${from}, not ${this.name}`);
      return;
    }
    this.name = from;
    if (this.tlsState === 'off' && this.server.secureContext) {
      // docs/protocol.md §2.3: header, then features with a required STARTTLS; nothing else before TLS.
      const reply = encodeServerStreamOpen(from) + encodeStartTlsFeatures();
      this.server.tapRecord(from, 'out', reply);
      this.socket.write(reply);
      this.tlsState = 'await-starttls';
      return;
    }
    const refusal = this.server.admit(this);
    if (refusal) {
      this.close(refusal);
      return;
    }
    clearTimeout(this.openTimer);
    this.openTimer = undefined;
    const reply = encodeServerStreamOpen(from);
    this.server.tapRecord(from, 'out', reply);
    this.socket.write(reply);
    this.state = 'established';
    this.since = new Date();
    const holdMs = this.cfg.holdTimeSeconds * 1000;
    this.keepaliveTimer = setInterval(() => {
      this.counters.keepalivesOut++;
      this.socket.write(KEEPALIVE);
    }, holdMs / 3);
    this.restartHold();
    this.server.sessionEstablished(this);
  }

  /** Before TLS only `<starttls/>` is acceptable; `<proceed/>` then turns the same socket into a TLS server socket. */
  private negotiate(chunk: Buffer): void {
    this.negotiation += chunk.toString('utf8');
    const step = findStartTls(this.negotiation);
    if (step.kind === 'incomplete') return;
    if (step.kind === 'refused') {
      this.socket.write(encodeTlsFailure());
      this.close(`STARTTLS: ${step.why}`);
      return;
    }
    this.server.tapRecord(this.name, 'in', this.negotiation.slice(0, this.negotiation.length - step.rest.length).trim());
    this.server.tapRecord(this.name, 'out', encodeProceed());
    this.socket.write(encodeProceed());
    const context = this.server.secureContext;
    if (!context) return;
    const plain = this.socket;
    this.unlisten(plain);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context, requestCert: true, rejectUnauthorized: true });
    this.socket = secure;
    this.tlsState = 'handshake';
    this.framer = new StreamFramer(this.cfg.maxStanzaBytes, true, new AgentRouteReader());
    this.listen(secure);
    secure.on('secure', () => this.verifyPeer());
  }

  /** Mutual authentication: signed by the CA and issued to the name the agent opened with. */
  private verifyPeer(): boolean {
    if (this.tlsState === 'secure') return true;
    if (this.state === 'closed' || !(this.socket instanceof tls.TLSSocket)) return false;
    // A TLSSocket made by hand (not by tls.Server) does not enforce rejectUnauthorized: check the chain here.
    const untrusted = certificateNotTrusted(this.socket.getPeerX509Certificate(), this.server.trustedCas);
    const why = untrusted ? `certificate refused: ${untrusted}` : certificateMismatch(this.socket.getPeerCertificate(), [this.name]);
    if (why) {
      this.close(`TLS: ${why}`);
      return false;
    }
    this.tlsState = 'secure';
    this.server.log(`xmpp session ${this.name} from ${this.remoteAddress}: ${this.socket.getProtocol() ?? 'TLS'} established, certificate of ${this.name}`);
    return true;
  }

  private restartHold(): void {
    if (this.state !== 'established') return;
    // refresh() keeps the timer object: cheaper than clear+set on every stanza of a busy session.
    if (this.holdTimer) this.holdTimer.refresh();
    else this.holdTimer = setTimeout(() => this.close(`hold timer expired (${this.cfg.holdTimeSeconds} s)`), this.cfg.holdTimeSeconds * 1000);
  }
}

export class XmppServer extends EventEmitter {
  private readonly server: net.Server;
  private readonly all = new Set<XmppServerSession>();
  private readonly byName = new Map<string, XmppServerSession>();
  private readonly cfg: Required<Pick<XmppServerOptions, 'holdTimeSeconds' | 'openTimeoutMs' | 'maxStanzaBytes' | 'name'>>;
  /** @internal Set when TLS material is configured: every session must STARTTLS. */
  readonly secureContext: tls.SecureContext | undefined;
  /** @internal The CA certificates a client's certificate must be issued by. */
  readonly trustedCas: ReturnType<typeof parseCertificateBundle>;

  constructor(private readonly opts: XmppServerOptions) {
    super();
    this.secureContext = opts.tls ? tls.createSecureContext({ ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key }) : undefined;
    this.trustedCas = opts.tls ? parseCertificateBundle(opts.tls.ca) : [];
    this.cfg = {
      holdTimeSeconds: opts.holdTimeSeconds ?? DEFAULT_HOLD_TIME_SECONDS,
      openTimeoutMs: opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      maxStanzaBytes: opts.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES,
      name: opts.name ?? 'control-node',
    };
    if (!(this.cfg.holdTimeSeconds > 0)) throw new RangeError(`holdTimeSeconds must be > 0, got ${this.cfg.holdTimeSeconds}`);
    this.server = net.createServer((socket) => {
      const s = new XmppServerSession(socket, this, this.cfg);
      this.all.add(s);
    });
    this.server.on('error', (e) => this.log(`xmpp server error: ${e.message}`));
  }

  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      // Thousands of agents of one box connect within a second: the default backlog (511) would drop their
      // SYNs and make them wait for a retransmit (1 s, then 3 s). The kernel caps it at net.core.somaxconn.
      this.server.listen({ port: this.opts.port, host: this.opts.host, backlog: XMPP_LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        const a = this.server.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  async close(): Promise<void> {
    for (const s of [...this.all]) s.close('server shutting down');
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Established sessions. */
  sessions(): XmppServerSession[] {
    return [...this.byName.values()];
  }

  session(peerName: string): XmppServerSession | undefined {
    return this.byName.get(peerName);
  }

  /** @internal */
  log(line: string): void {
    this.opts.log?.(line);
  }

  /** @internal see XmppServerOptions.segmentScope */
  get segmentScope(): ((work: () => void) => void) | undefined {
    return this.opts.segmentScope;
  }

  /** @internal Whether tapRecord records anything. */
  get tapping(): boolean {
    return this.opts.tap !== undefined;
  }

  /** @internal */
  tapRecord(peer: string, direction: 'in' | 'out', raw: string): void {
    this.opts.tap?.record({ node: this.cfg.name, peer, direction, raw });
  }

  /** @internal docs/protocol.md §2.4 duplicate-name rule (no GR helper): the newcomer is dropped while the old session lives. */
  admit(s: XmppServerSession): string | null {
    const old = this.byName.get(s.peerName);
    if (old && old !== s && !old.closed) {
      return old.remoteAddress === s.remoteAddress
        ? `duplicate session for ${s.peerName}: the previous one from ${old.remoteAddress} is still alive`
        : `duplicate name ${s.peerName}: already connected from ${old.remoteAddress}`;
    }
    return this.opts.acceptPeer?.(s.peerName, s.remoteAddress) ?? null;
  }

  /** @internal */
  sessionEstablished(s: XmppServerSession): void {
    this.byName.set(s.peerName, s);
    this.log(`xmpp session ${s.peerName} from ${s.remoteAddress} established`);
    this.emit('session', s);
  }

  /** @internal */
  sessionClosed(s: XmppServerSession, wasEstablished: boolean, reason: string): void {
    this.all.delete(s);
    if (this.byName.get(s.peerName) === s) this.byName.delete(s.peerName);
    if (wasEstablished) this.emit('session-closed', s, reason);
  }
}

/** Buffer parts decoded for the tap: the same message body goes to many sessions. */
const partTexts = new WeakMap<Buffer, string>();

/** The parts' text joined with `+`: a rope over the shared texts, not a copy of each message per session. */
function joinParts(parts: readonly (string | Buffer)[]): string {
  let text = '';
  for (const part of parts) text += partText(part);
  return text;
}

function partText(part: string | Buffer): string {
  if (typeof part === 'string') return part;
  let text = partTexts.get(part);
  if (text === undefined) partTexts.set(part, (text = part.toString('utf8')));
  return text;
}
