// Bounded flow table in typed arrays: entries keyed by four 32-bit words, chained hash buckets, a free
// list, forward/reverse entries linked as pairs. No per-flow objects, so 1M entries stay ~60 bytes each.

export const DEFAULT_FLOW_TABLE_SIZE = 512 * 1024;

export const FLAG_USED = 1;
export const FLAG_REVERSE = 2;
export const FLAG_DNAT = 4;
export const FLAG_SNAT = 8;
export const FLAG_ECMP = 16;

export const NO_SLOT = 255;

/** Key word 0: VRF id (23 bits), stage (1 bit: 0 = leaving a workload, 1 = towards a workload), protocol. */
export function keyWord0(vrfId: number, stage: 0 | 1, proto: number): number {
  return ((vrfId << 9) | (stage << 8) | proto) >>> 0;
}

export function keyWord3(sport: number, dport: number): number {
  return ((sport << 16) | dport) >>> 0;
}

function bucketHash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ k1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ k2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ k3, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class FlowTable {
  readonly capacity: number;
  private readonly bucketMask: number;
  private readonly heads: Int32Array;
  private readonly nextInChain: Int32Array;
  private freeHead: number;
  private used = 0;
  private sweepCursor = 0;

  readonly k0: Uint32Array;
  readonly k1: Uint32Array;
  readonly k2: Uint32Array;
  readonly k3: Uint32Array;
  readonly flags: Uint8Array;
  /** composite slot of an ECMP forward flow, NO_SLOT otherwise */
  readonly slot: Uint8Array;
  /** hash field mask the flow was hashed with (re-hash after a member leaves) */
  readonly hashMask: Uint8Array;
  /** forward flow: route id; towards-workload flow: interface id; -1 = look the route up again */
  readonly target: Int32Array;
  /** VRF id in which a reverse (SNAT) flow routes its translated packet */
  readonly routeVrf: Uint32Array;
  readonly natIp: Uint32Array;
  readonly natPort: Uint16Array;
  readonly partner: Int32Array;
  readonly packets: Uint32Array;
  readonly bytes: Float64Array;
  readonly lastSeen: Float64Array;

  constructor(capacity: number = DEFAULT_FLOW_TABLE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 26) {
      throw new RangeError(`flow table size ${capacity} must be an integer in 2..${1 << 26}`);
    }
    this.capacity = capacity;
    let buckets = 1;
    while (buckets < capacity) buckets <<= 1;
    this.bucketMask = buckets - 1;
    this.heads = new Int32Array(buckets).fill(-1);
    this.nextInChain = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.nextInChain[i] = i + 1 < capacity ? i + 1 : -1;
    this.freeHead = 0;
    this.k0 = new Uint32Array(capacity);
    this.k1 = new Uint32Array(capacity);
    this.k2 = new Uint32Array(capacity);
    this.k3 = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.slot = new Uint8Array(capacity).fill(NO_SLOT);
    this.hashMask = new Uint8Array(capacity);
    this.target = new Int32Array(capacity);
    this.routeVrf = new Uint32Array(capacity);
    this.natIp = new Uint32Array(capacity);
    this.natPort = new Uint16Array(capacity);
    this.partner = new Int32Array(capacity).fill(-1);
    this.packets = new Uint32Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.lastSeen = new Float64Array(capacity);
  }

  get size(): number { return this.used; }
  get free(): number { return this.capacity - this.used; }

  /** Entry index for the key, or -1. */
  lookup(k0: number, k1: number, k2: number, k3: number): number {
    let i = this.heads[bucketHash(k0, k1, k2, k3) & this.bucketMask];
    while (i >= 0) {
      if (this.k3[i] === k3 && this.k1[i] === k1 && this.k2[i] === k2 && this.k0[i] === k0) return i;
      i = this.nextInChain[i];
    }
    return -1;
  }

  /** Inserts a forward entry and its reverse, linked as partners; returns the forward index or -1 when fewer than two entries are free. */
  insertPair(
    f0: number, f1: number, f2: number, f3: number,
    r0: number, r1: number, r2: number, r3: number, now: number,
  ): number {
    if (this.capacity - this.used < 2) return -1;
    const fwd = this.insertOne(f0, f1, f2, f3, now);
    const rev = this.insertOne(r0, r1, r2, r3, now);
    this.flags[rev] |= FLAG_REVERSE;
    this.partner[fwd] = rev;
    this.partner[rev] = fwd;
    return fwd;
  }

  private insertOne(k0: number, k1: number, k2: number, k3: number, now: number): number {
    const i = this.freeHead;
    this.freeHead = this.nextInChain[i];
    const b = bucketHash(k0, k1, k2, k3) & this.bucketMask;
    this.nextInChain[i] = this.heads[b];
    this.heads[b] = i;
    this.k0[i] = k0; this.k1[i] = k1; this.k2[i] = k2; this.k3[i] = k3;
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

  /** Removes an entry and its partner. */
  removePair(i: number): void {
    const p = this.partner[i];
    this.removeOne(i);
    if (p >= 0 && (this.flags[p] & FLAG_USED) !== 0) this.removeOne(p);
  }

  private removeOne(i: number): void {
    const b = bucketHash(this.k0[i], this.k1[i], this.k2[i], this.k3[i]) & this.bucketMask;
    let cur = this.heads[b];
    let prev = -1;
    while (cur >= 0 && cur !== i) { prev = cur; cur = this.nextInChain[cur]; }
    if (cur < 0) return;
    if (prev < 0) this.heads[b] = this.nextInChain[i]; else this.nextInChain[prev] = this.nextInChain[i];
    this.flags[i] = 0;
    this.partner[i] = -1;
    this.nextInChain[i] = this.freeHead;
    this.freeHead = i;
    this.used--;
  }

  isUsed(i: number): boolean { return (this.flags[i] & FLAG_USED) !== 0; }

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

  /** Ages out up to `budget` entries' worth of the table from a rotating cursor; returns pairs removed. */
  sweep(now: number, agingMs: number, budget: number = this.capacity): number {
    let removed = 0;
    const n = Math.min(budget, this.capacity);
    for (let step = 0; step < n; step++) {
      const i = this.sweepCursor;
      this.sweepCursor = i + 1 === this.capacity ? 0 : i + 1;
      if ((this.flags[i] & (FLAG_USED | FLAG_REVERSE)) === FLAG_USED && this.isExpired(i, now, agingMs)) {
        this.removePair(i);
        removed++;
      }
    }
    return removed;
  }

  /** Bytes held by the table's arrays. */
  memoryBytes(): number {
    const arrays = [this.heads, this.nextInChain, this.k0, this.k1, this.k2, this.k3, this.flags, this.slot,
      this.hashMask, this.target, this.routeVrf, this.natIp, this.natPort, this.partner, this.packets, this.bytes,
      this.lastSeen];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }
}
