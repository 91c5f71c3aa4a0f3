/**
 * The toolbox the per-kind rules work with: the table, the reference graph and the side tables of one
 * store, plus the checks every kind repeats (exists / is new / is unused), all raising ConfigError.
 * Owns: the ConfigError wording shared by all kinds and the `KindRules` a kind registers.
 * Does not own: any kind's own rules (model/kinds/<kind>.ts), transactions, or notifications.
 */
import { ConfigError } from '../config-error.ts';
import type { ConfigKind, ConfigObject, InstanceIp, ObjectOfKind } from '../objects.ts';
import type { HeldRef, Ref, ReferenceGraph } from '../store/reference-graph.ts';
import type { Table } from '../store/table.ts';
import type { SideTableKey, SideTables, Transaction, UndoableMap } from '../store/transaction.ts';

export type ConfigRef = Ref<ConfigKind>;

/** What a kind registers with the store (model/kinds/registry.ts); its create/update/delete are plain functions. */
export interface KindRules<K extends ConfigKind> {
  readonly kind: K;
  /** References by the object's own fields: deleting a target is refused while they exist. */
  refsOf(object: ObjectOfKind<K>): readonly ConfigRef[];
  /** References this kind keeps outside its objects (in a side table). */
  heldRefs?(context: KindContext): Iterable<HeldRef<ConfigKind>>;
}

export interface DeleteOptions {
  /** delete the children (listeners → pools → members) in the same transaction, as neutron's cascade */
  cascade?: boolean;
}

export class KindContext {
  constructor(
    readonly asn: number,
    private readonly table: Table<ConfigObject>,
    private readonly tx: Transaction<ConfigKind>,
    private readonly graph: ReferenceGraph<ConfigObject>,
    private readonly sides: SideTables,
  ) {}

  get<K extends ConfigKind>(kind: K, name: string): ObjectOfKind<K> | undefined {
    return this.table.get(kind, name);
  }

  list<K extends ConfigKind>(kind: K): ObjectOfKind<K>[] {
    return this.table.list(kind);
  }

  /** Instance-ips of a VMI, in creation order. */
  instanceIpsOf(vmi: string): InstanceIp[] {
    return this.list('instance-ip').filter((iip) => (iip.virtualMachineInterfaces ?? [iip.virtualMachineInterface]).includes(vmi));
  }

  put(object: ConfigObject): void {
    this.table.put(object);
  }

  remove(kind: ConfigKind, name: string): void {
    this.table.remove(kind, name);
  }

  onUndo(step: () => void): void {
    this.tx.onUndo(step);
  }

  side<Key, Value>(key: SideTableKey<Key, Value>): UndoableMap<Key, Value> {
    return this.sides.get(key);
  }

  usersOf(kind: ConfigKind, name: string): ConfigRef[] {
    return this.graph.usersOf(kind, name);
  }

  existing<K extends ConfigKind>(kind: K, name: string): ObjectOfKind<K> {
    const object = this.get(kind, name);
    if (!object) throw new ConfigError(kind, String(name), 'does not exist', undefined, 'not-found');
    return object;
  }

  mustBeNew(kind: ConfigKind, name: string): void {
    if (this.table.has(kind, name)) throw new ConfigError(kind, name, 'already exists', 'name', 'conflict');
  }

  /** `kind name` refers through `field` to `refKind refName`, which must exist. */
  mustExist<K extends ConfigKind>(kind: ConfigKind, name: string, field: string, refKind: K, refName: string): ObjectOfKind<K> {
    const target = this.get(refKind, refName);
    if (!target) throw new ConfigError(kind, name, `${refKind} ${refName} does not exist`, field);
    return target;
  }

  refuseIfUsed(kind: ConfigKind, name: string): void {
    const users = this.usersOf(kind, name);
    if (users.length > 0) throw new ConfigError(kind, name, `is still used by ${users.map((user) => `${user.kind} ${user.name}`).join(', ')}`, undefined, 'conflict');
  }

  /** The common delete: it must exist and nothing may refer to it. */
  removeUnused(kind: ConfigKind, name: string): void {
    this.existing(kind, name);
    this.refuseIfUsed(kind, name);
    this.remove(kind, name);
  }

  /** Runs `work` with any ConfigError re-attributed to `kind name` / `field`: the caller's request, not the nested object, was wrong. */
  attributed(kind: ConfigKind, name: string, field: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(kind, name, error.reason, field, error.code);
      throw error;
    }
  }
}
