/**
 * The control node's routing tables (docs/protocol.md §6), composed: one `<instance>.inet.0` per routing
 * instance, `bgp.l3vpn.0` keyed by RD + prefix, `bgp.rtarget.0` for RT-constrain, and replication between
 * them (./replication.ts). This class owns the tables, the mutations and their change reports and
 * attribute sharing; it delegates what gets copied where to ./replication.ts, the route-target indexes
 * to ./vpn-target-index.ts, bgp.l3vpn.0's index by (RD, prefix) to ./vpn-route-map.ts, each peer's paths
 * to ./peer-paths.ts, the result shapes to ./views.ts and path order to ./path-selection.ts. Protocol-neutral: what an agent's XMPP `<item>` looks like is src/control's.
 *
 * Replicated (secondary) paths are derived state: whenever a route's paths change, the set of copies
 * it should have is recomputed and diffed against the copies it has, so secondaries follow their
 * primary through change and delete, and re-import on late VRF creation or target changes is the same
 * code path.
 *
 * Synchronous and in-memory. Every public mutation returns the (table, prefix) pairs whose paths
 * changed and passes the same list to onChange listeners; `batch` merges the lists of many mutations.
 * Invalid input throws RibError before anything is modified.
 */
import { makePath, makePathWithAttributes, normalizeAttributes, sameAttributes, samePathContent, type Path, type PathAttributes, type PathInput, type PeerRef } from './path.ts';
import { comparePaths, multipathSet, type PathSelectionOptions } from './path-selection.ts';
import { stillWantedTest, wantedCopies, type ReplicationContext } from './replication.ts';
import { RibError, checkIpv4Prefix, checkRouteDistinguisher } from './route-syntax.ts';
import { RouteTargetMembership, type MembershipRoute } from './route-target-membership.ts';
import {
  NO_REPLICAS,
  NO_TARGETS,
  RTARGET_TABLE,
  VPN_TABLE,
  checkInstanceConfig,
  instanceTableName,
  slotIndex,
  vpnRouteKey,
  type ChangeListener,
  type InstanceState,
  type Route,
  type RouteChange,
  type RoutingInstanceConfig,
  type Table,
} from './tables.ts';
import { instanceView, routeView, type InstanceView, type PeerPathCount, type RouteView } from './views.ts';
import { PeerPathIndex } from './peer-paths.ts';
import { VpnRouteMap } from './vpn-route-map.ts';
import { VpnTargetIndex } from './vpn-target-index.ts';

export { RTARGET_TABLE, VPN_TABLE, instanceTableName, type ChangeListener, type RouteChange, type RoutingInstanceConfig } from './tables.ts';
export type { InstanceView, PathView, PeerPathCount, RouteView } from './views.ts';

