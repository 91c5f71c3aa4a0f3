// Stale-and-sweep bookkeeping for routes learned from sources (peers, sessions) that can go away and come
// back. Owns, per source, the entries its current session has announced ("fresh") and those an earlier
// session announced that have not been swept yet ("stale"). Protocol-neutral: it knows nothing of XMPP, BGP,
// timers or path selection. The caller decides when a source's session ends (markStale), when its new
// table is complete (sweep: End-of-RIB or a timer), and which copy is in force meanwhile — the vRouter agent
// keeps the stale copy until the sweep so that a half-relearned table does not shrink ECMP sets
// (docs/protocol.md §7.3); BGP graceful restart would prefer the fresh one.

/** What a sweep removed from one source's stale entries. */
export interface SweepResult<K> {
  /** Stale keys the new session never re-announced: they are gone. */
  removed: K[];
  /** Stale keys the new session re-announced: their fresh copy is now the only one. */
  refreshed: K[];
}

interface SourceTables<K, V> {
  fresh: Map<K, V>;
  stale: Map<K, V>;
}

/**
 * Fresh and stale entries per source. `S` names a source, `K` an entry within it (a prefix, a (VRF, prefix)
 * key …), `V` what the source said about it. Keys compare as Map keys do (by value for strings and numbers).
 */
export class StaleSweep<S, K, V> {
  private readonly sources = new Map<S, SourceTables<K, V>>();

  private tables(source: S): SourceTables<K, V> {
    let tables = this.sources.get(source);
    if (!tables) this.sources.set(source, (tables = { fresh: new Map(), stale: new Map() }));
    return tables;
  }

  /** The source's current session announces (or re-announces) `key`. */
  refresh(source: S, key: K, value: V): void {
    this.tables(source).fresh.set(key, value);
  }

  /** The source's current session withdraws `key`; a stale copy, if any, stays until the sweep. */
  withdraw(source: S, key: K): boolean {
    return this.sources.get(source)?.fresh.delete(key) ?? false;
  }

  /**
   * The source's session is over (or a new one starts): everything it announced becomes stale, replacing
   * older stale copies of the same keys. Returns every stale key of the source, old and new.
   */
  markStale(source: S): K[] {
    const tables = this.sources.get(source);
    if (!tables) return [];
    for (const [key, value] of tables.fresh) tables.stale.set(key, value);
    tables.fresh.clear();
    return [...tables.stale.keys()];
  }

  /** The source's new table is complete: drops every stale entry and says which ones had no fresh copy. */
  sweep(source: S): SweepResult<K> {
    const result: SweepResult<K> = { removed: [], refreshed: [] };
    const tables = this.sources.get(source);
    if (!tables) return result;
    for (const key of tables.stale.keys()) (tables.fresh.has(key) ? result.refreshed : result.removed).push(key);
    tables.stale.clear();
    return result;
  }

  /** Drops both copies of every key `matches` accepts (e.g. a VRF the caller no longer subscribes to); returns them. */
  deleteWhere(source: S, matches: (key: K) => boolean): K[] {
    const tables = this.sources.get(source);
    if (!tables) return [];
    const deleted = new Set<K>();
    for (const table of [tables.fresh, tables.stale]) {
      for (const key of [...table.keys()]) {
        if (!matches(key)) continue;
        table.delete(key);
        deleted.add(key);
      }
    }
    return [...deleted];
  }

  fresh(source: S, key: K): V | undefined {
    return this.sources.get(source)?.fresh.get(key);
  }

  stale(source: S, key: K): V | undefined {
    return this.sources.get(source)?.stale.get(key);
  }

  /** Stale and not re-announced by the current session: what a sweep now would remove. */
  isStale(source: S, key: K): boolean {
    const tables = this.sources.get(source);
    return tables !== undefined && tables.stale.has(key) && !tables.fresh.has(key);
  }

  hasStale(source: S): boolean {
    return (this.sources.get(source)?.stale.size ?? 0) > 0;
  }

  freshEntries(source: S): IterableIterator<[K, V]> {
    return (this.sources.get(source)?.fresh ?? new Map<K, V>()).entries();
  }

  staleEntries(source: S): IterableIterator<[K, V]> {
    return (this.sources.get(source)?.stale ?? new Map<K, V>()).entries();
  }

  freshCount(source: S): number {
    return this.sources.get(source)?.fresh.size ?? 0;
  }

  staleCount(source: S): number {
    return this.sources.get(source)?.stale.size ?? 0;
  }
}
