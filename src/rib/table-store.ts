/**
 * The RIB's tables and the one way they change (docs/protocol.md §6): storing a path in its slot,
 * deleting one, settling replication (./replication.ts) after every mutation and reporting the
 * (table, prefix) pairs that changed to the listeners. A base class so that ./rib.ts, which owns the
 * public API (validation, routing instances, peers, graceful restart, RT-constrain, queries), calls
 * these steps on its hot paths (addVpnPath, removeVpnPath, removePeer) without any extra hop. Does not
 * validate input, keep routing-instance configuration rules (./tables.ts) or build views (./views.ts).
 *
 * Replicated (secondary) paths are derived state: whenever a route's paths change, the set of copies
 * it should have is recomputed and diffed against the copies it has, so secondaries follow their
 * primary through change and delete, and re-import on late VRF creation or target changes is the same
 * code path.
 */
import { normalizeAttributes, sameAttributes, samePathContent, type Path, type PathAttributes } from './path.ts';
import { comparePaths, multipathSet, type PathSelectionOptions } from './path-selection.ts';
import { keptReplica, stillWantedTest, wantedCopies, type ReplicationContext } from './replication.ts';
import { PeerStaleMarks } from './peer-stale-marks.ts';
import {
  NO_PATHS, NO_REPLICAS, VPN_TABLE, VpnRouteChange, VrfRoute, holdsPath, isLocationList, pathCount, replicaCount, replicaLocation, sameSlot, slotIndex, vpnRouteKey,
  type ChangeListener, type InstanceState, type PathLocation, type Route, type RouteChange, type Table, type VpnExportEntry,
} from './tables.ts';
import { PeerPathIndex } from './peer-paths.ts';
import { VpnRouteMap } from './vpn-route-map.ts';
import { VpnTargetIndex } from './vpn-target-index.ts';
import { hostPrefixKey } from '../net/ipv4.ts';

