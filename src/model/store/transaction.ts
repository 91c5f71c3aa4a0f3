/**
 * All-or-nothing changes: an undo log, the list of object changes, and the commit/rollback protocol.
 * Owns: nesting (an inner `run` joins the outer transaction), rollback in reverse order on any throw,
 * coalescing the change list, and announcing it only after the commit. Also the undoable side tables
 * that per-kind rules keep next to the objects (IPAM, ownership, refs held outside an object).
 * Does not own: what the objects are (see table.ts) or which changes are allowed (the kinds).
 */

export type ChangeOp = 'create' | 'update' | 'delete';

export interface TableChange<K extends string = string> {
  readonly op: ChangeOp;
  readonly kind: K;
  readonly name: string;
}

export interface TransactionHooks<K extends string> {
  /** Last step inside the transaction (e.g. a reconcile); a throw here still rolls everything back. */
  beforeCommit?(): void;
  /** Called once per committed transaction that changed something, after the undo log is gone. */
  afterCommit?(changes: readonly TableChange<K>[]): void;
  /** What to throw instead of a failure (e.g. turn an internal error into a programming error). */
  translateError?(error: unknown): unknown;
}

export class Transaction<K extends string = string> {
  #undo: (() => void)[] | undefined;
  #changes: TableChange<K>[] = [];

  get open(): boolean {
    return this.#undo !== undefined;
  }

  /** Registers how to take back a step already applied; outside a transaction there is nothing to undo. */
  onUndo(step: () => void): void {
    this.#undo?.push(step);
  }

  record(change: TableChange<K>): void {
    if (this.#undo) this.#changes.push(change);
  }

  /** Runs `work` as one transaction, or as part of the one already open. */
  run<T>(work: () => T, hooks: TransactionHooks<K> = {}): T {
    if (this.#undo) return work();
    this.#undo = [];
    this.#changes = [];
    let result: T;
    try {
      result = work();
      hooks.beforeCommit?.();
    } catch (error) {
      const undo = this.#undo;
      this.#undo = undefined;
      this.#changes = [];
      for (const step of undo.reverse()) step();
      throw hooks.translateError ? hooks.translateError(error) : error;
    }
    this.#undo = undefined;
    const changes = coalesce(this.#changes);
    this.#changes = [];
    if (changes.length > 0) hooks.afterCommit?.(changes);
    return result;
  }
}

/** One entry per object: create+update → create, create+delete → nothing, delete+create → update. */
export function coalesce<K extends string>(changes: readonly TableChange<K>[]): TableChange<K>[] {
  const first = new Map<string, TableChange<K>>();
  const last = new Map<string, TableChange<K>>();
  for (const change of changes) {
    const key = `${change.kind}\u0000${change.name}`;
    if (!first.has(key)) first.set(key, change);
    last.set(key, change);
  }
  const result: TableChange<K>[] = [];
  for (const [key, start] of first) {
    const end = last.get(key) as TableChange<K>;
    let op: ChangeOp;
    if (start.op === 'create') {
      if (end.op === 'delete') continue;
      op = 'create';
    } else {
      op = end.op === 'delete' ? 'delete' : 'update';
    }
    result.push({ op, kind: start.kind, name: start.name });
  }
  return result;
}

/** Names a side table; each store gets its own map for it (see `SideTables`). */
export interface SideTableKey<Key, Value> {
  readonly description: string;
  /** never set: carries the entry types */
  readonly _types?: [Key, Value];
}

export function sideTable<Key, Value>(description: string): SideTableKey<Key, Value> {
  return { description };
}

/** A map whose writes are undone with the transaction they were made in. */
export class UndoableMap<Key, Value> {
  readonly #map = new Map<Key, Value>();

  constructor(private readonly tx: Transaction) {}

  get(key: Key): Value | undefined {
    return this.#map.get(key);
  }

  has(key: Key): boolean {
    return this.#map.has(key);
  }

  entries(): IterableIterator<[Key, Value]> {
    return this.#map.entries();
  }

  values(): IterableIterator<Value> {
    return this.#map.values();
  }

  /** A read-only view, e.g. for a reconcile hook. */
  view(): ReadonlyMap<Key, Value> {
    return this.#map;
  }

  set(key: Key, value: Value): void {
    const had = this.#map.has(key);
    const previous = this.#map.get(key);
    this.#map.set(key, value);
    this.tx.onUndo(() => (had ? this.#map.set(key, previous as Value) : this.#map.delete(key)));
  }

  delete(key: Key): void {
    if (!this.#map.has(key)) return;
    const previous = this.#map.get(key) as Value;
    this.#map.delete(key);
    this.tx.onUndo(() => this.#map.set(key, previous));
  }
}

/** The side tables of one store, created on first use so a new kind needs no registration for its state. */
export class SideTables {
  readonly #tables = new Map<SideTableKey<unknown, unknown>, UndoableMap<unknown, unknown>>();

  constructor(private readonly tx: Transaction) {}

  get<Key, Value>(key: SideTableKey<Key, Value>): UndoableMap<Key, Value> {
    let table = this.#tables.get(key as SideTableKey<unknown, unknown>);
    if (!table) {
      table = new UndoableMap<unknown, unknown>(this.tx);
      this.#tables.set(key as SideTableKey<unknown, unknown>, table);
    }
    return table as UndoableMap<Key, Value>;
  }
}
