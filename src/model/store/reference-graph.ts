/**
 * What refers to what. A reference is declared by the referring kind (`refsOf`), or held outside an
 * object (`heldRefs`, e.g. the VMIs a user attached to a floating-ip, kept apart from the ones a driver
 * adds). Owns: answering "who uses this object?" in a stable order (objects in table order, then held
 * refs). Does not own: the decision to refuse (the caller turns users into an error) or storage.
 */
import type { StoredObject, Table } from './table.ts';

export interface Ref<K extends string = string> {
  readonly kind: K;
  readonly name: string;
}

/** A reference kept outside the referring object. */
export interface HeldRef<K extends string = string> {
  readonly user: Ref<K>;
  readonly target: Ref<K>;
}

export interface ReferenceSources<O extends StoredObject> {
  /** The references an object makes by its own fields; derived refs that must never block are left out. */
  refsOf(object: O): readonly Ref<O['kind']>[];
  heldRefs?(): Iterable<HeldRef<O['kind']>>;
}

export class ReferenceGraph<O extends StoredObject> {
  constructor(
    private readonly table: Table<O>,
    private readonly sources: ReferenceSources<O>,
  ) {}

  /** Who refers to `kind name`; empty when nothing does. */
  usersOf(kind: O['kind'], name: string): Ref<O['kind']>[] {
    const users: Ref<O['kind']>[] = [];
    for (const object of this.table.all()) {
      if (this.sources.refsOf(object).some((ref) => ref.kind === kind && ref.name === name)) users.push({ kind: object.kind, name: object.name });
    }
    const seen = new Set<string>();
    for (const held of this.sources.heldRefs?.() ?? []) {
      const key = `${held.user.kind}\u0000${held.user.name}`;
      if (held.target.kind === kind && held.target.name === name && !seen.has(key)) {
        seen.add(key);
        users.push(held.user);
      }
    }
    return users;
  }

  isUsed(kind: O['kind'], name: string): boolean {
    return this.usersOf(kind, name).length > 0;
  }
}
