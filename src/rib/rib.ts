/**
 * The control node's routing tables (§6): one `<instance>.inet.0` per routing instance, `bgp.l3vpn.0`
 * keyed by RD + prefix, `bgp.rtarget.0` for RT-constrain, and Contrail's RoutePathReplicator between
 * them (§6.1):
 *
 *   VRF primary path (XMPP, ECMP-eligible) ──copy: RTs = VRF export targets, OriginVN = VRF's VN──►
 *   bgp.l3vpn.0 path (ECMP-eligible, incl. BGP-learned) ──copy──► every other VRF importing one of its RTs
 *
 * Replicated (secondary) paths are derived state: whenever a route's paths change, the set of copies
 * it should have is recomputed and diffed against the copies it has, so secondaries follow their
 * primary through change and delete, and re-import on late VRF creation or target changes is the same
 * code path. Secondaries are never replicated again, which bounds the chain at VRF → VPN → VRF.
 *
 * Synchronous and in-memory. Every public mutation returns the (table, prefix) pairs whose paths
 * changed and passes the same list to onChange listeners; `batch` merges the lists of many mutations.
 * Invalid input throws RibError before anything is modified.
 */
import { agentRouteItem, multipathSet, type AgentRouteItem } from './next-hop-list.ts';
import { makePath, makePathWithAttributes, normalizeAttributes, sameAttributes, samePathContent, type Path, type PathAttributes, type PathInput, type PeerRef } from './path.ts';
import { comparePaths, type PathSelectionOptions } from './path-selection.ts';
import { RibError, checkIpv4Prefix, checkRouteDistinguisher, checkRouteTarget } from './route-syntax.ts';
import { RouteTargetMembership, type MembershipRoute } from './route-target-membership.ts';

export const VPN_TABLE = 'bgp.l3vpn.0';
export const RTARGET_TABLE = 'bgp.rtarget.0';

export function instanceTableName(instance: string): string {
  return `${instance}.inet.0`;
}

export interface RoutingInstanceConfig {
  /** e.g. 'default-domain:demo:svc-vn:svc-vn' */
  readonly name: string;
  /** VN fq-name, e.g. 'default-domain:demo:svc-vn' */
  readonly virtualNetwork: string;
  readonly vnIndex: number;
  readonly importTargets: readonly string[];
  readonly exportTargets: readonly string[];
}

/** One route whose set of paths changed. `instance` is set for VRF tables, `rd` for bgp.l3vpn.0. */
export interface RouteChange {
  readonly table: string;
  readonly instance?: string;
  readonly rd?: string;
  readonly prefix: string;
}

export type ChangeListener = (changes: readonly RouteChange[]) => void;

export interface PathView {
  readonly peer: PeerRef;
  readonly rd: string;
  readonly label: number;
  readonly nextHop: string;
  /** First in selection order and feasible. */
  readonly best: boolean;
  /** Part of the ECMP set (best included). */
  readonly multipath: boolean;
  /** Table the primary lives in, for replicated (secondary) paths. */
  readonly replicatedFrom?: string;
  readonly attrs: PathAttributes;
}

export interface RouteView {
  readonly table: string;
  readonly instance?: string;
  readonly rd?: string;
  readonly prefix: string;
  /** In selection order. */
  readonly paths: readonly PathView[];
}

export interface InstanceView extends RoutingInstanceConfig {
  readonly table: string;
  readonly routeCount: number;
}

export interface PeerPathCount {
  readonly peer: string;
  /** Paths the peer put in (VRF or VPN table). */
  readonly primary: number;
  /** Copies of those paths made by replication. */
  readonly secondary: number;
  readonly routeTargetMemberships: number;
}

// Every route has the same shape (rd present, possibly undefined) so that the hot paths stay monomorphic.
interface Route {
  readonly key: string;
  readonly prefix: string;
  readonly rd: string | undefined;
  /**
   * One slot per peer, RD and origin table (see sameSlot). An array, not a Map: a route holds a handful
   * of paths, and a Map plus a key string per path was most of what a path kept alive.
   */
  readonly paths: Path[];
  sorted: Path[] | null;
  /** Where this route's paths were copied. NO_REPLICAS until the first copy. */
  replicas: readonly PathLocation[];
  /** VPN routes only: route targets indexed in vpnRoutesByTarget. NO_TARGETS until the first one. */
  indexedTargets: ReadonlySet<string>;
}

