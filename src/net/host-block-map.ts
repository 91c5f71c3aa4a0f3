// Values by a host route's address as a signed 32-bit integer (./ipv4.ts hostPrefixKey), grouped by the
// address's /24: one small Map per /24 holding two or more routes, a lone route held by itself. Why not one
// Map: V8 scatters integer keys over a Map's whole table, so in a VRF of 100k routes every lookup of a new
// route was a few cache misses (the largest single cost of storing an agent's route), while an agent's (and
// a feed's) routes come as runs of neighbouring addresses: here a run's lookups go to one small Map that stays
// in cache, through an outer Map of one entry per /24. Only V8's own Maps, so the cold start stays native.
// Iterates block by block, in the order each /24 was first stored, each block's routes in the order stored.
// Owns only the index, not the values.

/** A /24 holding one route: the route and its key, without a Map. */
class Lone<V> {
  constructor(
    readonly key: number,
    public value: V,
  ) {}
}

export class HostBlockMap<V> {
  readonly #blocks = new Map<number, Map<number, V> | Lone<V>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: number): V | undefined {
    const block = this.#blocks.get(key >> 8);
    if (block === undefined) return undefined;
    if (block instanceof Lone) return block.key === key ? block.value : undefined;
    return block.get(key);
  }

  /** Stores `value` under `key`; returns whether the key is new here. */
  set(key: number, value: V): boolean {
    const id = key >> 8;
    const block = this.#blocks.get(id);
    if (block === undefined) {
      this.#blocks.set(id, new Lone(key, value));
    } else if (block instanceof Lone) {
      if (block.key === key) {
        block.value = value;
        return false;
      }
      this.#blocks.set(
        id,
        new Map([
          [block.key, block.value],
          [key, value],
        ]),
      );
    } else {
      const before = block.size;
      block.set(key, value);
      if (block.size === before) return false;
    }
    this.#size++;
    return true;
  }

  delete(key: number): boolean {
    const id = key >> 8;
    const block = this.#blocks.get(id);
    if (block === undefined) return false;
    if (block instanceof Lone) {
      if (block.key !== key) return false;
      this.#blocks.delete(id);
    } else {
      if (!block.delete(key)) return false;
      if (block.size === 0) this.#blocks.delete(id);
    }
    this.#size--;
    return true;
  }

  clear(): void {
    this.#blocks.clear();
    this.#size = 0;
  }

  *values(): IterableIterator<V> {
    for (const block of this.#blocks.values()) {
      if (block instanceof Lone) yield block.value;
      else yield* block.values();
    }
  }
}
