// Values by IPv4 prefix text: host routes (/32, nearly every route an agent or a Contrail feed brings) by
// their address as a small integer (grouped by /24: ./host-block-map.ts), other prefixes by their text. A
// lookup of a /32 reads the text once into that integer (or takes the integer from a caller that has it)
// instead of hashing a fresh string and comparing it with the stored key's characters. Owns only the index:
// what the values are is the caller's. Used per RD by ./rd-prefix-map.ts and as a VRF table's routes
// (../rib/vrf-route-map.ts).
import { HostBlockMap } from './host-block-map.ts';
import { hostPrefixKey } from './ipv4.ts';

export class PrefixMap<V> {
  /** /32 entries by hostPrefixKey. */
  readonly #hosts = new HostBlockMap<V>();
  /** Every other prefix, by its text; created on first use. */
  #other: Map<string, V> | null = null;

  get size(): number {
    return this.#hosts.size + (this.#other === null ? 0 : this.#other.size);
  }

  /** `host`: the prefix's hostPrefixKey when the caller has it (spares reading the text again). */
  get(prefix: string, host: number | undefined = hostPrefixKey(prefix)): V | undefined {
    return host === undefined ? this.#other?.get(prefix) : this.#hosts.get(host);
  }

  /** get of a /32 by its hostPrefixKey. */
  getHost(host: number): V | undefined {
    return this.#hosts.get(host);
  }

  /** Stores `value`; returns whether the prefix is new here. */
  set(prefix: string, value: V, host: number | undefined = hostPrefixKey(prefix)): boolean {
    if (host !== undefined) {
      return this.#hosts.set(host, value);
    }
    const other = (this.#other ??= new Map());
    const before = other.size;
    other.set(prefix, value);
    return other.size !== before;
  }

  delete(prefix: string, host: number | undefined = hostPrefixKey(prefix)): boolean {
    return host === undefined ? this.#other?.delete(prefix) === true : this.#hosts.delete(host);
  }

  clear(): void {
    this.#hosts.clear();
    this.#other = null;
  }

  /** Host routes first (by /24, see ./host-block-map.ts), then the others (in the order stored). */
  *values(): IterableIterator<V> {
    yield* this.#hosts.values();
    if (this.#other !== null) yield* this.#other.values();
  }

  /** The /32 entries' values, for a caller that walks many maps. */
  hostValues(): IterableIterator<V> {
    return this.#hosts.values();
  }

  /** The other prefixes' values, null when there are none. */
  otherValues(): IterableIterator<V> | null {
    return this.#other === null ? null : this.#other.values();
  }
}