export class Rib {
  readonly #options: PathSelectionOptions;
  readonly #tables = new Map<string, Table>();
  readonly #instances = new Map<string, InstanceState>();
  /** bgp.l3vpn.0's routes by (RD, prefix): the hot paths look routes up without building a key string. */
  readonly #vpnRoutes = new VpnRouteMap();
  readonly #vpn: Table = { name: VPN_TABLE, routes: this.#vpnRoutes };
  readonly #memberships = new RouteTargetMembership();
  readonly #targets = new VpnTargetIndex();
  readonly #replication: ReplicationContext = {
    vpn: this.#vpn,
    targets: this.#targets,
    instance: (name) => this.#instances.get(name),
  };
  /** Each peer's paths, for removePeer and peerPathCounts. */
  readonly #peerPaths = new PeerPathIndex(this.#vpn);
  readonly #listeners = new Set<ChangeListener>();
  /** A VPN path's input attrs object → its normalised attributes (see #vpnAttributes). */
  readonly #vpnAttrsOf = new WeakMap<Partial<PathAttributes>, PathAttributes>();
  #lastVpnAttrs: PathAttributes | null = null;
  /** table → its routes whose replicas must be recomputed, by route key */
  #dirty = new Map<Table, Map<string, Route>>();
  /**
   * The changes of the current mutation, in first-recorded order, and table name → route key → change
   * for de-duplication: the route key is already a hashed Map key, so no key string is built per change.
   */
  #pending: RouteChange[] = [];
  readonly #pendingKeys = new Map<string, Map<string, RouteChange>>();
  #depth = 0;

  constructor(options: PathSelectionOptions = {}) {
    this.#options = { ...options };
    this.#tables.set(VPN_TABLE, this.#vpn);
  }

  // ───────────────────────── notifications ─────────────────────────

  /** Called once per top-level mutation (or batch) with every route whose paths changed. Returns an unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs several mutations and reports their changes once, de-duplicated. */
  batch(work: () => void): RouteChange[] {
    return this.#mutate(work);
  }

  // ───────────────────────── routing instances ─────────────────────────

  /** Creates `<name>.inet.0` and imports every VPN route carrying one of its import targets. */
  createInstance(config: RoutingInstanceConfig): RouteChange[] {
    const checked = checkInstanceConfig(config);
    if (this.#instances.has(checked.name)) throw new RibError(`routing instance ${checked.name} already exists`);
    return this.#mutate(() => {
      const table: Table = { name: instanceTableName(checked.name), instanceName: checked.name, routes: new Map() };
      const state: InstanceState = { config: checked, table, lastAttrs: null, lastCopyAttrs: null };
      this.#instances.set(checked.name, state);
      this.#tables.set(table.name, table);
      for (const rt of checked.importTargets) this.#targets.addImporter(rt, checked.name);
      this.#markVpnRoutesWithTargets(checked.importTargets);
    });
  }

  /** Deletes the instance, every path in its table and every copy made from them. */
  deleteInstance(name: string): RouteChange[] {
    const state = this.#requireInstance(name);
    return this.#mutate(() => {
      for (const rt of state.config.importTargets) this.#targets.removeImporter(rt, name);
      this.#markVpnRoutesWithTargets(state.config.importTargets);
      this.#instances.delete(name);
      for (const route of [...state.table.routes.values()]) {
        for (const path of [...route.paths]) {
          if (path.replicatedFrom === undefined) this.#deletePath(state.table, route.key, path);
        }
      }
      this.#drain();
      // Secondaries went when their VPN routes were re-synced against the shrunken importer set.
      this.#tables.delete(state.table.name);
    });
  }

  /** Replaces the import and/or export targets; re-imports and re-exports what they affect. */
  setInstanceTargets(name: string, targets: { importTargets?: readonly string[]; exportTargets?: readonly string[] }): RouteChange[] {
    const state = this.#requireInstance(name);
    const next = checkInstanceConfig({
      ...state.config,
      importTargets: targets.importTargets ?? state.config.importTargets,
      exportTargets: targets.exportTargets ?? state.config.exportTargets,
    });
    return this.#mutate(() => {
      const before = new Set(state.config.importTargets);
      const after = new Set(next.importTargets);
      const changedImports = [...before, ...after].filter((rt) => before.has(rt) !== after.has(rt));
      for (const rt of before) if (!after.has(rt)) this.#targets.removeImporter(rt, name);
      for (const rt of after) if (!before.has(rt)) this.#targets.addImporter(rt, name);
      const exportsChanged = JSON.stringify(state.config.exportTargets) !== JSON.stringify(next.exportTargets);
      state.config = next;
      this.#markVpnRoutesWithTargets(changedImports);
      if (exportsChanged) for (const route of state.table.routes.values()) this.#markDirty(state.table, route);
    });
  }

  // ───────────────────────── paths ─────────────────────────

  /**
   * Adds or replaces the peer's path (per peer and RD) for a prefix in `<instance>.inet.0`. For XMPP
   * peers the origin VN and its index come from the instance: the control node ignores the agent's (docs/protocol.md §5).
   * The caller applies medForXmppPath to XMPP items first.
   */
  addPath(instance: string, input: PathInput): RouteChange[] {
    const state = this.#requireInstance(instance);
    const { virtualNetwork, vnIndex } = state.config;
    const made = makePath(input, input.peer.kind === 'xmpp' ? { virtualNetwork, vnIndex } : {});
    const last = state.lastAttrs;
    let path = made;
    if (last !== null && sameAttributes(last, made.attrs)) {
      path = { peer: made.peer, rd: made.rd, prefix: made.prefix, label: made.label, nextHop: made.nextHop, attrs: last };
    } else {
      state.lastAttrs = made.attrs;
    }
    return this.#mutate(() => this.#putPath(state.table, path.prefix, path.prefix, undefined, path));
  }

  /** Removes the peer's path for the prefix in the instance (only the one with `rd` when given). */
  removePath(instance: string, prefix: string, peerName: string, rd?: string): RouteChange[] {
    const state = this.#requireInstance(instance);
    checkIpv4Prefix(prefix);
    return this.#mutate(() => {
      const route = state.table.routes.get(prefix);
      if (route === undefined) return;
      for (const path of [...route.paths]) {
        if (path.peer.name === peerName && path.replicatedFrom === undefined && (rd === undefined || path.rd === rd)) {
          this.#deletePath(state.table, prefix, path);
        }
      }
    });
  }

  /**
   * Adds or replaces a path in bgp.l3vpn.0 (a BGP peer's VPN route, keyed by RD + prefix). The attrs
   * object is read once: the RIB remembers what it normalised to, so a caller must not change an attrs
   * object after passing it (BGP ingest builds one per UPDATE and passes it with each of its routes).
   */
  addVpnPath(input: PathInput): RouteChange[] {
    const path = makePathWithAttributes(input, this.#vpnAttributes(input.attrs));
    return this.#mutate(() => this.#putPath(this.#vpn, vpnRouteKey(path.rd, path.prefix), path.prefix, path.rd, path));
  }

  removeVpnPath(rd: string, prefix: string, peerName: string): RouteChange[] {
    const route = this.#vpnRoutes.route(rd, prefix);
    // A stored route's RD and prefix were checked when it was stored: BGP withdraws (a million at a time)
    // skip the syntax checks unless there is nothing to remove.
    if (route === undefined || route.rd !== rd || route.prefix !== prefix) {
      checkRouteDistinguisher(rd);
      checkIpv4Prefix(prefix);
      if (route === undefined) return [];
    }
    return this.#mutate(() => {
      for (let i = route.paths.length - 1; i >= 0; i--) {
        const path = route.paths[i];
        if (path !== undefined && path.peer.name === peerName && path.replicatedFrom === undefined) this.#deletePath(this.#vpn, route.key, path);
      }
    });
  }

  /** Everything a peer brought in goes at once: its paths, their copies, its RT memberships (docs/protocol.md §6.7). */
  removePeer(peerName: string): RouteChange[] {
    return this.#mutate(() => {
      for (const [path, table] of this.#peerPaths.tracked(peerName)) {
        if (path.replicatedFrom !== undefined) continue;
        const routeKey = this.#routeKeyOf(table, path);
        if (this.#findRoute(table, routeKey, path)?.paths.includes(path) === true) this.#deletePath(table, routeKey, path);
      }
      if (this.#peerPaths.hasVpnPrimaries(peerName)) {
        const found: [string, Path][] = [];
        for (const route of this.#vpn.routes.values()) {
          for (const path of route.paths) if (path.peer.name === peerName && path.replicatedFrom === undefined) found.push([route.key, path]);
        }
        for (const [routeKey, path] of found) this.#deletePath(this.#vpn, routeKey, path);
      }
      for (const prefix of this.#memberships.removePeer(peerName)) this.#record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  // ───────────────────────── route-target membership (bgp.rtarget.0) ─────────────────────────

  addRouteTargetMembership(peer: PeerRef, originAsn: number, routeTarget: string): RouteChange[] {
    return this.#mutate(() => {
      const prefix = this.#memberships.add(peer, originAsn, routeTarget);
      if (prefix !== null) this.#record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  removeRouteTargetMembership(peerName: string, originAsn: number, routeTarget: string): RouteChange[] {
    return this.#mutate(() => {
      const prefix = this.#memberships.remove(peerName, originAsn, routeTarget);
      if (prefix !== null) this.#record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  /** BGP peers that want a VPN route carrying any of these targets (RT-constrain, docs/protocol.md §6.6). */
  peersInterestedIn(routeTargets: readonly string[]): PeerRef[] {
    return this.#memberships.interestedPeers(routeTargets);
  }

  routeTargetMemberships(): MembershipRoute[] {
    return this.#memberships.routes();
  }

  // ───────────────────────── queries ─────────────────────────

  /**
   * The multipath (ECMP) set of a route in a VRF or VPN table (`rd` required for bgp.l3vpn.0): best
   * first, then every path that ties it up to MED. Empty when the route, its table or a feasible path
   * is missing. A fresh array; the paths are the RIB's own and must not be changed.
   */
  multipathPaths(table: string, prefix: string, rd?: string): Path[] {
    const found = this.#tables.get(table);
    const route = found === this.#vpn ? this.#vpnRoutes.route(rd ?? '', prefix) : found?.routes.get(prefix);
    return route === undefined ? [] : multipathSet(this.#sorted(route), this.#options);
  }

  /**
   * The best path of a bgp.l3vpn.0 route when it is feasible (what BGP export advertises), else undefined.
   * The RIB's own object, not a view: export asks once per changed route and must not change it.
   */
  bestVpnPath(rd: string, prefix: string): Path | undefined {
    const route = this.#vpnRoutes.route(rd, prefix);
    if (route === undefined) return undefined;
    const best = this.#sorted(route)[0];
    return best !== undefined && best.attrs.feasible ? best : undefined;
  }

  /** The fq-name of the virtual network with this index, when an instance here belongs to it. */
  virtualNetworkName(vnIndex: number): string | undefined {
    for (const state of this.#instances.values()) {
      if (state.config.vnIndex === vnIndex && state.config.virtualNetwork !== '') return state.config.virtualNetwork;
    }
    return undefined;
  }

  /** The route in a VRF or VPN table (`rd` required for bgp.l3vpn.0), paths in selection order. */
  route(table: string, prefix: string, rd?: string): RouteView | undefined {
    const found = this.#tables.get(table);
    if (found === undefined) return undefined;
    const route = found === this.#vpn ? this.#vpnRoutes.route(rd ?? '', prefix) : found.routes.get(prefix);
    return route === undefined ? undefined : routeView(found, route, this.#sorted(route), this.#options);
  }

  /** Every route of a VRF or VPN table, sorted by RD then prefix. bgp.rtarget.0: see routeTargetMemberships. */
  routes(table: string): RouteView[] {
    const found = this.#tables.get(table);
    if (found === undefined) throw new RibError(`no table ${table}`);
    return [...found.routes.values()]
      .sort((a, b) => (a.rd ?? '').localeCompare(b.rd ?? '') || a.prefix.localeCompare(b.prefix, 'en', { numeric: true }))
      .map((route) => routeView(found, route, this.#sorted(route), this.#options));
  }

  /** The prefixes of a VRF table, unordered: what a table walk needs, without building route views. */
  prefixes(table: string): string[] {
    const found = this.#tables.get(table);
    if (found === undefined || found === this.#vpn) throw new RibError(`no VRF table ${table}`);
    return [...found.routes.keys()];
  }

  tableNames(): string[] {
    return [...this.#tables.keys(), RTARGET_TABLE];
  }

  instances(): InstanceView[] {
    return [...this.#instances.values()].map((state) => instanceView(state));
  }

  instance(name: string): InstanceView | undefined {
    const state = this.#instances.get(name);
    return state === undefined ? undefined : instanceView(state);
  }

  /** Path counts per peer, sorted by peer name. */
  peerPathCounts(): PeerPathCount[] {
    const names = new Set([...this.#peerPaths.peerNames(), ...this.#memberships.peerNames()]);
    return [...names].sort().map((peer) => {
      const { primary, secondary } = this.#peerPaths.counts(peer);
      return { peer, primary, secondary, routeTargetMemberships: this.#memberships.pathCount(peer) };
    });
  }

  // ───────────────────────── internals ─────────────────────────

  #requireInstance(name: string): InstanceState {
    const state = this.#instances.get(name);
    if (state === undefined) throw new RibError(`no routing instance ${name}`);
    return state;
  }

  #sorted(route: Route): Path[] {
    // One path is its own order: sharing the array spares one per route. Safe because every change to
    // route.paths resets route.sorted, and the sorted array never leaves the RIB.
    if (route.sorted === null) route.sorted = route.paths.length <= 1 ? route.paths : [...route.paths].sort((a, b) => comparePaths(a, b, this.#options));
    return route.sorted;
  }

  #mutate(work: () => void): RouteChange[] {
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
    this.#drain();
    const changes = this.#pending;
    this.#pending = [];
    this.#pendingKeys.clear();
    if (changes.length > 0) {
      // One faulty listener must not keep the others from learning about the change.
      for (const listener of [...this.#listeners]) {
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
  #record(key: string, change: RouteChange): void {
    let keys = this.#pendingKeys.get(change.table);
    if (keys === undefined) this.#pendingKeys.set(change.table, (keys = new Map()));
    if (keys.has(key)) return;
    keys.set(key, change);
    this.#pending.push(change);
  }

  #recordRoute(table: Table, route: Route): void {
    if (this.#pendingKeys.get(table.name)?.has(route.key) === true) return;
    // Only the keys that apply, as before: callers test `'instance' in change` and `rd !== undefined`.
    let change: RouteChange;
    if (table.instanceName !== undefined) change = { table: table.name, instance: table.instanceName, prefix: route.prefix };
    else if (route.rd !== undefined) change = { table: table.name, rd: route.rd, prefix: route.prefix };
    else change = { table: table.name, prefix: route.prefix };
    this.#record(route.key, change);
  }

  #markDirty(table: Table, route: Route): void {
    let routes = this.#dirty.get(table);
    if (routes === undefined) this.#dirty.set(table, (routes = new Map()));
    routes.set(route.key, route);
  }

  /** The route under `routeKey`; in bgp.l3vpn.0 found by the RD and prefix `of` carries (a path or route stored there). */
  #findRoute(table: Table, routeKey: string, of: { rd: string | undefined; prefix: string }): Route | undefined {
    return table === this.#vpn ? this.#vpnRoutes.route(of.rd ?? '', of.prefix) : table.routes.get(routeKey);
  }

  /** Where a stored path sits in its table (see #putPath's callers). */
  #routeKeyOf(table: Table, path: Path): string {
    return table === this.#vpn ? vpnRouteKey(path.rd, path.prefix) : path.prefix;
  }

  #markVpnRoutesWithTargets(targets: Iterable<string>): void {
    // A walk, only when some route carries one of them: importers change with config, routes with every UPDATE.
    const list = [...targets];
    if (!this.#targets.anyVpnRouteWith(list)) return;
    for (const route of this.#vpn.routes.values()) {
      for (const rt of list) {
        if (route.indexedTargets.has(rt)) {
          this.#markDirty(this.#vpn, route);
          break;
        }
      }
    }
  }

  #putPath(table: Table, routeKey: string, prefix: string, rd: string | undefined, path: Path): void {
    let route = table === this.#vpn ? this.#vpnRoutes.route(rd ?? '', prefix) : table.routes.get(routeKey);
    if (route === undefined) {
      // `[path]`, not `[]` + push: a first push reserves 17 slots, and most routes keep one path.
      route = { key: routeKey, prefix, rd, paths: [path], sorted: null, replicas: NO_REPLICAS, indexedTargets: NO_TARGETS };
      table.routes.set(routeKey, route);
      this.#pathStored(table, route, path, undefined);
      return;
    }
    const index = slotIndex(route.paths, path);
    const previous = index < 0 ? undefined : route.paths[index];
    if (previous !== undefined && samePathContent(previous, path)) return;
    if (index < 0) route.paths.push(path);
    else route.paths[index] = path;
    this.#pathStored(table, route, path, previous);
  }

  /** The bookkeeping once `path` holds its slot in `route` (replacing `previous`). */
  #pathStored(table: Table, route: Route, path: Path, previous: Path | undefined): void {
    route.sorted = null;
    if (previous !== undefined) this.#peerPaths.remove(table, previous);
    this.#peerPaths.add(table, path);
    this.#routeChanged(table, route);
  }

  /** Deletes the path in `slot`'s slot (sameSlot), if the route has one. */
  #deletePath(table: Table, routeKey: string, slot: Path): void {
    const route = this.#findRoute(table, routeKey, slot);
    if (route === undefined) return;
    const index = slotIndex(route.paths, slot);
    if (index < 0) return;
    const path = route.paths[index];
    route.paths.splice(index, 1);
    route.sorted = null;
    this.#peerPaths.remove(table, path);
    this.#routeChanged(table, route);
  }

  #routeChanged(table: Table, route: Route): void {
    this.#recordRoute(table, route);
    if (table === this.#vpn) {
      this.#targets.reindex(route);
      if (!this.#targets.needsVpnSync(route)) return;
    }
    this.#markDirty(table, route);
  }

  /**
   * The normalised form of a VPN path's attrs object, made once per object, and shared with the previous
   * object's when equal: an UPDATE's routes share one attrs object, and a feed's UPDATEs mostly equal ones.
   */
  #vpnAttributes(attrs: Partial<PathAttributes> | undefined): PathAttributes {
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
  #drain(): void {
    while (this.#dirty.size > 0) {
      // Take the whole set per round: routes dirtied while syncing land in the next round.
      const round = this.#dirty;
      this.#dirty = new Map();
      for (const [table, routes] of round) for (const [routeKey, route] of routes) this.#syncReplicas(table, routeKey, route);
    }
  }

  /** Makes the copies of one route's paths match what the replication rules ask for. */
  #syncReplicas(table: Table, routeKey: string, marked: Route): void {
    // The route stored under the key now (the marked one, unless it left and another took its place).
    const route = this.#findRoute(table, routeKey, marked);
    if (route === undefined) return;
    const chosen = wantedCopies(table, routeKey, multipathSet(this.#sorted(route), this.#options), this.#replication);
    const stillWanted = stillWantedTest(route, chosen);
    for (const location of route.replicas) {
      if (stillWanted !== null && stillWanted(location)) continue;
      const target = this.#tables.get(location.table);
      if (target !== undefined) this.#deletePath(target, location.routeKey, location.path);
    }
    if (chosen.length === 0) {
      route.replicas = NO_REPLICAS;
    } else {
      for (const { target, targetKey, rd, path } of chosen) this.#putPath(target, targetKey, path.prefix, rd, path);
      // map, not push: an exact-size array (see #putPath).
      route.replicas = chosen.map(({ target, targetKey, path }) => ({ table: target.name, routeKey: targetKey, path }));
    }
    if (route.paths.length === 0 && this.#findRoute(table, routeKey, route) === route) {
      if (table === this.#vpn) this.#vpnRoutes.deleteRoute(route.rd ?? '', route.prefix);
      else table.routes.delete(routeKey);
      if (table === this.#vpn) this.#targets.reindex(route);
    }
  }
}
