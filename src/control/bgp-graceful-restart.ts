// The BGP graceful restart helper of a control node (docs/protocol.md §6.7; RFC 4724 §4.2, RFC 9494 §4.3):
// when a GR-capable peer's session drops, its paths stay in the RIB, stale, while the peer restarts; they
// are swept when its new session sends End-of-RIB, when the restart time runs out without a new session,
// or when a returning peer no longer promises its forwarding state. With LLGR, paths left after the restart
// time become LLGR-stale (they lose against any fresh path) and go after the long-lived stale time.
// Owns the timers and the per-peer phase; the marks and the sweep are the RIB's (../rib/peer-stale-marks.ts),
// the capabilities and which families survive a session's end are ../bgp's.
import type { PeerGracefulRestart } from '../bgp/graceful-restart-capability.ts';
import type { FamilyName } from '../bgp/families.ts';
import type { Rib } from '../rib/index.ts';

/** Our side of graceful restart, seconds (Contrail's graceful-restart-parameters). */
export interface GracefulRestartSettings {
  /** What we advertise as our restart time. */
  restartTime: number;
  /** What we advertise as our long-lived stale time, and the most we keep a peer's paths LLGR-stale; 0 = no LLGR. */
  longLivedRestartTime: number;
  /** How long a returning peer has to send End-of-RIB before what it did not announce again is swept. */
  endOfRibTimeout: number;
}

/** Where a peer is in the helper's eyes. */
export type RestartPhase = 'restarting' | 'long-lived' | 'awaiting-end-of-rib';

export interface PeerRestartStatus {
  phase: RestartPhase;
  /** When the current phase's timer runs out. */
  until: Date;
  stalePaths: number;
  staleMemberships: number;
}

interface PeerRestart {
  phase: RestartPhase;
  timer: NodeJS.Timeout;
  until: number;
  gr: PeerGracefulRestart;
  /** Families whose stale state is still waiting for the returning peer's End-of-RIB. */
  awaiting: Set<FamilyName>;
}

/** What a family's sweep removes in the RIB: VPN paths or RT memberships. */
function sweepTarget(family: FamilyName): 'paths' | 'memberships' | undefined {
  return family === 'inet-vpn' ? 'paths' : family === 'route-target' ? 'memberships' : undefined;
}

export class BgpRestartHelper {
  private readonly peers = new Map<string, PeerRestart>();

  constructor(
    private readonly rib: Rib,
    private readonly settings: GracefulRestartSettings,
    private readonly log: (line: string) => void,
  ) {}

  /** The peer's session dropped and GR covers it: keep what it brought, stale, for its restart time. */
  sessionLost(name: string, gr: PeerGracefulRestart): void {
    this.clear(name);
    const kept = this.rib.markPeerStale(name);
    // Families the peer did not list were withdrawn by the session already; what is left of those is nothing.
    this.log(`BGP: ${name} restarting: keeping ${kept} path(s) stale for ${gr.restartTime} s (families ${gr.families.join(' ') || 'none'})`);
    this.enter(name, gr, 'restarting', gr.restartTime, new Set(gr.families));
  }

  /** The session ended in a way GR does not cover (or GR was not negotiated): everything the peer brought goes now. */
  sessionDown(name: string): void {
    this.clear(name);
    this.rib.removePeer(name);
  }

  /** Whether the helper holds the peer's paths (its session's end must not remove them). */
  isHelping(name: string): boolean {
    return this.peers.has(name);
  }

  /**
   * A new session with a peer we are helping: the restart timer stops; families the new OPEN does not cover
   * with its forwarding-state bit are swept now (RFC 4724 §4.2), the others wait for End-of-RIB.
   */
  sessionUp(name: string, gr: PeerGracefulRestart | undefined): void {
    const state = this.peers.get(name);
    if (!state) return;
    clearTimeout(state.timer);
    const awaiting = new Set<FamilyName>();
    for (const family of state.awaiting) {
      if (gr?.forwarding.includes(family)) awaiting.add(family);
      else this.sweep(name, family, 'its new session does not keep forwarding state for it');
    }
    this.peers.delete(name);
    if (awaiting.size === 0) {
      this.sweepAll(name);
      return;
    }
    this.enter(name, state.gr, 'awaiting-end-of-rib', this.settings.endOfRibTimeout, awaiting);
  }

  /** End-of-RIB from a returning peer: what it did not announce again in that family goes. */
  endOfRib(name: string, family: FamilyName): void {
    const state = this.peers.get(name);
    if (!state || state.phase !== 'awaiting-end-of-rib' || !state.awaiting.delete(family)) return;
    this.sweep(name, family, 'End-of-RIB');
    if (state.awaiting.size === 0) this.clear(name);
  }

  status(name: string): PeerRestartStatus | undefined {
    const state = this.peers.get(name);
    if (!state) return undefined;
    const counts = this.rib.staleCounts(name);
    return { phase: state.phase, until: new Date(state.until), stalePaths: counts.paths, staleMemberships: counts.memberships };
  }

  /** Stops every timer (the node stops; its RIB goes with it). */
  stop(): void {
    for (const state of this.peers.values()) clearTimeout(state.timer);
    this.peers.clear();
  }

  private enter(name: string, gr: PeerGracefulRestart, phase: RestartPhase, seconds: number, awaiting: Set<FamilyName>): void {
    const timer = setTimeout(() => this.expired(name), seconds * 1000);
    timer.unref();
    this.peers.set(name, { phase, timer, until: Date.now() + seconds * 1000, gr, awaiting });
  }

  private expired(name: string): void {
    const state = this.peers.get(name);
    if (!state) return;
    this.peers.delete(name);
    if (state.phase === 'restarting') {
      // RFC 9494 §4.3: the families the peer offered LLGR for (and we accept it for) become LLGR-stale.
      const longLived = this.settings.longLivedRestartTime > 0 ? state.gr.longLived['inet-vpn'] : undefined;
      if (longLived !== undefined && state.awaiting.has('inet-vpn')) {
        const seconds = Math.min(longLived, this.settings.longLivedRestartTime);
        for (const family of state.awaiting) if (family !== 'inet-vpn') this.sweep(name, family, 'restart time expired');
        this.rib.markPeerLlgrStale(name);
        this.log(`BGP: ${name} did not return within ${state.gr.restartTime} s: its paths are LLGR-stale for ${seconds} s`);
        this.enter(name, state.gr, 'long-lived', seconds, new Set(['inet-vpn']));
        return;
      }
      this.log(`BGP: ${name} did not return within ${state.gr.restartTime} s: sweeping its stale paths`);
    } else if (state.phase === 'long-lived') {
      this.log(`BGP: ${name} did not return within its long-lived stale time: sweeping its paths`);
    } else {
      this.log(`BGP: no End-of-RIB from ${name} within ${this.settings.endOfRibTimeout} s: sweeping what it did not announce again`);
    }
    this.sweepAll(name);
  }

  private sweep(name: string, family: FamilyName, why: string): void {
    const target = sweepTarget(family);
    if (target === undefined) return;
    const before = this.rib.staleCounts(name);
    this.rib.sweepStale(name, target);
    const swept = target === 'paths' ? before.paths : before.memberships;
    if (swept > 0) this.log(`BGP: ${name}: swept ${swept} stale ${target === 'paths' ? 'path(s)' : 'RT membership(s)'} (${family}, ${why})`);
  }

  private sweepAll(name: string): void {
    this.rib.sweepStale(name, 'all');
  }

  private clear(name: string): void {
    const state = this.peers.get(name);
    if (state) clearTimeout(state.timer);
    this.peers.delete(name);
  }
}
