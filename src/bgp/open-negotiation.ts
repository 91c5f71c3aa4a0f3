// The OPEN exchange of one BGP neighbour: the OPEN we send, the checks on the peer's OPEN (RFC 4271 §6.2),
// which of two colliding connections goes (RFC 4271 §6.8), and the session both OPENs negotiate (families,
// RFC 4760; graceful restart, docs/protocol.md §6.7). Pure functions of the configuration and the OPENs.
// It does not run the FSM, own connections or timers (./peer-fsm.ts), nor encode messages (./messages.ts).
import type { BgpConnection } from './connection.ts';
import { ALL_FAMILIES, type FamilyName, familyCode, familyName } from './families.ts';
import { requireIpv4 as ipv4ToNumber } from '../net/ipv4.ts';
import type { OpenMessage, OutgoingMessage } from './messages.ts';
import { BgpProtocolError, ErrorCode, OpenSubcode } from './protocol-error.ts';
import { type LocalGracefulRestart, type PeerGracefulRestart, localCapabilities, negotiateGracefulRestart } from './graceful-restart-capability.ts';

/** The negotiated session while Established. */
export interface EstablishedSession {
  readonly connection: BgpConnection;
  readonly open: OpenMessage;
  /** Negotiated hold time, seconds. */
  readonly holdTime: number;
  readonly families: readonly FamilyName[];
  readonly fourOctetAs: boolean;
  readonly routeRefresh: boolean;
  /** Both OPENs carried the GR capability: what the peer's promises (docs/protocol.md §6.7). */
  readonly gracefulRestart?: PeerGracefulRestart;
}

/** What our side offers in OPEN and expects of the peer's. */
export interface OpenConfig {
  /** The peer's AS. */
  asn: number;
  localAsn: number;
  localRouterId: string;
  /** Proposed hold time, seconds. */
  holdTime: number;
  /** Families offered in OPEN. */
  families: readonly FamilyName[];
  /** Offer graceful restart (and LLGR with a long-lived stale time) for every offered family. */
  gracefulRestart?: LocalGracefulRestart;
}

type LocalOpen = Extract<OutgoingMessage, { type: 'open' }>;

/**
 * The GR capabilities of our OPEN. `restarting` (R set) on every OPEN until a first session came up since
 * start: a control node that starts may be coming back from a crash its peers are still helping with.
 */
function restartCapabilities(config: OpenConfig, restarting: boolean): ReturnType<typeof localCapabilities> | Record<string, never> {
  const gr = config.gracefulRestart;
  return gr ? localCapabilities(gr, config.families, restarting) : {};
}

/** Our OPEN: every configured family, route refresh, four-octet AS, and GR when configured. */
export function localOpen(config: OpenConfig, restarting: boolean): LocalOpen {
  return {
    type: 'open', asn: config.localAsn, holdTime: config.holdTime, routerId: config.localRouterId,
    capabilities: {
      multiprotocol: config.families.map(familyCode), routeRefresh: true, fourOctetAs: config.localAsn,
      ...restartCapabilities(config, restarting), other: [],
    },
  };
}

/** RFC 4271 §6.2 checks on the peer's OPEN: the NOTIFICATION to send, or undefined when acceptable. */
export function validateOpen(open: OpenMessage, config: OpenConfig): BgpProtocolError | undefined {
  if (open.version !== 4) return new BgpProtocolError(ErrorCode.open, OpenSubcode.unsupportedVersion, `BGP version ${open.version}`, Buffer.of(0, 4));
  const remoteAs = open.capabilities.fourOctetAs ?? open.myAs;
  if (remoteAs !== config.asn) {
    return new BgpProtocolError(ErrorCode.open, OpenSubcode.badPeerAs, `peer AS ${remoteAs}, expected ${config.asn}`);
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return new BgpProtocolError(ErrorCode.open, OpenSubcode.unacceptableHoldTime, `hold time ${open.holdTime}`);
  }
  const ibgp = config.asn === config.localAsn;
  if (open.routerId === '0.0.0.0' || (ibgp && open.routerId === config.localRouterId)) {
    return new BgpProtocolError(ErrorCode.open, OpenSubcode.badBgpIdentifier, `BGP identifier ${open.routerId}`);
  }
  return undefined;
}

/** RFC 4271 §6.8: the lower identifier's own connection goes; same direction: the older one goes. */
export function collisionLoser(a: BgpConnection, b: BgpConnection, localRouterId: string, remoteId: string): BgpConnection {
  if (a.direction === b.direction) return b;
  const localWins = ipv4ToNumber(localRouterId) > ipv4ToNumber(remoteId);
  const outgoing = a.direction === 'outgoing' ? a : b;
  const incoming = a === outgoing ? b : a;
  return localWins ? incoming : outgoing;
}

/** The session `connection` carries once the peer's `open` is confirmed; `restarting` as for localOpen. */
export function negotiateSession(connection: BgpConnection, open: OpenMessage, config: OpenConfig, restarting: boolean): EstablishedSession {
  const offered = config.families;
  // RFC 4760 §8: a peer that sends no multiprotocol capability speaks IPv4 unicast only.
  const theirs = open.capabilities.multiprotocol.length > 0
    ? open.capabilities.multiprotocol.map((f) => familyName(f.afi, f.safi)).filter((f): f is FamilyName => f !== undefined)
    : ['inet' as const];
  const families = ALL_FAMILIES.filter((f) => offered.includes(f) && theirs.includes(f));
  const gracefulRestart = negotiateGracefulRestart(restartCapabilities(config, restarting), open.capabilities, families);
  return {
    connection, open, families, fourOctetAs: connection.fourOctetAs, routeRefresh: open.capabilities.routeRefresh,
    holdTime: Math.min(open.holdTime, config.holdTime),
    ...(gracefulRestart && { gracefulRestart }),
  };
}