export abstract class TableStore {
  protected readonly options: PathSelectionOptions;
  protected readonly tables = new Map<string, Table>();
  protected readonly instanceStates = new Map<string, InstanceState>();
  /** bgp.l3vpn.0's routes by (RD, prefix): the hot paths look routes up without building a key string. */
  protected readonly vpnRoutes = new VpnRouteMap();
  protected readonly vpn: Table = { name: VPN_TABLE, routes: this.vpnRoutes };
  protected readonly targets = new VpnTargetIndex();
  readonly #replication: ReplicationContext = {
    vpn: this.vpn,
    targets: this.targets,
    instance: (name) => this.instanceStates.get(name),
  };
  /** Each peer's paths, for removePeer and peerPathCounts. */
  protected readonly peerPaths = new PeerPathIndex(this.vpn, (table, path) => this.holds(table, path));
  /** What ended sessions left behind (graceful restart). */
  protected readonly stale = new PeerStaleMarks();
  protected readonly listeners = new Set<ChangeListener>();
  /** A VPN path's input attrs object → its normalised attributes (see vpnAttributes). */
  readonly #vpnAttrsOf = new WeakMap<Partial<PathAttributes>, PathAttributes>();
  #lastVpnAttrs: PathAttributes | null = null;
  /**
   * table → its routes whose replicas must be recomputed, in the order marked. A list, not a set: a route
   * marked twice in a round (rare: its paths changed twice, not one after the other) is synced twice, which
   * finds nothing more to do the second time. The last table's list is at hand: a batch's routes share one.
   */
  #dirty = new Map<Table, Route[]>();
  #lastDirtyTable: Table | null = null;
  #lastDirty: Route[] | null = null;
  /**
   * The changes of the current mutation, in first-recorded order, and, for the changes `record` is given
   * (bgp.rtarget.0's), table name → key → change for de-duplication. VRF and bgp.l3vpn.0 routes are
   * de-duplicated by their changeMark instead (see #recordRoute).
   */
  #pending: RouteChange[] = [];
  readonly #pendingKeys = new Map<string, Map<string, RouteChange>>();
  /** VRF routes reported in this mutation that left their table, by table (see #recordRoute); mostly null. */
  #departed: Map<Table, Set<string>> | null = null;
  /**
   * Numbers the top-level mutations: a VRF or bgp.l3vpn.0 route records the one it was last reported in
   * (`Route.changeMark`), which de-duplicates its changes without a lookup (no key string hashed).
   */
  #mutation = 1;
  #depth = 0;

  constructor(options: PathSelectionOptions = {}) {
    this.options = { ...options };
    this.tables.set(VPN_TABLE, this.vpn);
  }

  protected sorted(route: Route): readonly Path[] {
    const held = route.held;
    // One path is its own order: a short-lived array for the caller, none kept per route.
    if (!Array.isArray(held)) return [held];
    if (held.length === 0) return held;
    // Kept while the paths stay: every change to route.held resets route.sorted; it never leaves the RIB.
    if (route.sorted === null) route.sorted = [...held].sort((a, b) => comparePaths(a, b, this.options));
    return route.sorted;
  }

  /** The first path in selection order (undefined when none): one path is its own best, without an array. */
  protected bestOf(route: Route): Path | undefined {
    const held = route.held;
    return Array.isArray(held) ? this.sorted(route)[0] : held;
  }

  /** Inside a mutation (a batch): a change needs no mutate of its own, hence no closure per route. */
  protected get mutating(): boolean {
    return this.#depth > 0;
  }

  protected mutate(work: () => void): RouteChange[] {
    this.#depth++;
    let failure: { error: unknown } | undefined;
    try {
      work();
    } catch (error) {
      failure = { error };
    }
    this.#depth--;
    if (this.#depth > 0) {
      if (failure) throw failure.error;
      return [];
    }
    // Even when `work` threw part-way, what it did change is replicated and reported.
    this.drain();
    const changes = this.#pending;
    this.#pending = [];
    this.#pendingKeys.clear();
    this.#departed = null;
    this.#mutation++;
    if (changes.length > 0) {
      // One faulty listener must not keep the others from learning about the change.
      for (const listener of [...this.listeners]) {
        try {
          listener(changes);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    if (failure) throw failure.error;
    return changes;
  }

  /** Records a change of `key` (unique within the table) unless the mutation already has one. */
  protected record(key: string, change: RouteChange): void {
    let keys = this.#pendingKeys.get(change.table);
    if (keys === undefined) this.#pendingKeys.set(change.table, (keys = new Map()));
    if (keys.has(key)) return;
    keys.set(key, change);
    this.#pending.push(change);
  }

  #recordRoute(table: Table, route: Route): void {
    if (table === this.vpn) {
      if (route.changeMark === this.#mutation) return;
      route.changeMark = this.#mutation;
      this.#pending.push(new VpnRouteChange(route as Route & VpnExportEntry));
      return;
    }
    if (table.instanceName !== undefined) {
      // A VRF route's changes are de-duplicated by the mark too (no prefix string hashed per change); a route
      // that left its table and came back as a new object within the mutation is found among the departed.
      if (route.changeMark === this.#mutation) return;
      route.changeMark = this.#mutation;
      if (this.#departed !== null && this.#departed.get(table)?.has(route.prefix) === true) return;
      // Only the keys that apply, as before: callers test `'instance' in change` and `rd !== undefined`.
      this.#pending.push({ table: table.name, instance: table.instanceName, prefix: route.prefix });
      return;
    }
    if (this.#pendingKeys.get(table.name)?.has(route.key) === true) return;
    const change: RouteChange = route.rd !== undefined ? { table: table.name, rd: route.rd, prefix: route.prefix } : { table: table.name, prefix: route.prefix };
    this.record(route.key, change);
  }

  /** A VRF route reported in this mutation leaves its table: a new route under its prefix is no new change. */
  #departing(table: Table, route: Route): void {
    if (route.changeMark !== this.#mutation) return;
    this.#departed ??= new Map();
    let prefixes = this.#departed.get(table);
    if (prefixes === undefined) this.#departed.set(table, (prefixes = new Set()));
    prefixes.add(route.prefix);
  }

  protected markDirty(table: Table, route: Route): void {
    let routes = table === this.#lastDirtyTable ? this.#lastDirty : this.#dirty.get(table);
    if (routes === undefined || routes === null) this.#dirty.set(table, (routes = []));
    this.#lastDirtyTable = table;
    this.#lastDirty = routes;
    // Marked right after its last mark (a route whose paths change one after the other): once is enough.
    if (routes.length === 0 || routes[routes.length - 1] !== route) routes.push(route);
  }

  /** The route under `routeKey`; in bgp.l3vpn.0 found by the RD and prefix `of` carries (a path or route stored there). */
  protected findRoute(table: Table, routeKey: string, of: { rd: string | undefined; prefix: string }): Route | undefined {
    return table === this.vpn ? this.vpnRoutes.route(of.rd ?? '', of.prefix) : table.routes.get(routeKey);
  }

  /** Whether this very path object is still stored in the table (not replaced, not deleted). */
  protected holds(table: Table, path: Path): boolean {
    const route = this.findRoute(table, this.routeKeyOf(table, path), path);
    return route !== undefined && holdsPath(route, path);
  }

  /** Where a stored path sits in its table (see putPath's callers). */
  protected routeKeyOf(table: Table, path: Path): string {
    return table === this.vpn ? vpnRouteKey(path.rd, path.prefix) : path.prefix;
  }

  protected markVpnRoutesWithTargets(targets: Iterable<string>): void {
    // A walk, only when some route carries one of them: importers change with config, routes with every UPDATE.
    const list = [...targets];
    if (!this.targets.anyVpnRouteWith(list)) return;
    for (const route of this.vpn.routes.values()) {
      for (const rt of list) {
        if (route.indexedTargets.has(rt)) {
          this.markDirty(this.vpn, route);
          break;
        }
      }
    }
  }

  protected putPath(table: Table, routeKey: string, prefix: string, rd: string | undefined, path: Path): void {
    // A /32 is found by its address as a number (./vrf-route-map.ts, ./vpn-route-map.ts), read once here.
    const host = hostPrefixKey(prefix);
    let route = table === this.vpn ? this.vpnRoutes.route(rd ?? '', prefix, host) : table.routes.get(routeKey, host);
    if (route === undefined) {
      // The path itself, no array: most routes keep one path.
      route = table === this.vpn
        ? VpnRouteMap.newRoute(rd ?? '', prefix, path, host)
        : new VrfRoute(prefix, path);
      table.routes.set(routeKey, route, host);
      this.#pathStored(table, route, path, undefined);
      return;
    }
    const held = route.held;
    let previous: Path | undefined;
    if (Array.isArray(held)) {
      const index = slotIndex(held, path);
      previous = index < 0 ? undefined : held[index];
      if (previous !== undefined && samePathContent(previous, path)) {
        // Announced again unchanged: the stored object stays, and is fresh again.
        if (this.stale.active) this.stale.unmarkPath(previous);
        return;
      }
      if (index >= 0) held[index] = path;
      else if (held.length === 0) route.held = path;
      // `[a, b]`, not push: a first push reserves 17 slots.
      else if (held.length === 1) route.held = [held[0], path];
      else held.push(path);
    } else if (sameSlot(held, path)) {
      previous = held;
      if (samePathContent(previous, path)) {
        if (this.stale.active) this.stale.unmarkPath(previous);
        return;
      }
      route.held = path;
    } else {
      route.held = [held, path];
    }
    this.#pathStored(table, route, path, previous);
  }

  /** The bookkeeping once `path` holds its slot in `route` (replacing `previous`). */
  #pathStored(table: Table, route: Route, path: Path, previous: Path | undefined): void {
    route.sorted = null;
    if (previous !== undefined) {
      this.peerPaths.remove(table, previous);
      if (this.stale.active) this.stale.unmarkPath(previous);
    }
    this.peerPaths.add(table, path);
    this.#routeChanged(table, route);
  }

  /** Deletes the path in `slot`'s slot (sameSlot), if the route has one. */
  protected deletePath(table: Table, routeKey: string, slot: Path): void {
    const route = this.findRoute(table, routeKey, slot);
    if (route !== undefined) this.deleteFromRoute(table, route, slot);
  }

  /** deletePath for a caller that holds the route (stored in `table`). */
  protected deleteFromRoute(table: Table, route: Route, slot: Path): void {
    const held = route.held;
    let path: Path;
    if (Array.isArray(held)) {
      const index = slotIndex(held, slot);
      if (index < 0) return;
      path = held[index];
      // Back to the single path, or to none, without an array; the array itself is left as it was (a
      // caller walking it backwards, ./rib.ts, still finds the other path where it was).
      if (held.length === 2) route.held = held[1 - index];
      else if (held.length === 1) route.held = NO_PATHS;
      else held.splice(index, 1);
    } else {
      if (!sameSlot(held, slot)) return;
      path = held;
      route.held = NO_PATHS;
    }
    route.sorted = null;
    this.peerPaths.remove(table, path);
    if (this.stale.active) this.stale.unmarkPath(path);
    this.#routeChanged(table, route);
  }

  #routeChanged(table: Table, route: Route): void {
    this.#recordRoute(table, route);
    if (table === this.vpn) {
      this.targets.reindex(route);
      if (pathCount(route) === 0 && replicaCount(route) === 0) {
        // The last path went and nothing was copied from it (a withdrawn reflected route): it leaves now,
        // without a re-sync that would find it again only to delete it.
        this.vpnRoutes.deleteStored(route);
        return;
      }
      if (!this.targets.needsVpnSync(route)) return;
    }
    this.markDirty(table, route);
  }

  /**
   * The normalised form of a VPN path's attrs object, made once per object, and shared with the previous
   * object's when equal: an UPDATE's routes share one attrs object, and a feed's UPDATEs mostly equal ones.
   */
  protected vpnAttributes(attrs: Partial<PathAttributes> | undefined): PathAttributes {
    if (attrs === undefined) return normalizeAttributes();
    let normalized = this.#vpnAttrsOf.get(attrs);
    if (normalized !== undefined) return normalized;
    normalized = normalizeAttributes(attrs);
    const last = this.#lastVpnAttrs;
    if (last !== null && sameAttributes(last, normalized)) normalized = last;
    else this.#lastVpnAttrs = normalized;
    this.#vpnAttrsOf.set(attrs, normalized);
    return normalized;
  }

  /** Processes dirty routes until replication has settled. */
  protected drain(): void {
    while (this.#dirty.size > 0) {
      // Take the whole map per round: routes dirtied while syncing land in the next round.
      const round = this.#dirty;
      this.#dirty = new Map();
      this.#lastDirtyTable = null;
      this.#lastDirty = null;
      for (const [table, routes] of round) for (const route of routes) this.#syncReplicas(table, route);
    }
  }

  /** Makes the copies of one route's paths match what the replication rules ask for. */
  #syncReplicas(table: Table, marked: Route): void {
    // The route stored under the key now: the marked one while it holds a path (a route leaves its table only
    // once empty, and only the stored route gets paths), else whatever took its place, if anything.
    const route = pathCount(marked) > 0 ? marked : table === this.vpn ? this.vpnRoutes.route(marked.rd ?? '', marked.prefix) : table.routes.get(marked.prefix);
    if (route === undefined) return;
    const held = route.held;
    // One path is its own ECMP set when feasible: no sorted list made for it.
    const eligible = Array.isArray(held) ? multipathSet(this.sorted(route), this.options) : held.attrs.feasible ? [held] : [];
    const chosen = eligible.length === 0 ? [] : wantedCopies(table, eligible, this.#replication);
    const stillWanted = stillWantedTest(route, chosen);
    const had = route.replicas;
    if (isLocationList(had)) {
      for (const location of had) this.#dropCopy(location, stillWanted);
    } else {
      this.#dropCopy(replicaLocation(had), stillWanted);
    }
    if (chosen.length === 0) {
      route.replicas = NO_REPLICAS;
    } else {
      for (const { target, targetKey, rd, path } of chosen) this.putPath(target, targetKey, path.prefix, rd, path);
      // A wanted copy is its own location: one copy is kept as itself (a bgp.l3vpn.0 copy as the copied
      // path alone), several as an exact-size array.
      route.replicas = chosen.length === 1 ? keptReplica(chosen[0]) : chosen.slice();
    }
    // Replication writes other tables only (VRF → VPN → VRF), so `route` is still the one stored here.
    if (pathCount(route) === 0) {
      if (table === this.vpn) this.vpnRoutes.deleteRoute(route.rd ?? '', route.prefix);
      else {
        this.#departing(table, route);
        table.routes.delete(route.prefix);
      }
      if (table === this.vpn) this.targets.reindex(route);
    }
  }

  /** Deletes the copy at `location` unless replication still wants it. */
  #dropCopy(location: PathLocation, stillWanted: ((location: PathLocation) => boolean) | null): void {
    if (stillWanted !== null && stillWanted(location)) return;
    const target = this.tables.get(location.table);
    if (target !== undefined) this.deletePath(target, location.routeKey, location.path);
  }
}
