// The vocabulary of the BGP peer FSM (./peer-fsm.ts): its states, the events that move it, and the typed
// reasons a connection or session ends, with the one-line text each reason is shown as. Pure data: it
// owns no behaviour beyond naming and describing.

/** RFC 4271 §8.2.2 states. */
export type PeerState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

/** What made the FSM move (the RFC 4271 §8.1 events this implementation tells apart). */
export type FsmEvent =
  | 'manual-start' // Events 1, 5
  | 'manual-stop' // Event 2
  | 'automatic-start' // Event 3: the IdleHoldTimer after a session ended ran out
  | 'connect-retry-expired' // Event 9
  | 'tcp-connected' // Events 16, 17: our connect succeeded, or the peer's was accepted
  | 'tcp-failed' // Event 18
  | 'tcp-closed' // the connection went away without a NOTIFICATION
  | 'open-received' // Event 19
  | 'open-rejected' // Event 22 (BGPOpenMsgErr)
  | 'keepalive-received' // Event 26
  | 'notification-received' // Events 24, 25
  | 'hold-timer-expired' // Event 10
  | 'collision-dump' // Event 23
  | 'protocol-error' // Events 21, 28: a message that could not be read
  | 'fsm-error' // a message the state does not allow
  | 'admin-reset'; // Cease / Administrative Reset on request

/** Why a connection or session ended, or what the last problem with this peer was. */
export type PeerReason =
  | { kind: 'manual-stop'; subcode: number }
  | { kind: 'admin-reset' }
  | { kind: 'refused-while-stopped' }
  | { kind: 'collision'; resolution: 'established-exists' | 'lost' | 'other-established' }
  | { kind: 'connect-failed'; target: string; error: string }
  | { kind: 'connection-lost'; detail: string }
  | { kind: 'notification-received'; code: number; subcode: number; data: string }
  | { kind: 'notification-sent'; cause: 'open-rejected' | 'fsm-error' | 'hold-timer-expired' | 'protocol-error'; code: number; subcode: number; message: string }
  | { kind: 'malformed-update'; problems: string[] };

export interface PeerTransition {
  from: PeerState;
  to: PeerState;
  event: FsmEvent;
}

const COLLISION_TEXT = {
  'established-exists': 'collision with the established session',
  lost: 'connection collision resolution',
  'other-established': 'collision: another connection was established',
} as const;

/** One line for logs and `lastError`. */
export function describeReason(r: PeerReason): string {
  switch (r.kind) {
    case 'manual-stop': return 'stopped';
    case 'admin-reset': return 'administrative reset';
    case 'refused-while-stopped': return 'peer is stopped';
    case 'collision': return COLLISION_TEXT[r.resolution];
    case 'connect-failed': return `connect to ${r.target} failed: ${r.error}`;
    case 'connection-lost': return r.detail;
    case 'notification-received': return `received NOTIFICATION ${r.code}/${r.subcode}${r.data ? ` data ${r.data}` : ''}`;
    case 'notification-sent': return `sent NOTIFICATION ${r.code}/${r.subcode}: ${r.message}`;
    case 'malformed-update': return `malformed UPDATE handled per RFC 7606: ${r.problems.join('; ')}`;
  }
}

/** The FSM event a connection's end counts as. */
export function endEvent(r: PeerReason): FsmEvent {
  switch (r.kind) {
    case 'manual-stop': return 'manual-stop';
    case 'admin-reset': return 'admin-reset';
    case 'collision': return 'collision-dump';
    case 'notification-received': return 'notification-received';
    case 'notification-sent': return r.cause;
    case 'connect-failed': return 'tcp-failed';
    default: return 'tcp-closed';
  }
}
