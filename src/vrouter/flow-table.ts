// Bounded flow table in typed arrays: open addressing with linear probing over interleaved keys (a hit
// usually costs one cache line), forward/reverse entries linked as pairs. No per-flow objects, so 1M
// entries stay under 100 bytes each. The arrays start small and double up to the bound, so that
// thousands of simulated computes do not each reserve a full 512K-entry table.

export const DEFAULT_FLOW_TABLE_SIZE = 512 * 1024;

export const FLAG_USED = 1;
export const FLAG_REVERSE = 2;
export const FLAG_DNAT = 4;
export const FLAG_SNAT = 8;
export const FLAG_ECMP = 16;

export const NO_SLOT = 255;

/** Highest share of slots in use when the table holds `capacity` entries: keeps probe runs short. */
const MAX_LOAD = 0.7;
const TWO32 = 4294967296;
/** 64 slots (under 4 kB): at thousands of computes most flow tables stay empty (docs/architecture.md, "Scale"). */
const INITIAL_SLOTS = 64;

/** Key word 0: VRF id (23 bits), stage (1 bit: 0 = leaving a workload, 1 = towards a workload), protocol. */
export function keyWord0(vrfId: number, stage: 0 | 1, proto: number): number {
  return ((vrfId << 9) | (stage << 8) | proto) >>> 0;
}

export function keyWord3(sport: number, dport: number): number {
  return ((sport << 16) | dport) >>> 0;
}

