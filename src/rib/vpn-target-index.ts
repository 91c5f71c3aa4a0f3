/**
 * The RIB's two route-target indexes: which routing instances import a target, and how many bgp.l3vpn.0
 * routes carry one. Together they answer "must VPN routes be re-synced when an importer comes, goes or
 * changes its targets": only then does the RIB walk bgp.l3vpn.0 for them. A count rather than a set of
 * route keys per target: a reflected feed of a million routes would otherwise keep (and churn) a
 * million-entry set for targets nobody here imports. Owns the interned target sets VPN routes share.
 * Does not own the tables or decide what gets copied (./replication.ts).
 */
import { NO_TARGETS, instanceTableName, pathCount, pathsOf, replicaCount, singlePath, type Route } from './tables.ts';

function addToIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFromIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Whether every path of `route` is a copy from the table of `instance`. */
function copiedOnlyFrom(route: Route, instance: string): boolean {
  // The table name of the last instance asked about: routes come in runs of one VRF.
  if (instance !== lastImporter) {
    lastImporter = instance;
    lastImporterTable = instanceTableName(instance);
  }
  const only = singlePath(route);
  if (only !== undefined) return only.replicatedFrom?.table === lastImporterTable;
  for (const path of pathsOf(route)) if (path.replicatedFrom?.table !== lastImporterTable) return false;
  return true;
}
let lastImporter = '';
let lastImporterTable = '';

export class VpnTargetIndex {
  /** route target → instances importing it */
  readonly #importers = new Map<string, Set<string>>();
  /** route target → how many bgp.l3vpn.0 routes have a path carrying it */
  readonly #vpnRouteCount = new Map<string, number>();
  /** Interned route-target sets (see #intern); bounded by the distinct combinations ever seen. */
  readonly #targetSets = new Map<string, ReadonlySet<string>>();
  /** A target list (VPN copies share their instance's) → its interned set, for reindex. */
  readonly #targetSetOfList = new WeakMap<readonly string[], ReadonlySet<string>>();
  /** The last list looked up there and its set: a batch's copies share one list. */
  #lastList: readonly string[] | null = null;
  #lastSet: ReadonlySet<string> | undefined = undefined;
  /** A target with one importer and that importer, as #onlyImporter last found them (reset by any importer change). */
  #lastOnlyTarget: string | null = null;
  #lastOnlyImporter = '';

  addImporter(routeTarget: string, instance: string): void {
    addToIndex(this.#importers, routeTarget, instance);
    this.#lastOnlyTarget = null;
  }

  removeImporter(routeTarget: string, instance: string): void {
    removeFromIndex(this.#importers, routeTarget, instance);
    this.#lastOnlyTarget = null;
  }

  /** The one instance in `importers` (those of `rt`), remembered until the importers change: no iterator per route. */
  #onlyImporter(rt: string, importers: ReadonlySet<string>): string {
    if (rt !== this.#lastOnlyTarget) {
      const [instance] = importers;
      this.#lastOnlyTarget = rt;
      this.#lastOnlyImporter = instance;
    }
    return this.#lastOnlyImporter;
  }


  /** The instances importing `routeTarget`, or undefined when none does. */
  importersOf(routeTarget: string): ReadonlySet<string> | undefined {
    return this.#importers.get(routeTarget);
  }

  /** Every instance importing one of `routeTargets`, each once. */
  importersOfAny(routeTargets: readonly string[]): Iterable<string> {
    // One target (the usual case) needs no de-duplication of its importers.
    if (routeTargets.length === 1) return this.#importers.get(routeTargets[0]) ?? NO_TARGETS;
    return new Set(routeTargets.flatMap((rt) => [...(this.#importers.get(rt) ?? [])]));
  }

  /**
   * Whether a changed bgp.l3vpn.0 route has replicas to add, change or remove, or must leave the table.
   * Most VPN routes (a reflected feed) carry targets nobody here imports: their re-sync would find nothing
   * to do. Skipping it is safe because an importer that appears later marks them through this index.
   */
  needsVpnSync(route: Route): boolean {
    if (pathCount(route) === 0 || replicaCount(route) > 0) return true;
    for (const rt of route.indexedTargets) {
      const importers = this.#importers.get(rt);
      if (importers === undefined) continue;
      // An agent's path copied from its VRF carries that VRF's export targets, which the VRF itself usually
      // imports: replication never copies a path back to its origin, so that importer alone asks for nothing.
      if (importers.size === 1 && copiedOnlyFrom(route, this.#onlyImporter(rt, importers))) continue;
      return true;
    }
    return false;
  }

  /** Whether any VPN route carries one of `targets` (the RIB then walks bgp.l3vpn.0 for them). */
  anyVpnRouteWith(targets: Iterable<string>): boolean {
    for (const rt of targets) if (this.#vpnRouteCount.has(rt)) return true;
    return false;
  }

  /** Brings the index up to date with a VPN route's current paths. */
  reindex(route: Route): void {
    const before = route.indexedTargets;
    // A single path's target list (VPN copies share their instance's) maps straight to its interned set.
    const only = singlePath(route)?.attrs.routeTargets;
    let now: ReadonlySet<string> | undefined =
      only === undefined ? undefined : only === this.#lastList ? this.#lastSet : this.#targetSetOfList.get(only);
    if (now === before) return;
    if (now === undefined) {
      let found: Set<string> | null = null;
      for (const path of pathsOf(route)) for (const rt of path.attrs.routeTargets) (found ??= new Set()).add(rt);
      if (found !== null && found.size === before.size && [...found].every((rt) => before.has(rt))) return;
      now = found === null ? NO_TARGETS : this.#intern(found);
      if (only !== undefined && found !== null) this.#targetSetOfList.set(only, now);
    }
    if (only !== undefined) {
      this.#lastList = only;
      this.#lastSet = now;
    }
    for (const rt of before) if (!now.has(rt)) this.#count(rt, -1);
    for (const rt of now) if (!before.has(rt)) this.#count(rt, 1);
    route.indexedTargets = now;
  }

  #count(rt: string, delta: number): void {
    const n = (this.#vpnRouteCount.get(rt) ?? 0) + delta;
    if (n > 0) this.#vpnRouteCount.set(rt, n);
    else this.#vpnRouteCount.delete(rt);
  }

  /** One shared set per distinct combination of targets: VPN routes of one VN all carry the same one. */
  #intern(targets: Set<string>): ReadonlySet<string> {
    const key = [...targets].sort().join(' ');
    const known = this.#targetSets.get(key);
    if (known !== undefined) return known;
    this.#targetSets.set(key, targets);
    return targets;
  }
}
