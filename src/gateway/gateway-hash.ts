/**
 * How an edge router spreads outside flows over the equal-cost paths of one prefix, with no flow table:
 * `stateless` hashes the 5-tuple over the current set (n changes → most flows change path, survivors'
 * flows included); `resilient` hashes into a fixed table of buckets, each naming a path, and a change
 * reassigns only the buckets it must (a new path takes a fair share from the others; a removed path's
 * buckets go to the rest). Owns the hash and the bucket table; not the routes (gateway-fib.ts).
 */
import type { Packet } from '../vrouter/packet.ts';
import { ipv4ToInt } from '../net/ipv4.ts';

export const GATEWAY_HASH_MODES = ['stateless', 'resilient'] as const;
export type GatewayHashMode = (typeof GATEWAY_HASH_MODES)[number];

export const DEFAULT_BUCKETS = 1024;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of the 5-tuple, seeded per router (as edge routers seed theirs). */
export function tupleHash(p: Packet, seed: number): number {
  let h = seed >>> 0;
  for (const word of [ipv4ToInt(p.src), ipv4ToInt(p.dst), p.proto, ((p.sport & 0xffff) << 16) | (p.dport & 0xffff)]) {
    h = fmix((h ^ (word >>> 0)) + 0x9e3779b9);
  }
  return h;
}

/** `stateless`: the member at hash mod n of the members in their stable order. */
export function statelessPick(hash: number, members: readonly string[]): string | undefined {
  return members.length === 0 ? undefined : members[hash % members.length];
}

/**
 * A resilient bucket table for one prefix. `update` moves to a new member set with the fewest bucket
 * changes: surviving members keep every bucket they do not have to give to a newcomer.
 */
export class BucketTable {
  readonly buckets: (string | undefined)[];

  constructor(size = DEFAULT_BUCKETS) {
    if (!Number.isInteger(size) || size < 1 || size > 65536) throw new RangeError(`bucket table size ${size} must be 1..65536`);
    this.buckets = new Array<string | undefined>(size).fill(undefined);
  }

  pick(hash: number): string | undefined {
    return this.buckets[hash % this.buckets.length];
  }

  /** Buckets per member. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const member of this.buckets) if (member !== undefined) counts.set(member, (counts.get(member) ?? 0) + 1);
    return counts;
  }

  /** Changes the set to `members` (stable order); returns how many buckets changed member. */
  update(members: readonly string[]): number {
    const wanted = new Set(members);
    const size = this.buckets.length;
    let changed = 0;
    if (members.length === 0) {
      for (let i = 0; i < size; i++) if (this.buckets[i] !== undefined) (this.buckets[i] = undefined), changed++;
      return changed;
    }
    // fair share: the first (size mod n) members in order get one bucket more
    const target = new Map(members.map((m, i) => [m, Math.floor(size / members.length) + (i < size % members.length ? 1 : 0)]));
    const counts = new Map(members.map((m) => [m, 0]));
    const free: number[] = [];
    for (let i = 0; i < size; i++) {
      const owner = this.buckets[i];
      if (owner === undefined || !wanted.has(owner)) free.push(i);
      else counts.set(owner, (counts.get(owner) as number) + 1);
    }
    // members above their share give up their last buckets (only when a member was added)
    for (let i = size - 1; i >= 0; i--) {
      const owner = this.buckets[i];
      if (owner === undefined || !wanted.has(owner)) continue;
      if ((counts.get(owner) as number) > (target.get(owner) as number)) {
        counts.set(owner, (counts.get(owner) as number) - 1);
        free.push(i);
      }
    }
    free.sort((a, b) => a - b);
    for (const i of free) {
      let best: string | undefined;
      for (const m of members) {
        const deficit = (target.get(m) as number) - (counts.get(m) as number);
        if (deficit > 0 && (best === undefined || deficit > (target.get(best) as number) - (counts.get(best) as number))) best = m;
      }
      best ??= members[0];
      counts.set(best, (counts.get(best) as number) + 1);
      if (this.buckets[i] !== best) changed++;
      this.buckets[i] = best;
    }
    return changed;
  }
}
