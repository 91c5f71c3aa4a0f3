// One configured BGP neighbour, composed of its RFC 4271 FSM (./peer-fsm.ts), its Adj-RIB-In
// (./adj-rib-in.ts) and its Adj-RIB-Out (./adj-rib-out.ts): the public face the speaker and the control node
// use (start/stop/reset, routes in and out, status, events).
// It owns no protocol logic of its own beyond wiring the three and counting; route selection and policy
// are the caller's.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { AdjRibIn, type AdjRibRoutes } from './adj-rib-in.ts';
import { AdjRibOut, type OutSession } from './adj-rib-out.ts';
import { type FamilyName, familyCode, familyName } from './families.ts';
import { requireIpv4 as ipv4ToNumber } from '../net/ipv4.ts';
import type { RouteTargetNlri } from './nlri.ts';
import type { EstablishedSession } from './open-negotiation.ts';
import { type FsmEvent, type PeerReason, type PeerState, type PeerTransition, PeerFsm, describeReason } from './peer-fsm.ts';
import type { LocalGracefulRestart, PeerGracefulRestart } from './graceful-restart-capability.ts';
import { CeaseSubcode } from './protocol-error.ts';
import {
  type InetRoute, type OwnerKeptVpnOut, type OwnerKeptVpnRoutes, type RouteTargetRoute, type RouteUpdate, type VpnKey, type VpnRoute, isEmptyRouteUpdate,
} from './routes.ts';
import type { DecodedUpdate } from './update-message.ts';

export type { FsmEvent, PeerReason, PeerState, PeerTransition };
export { describeReason };

export interface PeerConfig {
  /** Remote address; incoming connections are matched on it. */
  address: string;
  /** Remote port for active connects (default 179). */
  port?: number;
  asn: number;
  name?: string;
  /** Source address of active connects (default: the speaker's listen address). */
  localAddress?: string;
  /** Never connect out; wait for the peer. */
  passive?: boolean;
  /** Proposed hold time in seconds (0, or ≥ 3); default the speaker's. */
  holdTime?: number;
  /** Families to offer; default the speaker's. */
  families?: FamilyName[];
  /** Wait before a new connect attempt after a failed one (RFC 4271 ConnectRetryTime, default 120 s). */
  connectRetryMs?: number;
  /** Wait in Idle after a session ends before starting again (automatic restart; default 5 s). */
  idleHoldMs?: number;
  /** The owner keeps the peer's received VPN routes (./routes.ts OwnerKeptVpnRoutes); default the Adj-RIB-In does. */
  vpnRoutesIn?: OwnerKeptVpnRoutes;
  /** The owner keeps what VPN routes the peer is sent (./routes.ts OwnerKeptVpnOut); default the Adj-RIB-Out does. */
  vpnRoutesOut?: OwnerKeptVpnOut;
}

/** What the peer needs to know about the local speaker. */
export interface LocalIdentity {
  asn: number;
  routerId: string;
  holdTime: number;
  families: readonly FamilyName[];
  /** Used as the source of active connects when the peer config has no localAddress. */
  localAddress?: string;
  /** Offer graceful restart (docs/protocol.md §6.7). */
  gracefulRestart?: LocalGracefulRestart;
}

export interface PeerCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  keepalivesIn: number;
  notificationsIn: number;
  notificationsOut: number;
  /** UPDATEs that RFC 7606 handled as withdraw or with a discarded attribute. */
  malformedUpdates: number;
  establishedTransitions: number;
}

export interface PeerStatus {
  name: string;
  address: string;
  port: number;
  asn: number;
  state: PeerState;
  remoteRouterId?: string;
  /** Negotiated hold time (seconds) while a session is up. */
  holdTime?: number;
  families: FamilyName[];
  fourOctetAs?: boolean;
  routeRefresh?: boolean;
  /** What the peer's GR and LLGR capabilities promise, when both sides offered GR on this session. */
  gracefulRestart?: PeerGracefulRestart;
  prefixesIn: number;
  prefixesOut: number;
  counters: PeerCounters;
  /** describeReason(lastReason). */
  lastError?: string;
  /** The last problem with this peer, typed. */
  lastReason?: PeerReason;
  establishedAt?: Date;
}

