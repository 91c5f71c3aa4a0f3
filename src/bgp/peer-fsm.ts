// The RFC 4271 finite state machine of one configured BGP neighbour: connect attempts and their timers
// (ConnectRetryTimer, IdleHoldTimer), the TCP connections in flight, OPEN validation, collision detection
// (RFC 4271 §6.8) and the negotiated session once Established. One handler per state decides what an event
// does there (./peer-fsm-states.ts); every transition and every session end carries a typed reason (status
// text derives from it).
// What OPENs say and negotiate is ./open-negotiation.ts's; this module decides when they are sent and checked.
// It owns no routes: UPDATEs go to the hooks untouched, and what is sent over the session is the
// Adj-RIB-Out's business (./adj-rib-in.ts, ./adj-rib-out.ts, composed in ./peer.ts).
import { connect as tcpConnect, type Socket } from 'node:net';
import { BgpConnection, OPEN_HOLD_SECONDS } from './connection.ts';
import type { OpenMessage } from './messages.ts';
import { BgpProtocolError, CeaseSubcode, ErrorCode } from './protocol-error.ts';
import type { DecodedUpdate } from './update-message.ts';
import { type EstablishedSession, type OpenConfig, collisionLoser, localOpen, negotiateSession, validateOpen } from './open-negotiation.ts';
import { type ConnectionInput, HANDLERS } from './peer-fsm-states.ts';
import { type FsmEvent, type PeerReason, type PeerState, type PeerTransition, describeReason, endEvent } from './peer-fsm-vocabulary.ts';

export type { FsmEvent, PeerReason, PeerState, PeerTransition };
export { describeReason };

export interface FsmConfig extends OpenConfig {
  address: string;
  port: number;
  /** Source address of active connects. */
  localAddress?: string;
  passive: boolean;
  connectRetryMs: number;
  idleHoldMs: number;
}

/** Message counters the FSM keeps (the composition adds its own to the same object). */
export interface FsmCounters {
  messagesIn: number;
  messagesOut: number;
  updatesOut: number;
  keepalivesIn: number;
  notificationsIn: number;
  notificationsOut: number;
  establishedTransitions: number;
}

/** What the FSM tells its owner, in this order around a transition: sessionUp → state → established; sessionEnding → state → down. */
export interface FsmHooks {
  state(transition: PeerTransition): void;
  sessionUp(session: EstablishedSession): void;
  established(session: EstablishedSession): void;
  /** Before `down`, with the same reason: the owner decides what the session's routes become. */
  sessionEnding(reason: PeerReason): void;
  down(reason: PeerReason): void;
  /** Every connection's end, with why (a session's end also comes as `down`). */
  connectionClosed?(reason: PeerReason, connection: BgpConnection): void;
  update(msg: DecodedUpdate): void;
  routeRefresh(afi: number, safi: number): void;
  wire(direction: 'in' | 'out', bytes: Buffer, connection: BgpConnection): void;
}

/**
 * The FSM over one or more TCP connections of one neighbour. The peer's state is derived from them: the
 * most advanced connection sets it, and with none, whether a connect is under way or a timer runs.
 */
export class PeerFsm {
  private stateValue: PeerState = 'idle';
  private runningValue = false;
  private readonly connections = new Set<BgpConnection>();
  private readonly opens = new Map<BgpConnection, OpenMessage>();
  /** Why the FSM closed a connection, for its 'closed' event. */
  private readonly closeReasons = new WeakMap<BgpConnection, PeerReason>();
  private sessionValue: EstablishedSession | undefined;
  private pendingSocket: Socket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the retry timer runs: IdleHoldTimer after a session ended, ConnectRetryTimer after a failed connect. */
  private retryKind: 'idle-hold' | 'connect-retry' | undefined;
  /** The last problem with this peer; kept after the session comes back. */
  lastReason: PeerReason | undefined;
  establishedAt: Date | undefined;

  constructor(private readonly config: FsmConfig, readonly hooks: FsmHooks, private readonly counters: FsmCounters) {}

  get state(): PeerState {
    return this.stateValue;
  }

  /** Started and not stopped (automatic restarts happen only then). */
  get running(): boolean {
    return this.runningValue;
  }

  get session(): EstablishedSession | undefined {
    return this.sessionValue;
  }

  // ── events from the owner ──────────────────────────────────────────────────────────────────────────

  /** ManualStart (or ManualStart_with_PassiveTcpEstablishment when passive). */
  start(): void {
    HANDLERS[this.stateValue].peer(this, { event: 'manual-start' });
  }

  /**
   * ManualStop, in any state: Cease to every connection, back to Idle, no automatic restart. Without
   * `notify` the connections just close, as when the process dies: a GR helper keeps our routes (RFC 4724 §4.2).
   */
  stop(subcode: number, notify = true): void {
    this.runningValue = false;
    this.clearRetry();
    this.pendingSocket?.destroy();
    this.pendingSocket = undefined;
    for (const c of [...this.connections]) this.closeWith(c, { kind: 'manual-stop', subcode }, notify ? { code: ErrorCode.cease, subcode } : undefined);
    this.refreshState('manual-stop');
  }

