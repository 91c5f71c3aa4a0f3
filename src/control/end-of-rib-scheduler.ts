// When the control node sends an agent its End-of-RIB (docs/protocol.md §4.3): once the channel has been
// quiet for a while (real: ~6 s, checked every second), and no later than end-of-rib-timeout after the
// session came up. Owns, besides, the restarting speaker's selection deferral (RFC 4724 §4.1): a control
// node that has just started holds every End-of-RIB back until each agent it expects (the computes
// configured for it) has re-published and sent its own End-of-RIB, or the deferral timer expires. Without
// it the first agent back after a control-node restart gets End-of-RIB while the others are still in
// back-off, sweeps the routes it kept, and its ECMP composites lose members that are alive.
// Not here: encoding or sending the marker (the caller's `send`), what "activity" is (the control node
// reports it), agent channels themselves.

export interface EndOfRibTiming {
  /** Quiet time before End-of-RIB (docs/protocol.md §4.3: about 6 s). */
  quietMs: number;
  /** How often pending channels are looked at (real: every second). */
  checkMs: number;
  /** end-of-rib-timeout: End-of-RIB goes this long after the session came up, quiet or not. */
  timeoutMs: number;
  /** Selection deferral: how long a starting control node waits for the agents it expects. */
  deferralMs: number;
}

export const DEFAULT_END_OF_RIB_TIMING: EndOfRibTiming = { quietMs: 6_000, checkMs: 1_000, timeoutMs: 300_000, deferralMs: 30_000 };

interface Pending {
  readonly since: number;
  lastActivity: number;
}

export interface EndOfRibSchedulerOptions<C> {
  timing: EndOfRibTiming;
  /** Names of the agents a starting control node waits for; empty = no deferral. */
  expectedAgents: readonly string[];
  /** Sends the marker; false = not now (e.g. routes still held for a full socket), try at the next check. */
  send(channel: C): boolean;
  /** The groups (routing instances) a channel is in: activity on a group restarts their quiet time. */
  groupsOf?(channel: C): Iterable<string>;
  log(line: string): void;
  now?: () => number;
}

export interface EndOfRibStatus {
  /** The selection deferral is still in force. */
  deferring: boolean;
  /** Expected agents that have not sent End-of-RIB yet (while deferring). */
  waitingFor: string[];
  /** Channels whose End-of-RIB is still to come. */
  pending: number;
}

export class EndOfRibScheduler<C extends { readonly name: string }> {
  private readonly pending = new Map<C, Pending>();
  private readonly ready = new Set<string>();
  /**
   * When each group last saw activity. Recording it per group rather than per channel keeps a route
   * change O(1) however many channels wait in its instance (a thousand agents of one VRF made it
   * O(agents) per route); the check takes a channel's latest group time as its own activity.
   */
  private readonly groupActivityAt = new Map<string, number>();
  private readonly expected: ReadonlySet<string>;
  private readonly now: () => number;
  private deferralDeadline: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: EndOfRibSchedulerOptions<C>) {
    this.expected = new Set(options.expectedAgents);
    this.now = options.now ?? Date.now;
  }

  /** The control node has started: the selection deferral begins (when it expects anyone). */
  start(): void {
    if (this.expected.size === 0) return;
    this.deferralDeadline = this.now() + this.options.timing.deferralMs;
    this.options.log(`End-of-RIB deferred until the ${this.expected.size} expected agents have sent theirs (at most ${this.options.timing.deferralMs} ms)`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  get deferring(): boolean {
    return this.deferralDeadline !== null;
  }

  /** Something was sent to the channel (a table walk, a reflected route): its quiet time starts again. */
  activity(channel: C): void {
    const now = this.now();
    const entry = this.pending.get(channel);
    if (entry) entry.lastActivity = now;
    else this.pending.set(channel, { since: now, lastActivity: now });
    this.ensureTimer();
  }

  /**
   * Activity in a group (a route of a routing instance changed): every pending channel in the group
   * (options.groupsOf) restarts its quiet time, as if activity() had been called for each.
   */
  groupActivity(group: string): void {
    if (this.pending.size === 0) return;
    this.groupActivityAt.set(group, this.now());
  }

  /** Channels whose End-of-RIB is still to come. */
  waiting(): IterableIterator<C> {
    return this.pending.keys();
  }

  /** The channel's session ended; nothing more is sent on it. */
  forget(channel: C): void {
    this.pending.delete(channel);
  }

  /** The agent sent its End-of-RIB (docs/protocol.md §3.4): its paths are all in. */
  agentEndOfRib(name: string): void {
    this.ready.add(name);
    if (this.deferralDeadline === null) return;
    if ([...this.expected].every((agent) => this.ready.has(agent))) {
      this.endDeferral('every expected agent has sent End-of-RIB');
    }
  }

  status(): EndOfRibStatus {
    return {
      deferring: this.deferring,
      waitingFor: this.deferring ? [...this.expected].filter((a) => !this.ready.has(a)).sort() : [],
      pending: this.pending.size,
    };
  }

  /** The channel's own last activity or its groups' latest, whichever is later (folded into the entry). */
  private lastActivity(channel: C, entry: Pending): number {
    if (this.groupActivityAt.size === 0 || this.options.groupsOf === undefined) return entry.lastActivity;
    for (const group of this.options.groupsOf(channel)) {
      const at = this.groupActivityAt.get(group);
      if (at !== undefined && at > entry.lastActivity) entry.lastActivity = at;
    }
    return entry.lastActivity;
  }

  private endDeferral(why: string): void {
    this.deferralDeadline = null;
    this.options.log(`End-of-RIB deferral over: ${why}`);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.options.timing.checkMs);
    this.timer.unref();
  }

  private check(): void {
    const now = this.now();
    const { quietMs, timeoutMs } = this.options.timing;
    if (this.deferralDeadline !== null && now >= this.deferralDeadline) {
      const missing = [...this.expected].filter((a) => !this.ready.has(a)).sort();
      this.endDeferral(`timer expired; no End-of-RIB from ${missing.join(', ')}`);
    }
    for (const [channel, entry] of [...this.pending]) {
      const timedOut = now - entry.since >= timeoutMs;
      if (this.deferring && !timedOut) continue;
      if (!timedOut && now - this.lastActivity(channel, entry) < quietMs) continue;
      if (this.options.send(channel)) this.pending.delete(channel);
    }
    if (this.pending.size === 0) {
      // A channel that becomes pending later starts its quiet time then: older group times cannot count.
      this.groupActivityAt.clear();
      if (this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }
  }
}