export interface PeerEvents {
  /** From, to, and the event that moved the FSM. */
  state: [PeerState, PeerState, FsmEvent];
  established: [];
  /**
   * The session ended the way graceful restart covers (RFC 4724 §4.2): the learned routes of `families` are
   * not withdrawn; the owner keeps them stale. Comes before the 'update' withdrawing the other families and 'down'.
   */
  restarting: [PeerGracefulRestart];
  /** After the learned routes were withdrawn through an 'update' event: describeReason(reason), reason. */
  down: [string, PeerReason];
  update: [RouteUpdate];
  'end-of-rib': [FamilyName];
  'route-refresh': [FamilyName];
  wire: ['in' | 'out', Buffer, { local: string; remote: string; remotePort: number; localPort: number }];
}

const DEFAULT_PORT = 179;
const DEFAULT_CONNECT_RETRY_MS = 120_000;
const DEFAULT_IDLE_HOLD_MS = 5_000;

/**
 * One configured BGP neighbour: the FSM over one or more TCP connections, the negotiated session, its
 * Adj-RIB-In and Adj-RIB-Out. The Adj-RIB-Out is the desired state and survives session resets; it is sent
 * in full whenever a session comes up.
 */
export class BgpPeer extends EventEmitter<PeerEvents> {
  readonly address: string;
  readonly port: number;
  readonly asn: number;
  readonly name: string;
  private readonly fsm: PeerFsm;
  private readonly ribIn: AdjRibIn;
  private readonly ribOut: AdjRibOut;
  /** Withdrawals of what the Adj-RIB-In held when the session ended, sent on once the state changed. */
  private pendingWithdrawals: RouteUpdate | undefined;
  /** Set when the ending session is one graceful restart covers. */
  private pendingRestart: PeerGracefulRestart | undefined;
  private session: EstablishedSession | undefined;
  /** A restarting speaker holds End-of-RIB back until its table is whole again (RFC 4724 §4.1). */
  private endOfRibHeld = false;
  /** Families of the current session whose End-of-RIB waits for releaseEndOfRib. */
  private endOfRibPending: FamilyName[] = [];
  private readonly counters: PeerCounters = {
    messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, keepalivesIn: 0, notificationsIn: 0,
    notificationsOut: 0, malformedUpdates: 0, establishedTransitions: 0,
  };

  constructor(config: PeerConfig, private readonly local: LocalIdentity) {
    super();
    ipv4ToNumber(config.address);
    if (!Number.isInteger(config.asn) || config.asn < 1 || config.asn > 0xffffffff) throw new RangeError(`peer ${config.address}: bad ASN ${config.asn}`);
    const hold = config.holdTime ?? local.holdTime;
    if (hold !== 0 && (hold < 3 || hold > 0xffff)) throw new RangeError(`peer ${config.address}: hold time ${hold} must be 0 or 3..65535`);
    this.address = config.address;
    this.port = config.port ?? DEFAULT_PORT;
    this.asn = config.asn;
    this.name = config.name ?? config.address;
    this.ribIn = new AdjRibIn(this.isIbgp, config.vpnRoutesIn);
    this.ribOut = new AdjRibOut({ localAsn: local.asn, isIbgp: this.isIbgp }, config.vpnRoutesOut);
    const localAddress = config.localAddress ?? local.localAddress;
    this.fsm = new PeerFsm({
      address: this.address, port: this.port, asn: this.asn, localAsn: local.asn, localRouterId: local.routerId,
      ...(localAddress && { localAddress }),
      passive: config.passive ?? false,
      holdTime: hold,
      families: [...(config.families ?? local.families)],
      connectRetryMs: config.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS,
      idleHoldMs: config.idleHoldMs ?? DEFAULT_IDLE_HOLD_MS,
      ...(local.gracefulRestart && { gracefulRestart: local.gracefulRestart }),
    }, {
      state: (t) => this.emit('state', t.from, t.to, t.event),
      sessionUp: (session) => {
        this.session = session;
        this.ribOut.attach(outSession(session));
      },
      established: (session) => {
        // The Adj-RIB-Out and End-of-RIB go first, so that routes a listener adds on 'established' are not sent twice.
        for (const family of session.families) this.ribOut.sendFamily(family, !this.endOfRibHeld);
        this.endOfRibPending = this.endOfRibHeld ? [...session.families] : [];
        this.emit('established');
      },
      sessionEnding: (reason) => {
        this.ribOut.attach(undefined);
        this.endOfRibPending = [];
        const restart = restartCovers(reason) ? this.session?.gracefulRestart : undefined;
        this.session = undefined;
        const withdrawn = this.ribIn.clear();
        this.pendingWithdrawals = restart ? withoutFamilies(withdrawn, restart.families) : withdrawn;
        this.pendingRestart = restart;
      },
      down: (reason) => {
        const withdrawn = this.pendingWithdrawals;
        const restart = this.pendingRestart;
        this.pendingWithdrawals = undefined;
        this.pendingRestart = undefined;
        if (restart) this.emit('restarting', restart);
        if (withdrawn && !isEmptyRouteUpdate(withdrawn)) this.emit('update', withdrawn);
        this.emit('down', describeReason(reason), reason);
      },
      update: (msg) => this.onUpdate(msg),
      routeRefresh: (afi, safi) => this.onRouteRefresh(afi, safi),
      wire: (dir, bytes, c) => this.emit('wire', dir, bytes, {
        local: c.localAddress, localPort: c.localPort, remote: c.remoteAddress, remotePort: c.remotePort,
      }),
    }, this.counters);
  }