// Most routes never get a copy (VPN routes whose only importer is their origin) and VRF routes never
// index targets: sharing one empty collection spares two allocations per route.
const NO_REPLICAS: readonly PathLocation[] = Object.freeze([]);
const NO_TARGETS: ReadonlySet<string> = new Set();

interface Table {
  readonly name: string;
  /** Set for VRF tables. The instance is looked up by name so a table being deleted exports nothing. */
  readonly instanceName?: string;
  readonly routes: Map<string, Route>;
}

interface InstanceState {
  config: RoutingInstanceConfig;
  readonly table: Table;
  /**
   * The attribute set of the last path stored here, shared by every later path with equal attributes:
   * an instance's XMPP paths differ in label and next hop, hardly ever in attributes, and one shared
   * object per path is most of what a path keeps alive.
   */
  lastAttrs: PathAttributes | null;
  /** The same for the bgp.l3vpn.0 copies: `from` (a path's attrs) under `config` gave `attrs`. */
  lastCopyAttrs: { from: PathAttributes; config: RoutingInstanceConfig; attrs: PathAttributes } | null;
}

interface PathLocation {
  readonly table: string;
  readonly routeKey: string;
  /** The copy stored there; its slot (sameSlot) is what identifies it in that route. */
  readonly path: Path;
}

/** What #syncReplicas wants stored: `path` in `target`'s route `targetKey`. */
interface WantedCopy {
  readonly target: Table;
  readonly targetKey: string;
  readonly rd: string | undefined;
  readonly path: Path;
}

const SEP = '\u0000';

/** A route keeps one path per peer, RD and origin table: a new path in the same slot replaces the old. */
function sameSlot(a: Path, b: Path): boolean {
  return a.rd === b.rd && a.peer.name === b.peer.name && a.replicatedFrom?.table === b.replicatedFrom?.table;
}

function slotIndex(paths: readonly Path[], path: Path): number {
  for (let i = 0; i < paths.length; i++) if (sameSlot(paths[i], path)) return i;
  return -1;
}

// Above this many copies of one route, the replica diff indexes by key instead of scanning.
const LINEAR_REPLICAS = 16;

function copyKey(table: string, routeKey: string, path: Path): string {
  return `${table}${SEP}${routeKey}${SEP}${path.peer.name}${SEP}${path.rd}${SEP}${path.replicatedFrom?.table ?? ''}`;
}

/**
 * A replicated path. Spelled out rather than spread: a spread of a stored path gave every copy its own
 * hidden class (~125 B each, one per route).
 */
function copyOf(path: Path, attrs: PathAttributes, replicatedFrom: { table: string; routeKey: string }): Path {
  return { peer: path.peer, rd: path.rd, prefix: path.prefix, label: path.label, nextHop: path.nextHop, attrs, replicatedFrom };
}

function vpnRouteKey(rd: string, prefix: string): string {
  return `${rd}:${prefix}`;
}

function checkInstanceConfig(config: RoutingInstanceConfig): RoutingInstanceConfig {
  if (typeof config.name !== 'string' || config.name === '' || /\s/.test(config.name)) {
    throw new RibError(`invalid routing instance name '${String(config.name)}'`);
  }
  if (config.name === 'bgp') throw new RibError(`routing instance name 'bgp' is reserved for the VPN tables`);
  if (!Number.isInteger(config.vnIndex) || config.vnIndex < 0 || config.vnIndex > 0xffffffff) {
    throw new RibError(`routing instance ${config.name}: invalid VN index ${String(config.vnIndex)}`);
  }
  for (const rt of [...config.importTargets, ...config.exportTargets]) checkRouteTarget(rt);
  return {
    name: config.name,
    virtualNetwork: config.virtualNetwork,
    vnIndex: config.vnIndex,
    importTargets: [...new Set(config.importTargets)],
    exportTargets: [...new Set(config.exportTargets)],
  };
}

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

