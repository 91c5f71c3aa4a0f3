// Maglev consistent-hash lookup table (Eisenbud et al., NSDI 2016) over the active slots of a composite:
// an optional placement rule for new flows that moves about 1/N of placements when N changes.

/** Smallest prime >= n. */
export function nextPrime(n: number): number {
  let candidate = Math.max(2, Math.ceil(n));
  for (;;) {
    let prime = true;
    for (let d = 2; d * d <= candidate; d++) {
      if (candidate % d === 0) { prime = false; break; }
    }
    if (prime) return candidate;
    candidate++;
  }
}

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche so that keys differing in one character spread over the whole range
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The paper's floor: a table smaller than 100 entries per member is refused (shares drift apart). */
export const MAGLEV_ENTRIES_PER_MEMBER = 100;

/**
 * Table sizes to choose from (primes, each about twice the one before, the list Cilium uses). A fixed list
 * rather than nextPrime(k x N) so that the size changes only when N crosses a step, not on every change.
 */
export const MAGLEV_TABLE_SIZES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

/**
 * Entries per member the chosen size must reach. Measured (test/vrouter/maglev.test.ts): the share of
 * placements that move when one member joins exceeds the ideal 1/(N+1) by roughly N/M, so the paper's
 * floor of 100 x N moves ~2.3 % at N = 100 (target 1/N + 1 % = 2 %) and 250 x N still misses it at some
 * N; 500 x N keeps every N up to 128 within 1/N + 1 % (1.56 % at N = 100, on 65521 entries: 128 KiB,
 * ~4 ms to build).
 */
export const MAGLEV_TARGET_ENTRIES_PER_MEMBER = 500;

/**
 * Table size for `members` active members: the smallest listed prime >= 500 x N. `current`, the size of
 * the table being replaced, is kept while it still holds >= 500 x N entries and is at most 4x that:
 * a change of size moves nearly every new-flow placement, so scale-in does not shrink the table at each
 * step and a member flapping at a step boundary does not reshuffle twice. Growth across a step (N = 2, 3,
 * 5, 9, 17, 33, 66) rebuilds at the larger size once; existing flows keep their slot (the flow table).
 */
export function maglevTableSize(members: number, current?: number): number {
  const want = MAGLEV_TARGET_ENTRIES_PER_MEMBER * Math.max(1, members);
  if (current !== undefined && current >= want && current <= 4 * want && MAGLEV_TABLE_SIZES.includes(current)) return current;
  const size = MAGLEV_TABLE_SIZES.find((p) => p >= want);
  if (size === undefined) throw new RangeError(`Maglev: no table size for ${members} members (at most ${Math.floor(MAGLEV_TABLE_SIZES[MAGLEV_TABLE_SIZES.length - 1] / MAGLEV_TARGET_ENTRIES_PER_MEMBER)})`);
  return size;
}

/**
 * Table of slot indexes. `members` are the active slots (slot index and the member's stable key).
 * Empty when there are no members. `size` defaults to maglevTableSize(N).
 */
export function buildMaglevTable(members: readonly { slot: number; key: string }[], size: number = maglevTableSize(members.length)): Int16Array {
  const n = members.length;
  if (n === 0) return new Int16Array(0);
  if (size < MAGLEV_ENTRIES_PER_MEMBER * n || nextPrime(size) !== size) {
    throw new RangeError(`Maglev table size ${size} must be a prime >= ${MAGLEV_ENTRIES_PER_MEMBER} x ${n} members`);
  }
  const offset = new Uint32Array(n);
  const skip = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    offset[i] = fnv1a(members[i].key, 0x5bd1e995) % size;
    skip[i] = (fnv1a(members[i].key, 0x27d4eb2f) % (size - 1)) + 1;
  }
  const table = new Int16Array(size).fill(-1);
  const next = new Uint32Array(n);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < n && filled < size; i++) {
      let c = (offset[i] + next[i] * skip[i]) % size;
      while (table[c] >= 0) {
        next[i]++;
        c = (offset[i] + next[i] * skip[i]) % size;
      }
      table[c] = members[i].slot;
      next[i]++;
      filled++;
    }
  }
  return table;
}