  get state(): PeerState {
    return this.fsm.state;
  }

  get isIbgp(): boolean {
    return this.asn === this.local.asn;
  }

  /** Families negotiated on the current session (empty when down). */
  get families(): FamilyName[] {
    const s = this.fsm.session;
    return s ? [...s.families] : [];
  }

  status(): PeerStatus {
    const s = this.fsm.session;
    const { lastReason, establishedAt } = this.fsm;
    return {
      name: this.name, address: this.address, port: this.port, asn: this.asn, state: this.fsm.state,
      ...(s && { remoteRouterId: s.open.routerId, holdTime: s.holdTime, fourOctetAs: s.fourOctetAs, routeRefresh: s.routeRefresh }),
      ...(s?.gracefulRestart && { gracefulRestart: s.gracefulRestart }),
      families: this.families,
      prefixesIn: this.ribIn.size,
      prefixesOut: this.ribOut.size,
      counters: { ...this.counters },
      ...(lastReason !== undefined && { lastError: describeReason(lastReason), lastReason }),
      ...(establishedAt && { establishedAt }),
    };
  }

  adjRibIn(): AdjRibRoutes {
    return this.ribIn.routes();
  }

  adjRibOut(): AdjRibRoutes {
    return this.ribOut.routes();
  }

  // ── session ────────────────────────────────────────────────────────────────────────────────────────

  /** ManualStart (or ManualStart_with_PassiveTcpEstablishment when passive). */
  start(): void {
    this.fsm.start();
  }

  /** ManualStop: Cease to every connection (or, without `notify`, just close them), back to Idle, no automatic restart. */
  stop(subcode: number = CeaseSubcode.administrativeShutdown, notify = true): void {
    this.fsm.stop(subcode, notify);
  }

  /** New sessions get the table without End-of-RIB until releaseEndOfRib (a restarting speaker, RFC 4724 §4.1). */
  holdEndOfRib(): void {
    this.endOfRibHeld = true;
  }

  /** Sends the End-of-RIBs held back on the current session; later sessions get theirs at once. */
  releaseEndOfRib(): void {
    this.endOfRibHeld = false;
    for (const family of this.endOfRibPending.splice(0)) this.ribOut.sendEndOfRib(family);
  }

  /** What graceful restart the current session negotiated (undefined when down or not negotiated). */
  get gracefulRestart(): PeerGracefulRestart | undefined {
    return this.fsm.session?.gracefulRestart;
  }

  /** Administrative reset: drop the session (Cease/4) and start again after the idle hold time. */
  reset(): void {
    this.fsm.reset();
  }

