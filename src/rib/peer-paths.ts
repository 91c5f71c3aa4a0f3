/**
 * Which paths each peer put in the RIB, for removing a peer and for the per-peer counts. Every count is
 * exact; the paths themselves are listed only where removal cannot find them otherwise:
 * - a peer's primaries outside bgp.l3vpn.0 (an agent's VRF paths) in an append-only list per peer, each
 *   with its table. A path that leaves is only counted down; the list forgets it when it is walked (removal,
 *   stale marks) or once dead entries outnumber live ones (then the list is filtered, an amortised lookup
 *   per path that left). An agent's route costs two list slots, not a map entry hashed by the path object.
 * - a BGP peer's primaries in bgp.l3vpn.0 are only counted: a reflected feed of a million routes would
 *   otherwise keep a million-entry index that only peer removal reads; ./rib.ts finds them with one walk
 *   of bgp.l3vpn.0 instead.
 * - copies (replicated paths) are only counted: they follow their primary (replication removes them with it).
 * Does not own the tables or the paths (./table-store.ts does), nor decide whether a path is stored: it asks.
 */
import type { Path } from './path.ts';
import type { Table } from './tables.ts';

/** A peer's listed primaries: how many are stored, and [path, table] pairs flat (some may have left). */
interface ListedPaths {
  live: number;
  readonly entries: (Path | Table)[];
}

// Below this many entries a list is never filtered: small peers stay cheap.
const MIN_FILTERED = 64;

/** A count per peer, kept only while non-zero; the last peer's counter at hand (a feed's paths come in runs of one peer). */
class PeerCounts {
  readonly #byPeer = new Map<string, { n: number }>();
  #lastPeer: string | null = null;
  #last: { n: number } | undefined;

  #counter(name: string): { n: number } | undefined {
    if (name === this.#lastPeer) return this.#last;
    this.#lastPeer = name;
    return (this.#last = this.#byPeer.get(name));
  }

  increment(name: string): void {
    const counter = this.#counter(name);
    if (counter !== undefined) counter.n++;
    else this.#byPeer.set(name, (this.#last = { n: 1 }));
  }

  decrement(name: string): void {
    const counter = this.#counter(name);
    if (counter === undefined || --counter.n > 0) return;
    this.#byPeer.delete(name);
    this.#last = undefined;
  }

  get(name: string): number {
    return this.#byPeer.get(name)?.n ?? 0;
  }

  names(): IterableIterator<string> {
    return this.#byPeer.keys();
  }
}

export class PeerPathIndex {
  /** peer name → its primaries outside bgp.l3vpn.0, listed */
  readonly #listed = new Map<string, ListedPaths>();
  #lastListedPeer: string | null = null;
  #lastListed: ListedPaths | undefined;
  /** peer name → how many primary paths it has in bgp.l3vpn.0 */
  readonly #vpnPrimaries = new PeerCounts();
  /** peer name → how many replicated paths (copies) of its paths are stored, in any table */
  readonly #copies = new PeerCounts();

  /** `holds`: whether this very path object is still stored in the table. */
  constructor(
    private readonly vpn: Table,
    private readonly holds: (table: Table, path: Path) => boolean,
  ) {}

  #listedOf(name: string): ListedPaths | undefined {
    if (name === this.#lastListedPeer) return this.#lastListed;
    this.#lastListedPeer = name;
    return (this.#lastListed = this.#listed.get(name));
  }

  /** `path` now sits in `table`. */
  add(table: Table, path: Path): void {
    const name = path.peer.name;
    if (path.replicatedFrom !== undefined) return this.#copies.increment(name);
    if (table === this.vpn) return this.#vpnPrimaries.increment(name);
    const listed = this.#listedOf(name);
    if (listed === undefined) {
      this.#listed.set(name, (this.#lastListed = { live: 1, entries: [path, table] }));
      return;
    }
    listed.live++;
    listed.entries.push(path, table);
  }

  /** `path` left `table`. */
  remove(table: Table, path: Path): void {
    const name = path.peer.name;
    if (path.replicatedFrom !== undefined) return this.#copies.decrement(name);
    if (table === this.vpn) return this.#vpnPrimaries.decrement(name);
    const listed = this.#listedOf(name);
    if (listed === undefined) return;
    if (--listed.live === 0) {
      this.#listed.delete(name);
      this.#lastListed = undefined;
      return;
    }
    // Entries are pairs: filter once the dead outnumber the live.
    if (listed.entries.length > MIN_FILTERED && listed.entries.length > 4 * listed.live) this.#forgetLeft(listed);
  }

  /** Drops the entries of paths no longer stored (in place). */
  #forgetLeft(listed: ListedPaths): void {
    const entries = listed.entries;
    let kept = 0;
    for (let i = 0; i < entries.length; i += 2) {
      const path = entries[i] as Path;
      const table = entries[i + 1] as Table;
      if (!this.holds(table, path)) continue;
      entries[kept++] = path;
      entries[kept++] = table;
    }
    entries.length = kept;
  }

  /** The peer's primary paths stored outside bgp.l3vpn.0, with their tables: a fresh list. */
  tracked(peer: string): [Path, Table][] {
    const listed = this.#listed.get(peer);
    if (listed === undefined) return [];
    if (listed.entries.length > 2 * listed.live) this.#forgetLeft(listed);
    const found: [Path, Table][] = [];
    const entries = listed.entries;
    for (let i = 0; i < entries.length; i += 2) found.push([entries[i] as Path, entries[i + 1] as Table]);
    return found;
  }

  /** Whether the peer has primaries in bgp.l3vpn.0 (found by walking that table). */
  hasVpnPrimaries(peer: string): boolean {
    return this.#vpnPrimaries.get(peer) > 0;
  }

  /** How many primary paths the peer has in bgp.l3vpn.0. */
  vpnPrimaryCount(peer: string): number {
    return this.#vpnPrimaries.get(peer);
  }

  peerNames(): string[] {
    return [...new Set([...this.#listed.keys(), ...this.#vpnPrimaries.names(), ...this.#copies.names()])];
  }

  counts(peer: string): { primary: number; secondary: number } {
    const primary = this.#vpnPrimaries.get(peer) + (this.#listed.get(peer)?.live ?? 0);
    return { primary, secondary: this.#copies.get(peer) };
  }
}
