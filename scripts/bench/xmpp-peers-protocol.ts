// The messages between the XMPP benchmark (./xmpp-fanout.ts, which hosts the control node) and its peer
// process (./xmpp-peers.ts, which hosts the light publishers and the real agents). Times are
// process.hrtime.bigint() values: CLOCK_MONOTONIC, the same clock in both processes on Linux.

export interface Endpoint {
  host: string;
  port: number;
}

export type PeerCommand =
  | { type: 'light-up'; count: number; server: Endpoint }
  /** Client i subscribes to instances[i % instances.length]; instance ids start at 1. */
  | { type: 'subscribe'; instances: string[]; noRibout: boolean }
  /** Encodes routesPerClient routes per client into its instance (no sending yet). */
  | { type: 'prepare'; instances: string[]; routesPerClient: number; firstOctet: number; virtualNetwork: string }
  | { type: 'publish' }
  /** Resolves when client i holds `expected` distinct items of instances[i % instances.length]. */
  | { type: 'watch'; instances: string[]; expected: number; timeoutMs: number }
  | { type: 'light-down' }
  /** Starts real agents; their FIB updates of `watch` are recorded from the start (for agents-settled). */
  | { type: 'agents-up'; count: number; server: Endpoint; batch: number; watch: { instance: string; prefix: string } }
  /**
   * Light subscribers standing in for agents beyond the real ones: peers first..first+count-1 subscribe
   * to `instance` and publish one /32 each, like an agent with one VM; they are timed with the agents.
   */
  | { type: 'light-subscribers'; first: number; count: number; server: Endpoint; instance: string; virtualNetwork: string }
  /** Waits until every agent's FIB holds `prefix` in `instance` with `members` next hops. */
  | { type: 'agents-settled'; instance: string; prefix: string; members: number; timeoutMs: number }
  /** Starts recording each agent's next FIB update of `prefix`. */
  | { type: 'arm'; instance: string; prefix: string }
  /** Reports the recorded updates once every agent has one (or at the timeout). */
  | { type: 'collect'; timeoutMs: number }
  | { type: 'agents-down' }
  | { type: 'exit' };

export interface ReceiveStats {
  bytesIn: number;
  itemsIn: number;
  retractsIn: number;
}

export type PeerReply =
  | { type: 'light-ready'; connected: number }
  | { type: 'subscribed' }
  | { type: 'prepared'; bytes: number; routes: number }
  | { type: 'published'; firstWriteAt: bigint; lastWriteAt: bigint }
  | { type: 'delivered'; doneAt: (bigint | null)[]; stats: ReceiveStats; closed: string[] }
  | { type: 'light-closed' }
  | { type: 'agents-started'; established: number; at: bigint }
  | { type: 'light-subscribed'; connected: number }
  | { type: 'agents-settled'; settled: number; at: bigint; unsettled: string[] }
  | { type: 'armed' }
  /** Real agents first (FIB programmed), then light subscribers (item received). */
  | { type: 'collected'; updatedAt: (bigint | null)[]; members: (number | null)[]; real: number }
  | { type: 'agents-closed' }
  | { type: 'error'; message: string };