  /** Administrative reset, in any state: drop every connection (Cease/4); the IdleHoldTimer restarts. */
  reset(): void {
    for (const c of [...this.connections]) {
      this.closeWith(c, { kind: 'admin-reset' }, { code: ErrorCode.cease, subcode: CeaseSubcode.administrativeReset });
    }
  }

  /** A TCP connection from the peer's address. */
  acceptIncoming(socket: Socket): void {
    HANDLERS[this.stateValue].peer(this, { event: 'tcp-incoming', socket });
  }

  // ── actions the state handlers take ────────────────────────────────────────────────────────────────

  /** @internal */
  begin(): void {
    this.runningValue = true;
    if (this.config.passive) this.refreshState('manual-start');
    else this.connectNow('manual-start');
  }

  /** @internal Starts a TCP connect unless one is under way or a connection exists. */
  connectNow(event: FsmEvent): void {
    this.retryTimer = undefined;
    this.retryKind = undefined;
    if (!this.running || this.sessionValue || this.pendingSocket || this.connections.size > 0) return;
    const { address, port, localAddress, connectRetryMs } = this.config;
    const socket = tcpConnect({ host: address, port, ...(localAddress && { localAddress }) });
    this.pendingSocket = socket;
    // A late second error (after the once-handler ran) must not become an uncaught exception.
    socket.on('error', () => undefined);
    // ConnectRetryTimer also bounds a connect attempt that hangs.
    socket.setTimeout(connectRetryMs, () => socket.destroy(new Error('connect timed out')));
    const onError = (err: Error) => {
      if (this.pendingSocket !== socket) return;
      this.pendingSocket = undefined;
      this.lastReason = { kind: 'connect-failed', target: `${address}:${port}`, error: err.message };
      this.scheduleRetry(connectRetryMs, 'connect-retry');
      this.refreshState('tcp-failed');
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      socket.setTimeout(0);
      this.pendingSocket = undefined;
      HANDLERS[this.stateValue].peer(this, { event: 'tcp-connected', socket });
    });
    this.refreshState(event);
  }

  /** @internal Our connect succeeded: send OPEN on it. */
  openOutgoing(socket: Socket): void {
    const connection = new BgpConnection(socket, 'outgoing');
    this.attach(connection);
    this.sendOpen(connection);
    this.refreshState('tcp-connected');
  }

  /** @internal The peer connected: stop waiting to dial, send OPEN on it. */
  openIncoming(socket: Socket): void {
    this.clearRetry();
    const connection = new BgpConnection(socket, 'incoming');
    this.attach(connection);
    this.sendOpen(connection);
    this.refreshState('tcp-connected');
  }

  /** @internal A connect that finished when it was no longer wanted. */
  discard(socket: Socket): void {
    socket.destroy();
    this.refreshState('tcp-closed');
  }

  /** @internal Answers an unwanted connection from the peer with a Cease. */
  refuse(socket: Socket, reason: PeerReason, subcode: number): void {
    const connection = new BgpConnection(socket, 'incoming');
    this.attach(connection);
    this.closeWith(connection, reason, { code: ErrorCode.cease, subcode });
  }

  /** @internal Events every connection state treats alike; true when handled. */
  commonConnectionEvent(connection: BgpConnection, input: ConnectionInput): boolean {
    if (input.event === 'protocol-error') {
      this.sendNotification(connection, 'protocol-error', input.error);
      return true;
    }
    if (input.event === 'hold-timer-expired') {
      this.sendNotification(connection, 'hold-timer-expired', new BgpProtocolError(ErrorCode.holdTimerExpired, 0, 'hold timer expired'));
      return true;
    }
    const { msg } = input;
    if (msg.type === 'notification') {
      this.counters.notificationsIn++;
      const reason: PeerReason = { kind: 'notification-received', code: msg.code, subcode: msg.subcode, data: msg.data.toString('hex') };
      this.lastReason = reason;
      this.closeWith(connection, reason);
      return true;
    }
    if (msg.type === 'keepalive') this.counters.keepalivesIn++;
    return false;
  }

  /** @internal A message the connection's state does not allow: NOTIFICATION 5/subcode (RFC 6608). */
  fsmError(connection: BgpConnection, type: string, subcode: number): void {
    this.sendNotification(connection, 'fsm-error', new BgpProtocolError(ErrorCode.fsm, subcode, `unexpected ${type} in ${connection.phase}`));
  }

  /** @internal The peer's OPEN in OpenSent: validate, resolve collisions, answer with KEEPALIVE. */
  onOpen(connection: BgpConnection, open: OpenMessage): void {
    const invalid = validateOpen(open, this.config);
    if (invalid) {
      this.sendNotification(connection, 'open-rejected', invalid);
      return;
    }
    // RFC 4271 §6.8: collision detection against connections whose peer identifier we already know.
    for (const other of this.connections) {
      if (other === connection || !other.isOpen) continue;
      if (other.phase === 'established') {
        this.closeWith(connection, { kind: 'collision', resolution: 'established-exists' },
          { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
        return;
      }
      if (other.phase !== 'openconfirm') continue;
      const loser = collisionLoser(connection, other, this.config.localRouterId, open.routerId);
      this.closeWith(loser, { kind: 'collision', resolution: 'lost' }, { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
      if (loser === connection) return;
    }
    this.opens.set(connection, open);
    connection.fourOctetAs = open.capabilities.fourOctetAs !== undefined;
    connection.phase = 'openconfirm';
    connection.send({ type: 'keepalive' });
    connection.armHold(Math.min(open.holdTime, this.config.holdTime));
    connection.startKeepalives();
    this.refreshState('open-received');
  }

  /** @internal KEEPALIVE in OpenConfirm: the session is up; every other connection loses. */
  onEstablished(connection: BgpConnection): void {
    const open = this.opens.get(connection)!;
    for (const other of [...this.connections]) {
      if (other !== connection) {
        this.closeWith(other, { kind: 'collision', resolution: 'other-established' },
          { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
      }
    }
    connection.phase = 'established';
    this.clearRetry();
    const session = negotiateSession(connection, open, this.config, this.restarting());
    this.sessionValue = session;
    this.counters.establishedTransitions++;
    this.establishedAt = new Date();
    this.hooks.sessionUp(session);
    this.refreshState('keepalive-received');
    this.hooks.established(session);
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────────

  private scheduleRetry(delayMs: number, kind: 'idle-hold' | 'connect-retry'): void {
    this.clearRetry();
    if (!this.running || this.config.passive) return;
    this.retryKind = kind;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      HANDLERS[this.stateValue].peer(this, { event: 'retry-timer' });
    }, delayMs);
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryKind = undefined;
  }

  private attach(connection: BgpConnection): void {
    this.connections.add(connection);
    connection.on('wire', (dir, bytes) => {
      if (dir === 'out') this.countOut(bytes);
      this.hooks.wire(dir, bytes, connection);
    });
    connection.on('message', (msg) => {
      this.counters.messagesIn++;
      this.dispatch(connection, { event: 'message', msg });
    });
    connection.on('protocol-error', (error) => this.dispatch(connection, { event: 'protocol-error', error }));
    connection.on('hold-expired', () => this.dispatch(connection, { event: 'hold-timer-expired' }));
    connection.on('closed', (text) => this.onClosed(connection, text));
  }

  /** A connection's events go to the handler of that connection's own state. */
  private dispatch(connection: BgpConnection, input: ConnectionInput): void {
    HANDLERS[connection.phase].connection!(this, connection, input);
  }

  private countOut(bytes: Buffer): void {
    this.counters.messagesOut++;
    if (bytes[18] === 2) this.counters.updatesOut++;
    if (bytes[18] === 3) this.counters.notificationsOut++;
  }

  /** R in our GR capability until a first session came up since start (see localOpen). */
  private restarting(): boolean {
    return this.counters.establishedTransitions === 0;
  }

  private sendOpen(connection: BgpConnection): void {
    connection.send(localOpen(this.config, this.restarting()));
    connection.armHold(OPEN_HOLD_SECONDS);
  }

  private sendNotification(connection: BgpConnection, cause: 'open-rejected' | 'fsm-error' | 'hold-timer-expired' | 'protocol-error', err: BgpProtocolError): void {
    const reason: PeerReason = { kind: 'notification-sent', cause, code: err.code, subcode: err.subcode, message: err.message };
    this.lastReason = reason;
    this.closeWith(connection, reason, { code: err.code, subcode: err.subcode, data: err.data });
  }

  private closeWith(connection: BgpConnection, reason: PeerReason, notification?: { code: number; subcode: number; data?: Buffer }): void {
    if (!connection.isOpen) return;
    this.closeReasons.set(connection, reason);
    connection.close(describeReason(reason), notification);
  }

  private onClosed(connection: BgpConnection, text: string): void {
    const reason = this.closeReasons.get(connection) ?? { kind: 'connection-lost', detail: text };
    this.connections.delete(connection);
    this.opens.delete(connection);
    this.hooks.connectionClosed?.(reason, connection);
    if (this.sessionValue?.connection === connection) {
      this.sessionValue = undefined;
      this.establishedAt = undefined;
      this.lastReason ??= reason;
      this.hooks.sessionEnding(reason);
      this.refreshState(endEvent(reason));
      this.hooks.down(reason);
    }
    if (this.connections.size === 0 && !this.pendingSocket && this.running && !this.retryTimer) {
      this.scheduleRetry(this.config.idleHoldMs, 'idle-hold');
    }
    this.refreshState(endEvent(reason));
  }

  private refreshState(event: FsmEvent): void {
    let next: PeerState;
    if (this.sessionValue) next = 'established';
    else if ([...this.connections].some((c) => c.phase === 'openconfirm')) next = 'openconfirm';
    else if (this.connections.size > 0) next = 'opensent';
    else if (this.pendingSocket) next = 'connect';
    else if (!this.running) next = 'idle';
    else if (this.config.passive) next = 'active';
    else next = this.retryKind === 'idle-hold' ? 'idle' : 'active';
    if (next === this.stateValue) return;
    const from = this.stateValue;
    this.stateValue = next;
    this.hooks.state({ from, to: next, event });
  }
}
