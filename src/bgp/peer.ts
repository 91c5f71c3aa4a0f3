import { EventEmitter } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { BgpConnection, OPEN_HOLD_SECONDS } from './connection.ts';
import { ALL_FAMILIES, type FamilyName, familyCode, familyName } from './families.ts';
import { ipv4ToNumber } from './ipv4.ts';
import { type BgpMessage, MAX_MESSAGE_LENGTH, type OpenMessage, encodeMessage } from './messages.ts';
import { type RouteTargetNlri } from './nlri.ts';
import { type PathAttributes } from './path-attributes.ts';
import { BgpProtocolError, CeaseSubcode, ErrorCode, OpenSubcode } from './protocol-error.ts';
import {
  type InetRoute, type RouteTargetRoute, type RouteUpdate, type VpnKey, type VpnRoute, emptyRouteUpdate,
  isEmptyRouteUpdate, routeTargetKey,
} from './routes.ts';
import { VpnRouteTable } from './vpn-route-table.ts';
import { type DecodedUpdate, type MpNlri, type UpdateParts, encodeUpdateBody } from './update-message.ts';
import {
  type AttributeBlock, type EncodedVpnNlri, encodeAttributeBlock, encodeVpnNlriList, packVpnReach, vpnReachMessageLength,
} from './vpn-reach-packer.ts';

/** RFC 4271 §8.2.2 states. */
export type PeerState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

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
}

/** What the peer needs to know about the local speaker. */
export interface LocalIdentity {
  asn: number;
  routerId: string;
  holdTime: number;
  families: readonly FamilyName[];
  /** Used as the source of active connects when the peer config has no localAddress. */
  localAddress?: string;
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
  prefixesIn: number;
  prefixesOut: number;
  counters: PeerCounters;
  lastError?: string;
  establishedAt?: Date;
}

export interface PeerEvents {
  state: [PeerState, PeerState];
  established: [];
  down: [string];
  update: [RouteUpdate];
  'end-of-rib': [FamilyName];
  'route-refresh': [FamilyName];
  wire: ['in' | 'out', Buffer, { local: string; remote: string; remotePort: number; localPort: number }];
}

const DEFAULT_PORT = 179;
const DEFAULT_CONNECT_RETRY_MS = 120_000;
const DEFAULT_IDLE_HOLD_MS = 5_000;
/** Room an UPDATE needs besides the NLRI: header, lengths, attribute framing slack. */
const FRAMING_SLACK = 8;

interface Session {
  connection: BgpConnection;
  open: OpenMessage;
  holdTime: number;
  families: FamilyName[];
  fourOctetAs: boolean;
  routeRefresh: boolean;
  /** Exported attributes as this session encodes them, by the Adj-RIB-Out's attribute objects (never mutated). */
  attributeBlocks: WeakMap<PathAttributes, AttributeBlock>;
}

/**
 * One configured BGP neighbour: the RFC 4271 FSM over one or more TCP connections (collision detection per
 * §6.8), the negotiated session, its Adj-RIB-In and Adj-RIB-Out. The Adj-RIB-Out is the desired state and
 * survives session resets; it is sent in full whenever a session comes up.
 */
export class BgpPeer extends EventEmitter<PeerEvents> {
  readonly address: string;
  readonly port: number;
  readonly asn: number;
  readonly name: string;
  private stateValue: PeerState = 'idle';
  private running = false;
  private readonly connections = new Set<BgpConnection>();
  private readonly opens = new Map<BgpConnection, OpenMessage>();
  private session: Session | undefined;
  private pendingSocket: Socket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the retry timer runs: IdleHoldTimer after a session ended, ConnectRetryTimer after a failed connect. */
  private retryKind: 'idle-hold' | 'connect-retry' | undefined;
  private lastErrorText: string | undefined;
  private establishedAt: Date | undefined;
  private readonly counters: PeerCounters = {
    messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, keepalivesIn: 0, notificationsIn: 0,
    notificationsOut: 0, malformedUpdates: 0, establishedTransitions: 0,
  };
  private readonly ribIn = { vpn: new VpnRouteTable<VpnRoute>(), rt: new Map<string, RouteTargetRoute>(), inet: new Map<string, InetRoute>() };
  private readonly ribOut = { vpn: new VpnRouteTable<VpnRoute>(), rt: new Map<string, RouteTargetRoute>(), inet: new Map<string, InetRoute>() };

