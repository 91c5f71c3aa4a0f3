// A control node that starts with graceful restart on may be coming back from a restart its BGP peers are
// helping with (docs/protocol.md §6.7; RFC 4724 §4.1): its table is not whole until its agents have
// reconnected and re-published, and an early End-of-RIB would make the peers sweep those agents' routes.
// So End-of-RIB to BGP peers waits until every agent the topology expects on this node has a session that
// got its own End-of-RIB (it went quiet after publishing), or until end-of-rib-timeout. Routes themselves
// are not held back. Owns the wait only; the peers hold and send the markers (../bgp/peer.ts).
import type { BgpSpeaker } from '../bgp/speaker.ts';
import type { ControlNode } from './control-node.ts';

/** Contrail checks its End-of-RIB conditions once a second. */
const CHECK_MS = 1000;

export class EndOfRibDeferral {
  private check: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly control: ControlNode,
    private readonly speaker: BgpSpeaker,
    private readonly expectedAgents: readonly string[],
    private readonly timeoutSeconds: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Holds End-of-RIB from now on, unless no agent is expected. */
  start(): void {
    if (this.expectedAgents.length === 0) return;
    this.speaker.holdEndOfRib();
    this.log(`BGP: End-of-RIB to peers waits for ${this.expectedAgents.length} agent(s) (at most ${this.timeoutSeconds} s)`);
    this.check = setInterval(() => {
      if (this.missingAgents().length === 0) this.release('every expected agent is back');
    }, CHECK_MS);
    this.check.unref();
    this.deadline = setTimeout(() => this.release(`end-of-rib-timeout, still missing ${this.missingAgents().join(' ')}`), this.timeoutSeconds * 1000);
    this.deadline.unref();
  }

  get holding(): boolean {
    return this.check !== undefined;
  }

  stop(): void {
    clearInterval(this.check);
    clearTimeout(this.deadline);
    this.check = undefined;
    this.deadline = undefined;
  }

  private missingAgents(): string[] {
    const done = new Set(this.control.agentChannels().filter((c) => c.endOfRibSent).map((c) => c.name));
    return this.expectedAgents.filter((name) => !done.has(name));
  }

  private release(why: string): void {
    if (!this.holding) return;
    this.stop();
    this.speaker.releaseEndOfRib();
    this.log(`BGP: End-of-RIB to peers sent after ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s: ${why}`);
  }
}
