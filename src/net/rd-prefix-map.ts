// Values by (route distinguisher, IPv4 prefix), both as text: how the BGP Adj-RIBs and the RIB's bgp.l3vpn.0
// find a VPN route. Held per RD, and within an RD by ./prefix-map.ts (host routes by their address as a small
// integer, other prefixes by their text). So a lookup neither builds a key string nor compares the stored
// key's characters, and no key string is kept per route. Owns only the index; what the values are and mean
// is the caller's.
import { hostPrefixKey } from './ipv4.ts';
import { PrefixMap } from './prefix-map.ts';

export class RdPrefixMap<V> {
  readonly #byRd = new Map<string, PrefixMap<V>>();
  #size = 0;
  /** The RD of the last lookup and its entries: routes come in runs of one RD (undefined entries: none stored). */
  #lastRd: string | null = null;
  #lastEntries: PrefixMap<V> | undefined = undefined;

  #entriesOf(rd: string): PrefixMap<V> | undefined {
    if (rd === this.#lastRd) return this.#lastEntries;
    const entries = this.#byRd.get(rd);
    this.#lastRd = rd;
    this.#lastEntries = entries;
    return entries;
  }

  get size(): number {
    return this.#size;
  }

  /** `host`: the prefix's hostPrefixKey when the caller has it (spares reading the text again). */
  get(rd: string, prefix: string, host?: number): V | undefined {
    return this.#entriesOf(rd)?.get(prefix, host);
  }

  /** get of a /32 by its hostPrefixKey: for a caller that has the address as a number (no prefix text to read). */
  getHost(rd: string, host: number): V | undefined {
    return this.#entriesOf(rd)?.getHost(host);
  }

  set(rd: string, prefix: string, value: V, host?: number): void {
    let entries = this.#entriesOf(rd);
    if (entries === undefined) {
      this.#byRd.set(rd, (entries = new PrefixMap()));
      this.#lastEntries = entries;
    }
    if (entries.set(prefix, value, host)) this.#size++;
  }

  /** `host`: the prefix's hostPrefixKey when the caller has it (spares reading the text again). */
  delete(rd: string, prefix: string, host: number | undefined = hostPrefixKey(prefix)): boolean {
    const entries = this.#entriesOf(rd);
    if (entries === undefined || !entries.delete(prefix, host)) return false;
    this.#size--;
    if (entries.size === 0) {
      this.#byRd.delete(rd);
      this.#lastEntries = undefined;
    }
    return true;
  }

  clear(): void {
    this.#byRd.clear();
    this.#size = 0;
    this.#lastRd = null;
    this.#lastEntries = undefined;
  }

  /** Grouped by RD in the order RDs were first stored; within one, host routes first (./prefix-map.ts). */
  *values(): IterableIterator<V> {
    for (const entries of this.#byRd.values()) {
      yield* entries.hostValues();
      const other = entries.otherValues();
      if (other !== null) yield* other;
    }
  }
}