  constructor(private readonly config: PeerConfig, private readonly local: LocalIdentity) {
    super();
    ipv4ToNumber(config.address);
    if (!Number.isInteger(config.asn) || config.asn < 1 || config.asn > 0xffffffff) throw new RangeError(`peer ${config.address}: bad ASN ${config.asn}`);
    const hold = config.holdTime ?? local.holdTime;
    if (hold !== 0 && (hold < 3 || hold > 0xffff)) throw new RangeError(`peer ${config.address}: hold time ${hold} must be 0 or 3..65535`);
    this.address = config.address;
    this.port = config.port ?? DEFAULT_PORT;
    this.asn = config.asn;
    this.name = config.name ?? config.address;
  }

  get state(): PeerState {
    return this.stateValue;
  }

  get isIbgp(): boolean {
    return this.asn === this.local.asn;
  }

  /** Families negotiated on the current session (empty when down). */
  get families(): FamilyName[] {
    return this.session ? [...this.session.families] : [];
  }

  status(): PeerStatus {
    const s = this.session;
    return {
      name: this.name, address: this.address, port: this.port, asn: this.asn, state: this.stateValue,
      ...(s && { remoteRouterId: s.open.routerId, holdTime: s.holdTime, fourOctetAs: s.fourOctetAs, routeRefresh: s.routeRefresh }),
      families: this.families,
      prefixesIn: this.ribIn.vpn.size + this.ribIn.rt.size + this.ribIn.inet.size,
      prefixesOut: this.ribOut.vpn.size + this.ribOut.rt.size + this.ribOut.inet.size,
      counters: { ...this.counters },
      ...(this.lastErrorText !== undefined && { lastError: this.lastErrorText }),
      ...(this.establishedAt && { establishedAt: this.establishedAt }),
    };
  }

  adjRibIn(): { vpn: VpnRoute[]; routeTargets: RouteTargetRoute[]; inet: InetRoute[] } {
    return { vpn: [...this.ribIn.vpn.values()], routeTargets: [...this.ribIn.rt.values()], inet: [...this.ribIn.inet.values()] };
  }

  adjRibOut(): { vpn: VpnRoute[]; routeTargets: RouteTargetRoute[]; inet: InetRoute[] } {
    return { vpn: [...this.ribOut.vpn.values()], routeTargets: [...this.ribOut.rt.values()], inet: [...this.ribOut.inet.values()] };
  }

  // ── FSM ────────────────────────────────────────────────────────────────────────────────────────────

  /** ManualStart (or ManualStart_with_PassiveTcpEstablishment when passive). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.config.passive) this.refreshState();
    else this.connectNow();
  }

  /** ManualStop: Cease to every connection, back to Idle, no automatic restart. */
  stop(subcode: number = CeaseSubcode.administrativeShutdown): void {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryKind = undefined;
    this.pendingSocket?.destroy();
    this.pendingSocket = undefined;
    for (const c of [...this.connections]) c.close('stopped', { code: ErrorCode.cease, subcode });
    this.refreshState();
  }

  /** Administrative reset: drop the session (Cease/4) and start again after the idle hold time. */
  reset(): void {
    for (const c of [...this.connections]) c.close('administrative reset', { code: ErrorCode.cease, subcode: CeaseSubcode.administrativeReset });
  }

