/**
 * Which of a peer's paths and route-target memberships an ended session left behind (graceful restart,
 * docs/protocol.md §6.7): marked when the session ends, unmarked as the new session announces them again,
 * and what is still marked goes at the sweep (End-of-RIB or a timer). Only the bookkeeping: the RIB
 * (./rib.ts on ./table-store.ts) owns the tables, does the deleting and rewriting, and the caller owns the timers. Paths are
 * held by identity, as the RIB's per-peer index holds them: a stored path replaced by a new one is no longer
 * stale. The agent side keeps its own received-route copies in ./stale-sweep.ts.
 */
import type { Path } from './path.ts';
import type { Table } from './tables.ts';

export class PeerStaleMarks {
  /** peer name → its marked paths → the table holding each */
  readonly #paths = new Map<string, Map<Path, Table>>();
  readonly #memberships = new Map<string, Set<string>>();

  /** Whether any peer has anything marked (spares the lookups on the RIB's hot path when none has). */
  get active(): boolean {
    return this.#paths.size > 0 || this.#memberships.size > 0;
  }

  /** Marks the peer's paths and membership prefixes, adding to what is already marked. */
  mark(peerName: string, paths: Iterable<readonly [Path, Table]>, membershipPrefixes: Iterable<string>): void {
    const marked = this.#paths.get(peerName) ?? new Map<Path, Table>();
    for (const [path, table] of paths) marked.set(path, table);
    if (marked.size > 0) this.#paths.set(peerName, marked);
    const prefixes = this.#memberships.get(peerName) ?? new Set<string>();
    for (const prefix of membershipPrefixes) prefixes.add(prefix);
    if (prefixes.size > 0) this.#memberships.set(peerName, prefixes);
  }

  /** The stored path was announced again or replaced: it is no longer stale. */
  unmarkPath(path: Path): void {
    const marked = this.#paths.get(path.peer.name);
    if (marked === undefined || !marked.delete(path)) return;
    if (marked.size === 0) this.#paths.delete(path.peer.name);
  }

  unmarkMembership(peerName: string, prefix: string): void {
    const marked = this.#memberships.get(peerName);
    if (marked === undefined || !marked.delete(prefix)) return;
    if (marked.size === 0) this.#memberships.delete(peerName);
  }

  /** The peer's marked paths with their tables (a copy: the caller may change the RIB while walking it). */
  paths(peerName: string): [Path, Table][] {
    return [...(this.#paths.get(peerName) ?? [])];
  }

  /** Forgets the peer's marked paths and returns them. */
  takePaths(peerName: string): [Path, Table][] {
    const marked = this.paths(peerName);
    this.#paths.delete(peerName);
    return marked;
  }

  /** Forgets the peer's marked membership prefixes and returns them. */
  takeMemberships(peerName: string): string[] {
    const marked = [...(this.#memberships.get(peerName) ?? [])];
    this.#memberships.delete(peerName);
    return marked;
  }

  pathCount(peerName: string): number {
    return this.#paths.get(peerName)?.size ?? 0;
  }

  membershipCount(peerName: string): number {
    return this.#memberships.get(peerName)?.size ?? 0;
  }
}
