// What one vRouter counts (flows, packets, drops with a short log of the latest, rejected configuration)
// and the result every configuration call returns. Owns the tallies only: the `counters()` view built from
// them is in views.ts, and the code paths that count are in forwarding.ts and composite-nh.ts.
import type { DropReason } from './packet.ts';

export type ChangeResult = { ok: true; warnings: string[] } | { ok: false; error: string };

const RECENT_DROPS = 32;

export class VrouterTallies {
  created = 0;
  aged = 0;
  rehashed = 0;
  fromWorkloads = 0;
  fromFabric = 0;
  tunnelled = 0;
  delivered = 0;
  dropped = 0;
  rejectedUpdates = 0;
  ignoredNextHops = 0;
  lastRejection: string | null = null;
  readonly drops = new Map<DropReason, number>();
  readonly recentDrops: { reason: DropReason; detail: string }[] = [];

  countDrop(reason: DropReason, detail: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.dropped++;
    this.recentDrops.push({ reason, detail });
    if (this.recentDrops.length > RECENT_DROPS) this.recentDrops.shift();
  }

  /** A refused configuration change: counted and remembered, then returned to the caller. */
  reject(error: string): ChangeResult {
    this.rejectedUpdates++;
    this.lastRejection = error;
    return { ok: false, error };
  }
}
