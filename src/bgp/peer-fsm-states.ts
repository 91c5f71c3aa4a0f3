// What each state of the BGP peer FSM (./peer-fsm.ts) does with an event: one handler per RFC 4271 §8.2.2
// state, for events on the peer as a whole and on one of its connections (RFC 4271 §6.8 runs one FSM per
// connection). A handler only decides; the actions it takes (connect, send OPEN, close, notify) and the
// derived peer state are PeerFsm's. It owns no state of its own.
import type { BgpConnection } from './connection.ts';
import type { Socket } from 'node:net';
import type { BgpMessage } from './messages.ts';
import { type BgpProtocolError, CeaseSubcode } from './protocol-error.ts';
import type { PeerState } from './peer-fsm-vocabulary.ts';
import type { PeerFsm } from './peer-fsm.ts';

/** Events that concern the peer as a whole. */
export type PeerInput =
  | { event: 'manual-start' }
  | { event: 'retry-timer' }
  | { event: 'tcp-connected'; socket: Socket }
  | { event: 'tcp-incoming'; socket: Socket };

/** Events on one connection, handled by the state of that connection (RFC 4271 §6.8 runs one FSM per connection). */
export type ConnectionInput =
  | { event: 'message'; msg: BgpMessage }
  | { event: 'protocol-error'; error: BgpProtocolError }
  | { event: 'hold-timer-expired' };

export interface StateHandler {
  peer(fsm: PeerFsm, input: PeerInput): void;
  connection?(fsm: PeerFsm, connection: BgpConnection, input: ConnectionInput): void;
}

/** Idle: stopped, or running and waiting out the IdleHoldTimer. */
const idle: StateHandler = {
  peer(fsm, input) {
    switch (input.event) {
      case 'manual-start':
        if (!fsm.running) fsm.begin();
        return;
      case 'retry-timer':
        fsm.connectNow('automatic-start');
        return;
      case 'tcp-connected':
        if (fsm.running) fsm.openOutgoing(input.socket);
        else fsm.discard(input.socket);
        return;
      case 'tcp-incoming':
        if (fsm.running) fsm.openIncoming(input.socket);
        else fsm.refuse(input.socket, { kind: 'refused-while-stopped' }, CeaseSubcode.connectionRejected);
        return;
    }
  },
};

/** Peer events in the states in which a connection may still be opened: Connect, Active, OpenSent, OpenConfirm. */
const opening: StateHandler['peer'] = (fsm, input) => {
  switch (input.event) {
    case 'manual-start': return;
    case 'retry-timer': fsm.connectNow('connect-retry-expired'); return;
    case 'tcp-connected': fsm.openOutgoing(input.socket); return;
    case 'tcp-incoming': fsm.openIncoming(input.socket); return;
  }
};

/** Connect: our TCP connect is under way. */
const connect: StateHandler = { peer: opening };

/** Active: waiting for the peer to connect (passive), or for the ConnectRetryTimer. */
const active: StateHandler = { peer: opening };

/** OpenSent: our OPEN is out; only the peer's OPEN may come. */
const opensent: StateHandler = {
  peer: opening,
  connection(fsm, connection, input) {
    if (fsm.commonConnectionEvent(connection, input)) return;
    if (input.event !== 'message') return;
    if (input.msg.type === 'open') fsm.onOpen(connection, input.msg);
    else fsm.fsmError(connection, input.msg.type, 1);
  },
};

/** OpenConfirm: OPENs exchanged; the peer's KEEPALIVE completes the session. */
const openconfirm: StateHandler = {
  peer: opening,
  connection(fsm, connection, input) {
    if (fsm.commonConnectionEvent(connection, input)) return;
    if (input.event !== 'message') return;
    if (input.msg.type === 'keepalive') fsm.onEstablished(connection);
    else fsm.fsmError(connection, input.msg.type, 2);
  },
};

/** Established: UPDATEs and ROUTE-REFRESH flow; a second connection from the peer is a collision. */
const established: StateHandler = {
  peer(fsm, input) {
    switch (input.event) {
      case 'manual-start':
      case 'retry-timer':
        return;
      case 'tcp-connected': fsm.discard(input.socket); return;
      case 'tcp-incoming':
        fsm.refuse(input.socket, { kind: 'collision', resolution: 'established-exists' }, CeaseSubcode.connectionCollisionResolution);
        return;
    }
  },
  connection(fsm, connection, input) {
    if (fsm.commonConnectionEvent(connection, input)) return;
    if (input.event !== 'message') return;
    const { msg } = input;
    if (msg.type === 'update') fsm.hooks.update(msg);
    else if (msg.type === 'route-refresh') fsm.hooks.routeRefresh(msg.afi, msg.safi);
    else if (msg.type === 'open') fsm.fsmError(connection, msg.type, 3);
  },
};

export const HANDLERS: Readonly<Record<PeerState, StateHandler>> = { idle, connect, active, opensent, openconfirm, established };