function keyHash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ k1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ k2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ k3, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class FlowTable {
  /** most entries the table accepts (a connection takes two) */
  readonly capacity: number;
  /** number of slots now; entry indexes are slot indexes and change when an entry is removed or the table grows */
  slotCount: number;
  /** slots at full size */
  private readonly maxSlots: number;
  private used = 0;
  private sweepCursor = 0;

  // Every column is (re)created by allocate().
  /** key words of slot i at 4i..4i+3, interleaved so that a probe touches one cache line */
  keys!: Uint32Array;
  flags!: Uint8Array;
  /** composite slot of an ECMP forward flow, NO_SLOT otherwise */
  slot!: Uint8Array;
  /** hash field mask the flow was hashed with (re-hash after a member leaves) */
  hashMask!: Uint8Array;
  /** forward flow: route id; towards-workload flow: interface id; -1 = look the route up again */
  target!: Int32Array;
  /** VRF id in which a reverse (SNAT) flow routes its translated packet */
  routeVrf!: Uint32Array;
  natIp!: Uint32Array;
  natPort!: Uint16Array;
  partner!: Int32Array;
  packets!: Uint32Array;
  bytes!: Float64Array;
  lastSeen!: Float64Array;

  /** `preallocate` reserves the full-size arrays at once, as the kernel vRouter does (no growth pauses). */
  constructor(capacity: number = DEFAULT_FLOW_TABLE_SIZE, o: { preallocate?: boolean } = {}) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 26) {
      throw new RangeError(`flow table size ${capacity} must be an integer in 2..${1 << 26}`);
    }
    this.capacity = capacity;
    this.maxSlots = Math.ceil(capacity / MAX_LOAD) + 1;
    const n = o.preallocate === true ? this.maxSlots : Math.min(this.maxSlots, INITIAL_SLOTS);
    this.slotCount = n;
    this.allocate(n);
  }

  /** Fresh, empty columns for `n` slots. */
  private allocate(n: number): void {
    this.keys = new Uint32Array(n * 4);
    this.flags = new Uint8Array(n);
    this.slot = new Uint8Array(n).fill(NO_SLOT);
    this.hashMask = new Uint8Array(n);
    this.target = new Int32Array(n);
    this.routeVrf = new Uint32Array(n);
    this.natIp = new Uint32Array(n);
    this.natPort = new Uint16Array(n);
    this.partner = new Int32Array(n).fill(-1);
    this.packets = new Uint32Array(n);
    this.bytes = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
  }

  /** Doubles the slots (up to the bound) and re-inserts every entry. */
  private grow(): void {
    const old = {
      n: this.slotCount, keys: this.keys, flags: this.flags, slot: this.slot, hashMask: this.hashMask, target: this.target,
      routeVrf: this.routeVrf, natIp: this.natIp, natPort: this.natPort, partner: this.partner, packets: this.packets,
      bytes: this.bytes, lastSeen: this.lastSeen,
    };
    const n = Math.min(this.maxSlots, old.n * 2);
    this.slotCount = n;
    this.allocate(n);
    this.sweepCursor = 0;
    const moved = new Int32Array(old.n).fill(-1);
    for (let i = 0; i < old.n; i++) {
      if (old.flags[i] === 0) continue;
      const at = i << 2;
      const k0 = old.keys[at], k1 = old.keys[at + 1], k2 = old.keys[at + 2], k3 = old.keys[at + 3];
      let j = this.home(k0, k1, k2, k3);
      while (this.flags[j] !== 0) j = j + 1 === n ? 0 : j + 1;
      const to = j << 2;
      this.keys[to] = k0; this.keys[to + 1] = k1; this.keys[to + 2] = k2; this.keys[to + 3] = k3;
      this.flags[j] = old.flags[i];
      this.slot[j] = old.slot[i];
      this.hashMask[j] = old.hashMask[i];
      this.target[j] = old.target[i];
      this.routeVrf[j] = old.routeVrf[i];
      this.natIp[j] = old.natIp[i];
      this.natPort[j] = old.natPort[i];
      this.packets[j] = old.packets[i];
      this.bytes[j] = old.bytes[i];
      this.lastSeen[j] = old.lastSeen[i];
      moved[i] = j;
    }
    for (let i = 0; i < old.n; i++) {
      if (moved[i] >= 0 && old.partner[i] >= 0) this.partner[moved[i]] = moved[old.partner[i]];
    }
  }

  get size(): number { return this.used; }
  get free(): number { return this.capacity - this.used; }

  /** First slot probed for a key (multiply-shift range reduction, no modulo). */
  private home(k0: number, k1: number, k2: number, k3: number): number {
    return Math.floor((keyHash(k0, k1, k2, k3) * this.slotCount) / TWO32);
  }

  /** Entry index for the key, or -1. */
  lookup(k0: number, k1: number, k2: number, k3: number): number {
    const keys = this.keys;
    const flags = this.flags;
    const n = this.slotCount;
    let i = this.home(k0, k1, k2, k3);
    for (;;) {
      if (flags[i] === 0) return -1;
      const at = i << 2;
      if (keys[at + 3] === k3 && keys[at + 1] === k1 && keys[at + 2] === k2 && keys[at] === k0) return i;
      i = i + 1 === n ? 0 : i + 1;
    }
  }

  /**
   * Inserts a forward entry and its reverse, linked as partners; returns the forward index, or -1 when
   * fewer than two entries are free. The caller has checked that neither key is present.
   */
  insertPair(
    f0: number, f1: number, f2: number, f3: number,
    r0: number, r1: number, r2: number, r3: number, now: number,
  ): number {
    if (this.capacity - this.used < 2) return -1;
    if (this.used + 2 > this.slotCount * MAX_LOAD && this.slotCount < this.maxSlots) this.grow();
    const fwd = this.insertOne(f0, f1, f2, f3, now);
    const rev = this.insertOne(r0, r1, r2, r3, now);
    this.flags[rev] |= FLAG_REVERSE;
    this.partner[fwd] = rev;
    this.partner[rev] = fwd;
    return fwd;
  }

  private insertOne(k0: number, k1: number, k2: number, k3: number, now: number): number {
    const n = this.slotCount;
    let i = this.home(k0, k1, k2, k3);
    while (this.flags[i] !== 0) i = i + 1 === n ? 0 : i + 1;
    const at = i << 2;
    this.keys[at] = k0; this.keys[at + 1] = k1; this.keys[at + 2] = k2; this.keys[at + 3] = k3;
    this.flags[i] = FLAG_USED;
    this.slot[i] = NO_SLOT;
    this.hashMask[i] = 0;
    this.target[i] = -1;
    this.routeVrf[i] = 0;
    this.natIp[i] = 0;
    this.natPort[i] = 0;
    this.partner[i] = -1;
    this.packets[i] = 0;
    this.bytes[i] = 0;
    this.lastSeen[i] = now;
    this.used++;
    return i;
  }

  /** Removes an entry and its partner. Other entries may move to fill the gap (backward shift). */
  removePair(i: number): void {
    const p = this.partner[i];
    if (p < 0) { this.removeOne(i); return; }
    const at = p << 2;
    const k0 = this.keys[at], k1 = this.keys[at + 1], k2 = this.keys[at + 2], k3 = this.keys[at + 3];
    // unlink first: shifting must not rewrite a partner pointer through a slot that is being reused
    this.partner[p] = -1;
    this.partner[i] = -1;
    this.removeOne(i);
    const moved = this.lookup(k0, k1, k2, k3);
    if (moved >= 0) this.removeOne(moved);
  }

  private removeOne(i: number): void {
    const n = this.slotCount;
    const keys = this.keys;
    let hole = i;
    let j = i;
    for (;;) {
      j = j + 1 === n ? 0 : j + 1;
      if (this.flags[j] === 0) break;
      const at = j << 2;
      const home = this.home(keys[at], keys[at + 1], keys[at + 2], keys[at + 3]);
      // j may fill the hole only if its home is not cyclically inside (hole, j]
      const inside = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inside) continue;
      this.moveEntry(j, hole);
      hole = j;
    }
    this.flags[hole] = 0;
    this.partner[hole] = -1;
    this.used--;
  }

  private moveEntry(from: number, to: number): void {
    const f = from << 2;
    const t = to << 2;
    this.keys[t] = this.keys[f]; this.keys[t + 1] = this.keys[f + 1]; this.keys[t + 2] = this.keys[f + 2]; this.keys[t + 3] = this.keys[f + 3];
    this.flags[to] = this.flags[from];
    this.slot[to] = this.slot[from];
    this.hashMask[to] = this.hashMask[from];
    this.target[to] = this.target[from];
    this.routeVrf[to] = this.routeVrf[from];
    this.natIp[to] = this.natIp[from];
    this.natPort[to] = this.natPort[from];
    this.packets[to] = this.packets[from];
    this.bytes[to] = this.bytes[from];
    this.lastSeen[to] = this.lastSeen[from];
    const p = this.partner[from];
    this.partner[to] = p;
    if (p >= 0) this.partner[p] = to;
  }

  isUsed(i: number): boolean { return (this.flags[i] & FLAG_USED) !== 0; }

  key(i: number, word: 0 | 1 | 2 | 3): number { return this.keys[(i << 2) + word]; }

  /** Marks an entry and its partner as seen now. */
  touch(i: number, now: number): void {
    this.lastSeen[i] = now;
    const p = this.partner[i];
    if (p >= 0) this.lastSeen[p] = now;
  }

  /** Pairs idle longer than agingMs, judged by the most recent of the two entries. */
  isExpired(i: number, now: number, agingMs: number): boolean {
    const p = this.partner[i];
    const seen = p >= 0 && this.lastSeen[p] > this.lastSeen[i] ? this.lastSeen[p] : this.lastSeen[i];
    return now - seen > agingMs;
  }

  /** Removes every pair whose forward entry matches; returns how many pairs were removed. */
  removeWhere(matches: (forwardIndex: number) => boolean): number {
    const doomed: number[] = [];
    for (let i = 0; i < this.slotCount; i++) {
      if ((this.flags[i] & (FLAG_USED | FLAG_REVERSE)) === FLAG_USED && matches(i)) {
        const at = i << 2;
        doomed.push(this.keys[at], this.keys[at + 1], this.keys[at + 2], this.keys[at + 3]);
      }
    }
    // removal shifts entries, so find each one again by key
    for (let d = 0; d < doomed.length; d += 4) {
      const i = this.lookup(doomed[d], doomed[d + 1], doomed[d + 2], doomed[d + 3]);
      if (i >= 0) this.removePair(i);
    }
    return doomed.length / 4;
  }

  /**
   * Ages out idle pairs from a rotating cursor, examining up to `budget` slots; returns pairs removed.
   * An entry shifted backwards past the cursor waits for the next round.
   */
  sweep(now: number, agingMs: number, budget: number = this.slotCount): number {
    if (budget >= this.slotCount) return this.removeWhere((i) => this.isExpired(i, now, agingMs));
    let removed = 0;
    for (let step = 0; step < budget; step++) {
      const i = this.sweepCursor;
      if ((this.flags[i] & (FLAG_USED | FLAG_REVERSE)) === FLAG_USED && this.isExpired(i, now, agingMs)) {
        this.removePair(i);
        removed++;
        if (this.flags[i] !== 0) continue; // something shifted into i: examine it next
      }
      this.sweepCursor = i + 1 === this.slotCount ? 0 : i + 1;
    }
    return removed;
  }

  /** Bytes the arrays will hold once grown to the bound. */
  fullSizeBytes(): number {
    return Math.round((this.memoryBytes() / this.slotCount) * this.maxSlots);
  }

  /** Bytes held by the table's arrays now. */
  memoryBytes(): number {
    const arrays = [this.keys, this.flags, this.slot, this.hashMask, this.target, this.routeVrf, this.natIp,
      this.natPort, this.partner, this.packets, this.bytes, this.lastSeen];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }
}
