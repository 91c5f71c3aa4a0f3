// Values by (route distinguisher, IPv4 prefix), both as text: how the BGP Adj-RIBs and the RIB's bgp.l3vpn.0
// find a VPN route. Held per RD, and within an RD host routes (/32, nearly every route of a Contrail feed)
// by their address as a small integer, other prefixes by their text. So a lookup neither builds a key string
// nor compares the stored key's characters, and no key string is kept per route. Owns only the index; what
// the values are and mean is the caller's.
import { hostPrefixKey } from './ipv4.ts';

interface RdEntries<V> {
  /** /32 routes by hostPrefixKey. */
  readonly hosts: Map<number, V>;
  /** Every other prefix, by its text; created on first use. */
  other: Map<string, V> | null;
}

export class RdPrefixMap<V> {
  readonly #byRd = new Map<string, RdEntries<V>>();
  #size = 0;
  /** The RD of the last lookup and its entries: routes come in runs of one RD (undefined entries: none stored). */
  #lastRd: string | null = null;
  #lastEntries: RdEntries<V> | undefined = undefined;

  #entriesOf(rd: string): RdEntries<V> | undefined {
    if (rd === this.#lastRd) return this.#lastEntries;
    const entries = this.#byRd.get(rd);
    this.#lastRd = rd;
    this.#lastEntries = entries;
    return entries;
  }

  get size(): number {
    return this.#size;
  }

  get(rd: string, prefix: string): V | undefined {
    const entries = this.#entriesOf(rd);
    if (entries === undefined) return undefined;
    const host = hostPrefixKey(prefix);
    return host === undefined ? entries.other?.get(prefix) : entries.hosts.get(host);
  }

  /** get of a /32 by its hostPrefixKey: for a caller that has the address as a number (no prefix text to read). */
  getHost(rd: string, host: number): V | undefined {
    return this.#entriesOf(rd)?.hosts.get(host);
  }

  set(rd: string, prefix: string, value: V): void {
    let entries = this.#entriesOf(rd);
    if (entries === undefined) {
      this.#byRd.set(rd, (entries = { hosts: new Map(), other: null }));
      this.#lastEntries = entries;
    }
    const host = hostPrefixKey(prefix);
    if (host !== undefined) {
      const before = entries.hosts.size;
      entries.hosts.set(host, value);
      this.#size += entries.hosts.size - before;
      return;
    }
    const other = (entries.other ??= new Map());
    const before = other.size;
    other.set(prefix, value);
    this.#size += other.size - before;
  }

  /** `host`: the prefix's hostPrefixKey when the caller has it (spares reading the text again). */
  delete(rd: string, prefix: string, host: number | undefined = hostPrefixKey(prefix)): boolean {
    const entries = this.#entriesOf(rd);
    if (entries === undefined) return false;
    if (!(host === undefined ? entries.other?.delete(prefix) === true : entries.hosts.delete(host))) return false;
    this.#size--;
    if (entries.hosts.size === 0 && (entries.other === null || entries.other.size === 0)) {
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

  /** Grouped by RD in the order RDs were first stored; within one, host routes first. */
  *values(): IterableIterator<V> {
    for (const entries of this.#byRd.values()) {
      yield* entries.hosts.values();
      if (entries.other !== null) yield* entries.other.values();
    }
  }
}
