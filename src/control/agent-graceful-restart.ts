// The control node as graceful-restart helper for its XMPP agents (docs/protocol.md §6.7; RFC 4724, RFC
// 9494): when an agent's session drops, its paths stay in the RIB as stale instead of going at once; a new
// session from the same name and address takes them over path by path as the agent re-publishes; what it
// has not re-published by its End-of-RIB (or end-of-rib-timeout) is swept. An agent that stays away past
// the restart time is swept too, or with a long-lived restart time first turned LLGR-stale (the RIB's
// llgrStale attribute: it then loses against every fresh path) and swept when that time is up.
// A GR-stale path keeps its rank: RFC 4724 keeps forwarding on it unchanged, so no ECMP set shrinks while
// an agent restarts. Owns the per-agent bookkeeping (on the shared ../rib/stale-sweep.ts) and the timers;
// not the sessions, the channel rules or path selection.
import { StaleSweep } from '../rib/stale-sweep.ts';
import type { PathInput, Rib } from '../rib/index.ts';

export interface AgentGracefulRestartTiming {
  /** restart-time: how long a dropped agent's paths are kept as stale. */
  restartTimeMs: number;
  /** long-lived-restart-time: then kept as LLGR-stale this long (0: swept at restart time). */
  longLivedRestartTimeMs: number;
  /** end-of-rib-timeout: a returned agent that never sends End-of-RIB is swept this long after it came back. */
  endOfRibTimeoutMs: number;
}

type Phase = 'restarting' | 'long-lived' | 'relearning';

interface AgentState {
  phase: Phase;
  /** The session address the stale paths came from: only a session from it takes them over. */
  address: string;
  timer: NodeJS.Timeout | null;
  since: number;
}

interface Published {
  instance: string;
  input: PathInput;
}

export interface AgentGracefulRestartStatus {
  agent: string;
  phase: Phase;
  address: string;
  stale: number;
  sinceMs: number;
}

const key = (instance: string, prefix: string): string => `${instance}\n${prefix}`;

export class AgentGracefulRestart {
  /** source = agent name; key = instance + prefix; value = what the agent published. */
  private readonly paths = new StaleSweep<string, string, Published>();
  private readonly states = new Map<string, AgentState>();
  readonly counters = { kept: 0, resurrected: 0, swept: 0, llgrStale: 0 };

  constructor(
    private readonly rib: Rib,
    private readonly timing: AgentGracefulRestartTiming,
    private readonly log: (line: string) => void,
  ) {}

  // ---- what the agent's current session says ----

  published(agent: string, instance: string, input: PathInput): void {
    this.paths.refresh(agent, key(instance, input.prefix), { instance, input });
  }

  withdrawn(agent: string, instance: string, prefix: string): void {
    this.paths.withdraw(agent, key(instance, prefix));
  }

  /** The agent left the instance (unsubscribe): nothing of it is kept there. */
  instanceDropped(agent: string, instance: string): void {
    this.paths.deleteWhere(agent, (k) => k.startsWith(`${instance}\n`));
  }

  // ---- sessions ----

  /** The agent's session dropped: keep its paths as stale. False when it had nothing to keep. */
  sessionDown(agent: string, address: string): boolean {
    const stale = this.paths.markStale(agent);
    if (stale.length === 0) return false;
    this.counters.kept += stale.length;
    this.enter(agent, { phase: 'restarting', address, timer: null, since: Date.now() }, this.timing.restartTimeMs, () => this.restartTimeUp(agent));
    this.log(`agent ${agent}: ${stale.length} paths kept as stale for ${this.timing.restartTimeMs} ms (graceful restart helper)`);
    return true;
  }

  /** A session from `agent` came up: from the same address it takes over the stale paths, from another they go now. */
  sessionUp(agent: string, address: string): void {
    const state = this.states.get(agent);
    if (!state) return;
    if (state.address !== address) {
      this.log(`agent ${agent}: back from ${address}, not ${state.address}; its stale paths go now`);
      this.sweep(agent);
      return;
    }
    this.counters.resurrected++;
    this.log(`agent ${agent}: back within its ${state.phase === 'restarting' ? 'restart' : 'long-lived restart'} time; stale paths wait for its End-of-RIB`);
    this.enter(agent, { phase: 'relearning', address, timer: null, since: Date.now() }, this.timing.endOfRibTimeoutMs, () => this.sweep(agent));
  }

  /** The agent's End-of-RIB (docs/protocol.md §3.4): whatever it did not re-publish goes. */
  agentEndOfRib(agent: string): void {
    if (this.states.get(agent)?.phase === 'relearning') this.sweep(agent);
  }

  /** Paths the helper still keeps for this agent (stale and not re-published). */
  staleCount(agent: string): number {
    let n = 0;
    for (const [k] of this.paths.staleEntries(agent)) if (this.paths.isStale(agent, k)) n++;
    return n;
  }

  status(): AgentGracefulRestartStatus[] {
    const now = Date.now();
    return [...this.states].map(([agent, s]) => ({ agent, phase: s.phase, address: s.address, stale: this.staleCount(agent), sinceMs: now - s.since })).sort((a, b) => a.agent.localeCompare(b.agent));
  }

  stop(): void {
    for (const state of this.states.values()) if (state.timer) clearTimeout(state.timer);
    this.states.clear();
  }

  // ---- internals ----

  private enter(agent: string, state: AgentState, ms: number, expire: () => void): void {
    const previous = this.states.get(agent);
    if (previous?.timer) clearTimeout(previous.timer);
    state.timer = setTimeout(expire, ms);
    state.timer.unref();
    this.states.set(agent, state);
  }

  private restartTimeUp(agent: string): void {
    const state = this.states.get(agent);
    if (!state) return;
    if (this.timing.longLivedRestartTimeMs <= 0) {
      this.log(`agent ${agent}: not back within its restart time; stale paths swept`);
      this.sweep(agent);
      return;
    }
    // RFC 9494: the paths stay, marked LLGR-stale, and lose against every fresh path.
    let marked = 0;
    this.rib.batch(() => {
      for (const [k, { instance, input }] of this.paths.staleEntries(agent)) {
        if (!this.paths.isStale(agent, k) || !this.rib.instance(instance)) continue;
        this.rib.addPath(instance, { ...input, attrs: { ...input.attrs, llgrStale: true } });
        marked++;
      }
    });
    this.counters.llgrStale += marked;
    this.log(`agent ${agent}: not back within its restart time; ${marked} paths LLGR-stale for ${this.timing.longLivedRestartTimeMs} ms`);
    this.enter(agent, { ...state, phase: 'long-lived', timer: null }, this.timing.longLivedRestartTimeMs, () => {
      this.log(`agent ${agent}: not back within its long-lived restart time; stale paths swept`);
      this.sweep(agent);
    });
  }

  /** Removes every stale path the agent's current session has not re-published (by RD: a re-published one may carry another). */
  private sweep(agent: string): void {
    const state = this.states.get(agent);
    if (state?.timer) clearTimeout(state.timer);
    this.states.delete(agent);
    const stale = [...this.paths.staleEntries(agent)];
    this.paths.sweep(agent);
    let removed = 0;
    this.rib.batch(() => {
      for (const [k, { instance, input }] of stale) {
        const fresh = this.paths.fresh(agent, k);
        if (fresh && fresh.input.rd === input.rd) continue;
        if (!this.rib.instance(instance)) continue;
        this.rib.removePath(instance, input.prefix, agent, input.rd);
        removed++;
      }
    });
    this.counters.swept += removed;
    if (removed > 0) this.log(`agent ${agent}: swept ${removed} stale paths`);
  }
}
