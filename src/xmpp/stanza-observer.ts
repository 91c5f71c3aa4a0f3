// The hook through which the XMPP layer reports every stream header and stanza a session sends or
// receives. The layer only calls it; what is kept, filtered or written to disk is the observer's business
// (inspect/stanza-tap.ts is the one the simulator injects). Sessions work the same without one.

export interface ObservedStanza {
  /** The node whose session saw the stanza (the control node's or the agent's name). */
  node: string;
  /** The other end of the session: an agent's JID/name, or the control node's JID. */
  peer: string;
  direction: 'in' | 'out';
  /** The stanza as on the wire, one stanza or stream header per call. */
  raw: string;
}

export interface StanzaObserver {
  /** Called on the session's hot path: keep it cheap and never throw. */
  record(stanza: ObservedStanza): void;
}
