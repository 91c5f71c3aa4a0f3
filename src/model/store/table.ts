/**
 * A generic typed table of named objects: one map per kind (in a fixed kind order, insertion order
 * inside a kind) plus a uuid index. Every write is recorded in the transaction (change list + undo).
 * Owns: storage, lookup, and order-preserving undo. Does not own: validation, references, or what
 * the kinds are (the caller passes the kinds; see model/kinds/).
 */
import type { Transaction } from './transaction.ts';

export interface StoredObject {
  readonly kind: string;
  readonly name: string;
  readonly uuid: string;
}

type OfKind<O extends StoredObject, K extends O['kind']> = Extract<O, { kind: K }>;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Table<O extends StoredObject> {
  readonly #objects: Map<O['kind'], Map<string, O>>;
  readonly #byUuid = new Map<string, { kind: O['kind']; name: string }>();

  constructor(
    readonly kinds: readonly O['kind'][],
    private readonly tx: Transaction<O['kind']>,
  ) {
    this.#objects = new Map(kinds.map((kind) => [kind, new Map<string, O>()]));
  }

  get<K extends O['kind']>(kind: K, name: string): OfKind<O, K> | undefined {
    return this.#map(kind).get(name) as OfKind<O, K> | undefined;
  }

  has(kind: O['kind'], name: string): boolean {
    return this.#map(kind).has(name);
  }

  getByUuid(uuid: string): O | undefined {
    const ref = this.#byUuid.get(uuid);
    return ref ? this.#map(ref.kind).get(ref.name) : undefined;
  }

  list<K extends O['kind']>(kind: K): OfKind<O, K>[] {
    return [...this.#map(kind).values()] as OfKind<O, K>[];
  }

  /** Every object, kinds in table order. */
  *all(): IterableIterator<O> {
    for (const map of this.#objects.values()) yield* map.values();
  }

  /** Creates or replaces by (kind, name); writing an identical object is no change at all. */
  put(object: O): void {
    const map = this.#map(object.kind);
    const previous = map.get(object.name);
    if (previous && sameJson(previous, object)) return;
    map.set(object.name, object);
    if (previous) this.#byUuid.delete(previous.uuid);
    this.#byUuid.set(object.uuid, { kind: object.kind, name: object.name });
    this.tx.record({ op: previous ? 'update' : 'create', kind: object.kind, name: object.name });
    this.tx.onUndo(() => {
      this.#byUuid.delete(object.uuid);
      if (previous) {
        map.set(previous.name, previous);
        this.#byUuid.set(previous.uuid, { kind: previous.kind, name: previous.name });
      } else {
        map.delete(object.name);
      }
    });
  }

  remove(kind: O['kind'], name: string): void {
    const map = this.#map(kind);
    const previous = map.get(name);
    if (!previous) return;
    const entries = [...map.entries()];
    map.delete(name);
    this.#byUuid.delete(previous.uuid);
    this.tx.record({ op: 'delete', kind, name });
    this.tx.onUndo(() => {
      // restore the original order: readers such as "first member wins" depend on it
      map.clear();
      for (const [key, value] of entries) map.set(key, value);
      this.#byUuid.set(previous.uuid, { kind, name });
    });
  }

  #map(kind: O['kind']): Map<string, O> {
    const map = this.#objects.get(kind);
    if (!map) throw new TypeError(`unknown config kind ${JSON.stringify(kind)}`);
    return map;
  }
}
