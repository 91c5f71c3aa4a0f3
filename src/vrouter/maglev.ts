// Maglev consistent-hash lookup table (Eisenbud et al., NSDI 2016) over the active slots of a composite:
// an optional placement rule for new flows that moves about 1/N of placements when N changes.
import { MAX_ECMP_MEMBERS } from '../net/ecmp.ts';

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

export const MAGLEV_ENTRIES_PER_MEMBER = 100;
/**
 * One size for every table (12809): >= 100 entries per member up to the 128-member maximum, and fixed so
 * that hash % size keeps its meaning when members change; a size that followed N would reshuffle everything.
 */
export const MAGLEV_TABLE_SIZE = nextPrime(MAGLEV_ENTRIES_PER_MEMBER * MAX_ECMP_MEMBERS);

/**
 * Table of slot indexes. `members` are the active slots (slot index and the member's stable key).
 * Empty when there are no members.
 */
export function buildMaglevTable(members: readonly { slot: number; key: string }[], size: number = MAGLEV_TABLE_SIZE): Int16Array {
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