  /** Called by the speaker's listener for a connection from this peer's address. */
  acceptIncoming(socket: Socket): void {
    this.fsm.acceptIncoming(socket);
  }

  /** Asks the peer to send its routes of one family again (RFC 2918). */
  requestRefresh(family: FamilyName): void {
    const s = this.fsm.session;
    if (!s?.routeRefresh || !s.families.includes(family)) throw new Error(`peer ${this.name}: route refresh for ${family} not negotiated`);
    s.connection.send({ type: 'route-refresh', ...familyCode(family) });
  }

  // ── routes in ──────────────────────────────────────────────────────────────────────────────────────

  private onUpdate(msg: DecodedUpdate): void {
    this.counters.updatesIn++;
    if (msg.problems.length > 0) {
      this.counters.malformedUpdates++;
      this.fsm.lastReason = { kind: 'malformed-update', problems: msg.problems.map((p) => `${p.action} (${p.reason})`) };
    }
    const effect = this.ribIn.apply(msg, this.fsm.session?.families ?? []);
    if (effect.kind === 'end-of-rib') this.emit('end-of-rib', effect.family);
    else if (!isEmptyRouteUpdate(effect.update)) this.emit('update', effect.update);
  }

  private onRouteRefresh(afi: number, safi: number): void {
    const family = familyName(afi, safi);
    if (!family || !this.fsm.session?.families.includes(family)) return;
    this.emit('route-refresh', family);
    this.ribOut.sendFamily(family);
  }

  // ── routes out ─────────────────────────────────────────────────────────────────────────────────────

  /** Bytes sent to the peer that its socket still holds (0 when down): what the peer has not read yet. */
  get unsentBytes(): number {
    return this.fsm.session?.connection.unsentBytes ?? 0;
  }

  /** Calls `listener` once the session's socket has drained; never if the session ends first. */
  onceDrained(listener: () => void): void {
    this.fsm.session?.connection.onceDrained(listener);
  }

  /**
   * Stores the routes in the Adj-RIB-Out and sends those that changed. Throws RangeError, with nothing stored
   * or sent, when any of them cannot go on the wire.
   */
  advertiseVpn(routes: readonly VpnRoute[]): void {
    this.ribOut.advertiseVpn(routes);
  }

  withdrawVpn(keys: readonly VpnKey[]): void {
    this.ribOut.withdrawVpn(keys);
  }

  advertiseRouteTargets(routes: readonly RouteTargetRoute[]): void {
    this.ribOut.advertiseRouteTargets(routes);
  }

  withdrawRouteTargets(items: readonly RouteTargetNlri[]): void {
    this.ribOut.withdrawRouteTargets(items);
  }

  advertiseInet(routes: readonly InetRoute[]): void {
    this.ribOut.advertiseInet(routes);
  }

  withdrawInetPrefixes(prefixes: readonly string[]): void {
    this.ribOut.withdrawInetPrefixes(prefixes);
  }
}

/**
 * RFC 4724 §4.2: the TCP session ended without a NOTIFICATION (the peer died or restarted) or its hold timer
 * ran out. A NOTIFICATION we sent or received for any other cause, or our own stop or reset, ends GR too.
 */
function restartCovers(reason: PeerReason): boolean {
  return reason.kind === 'connection-lost' || (reason.kind === 'notification-sent' && reason.cause === 'hold-timer-expired');
}

/** The withdrawals of a cleared Adj-RIB-In minus the families graceful restart keeps. */
function withoutFamilies(u: RouteUpdate, kept: readonly FamilyName[]): RouteUpdate {
  return {
    ...u,
    withdraw: kept.includes('inet-vpn') ? [] : u.withdraw,
    rtWithdraw: kept.includes('route-target') ? [] : u.rtWithdraw,
    inetWithdraw: kept.includes('inet') ? [] : u.inetWithdraw,
  };
}

function outSession(session: EstablishedSession): OutSession {
  const { connection } = session;
  return {
    families: session.families,
    fourOctetAs: session.fourOctetAs,
    send: (msg) => connection.send(msg),
    sendEncoded: (bytes) => connection.sendEncoded(bytes),
  };
}