  /** Called by the speaker's listener for a connection from this peer's address. */
  acceptIncoming(socket: Socket): void {
    const connection = new BgpConnection(socket, 'incoming');
    if (!this.running) {
      this.attach(connection);
      connection.close('peer is stopped', { code: ErrorCode.cease, subcode: CeaseSubcode.connectionRejected });
      return;
    }
    if (this.session) {
      // §6.8: a connection colliding with an Established one is closed.
      this.attach(connection);
      connection.close('collision with the established session', { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryKind = undefined;
    this.attach(connection);
    this.sendOpen(connection);
    this.refreshState();
  }

  private connectNow(): void {
    this.retryTimer = undefined;
    this.retryKind = undefined;
    if (!this.running || this.session || this.pendingSocket || this.connections.size > 0) return;
    const localAddress = this.config.localAddress ?? this.local.localAddress;
    const socket = tcpConnect({ host: this.address, port: this.port, ...(localAddress && { localAddress }) });
    this.pendingSocket = socket;
    // A late second error (after the once-handler ran) must not become an uncaught exception.
    socket.on('error', () => undefined);
    const retryMs = this.config.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS;
    // ConnectRetryTimer also bounds a connect attempt that hangs.
    socket.setTimeout(retryMs, () => socket.destroy(new Error('connect timed out')));
    const onError = (err: Error) => {
      if (this.pendingSocket !== socket) return;
      this.pendingSocket = undefined;
      this.lastErrorText = `connect to ${this.address}:${this.port} failed: ${err.message}`;
      this.scheduleConnect(retryMs, 'connect-retry');
      this.refreshState();
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      socket.setTimeout(0);
      this.pendingSocket = undefined;
      if (!this.running || this.session) {
        socket.destroy();
        this.refreshState();
        return;
      }
      const connection = new BgpConnection(socket, 'outgoing');
      this.attach(connection);
      this.sendOpen(connection);
      this.refreshState();
    });
    this.refreshState();
  }

  private scheduleConnect(delayMs: number, kind: 'idle-hold' | 'connect-retry'): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryKind = undefined;
    if (!this.running || this.config.passive) return;
    this.retryKind = kind;
    this.retryTimer = setTimeout(() => this.connectNow(), delayMs);
  }

  private attach(connection: BgpConnection): void {
    this.connections.add(connection);
    connection.on('wire', (dir, bytes) => {
      if (dir === 'out') this.countOut(bytes);
      this.emit('wire', dir, bytes, {
        local: connection.localAddress, localPort: connection.localPort, remote: connection.remoteAddress,
        remotePort: connection.remotePort,
      });
    });
    connection.on('message', (msg) => this.onMessage(connection, msg));
    connection.on('protocol-error', (err) => this.failConnection(connection, err));
    connection.on('hold-expired', () => this.failConnection(connection,
      new BgpProtocolError(ErrorCode.holdTimerExpired, 0, 'hold timer expired')));
    connection.on('closed', (reason) => this.onClosed(connection, reason));
  }

  private countOut(bytes: Buffer): void {
    this.counters.messagesOut++;
    if (bytes[18] === 2) this.counters.updatesOut++;
    if (bytes[18] === 3) this.counters.notificationsOut++;
  }

  private proposedHoldTime(): number {
    return this.config.holdTime ?? this.local.holdTime;
  }

  private offeredFamilies(): FamilyName[] {
    return [...(this.config.families ?? this.local.families)];
  }

  private sendOpen(connection: BgpConnection): void {
    connection.send({
      type: 'open', asn: this.local.asn, holdTime: this.proposedHoldTime(), routerId: this.local.routerId,
      capabilities: {
        multiprotocol: this.offeredFamilies().map(familyCode), routeRefresh: true, fourOctetAs: this.local.asn, other: [],
      },
    });
    connection.armHold(OPEN_HOLD_SECONDS);
  }

  private failConnection(connection: BgpConnection, err: BgpProtocolError): void {
    this.lastErrorText = `sent NOTIFICATION ${err.code}/${err.subcode}: ${err.message}`;
    connection.close(err.message, { code: err.code, subcode: err.subcode, data: err.data });
  }

  private onMessage(connection: BgpConnection, msg: BgpMessage): void {
    this.counters.messagesIn++;
    if (msg.type === 'notification') {
      this.counters.notificationsIn++;
      this.lastErrorText = `received NOTIFICATION ${msg.code}/${msg.subcode}${msg.data.length ? ` data ${msg.data.toString('hex')}` : ''}`;
      connection.close(this.lastErrorText);
      return;
    }
    if (msg.type === 'keepalive') this.counters.keepalivesIn++;
    const fsmError = (subcode: number) => this.failConnection(connection,
      new BgpProtocolError(ErrorCode.fsm, subcode, `unexpected ${msg.type} in ${connection.phase}`));
    switch (connection.phase) {
      case 'opensent':
        if (msg.type === 'open') this.onOpen(connection, msg);
        else fsmError(1);
        return;
      case 'openconfirm':
        if (msg.type === 'keepalive') this.onEstablished(connection);
        else fsmError(2);
        return;
      case 'established':
        if (msg.type === 'update') this.onUpdate(msg);
        else if (msg.type === 'route-refresh') this.onRouteRefresh(msg.afi, msg.safi);
        else if (msg.type === 'open') fsmError(3);
        return;
    }
  }

  private validateOpen(open: OpenMessage): BgpProtocolError | undefined {
    if (open.version !== 4) return new BgpProtocolError(ErrorCode.open, OpenSubcode.unsupportedVersion, `BGP version ${open.version}`, Buffer.of(0, 4));
    const remoteAs = open.capabilities.fourOctetAs ?? open.myAs;
    if (remoteAs !== this.asn) {
      return new BgpProtocolError(ErrorCode.open, OpenSubcode.badPeerAs, `peer AS ${remoteAs}, expected ${this.asn}`);
    }
    if (open.holdTime === 1 || open.holdTime === 2) {
      return new BgpProtocolError(ErrorCode.open, OpenSubcode.unacceptableHoldTime, `hold time ${open.holdTime}`);
    }
    if (open.routerId === '0.0.0.0' || (this.isIbgp && open.routerId === this.local.routerId)) {
      return new BgpProtocolError(ErrorCode.open, OpenSubcode.badBgpIdentifier, `BGP identifier ${open.routerId}`);
    }
    return undefined;
  }

  private onOpen(connection: BgpConnection, open: OpenMessage): void {
    const invalid = this.validateOpen(open);
    if (invalid) {
      this.failConnection(connection, invalid);
      return;
    }
    // §6.8 collision detection against connections whose peer identifier we already know.
    for (const other of this.connections) {
      if (other === connection || !other.isOpen) continue;
      if (other.phase === 'established') {
        connection.close('collision with the established session', { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
        return;
      }
      if (other.phase !== 'openconfirm') continue;
      const loser = this.collisionLoser(connection, other, open.routerId);
      loser.close('connection collision resolution', { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
      if (loser === connection) return;
    }
    this.opens.set(connection, open);
    const holdTime = Math.min(open.holdTime, this.proposedHoldTime());
    connection.fourOctetAs = open.capabilities.fourOctetAs !== undefined;
    connection.phase = 'openconfirm';
    connection.send({ type: 'keepalive' });
    connection.armHold(holdTime);
    connection.startKeepalives();
    this.refreshState();
  }

  /** RFC 4271 §6.8: the lower identifier's own connection goes; same direction: the older one goes. */
  private collisionLoser(a: BgpConnection, b: BgpConnection, remoteId: string): BgpConnection {
    if (a.direction === b.direction) return b;
    const localWins = ipv4ToNumber(this.local.routerId) > ipv4ToNumber(remoteId);
    const outgoing = a.direction === 'outgoing' ? a : b;
    const incoming = a === outgoing ? b : a;
    return localWins ? incoming : outgoing;
  }

  private onEstablished(connection: BgpConnection): void {
    const open = this.opens.get(connection)!;
    const offered = this.offeredFamilies();
    // RFC 4760 §8: a peer that sends no multiprotocol capability speaks IPv4 unicast only.
    const theirs = open.capabilities.multiprotocol.length > 0
      ? open.capabilities.multiprotocol.map((f) => familyName(f.afi, f.safi)).filter((f): f is FamilyName => f !== undefined)
      : ['inet' as const];
    const families = ALL_FAMILIES.filter((f) => offered.includes(f) && theirs.includes(f));
    for (const other of [...this.connections]) {
      if (other !== connection) other.close('collision: another connection was established', { code: ErrorCode.cease, subcode: CeaseSubcode.connectionCollisionResolution });
    }
    connection.phase = 'established';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryKind = undefined;
    this.session = {
      connection, open, families, fourOctetAs: connection.fourOctetAs, routeRefresh: open.capabilities.routeRefresh,
      holdTime: Math.min(open.holdTime, this.proposedHoldTime()),
      attributeBlocks: new WeakMap(),
    };
    this.counters.establishedTransitions++;
    this.establishedAt = new Date();
    this.refreshState();
    // The Adj-RIB-Out and End-of-RIB go first, so that routes a listener adds on 'established' are not sent twice.
    for (const family of families) this.sendFamily(family);
    this.emit('established');
  }

  private onClosed(connection: BgpConnection, reason: string): void {
    this.connections.delete(connection);
    this.opens.delete(connection);
    if (this.session?.connection === connection) {
      this.session = undefined;
      this.establishedAt = undefined;
      this.lastErrorText ??= reason;
      const withdrawn = this.clearAdjRibIn();
      this.refreshState();
      if (!isEmptyRouteUpdate(withdrawn)) this.emit('update', withdrawn);
      this.emit('down', reason);
    }
    if (this.connections.size === 0 && !this.pendingSocket && this.running && !this.retryTimer) {
      this.scheduleConnect(this.config.idleHoldMs ?? DEFAULT_IDLE_HOLD_MS, 'idle-hold');
    }
    this.refreshState();
  }

  private refreshState(): void {
    let next: PeerState;
    if (this.session) next = 'established';
    else if ([...this.connections].some((c) => c.phase === 'openconfirm')) next = 'openconfirm';
    else if (this.connections.size > 0) next = 'opensent';
    else if (this.pendingSocket) next = 'connect';
    else if (!this.running) next = 'idle';
    else if (this.config.passive) next = 'active';
    else next = this.retryKind === 'idle-hold' ? 'idle' : 'active';
    if (next === this.stateValue) return;
    const previous = this.stateValue;
    this.stateValue = next;
    this.emit('state', previous, next);
  }

  // ── routes in ──────────────────────────────────────────────────────────────────────────────────────

  private clearAdjRibIn(): RouteUpdate {
    const u = emptyRouteUpdate();
    for (const r of this.ribIn.vpn.values()) u.withdraw.push({ rd: r.rd, prefix: r.prefix });
    for (const r of this.ribIn.rt.values()) u.rtWithdraw.push({ originAs: r.originAs, routeTarget: r.routeTarget, prefixLength: r.prefixLength });
    for (const r of this.ribIn.inet.values()) u.inetWithdraw.push(r.prefix);
    this.ribIn.vpn.clear();
    this.ribIn.rt.clear();
    this.ribIn.inet.clear();
    return u;
  }

  private negotiated(family: FamilyName): boolean {
    return this.session?.families.includes(family) ?? false;
  }

  private onUpdate(msg: DecodedUpdate): void {
    this.counters.updatesIn++;
    if (msg.problems.length > 0) {
      this.counters.malformedUpdates++;
      this.lastErrorText = `malformed UPDATE handled per RFC 7606: ${msg.problems.map((p) => `${p.action} (${p.reason})`).join('; ')}`;
    }
    const endOfRib = this.endOfRibFamily(msg);
    if (endOfRib) {
      this.emit('end-of-rib', endOfRib);
      return;
    }
    const attrs = msg.attributes;
    // RFC 7606 §7.5 with RFC 4271 §5.1.5: LOCAL_PREF is mandatory on iBGP; on eBGP it is ignored.
    let withdrawAll = msg.treatAsWithdraw;
    if (attrs && this.isIbgp && attrs.localPref === undefined && (msg.nlri?.length || msg.mpReach)) withdrawAll = true;
    if (attrs && !this.isIbgp) delete attrs.localPref;
    const u = emptyRouteUpdate();
    for (const p of msg.withdrawn ?? []) this.withdrawInet(p, u);
    if (msg.mpUnreach) this.applyWithdrawNlri(msg.mpUnreach, u);
    if (msg.nlri?.length && this.negotiated('inet')) {
      for (const prefix of msg.nlri) {
        if (withdrawAll || !attrs || msg.nextHop === undefined) this.withdrawInet(prefix, u);
        else {
          const route = { prefix, nextHop: msg.nextHop, attrs };
          this.ribIn.inet.set(prefix, route);
          u.inetReach.push(route);
        }
      }
    }
    if (msg.mpReach && attrs) {
      const { nextHop, nlri } = msg.mpReach;
      if (withdrawAll) this.applyWithdrawNlri(nlri, u);
      else if (nlri.family === 'inet-vpn' && this.negotiated('inet-vpn')) {
        for (const n of nlri.routes) {
          const route: VpnRoute = { rd: n.rd, prefix: n.prefix, label: n.label, nextHop, attrs };
          this.ribIn.vpn.set(route);
          u.reach.push(route);
        }
      } else if (nlri.family === 'route-target' && this.negotiated('route-target')) {
        for (const n of nlri.targets) {
          const route: RouteTargetRoute = { ...n, nextHop, attrs };
          this.ribIn.rt.set(routeTargetKey(n), route);
          u.rtReach.push(route);
        }
      } else if (nlri.family === 'inet' && this.negotiated('inet')) {
        for (const prefix of nlri.prefixes) {
          const route = { prefix, nextHop, attrs };
          this.ribIn.inet.set(prefix, route);
          u.inetReach.push(route);
        }
      }
    }
    if (!isEmptyRouteUpdate(u)) this.emit('update', u);
  }

  private withdrawInet(prefix: string, u: RouteUpdate): void {
    if (this.ribIn.inet.delete(prefix)) u.inetWithdraw.push(prefix);
  }

  private applyWithdrawNlri(nlri: MpNlri, u: RouteUpdate): void {
    switch (nlri.family) {
      case 'inet-vpn':
        for (const n of nlri.routes) if (this.ribIn.vpn.delete(n)) u.withdraw.push({ rd: n.rd, prefix: n.prefix });
        return;
      case 'route-target':
        for (const n of nlri.targets) if (this.ribIn.rt.delete(routeTargetKey(n))) u.rtWithdraw.push(n);
        return;
      case 'inet':
        for (const p of nlri.prefixes) this.withdrawInet(p, u);
        return;
      case 'unknown':
        return;
    }
  }

  /** RFC 4724 §2: an empty UPDATE (inet) or an MP_UNREACH with no NLRI marks the end of the initial dump. */
  private endOfRibFamily(msg: DecodedUpdate): FamilyName | undefined {
    if (!msg.attributes && !msg.withdrawn && !msg.nlri && !msg.mpReach && !msg.mpUnreach) return 'inet';
    const un = msg.mpUnreach;
    if (!un || msg.mpReach || msg.nlri || msg.withdrawn || un.family === 'unknown') return undefined;
    const empty = un.family === 'inet' ? un.prefixes.length === 0 : un.family === 'inet-vpn' ? un.routes.length === 0 : un.targets.length === 0;
    return empty ? un.family : undefined;
  }

  private onRouteRefresh(afi: number, safi: number): void {
    const family = familyName(afi, safi);
    if (!family || !this.negotiated(family)) return;
    this.emit('route-refresh', family);
    this.sendFamily(family);
  }

  /** Asks the peer to send its routes of one family again (RFC 2918). */
  requestRefresh(family: FamilyName): void {
    if (!this.session?.routeRefresh || !this.negotiated(family)) throw new Error(`peer ${this.name}: route refresh for ${family} not negotiated`);
    this.session.connection.send({ type: 'route-refresh', ...familyCode(family) });
  }

  // ── routes out ─────────────────────────────────────────────────────────────────────────────────────

  /** Bytes sent to the peer that its socket still holds (0 when down): what the peer has not read yet. */
  get unsentBytes(): number {
    return this.session?.connection.unsentBytes ?? 0;
  }

  /** Calls `listener` once the session's socket has drained; never if the session ends first. */
  onceDrained(listener: () => void): void {
    this.session?.connection.onceDrained(listener);
  }

  /**
   * Stores the routes in the Adj-RIB-Out and sends those that changed. Throws RangeError, with nothing stored
   * or sent, when any of them cannot go on the wire.
   */
  advertiseVpn(routes: readonly VpnRoute[]): void {
    // The wire encoding of the NLRI is the validation, and is what gets sent.
    const nlri = encodeVpnNlriList(routes);
    checkVpnRoutesFit(routes, nlri);
    const changed = storeChanged(this.ribOut.vpn, routes, sameVpnRoute);
    if (this.negotiated('inet-vpn')) this.sendVpnReach(routes, nlri, changed);
  }

  withdrawVpn(keys: readonly VpnKey[]): void {
    const gone = keys.filter((k) => this.ribOut.vpn.delete(k));
    if (gone.length && this.negotiated('inet-vpn')) this.sendWithdraw({ family: 'inet-vpn', routes: gone.map((k) => ({ ...k, label: 0 })) }, 17);
  }

  advertiseRouteTargets(routes: readonly RouteTargetRoute[]): void {
    for (const r of routes) validate({ attributes: r.attrs, mpReach: { nextHop: r.nextHop, nlri: { family: 'route-target', targets: [r] } } });
    const changed = storeChanged(keyedBy(this.ribOut.rt, routeTargetKey), routes, sameByJson);
    if (this.negotiated('route-target')) this.sendRouteTargetReach(changed.map((i) => routes[i]!));
  }

  withdrawRouteTargets(items: readonly RouteTargetNlri[]): void {
    const gone = items.filter((k) => this.ribOut.rt.delete(routeTargetKey(k)));
    if (gone.length && this.negotiated('route-target')) this.sendWithdraw({ family: 'route-target', targets: [...gone] }, 13);
  }

  advertiseInet(routes: readonly InetRoute[]): void {
    for (const r of routes) validate({ attributes: r.attrs, nextHop: r.nextHop, nlri: [r.prefix] });
    const changed = storeChanged(keyedBy(this.ribOut.inet, (r) => r.prefix), routes, sameByJson);
    if (this.negotiated('inet')) this.sendInetReach(changed.map((i) => routes[i]!));
  }

  withdrawInetPrefixes(prefixes: readonly string[]): void {
    const gone = prefixes.filter((p) => this.ribOut.inet.delete(p));
    if (gone.length && this.negotiated('inet')) {
      for (const chunk of chunks(gone, 5, MAX_MESSAGE_LENGTH - 23 - FRAMING_SLACK)) this.sendUpdate({ withdrawn: chunk });
    }
  }

  /** The whole Adj-RIB-Out of one family, then End-of-RIB (RFC 4724). */
  private sendFamily(family: FamilyName): void {
    if (family === 'inet-vpn') {
      const routes = [...this.ribOut.vpn.values()];
      this.sendVpnReach(routes, encodeVpnNlriList(routes), routes.map((_, i) => i));
    }
    if (family === 'route-target') this.sendRouteTargetReach([...this.ribOut.rt.values()]);
    if (family === 'inet') this.sendInetReach([...this.ribOut.inet.values()]);
    if (family === 'inet') this.sendUpdate({});
    else this.sendUpdate({ mpUnreach: family === 'inet-vpn' ? { family, routes: [] } : { family, targets: [] } });
  }

  /** RFC 4271 §5.1: eBGP gets our ASN prepended and no LOCAL_PREF; iBGP always gets LOCAL_PREF. */
  private exportAttributes(attrs: PathAttributes): PathAttributes {
    if (this.isIbgp) return { ...attrs, localPref: attrs.localPref ?? 100 };
    const { localPref: _lp, originatorId: _oid, ...rest } = attrs;
    const [first, ...others] = attrs.asPath;
    const asPath = first?.type === 'sequence' && first.asns.length < 255
      ? [{ type: 'sequence' as const, asns: [this.local.asn, ...first.asns] }, ...others]
      : [{ type: 'sequence' as const, asns: [this.local.asn] }, ...attrs.asPath];
    return { ...rest, asPath, clusterList: [] };
  }

  private sendUpdate(parts: UpdateParts): void {
    this.session?.connection.send({ type: 'update', ...parts });
  }

  private sendGrouped<R extends { nextHop: string; attrs: PathAttributes }>(
    routes: readonly R[], nlriSize: (r: R) => number, build: (nextHop: string, attrs: PathAttributes, batch: R[]) => UpdateParts,
  ): void {
    if (!this.session) return;
    const groups = new Map<string, { nextHop: string; attrs: PathAttributes; routes: R[] }>();
    for (const r of routes) {
      const attrs = this.exportAttributes(r.attrs);
      const key = JSON.stringify([r.nextHop, attrs]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { nextHop: r.nextHop, attrs, routes: [] }));
      g.routes.push(r);
    }
    for (const g of groups.values()) {
      const base = encodeUpdateBody(build(g.nextHop, g.attrs, []), this.session.fourOctetAs).length;
      const room = MAX_MESSAGE_LENGTH - 19 - base - FRAMING_SLACK;
      for (const batch of chunks(g.routes, nlriSize, room)) this.sendUpdate(build(g.nextHop, g.attrs, batch));
    }
  }

  /**
   * Sends routes[i] for i in `indexes`, packed by attribute set and next hop. Attribute sets are told apart by
   * object first (routes of one export share one) and then by their bytes, encoded once per object and session.
   */
  private sendVpnReach(routes: readonly VpnRoute[], nlri: EncodedVpnNlri, indexes: readonly number[]): void {
    const session = this.session;
    if (!session || indexes.length === 0) return;
    const byObject = new Map<PathAttributes, VpnAttributeGroup>();
    const byBytes = new Map<string, VpnAttributeGroup>();
    const batches: VpnBatch[] = [];
    for (const i of indexes) {
      const route = routes[i]!;
      let group = byObject.get(route.attrs);
      if (group === undefined) {
        const block = this.attributeBlock(session, route.attrs);
        group = byBytes.get(block.key);
        if (group === undefined) byBytes.set(block.key, (group = { block, byNextHop: new Map() }));
        byObject.set(route.attrs, group);
      }
      let batch = group.byNextHop.get(route.nextHop);
      if (batch === undefined) {
        batch = { block: group.block, nextHop: ipv4ToNumber(route.nextHop), indexes: [] };
        group.byNextHop.set(route.nextHop, batch);
        batches.push(batch);
      }
      batch.indexes.push(i);
    }
    for (const b of batches) {
      for (const message of packVpnReach(b.block, b.nextHop, nlri, b.indexes)) session.connection.sendEncoded(message);
    }
  }

  private attributeBlock(session: Session, attrs: PathAttributes): AttributeBlock {
    let block = session.attributeBlocks.get(attrs);
    if (block === undefined) {
      block = encodeAttributeBlock(this.exportAttributes(attrs), session.fourOctetAs);
      session.attributeBlocks.set(attrs, block);
    }
    return block;
  }

  private sendRouteTargetReach(routes: readonly RouteTargetRoute[]): void {
    this.sendGrouped(routes, () => 13,
      (nextHop, attributes, batch) => ({ attributes, mpReach: { nextHop, nlri: { family: 'route-target', targets: batch } } }));
  }

  private sendInetReach(routes: readonly InetRoute[]): void {
    this.sendGrouped(routes, () => 5, (nextHop, attributes, batch) => ({ attributes, nextHop, nlri: batch.map((r) => r.prefix) }));
  }

  private sendWithdraw(nlri: MpNlri, maxNlriSize: number): void {
    const room = MAX_MESSAGE_LENGTH - 19 - 4 - 4 - 3 - FRAMING_SLACK;
    const list: unknown[] = nlri.family === 'inet-vpn' ? nlri.routes : nlri.family === 'route-target' ? nlri.targets : [];
    for (const batch of chunks(list, () => maxNlriSize, room)) {
      const part = nlri.family === 'inet-vpn'
        ? { family: nlri.family, routes: batch as typeof nlri.routes }
        : { family: 'route-target' as const, targets: batch as RouteTargetNlri[] };
      this.sendUpdate({ mpUnreach: part });
    }
  }
}

interface VpnBatch {
  block: AttributeBlock;
  nextHop: number;
  indexes: number[];
}

interface VpnAttributeGroup {
  block: AttributeBlock;
  byNextHop: Map<string, VpnBatch>;
}

/** Stores routes in an Adj-RIB-Out map and returns the indexes of those that differ from what was there (only they are sent). */
function storeChanged<R>(rib: AdjRibOut<R>, routes: readonly R[], same: (a: R, b: R) => boolean): number[] {
  const changed: number[] = [];
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    const old = rib.get(r);
    if (old !== undefined && same(old, r)) continue;
    rib.set(r);
    changed.push(i);
  }
  return changed;
}

/** One family's Adj-RIB-Out as storeChanged sees it: routes looked up and stored by their own key. */
interface AdjRibOut<R> {
  get(route: R): R | undefined;
  set(route: R): void;
}

function keyedBy<R>(map: Map<string, R>, key: (r: R) => string): AdjRibOut<R> {
  return { get: (r) => map.get(key(r)), set: (r) => void map.set(key(r), r) };
}

function sameByJson<R>(a: R, b: R): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameVpnRoute(a: VpnRoute, b: VpnRoute): boolean {
  return a.label === b.label && a.nextHop === b.nextHop && a.rd === b.rd && a.prefix === b.prefix
    && (a.attrs === b.attrs || JSON.stringify(a.attrs) === JSON.stringify(b.attrs));
}

/** Throws RangeError when a route, alone in an UPDATE with its attributes, would not fit; FRAMING_SLACK leaves room for an eBGP AS prepend. */
function checkVpnRoutesFit(routes: readonly VpnRoute[], nlri: EncodedVpnNlri): void {
  const nextHops = new Set<string>();
  const blocks = new Map<PathAttributes, AttributeBlock>();
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (!nextHops.has(r.nextHop)) {
      ipv4ToNumber(r.nextHop);
      nextHops.add(r.nextHop);
    }
    let block = blocks.get(r.attrs);
    if (block === undefined) blocks.set(r.attrs, (block = encodeAttributeBlock(r.attrs, true)));
    const length = vpnReachMessageLength(block, nlri.starts[i + 1]! - nlri.starts[i]!);
    if (length > MAX_MESSAGE_LENGTH - FRAMING_SLACK) throw new RangeError(`route does not fit a BGP message (${length} bytes)`);
  }
}

/** Throws RangeError when the route cannot go on the wire; FRAMING_SLACK leaves room for an eBGP AS prepend. */
function validate(parts: UpdateParts): void {
  const length = encodeMessage({ type: 'update', ...parts }).length;
  if (length > MAX_MESSAGE_LENGTH - FRAMING_SLACK) throw new RangeError(`route does not fit a BGP message (${length} bytes)`);
}

function* chunks<T>(items: readonly T[], size: number | ((item: T) => number), room: number): Generator<T[]> {
  let batch: T[] = [];
  let used = 0;
  for (const item of items) {
    const s = typeof size === 'number' ? size : size(item);
    if (batch.length > 0 && used + s > room) {
      yield batch;
      batch = [];
      used = 0;
    }
    batch.push(item);
    used += s;
  }
  if (batch.length > 0) yield batch;
}
