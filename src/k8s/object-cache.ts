// kube-manager's copy of the apiserver objects it watches, keyed by kind/namespace/name (an informer
// cache). Owns ordering: a change older than what is held (lower resourceVersion) or identical to it is
// dropped, and a deletion leaves a tombstone so that a late ADDED of the deleted version cannot bring the
// object back. It does not know what objects mean for config (desired-config.ts does).
import { SERVICE_NAME_LABEL, keyOf, objectKey, type EndpointSlice, type Endpoints, type K8sNode, type K8sObject, type Pod, type Service, type WatchEvent } from './k8s-objects.ts';

export type CacheOutcome =
  | { readonly changed: true; readonly op: 'added' | 'modified' | 'deleted'; readonly previous?: K8sObject }
  | { readonly changed: false; readonly why: string };

interface Entry {
  readonly object: K8sObject;
  readonly deleted: boolean;
}

/** -1, 0, 1 when both versions are decimal counters (etcd's), undefined when they cannot be ordered. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Same content regardless of key order (YAML and JSON of one object compare equal). */
function sameContent(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

export class ObjectCache {
  readonly #entries = new Map<string, Entry>();

  apply(event: WatchEvent): CacheOutcome {
    const key = keyOf(event.object);
    const held = this.#entries.get(key);
    const order = compareResourceVersions(event.object.metadata.resourceVersion, held?.object.metadata.resourceVersion);
    if (held && order !== undefined && order < 0) {
      return { changed: false, why: `stale: resourceVersion ${event.object.metadata.resourceVersion} is older than ${held.object.metadata.resourceVersion}${held.deleted ? ' (deleted)' : ''}` };
    }
    if (event.type === 'DELETED') {
      if (!held || held.deleted) {
        // Remembered all the same: an older ADDED arriving after it must not bring the object back.
        this.#entries.set(key, { object: event.object, deleted: true });
        return { changed: false, why: held ? 'already deleted' : 'not known, nothing to delete' };
      }
      this.#entries.set(key, { object: event.object, deleted: true });
      return { changed: true, op: 'deleted', previous: held.object };
    }
    if (held?.deleted) {
      // A re-created object has a new uid and a higher version; the same version again is a late copy.
      if (order === 0 || (order === undefined && event.object.metadata.uid !== undefined && event.object.metadata.uid === held.object.metadata.uid)) {
        return { changed: false, why: `stale: ${key} was deleted at this version` };
      }
      this.#entries.set(key, { object: event.object, deleted: false });
      return { changed: true, op: 'added' };
    }
    if (held && (order === 0 || sameContent(held.object, event.object))) {
      return { changed: false, why: order === 0 ? `repeated: resourceVersion ${event.object.metadata.resourceVersion} is already held` : 'repeated: same content' };
    }
    this.#entries.set(key, { object: event.object, deleted: false });
    return held ? { changed: true, op: 'modified', previous: held.object } : { changed: true, op: 'added' };
  }

  get(kind: K8sObject['kind'], namespace: string | undefined, name: string): K8sObject | undefined {
    const entry = this.#entries.get(objectKey(kind, namespace, name));
    return entry && !entry.deleted ? entry.object : undefined;
  }

  #live<T extends K8sObject>(kind: T['kind']): T[] {
    return [...this.#entries.values()].filter((e) => !e.deleted && e.object.kind === kind).map((e) => e.object as T);
  }

  services(): Service[] {
    return this.#live<Service>('Service');
  }

  pods(): Pod[] {
    return this.#live<Pod>('Pod');
  }

  nodes(): K8sNode[] {
    return this.#live<K8sNode>('Node');
  }

  service(namespace: string, name: string): Service | undefined {
    return this.get('Service', namespace, name) as Service | undefined;
  }

  endpoints(namespace: string, name: string): Endpoints | undefined {
    return this.get('Endpoints', namespace, name) as Endpoints | undefined;
  }

  /** The slices of one service, in name order so members come out in a stable order. */
  slicesOf(namespace: string, service: string): EndpointSlice[] {
    return this.#live<EndpointSlice>('EndpointSlice')
      .filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === service)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  get size(): number {
    return [...this.#entries.values()].filter((e) => !e.deleted).length;
  }
}