export class Rib {
  readonly #options: PathSelectionOptions;
  readonly #tables = new Map<string, Table>();
  readonly #instances = new Map<string, InstanceState>();
  readonly #vpn: Table = { name: VPN_TABLE, routes: new Map() };
  readonly #memberships = new RouteTargetMembership();
  /** route target → instances importing it */
  readonly #importers = new Map<string, Set<string>>();
  /** route target → bgp.l3vpn.0 route keys with a path carrying it */
  readonly #vpnRoutesByTarget = new Map<string, Set<string>>();
  /**
   * peer name → every path (primary or secondary) attributed to that peer → the table holding it. Keyed
   * by the stored Path object itself: each stored object lives in exactly one place, and identity keys
   * cost no string building per change.
   */
  readonly #byPeer = new Map<string, Map<Path, Table>>();
  readonly #listeners = new Set<ChangeListener>();
  /** Interned route-target sets (see #internTargets); bounded by the distinct combinations ever seen. */
  readonly #targetSets = new Map<string, ReadonlySet<string>>();
  /** A target list (VPN copies share their instance's) → its interned set, for #reindexVpnTargets. */
  readonly #targetSetOfList = new WeakMap<readonly string[], ReadonlySet<string>>();
  /** A VPN path's input attrs object → its normalised attributes (see #vpnAttributes). */
  readonly #vpnAttrsOf = new WeakMap<Partial<PathAttributes>, PathAttributes>();
  #lastVpnAttrs: PathAttributes | null = null;
  /** table → keys of its routes whose replicas must be recomputed */
  #dirty = new Map<Table, Set<string>>();
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
      for (const rt of checked.importTargets) addToIndex(this.#importers, rt, checked.name);
      this.#markVpnRoutesWithTargets(checked.importTargets);
    });
  }

  /** Deletes the instance, every path in its table and every copy made from them. */
  deleteInstance(name: string): RouteChange[] {
    const state = this.#requireInstance(name);
    return this.#mutate(() => {
      for (const rt of state.config.importTargets) removeFromIndex(this.#importers, rt, name);
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
      for (const rt of before) if (!after.has(rt)) removeFromIndex(this.#importers, rt, name);
      for (const rt of after) if (!before.has(rt)) addToIndex(this.#importers, rt, name);
      const exportsChanged = JSON.stringify(state.config.exportTargets) !== JSON.stringify(next.exportTargets);
      state.config = next;
      this.#markVpnRoutesWithTargets(changedImports);
      if (exportsChanged) for (const route of state.table.routes.values()) this.#markDirty(state.table, route.key);
    });
  }

  // ───────────────────────── paths ─────────────────────────

  /**
   * Adds or replaces the peer's path (per peer and RD) for a prefix in `<instance>.inet.0`. For XMPP
   * peers the origin VN and its index come from the instance: the control node ignores the agent's (§5).
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
    checkRouteDistinguisher(rd);
    checkIpv4Prefix(prefix);
    return this.#mutate(() => {
      const routeKey = vpnRouteKey(rd, prefix);
      const route = this.#vpn.routes.get(routeKey);
      if (route === undefined) return;
      for (const path of [...route.paths]) {
        if (path.peer.name === peerName && path.replicatedFrom === undefined) this.#deletePath(this.#vpn, routeKey, path);
      }
    });
  }

  /** Everything a peer brought in goes at once: its paths, their copies, its RT memberships (§6.7). */
  removePeer(peerName: string): RouteChange[] {
    return this.#mutate(() => {
      for (const [path, table] of [...(this.#byPeer.get(peerName) ?? [])]) {
        if (path.replicatedFrom !== undefined) continue;
        const routeKey = this.#routeKeyOf(table, path);
        if (table.routes.get(routeKey)?.paths.includes(path) === true) this.#deletePath(table, routeKey, path);
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

  /** BGP peers that want a VPN route carrying any of these targets (RT-constrain, §6.6). */
  peersInterestedIn(routeTargets: readonly string[]): PeerRef[] {
    return this.#memberships.interestedPeers(routeTargets);
  }

  routeTargetMemberships(): MembershipRoute[] {
    return this.#memberships.routes();
  }

  // ───────────────────────── queries ─────────────────────────

  /**
   * The `<item>` for a VRF prefix, or null when it has no feasible path (→ `<retract>`). Also null for
   * an instance that no longer exists: deleteInstance reports its prefixes, and they must be retracted.
   */
  agentRouteItem(instance: string, prefix: string): AgentRouteItem | null {
    const route = this.#instances.get(instance)?.table.routes.get(prefix);
    if (route === undefined) return null;
    return agentRouteItem(prefix, this.#sorted(route), (index) => this.#vnNameByIndex(index), this.#options);
  }

  /** The route in a VRF or VPN table (`rd` required for bgp.l3vpn.0), paths in selection order. */
  route(table: string, prefix: string, rd?: string): RouteView | undefined {
    const found = this.#tables.get(table);
    if (found === undefined) return undefined;
    const route = found.routes.get(found === this.#vpn ? vpnRouteKey(rd ?? '', prefix) : prefix);
    return route === undefined ? undefined : this.#view(found, route);
  }

  /** Every route of a VRF or VPN table, sorted by RD then prefix. bgp.rtarget.0: see routeTargetMemberships. */
  routes(table: string): RouteView[] {
    const found = this.#tables.get(table);
    if (found === undefined) throw new RibError(`no table ${table}`);
    return [...found.routes.values()]
      .sort((a, b) => (a.rd ?? '').localeCompare(b.rd ?? '') || a.prefix.localeCompare(b.prefix, 'en', { numeric: true }))
      .map((route) => this.#view(found, route));
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
    return [...this.#instances.values()].map((state) => this.#instanceView(state));
  }

  instance(name: string): InstanceView | undefined {
    const state = this.#instances.get(name);
    return state === undefined ? undefined : this.#instanceView(state);
  }

  /** Path counts per peer, sorted by peer name. */
  peerPathCounts(): PeerPathCount[] {
    const names = new Set([...this.#byPeer.keys(), ...this.#memberships.peerNames()]);
    return [...names].sort().map((peer) => {
      let primary = 0;
      let secondary = 0;
      for (const path of this.#byPeer.get(peer)?.keys() ?? []) {
        if (path.replicatedFrom === undefined) primary++;
        else secondary++;
      }
      return { peer, primary, secondary, routeTargetMemberships: this.#memberships.pathCount(peer) };
    });
  }

  // ───────────────────────── internals ─────────────────────────

  #requireInstance(name: string): InstanceState {
    const state = this.#instances.get(name);
    if (state === undefined) throw new RibError(`no routing instance ${name}`);
    return state;
  }

  #instanceView(state: InstanceState): InstanceView {
    // Spelled out rather than spread: the control node asks for this once per received route.
    const { name, virtualNetwork, vnIndex, importTargets, exportTargets } = state.config;
    return { name, virtualNetwork, vnIndex, importTargets, exportTargets, table: state.table.name, routeCount: state.table.routes.size };
  }

  #vnNameByIndex(vnIndex: number): string | undefined {
    for (const state of this.#instances.values()) {
      if (state.config.vnIndex === vnIndex && state.config.virtualNetwork !== '') return state.config.virtualNetwork;
    }
    return undefined;
  }

  // Built without spreads or a Set: BGP export asks for a view of every route it sends.
  #view(table: Table, route: Route): RouteView {
    const sorted = this.#sorted(route);
    const chosen = multipathSet(sorted, this.#options);
    const paths = sorted.map((path, i): PathView => {
      const multipath = chosen.includes(path);
      const { peer, rd, label, nextHop, attrs, replicatedFrom } = path;
      return replicatedFrom
        ? { peer, rd, label, nextHop, best: i === 0 && multipath, multipath, replicatedFrom: replicatedFrom.table, attrs }
        : { peer, rd, label, nextHop, best: i === 0 && multipath, multipath, attrs };
    });
    const { name } = table;
    if (table.instanceName !== undefined) return { table: name, instance: table.instanceName, prefix: route.prefix, paths };
    if (route.rd !== undefined) return { table: name, rd: route.rd, prefix: route.prefix, paths };
    return { table: name, prefix: route.prefix, paths };
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

  #markDirty(table: Table, routeKey: string): void {
    let keys = this.#dirty.get(table);
    if (keys === undefined) this.#dirty.set(table, (keys = new Set()));
    keys.add(routeKey);
  }

  /** Where a stored path sits in its table (see #putPath's callers). */
  #routeKeyOf(table: Table, path: Path): string {
    return table === this.#vpn ? vpnRouteKey(path.rd, path.prefix) : path.prefix;
  }

  #markVpnRoutesWithTargets(targets: Iterable<string>): void {
    for (const rt of targets) for (const key of this.#vpnRoutesByTarget.get(rt) ?? []) this.#markDirty(this.#vpn, key);
  }

  #putPath(table: Table, routeKey: string, prefix: string, rd: string | undefined, path: Path): void {
    let route = table.routes.get(routeKey);
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
    let locations = this.#byPeer.get(path.peer.name);
    if (locations === undefined) this.#byPeer.set(path.peer.name, (locations = new Map()));
    if (previous !== undefined) this.#byPeer.get(previous.peer.name)?.delete(previous);
    locations.set(path, table);
    this.#routeChanged(table, route);
  }

  /** Deletes the path in `slot`'s slot (sameSlot), if the route has one. */
  #deletePath(table: Table, routeKey: string, slot: Path): void {
    const route = table.routes.get(routeKey);
    if (route === undefined) return;
    const index = slotIndex(route.paths, slot);
    if (index < 0) return;
    const path = route.paths[index];
    route.paths.splice(index, 1);
    route.sorted = null;
    const locations = this.#byPeer.get(path.peer.name);
    locations?.delete(path);
    if (locations?.size === 0) this.#byPeer.delete(path.peer.name);
    this.#routeChanged(table, route);
  }

  #routeChanged(table: Table, route: Route): void {
    this.#recordRoute(table, route);
    if (table === this.#vpn) {
      this.#reindexVpnTargets(route);
      if (!this.#needsVpnSync(route)) return;
    }
    this.#markDirty(table, route.key);
  }

  /**
   * Whether a changed bgp.l3vpn.0 route has replicas to add, change or remove, or must leave the table.
   * Most VPN routes (a reflected feed) carry targets nobody here imports: their re-sync would find nothing
   * to do. Skipping it is safe because an importer that appears later marks them through the target index.
   */
  #needsVpnSync(route: Route): boolean {
    if (route.paths.length === 0 || route.replicas.length > 0) return true;
    for (const rt of route.indexedTargets) if (this.#importers.has(rt)) return true;
    return false;
  }

  #reindexVpnTargets(route: Route): void {
    const before = route.indexedTargets;
    // A single path's target list (VPN copies share their instance's) maps straight to its interned set.
    const only = route.paths.length === 1 ? route.paths[0].attrs.routeTargets : undefined;
    let now: ReadonlySet<string> | undefined = only === undefined ? undefined : this.#targetSetOfList.get(only);
    if (now === before) return;
    if (now === undefined) {
      let found: Set<string> | null = null;
      for (const path of route.paths) for (const rt of path.attrs.routeTargets) (found ??= new Set()).add(rt);
      if (found !== null && found.size === before.size && [...found].every((rt) => before.has(rt))) return;
      now = found === null ? NO_TARGETS : this.#internTargets(found);
      if (only !== undefined && found !== null) this.#targetSetOfList.set(only, now);
    }
    for (const rt of before) if (!now.has(rt)) removeFromIndex(this.#vpnRoutesByTarget, rt, route.key);
    for (const rt of now) if (!before.has(rt)) addToIndex(this.#vpnRoutesByTarget, rt, route.key);
    route.indexedTargets = now;
  }

  /** One shared set per distinct combination of targets: VPN routes of one VN all carry the same one. */
  #internTargets(targets: Set<string>): ReadonlySet<string> {
    const key = [...targets].sort().join(' ');
    const known = this.#targetSets.get(key);
    if (known !== undefined) return known;
    this.#targetSets.set(key, targets);
    return targets;
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

  /** A VRF path's attributes as its bgp.l3vpn.0 copy carries them (§6.1), shared while source and config stay. */
  #copyAttrs(instance: InstanceState, from: PathAttributes): PathAttributes {
    const last = instance.lastCopyAttrs;
    // A config change replaces the config object, so identity tells whether targets or VN moved.
    if (last !== null && last.from === from && last.config === instance.config) return last.attrs;
    const { exportTargets, vnIndex, virtualNetwork } = instance.config;
    // exportTargets is never mutated (a target change replaces the config), so copies can share it.
    const attrs: PathAttributes = { ...from, routeTargets: exportTargets, vnIndex, virtualNetwork };
    instance.lastCopyAttrs = { from, config: instance.config, attrs };
    return attrs;
  }

  /** Processes dirty routes until replication has settled. */
  #drain(): void {
    while (this.#dirty.size > 0) {
      // Take the whole set per round: routes dirtied while syncing land in the next round.
      const round = this.#dirty;
      this.#dirty = new Map();
      for (const [table, keys] of round) for (const routeKey of keys) this.#syncReplicas(table, routeKey);
    }
  }

  /** Makes the copies of one route's paths match what the replication rules ask for. */
  #syncReplicas(table: Table, routeKey: string): void {
    const route = table.routes.get(routeKey);
    if (route === undefined) return;
    const wanted: WantedCopy[] = [];
    const eligible = multipathSet(this.#sorted(route), this.#options);
    const instance = table.instanceName === undefined ? undefined : this.#instances.get(table.instanceName);
    if (instance !== undefined) {
      for (const path of eligible) {
        if (path.replicatedFrom !== undefined || path.peer.kind !== 'xmpp') continue;
        const copy = copyOf(path, this.#copyAttrs(instance, path.attrs), { table: table.name, routeKey });
        wanted.push({ target: this.#vpn, targetKey: vpnRouteKey(path.rd, path.prefix), rd: path.rd, path: copy });
      }
    } else if (table === this.#vpn) {
      for (const path of eligible) {
        const targets = path.attrs.routeTargets;
        // One target (the usual case) needs no de-duplication of its importers.
        const importers: Iterable<string> =
          targets.length === 1 ? (this.#importers.get(targets[0]) ?? NO_TARGETS) : new Set(targets.flatMap((rt) => [...(this.#importers.get(rt) ?? [])]));
        for (const name of importers) {
          const target = this.#instances.get(name)!.table;
          if (target.name === path.replicatedFrom?.table) continue;
          // One object per place it is stored: #byPeer is keyed by the stored object.
          wanted.push({ target, targetKey: path.prefix, rd: undefined, path: copyOf(path, path.attrs, { table: VPN_TABLE, routeKey }) });
        }
      }
    }
    const chosen = distinctCopies(wanted);
    const stillWanted = route.replicas.length === 0 ? null : wantedTest(chosen);
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
    if (route.paths.length === 0 && table.routes.get(routeKey) === route) {
      table.routes.delete(routeKey);
      if (table === this.#vpn) this.#reindexVpnTargets(route);
    }
  }
}

function sameCopy(a: WantedCopy, b: WantedCopy): boolean {
  return a.targetKey === b.targetKey && a.target === b.target && sameSlot(a.path, b.path);
}

/** The wanted copies with one per target slot, the last wanted winning, in first-wanted order. */
function distinctCopies(wanted: WantedCopy[]): WantedCopy[] {
  if (wanted.length <= 1) return wanted;
  const out: WantedCopy[] = [];
  if (wanted.length <= LINEAR_REPLICAS) {
    for (const w of wanted) {
      let i = 0;
      while (i < out.length && !sameCopy(out[i], w)) i++;
      out[i] = w;
    }
    return out;
  }
  const at = new Map<string, number>();
  for (const w of wanted) {
    const key = copyKey(w.target.name, w.targetKey, w.path);
    const i = at.get(key);
    if (i === undefined) at.set(key, out.push(w) - 1);
    else out[i] = w;
  }
  return out;
}

/** Tells which existing copies are still wanted: a scan for the usual handful, a key set beyond. */
function wantedTest(chosen: readonly WantedCopy[]): (location: PathLocation) => boolean {
  if (chosen.length > LINEAR_REPLICAS) {
    const keys = new Set(chosen.map((w) => copyKey(w.target.name, w.targetKey, w.path)));
    return (location) => keys.has(copyKey(location.table, location.routeKey, location.path));
  }
  return (location) => {
    for (const w of chosen) {
      if (w.targetKey === location.routeKey && w.target.name === location.table && sameSlot(w.path, location.path)) return true;
    }
    return false;
  };
}
