/**
 * The shapes the RIB stores: tables, routes, routing instances and the change records it reports, plus
 * the naming and slot rules every part of the RIB shares. Owns no behaviour beyond those rules: the
 * mutations live in ./rib.ts (public API) and ./table-store.ts (storing, deleting, change reports), copying between tables in ./replication.ts, the route-target indexes in
 * ./vpn-target-index.ts and what queries return in ./views.ts.
 */
import type { Path, PathAttributes } from './path.ts';
import { RibError, checkRouteTarget } from './route-syntax.ts';

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
  /** bgp.l3vpn.0 only: the route itself, for BGP export (see VpnExportEntry). */
  readonly entry?: VpnExportEntry;
}

/**
 * A bgp.l3vpn.0 route as the control node's BGP export sees it: its (RD, prefix) and a bit set the exporter
 * keeps on it, one bit per BGP peer it advertised the route to, so that no peer needs a table entry per route
 * to know what it was sent. The RIB stores the bits and never reads them; they stay with the route object,
 * also once it has left the table (its last change still reports it). Best path: Rib.bestVpnPathOf.
 */
export interface VpnExportEntry {
  readonly rd: string;
  readonly prefix: string;
  /** The prefix's ../net/ipv4.ts hostPrefixKey, for a /32. */
  readonly hostKey: number | undefined;
  exportMarks: number;
}

/**
 * A change of bgp.l3vpn.0. The route rides along in a private field behind a getter: a change still reads,
 * prints and compares as its three fields.
 */
export class VpnRouteChange implements RouteChange {
  readonly table = VPN_TABLE;
  readonly rd: string;
  readonly prefix: string;
  readonly #entry: VpnExportEntry;

  constructor(entry: VpnExportEntry) {
    this.rd = entry.rd;
    this.prefix = entry.prefix;
    this.#entry = entry;
  }

  get entry(): VpnExportEntry {
    return this.#entry;
  }
}

export type ChangeListener = (changes: readonly RouteChange[]) => void;

// Every route has the same shape (rd present, possibly undefined) so that the hot paths stay monomorphic.
export interface Route {
  readonly key: string;
  readonly prefix: string;
  readonly rd: string | undefined;
  /**
   * The route's paths, one slot per peer, RD and origin table (see sameSlot): the path itself while there is
   * one (most routes: no array each), an array of its own from two on, NO_PATHS when none. Not a Map: a route
   * holds a handful of paths, and a Map plus a key string per path was most of what a path kept alive.
   * Read through pathsOf / pathCount / holdsPath; only ./table-store.ts changes it.
   */
  held: Path | Path[];
  /** Selection order, kept for a route with several paths (reset by every change); null otherwise. */
  sorted: Path[] | null;
  /**
   * Where this route's paths were copied: the one location itself, a list from two on, NO_REPLICAS until the
   * first copy. A lone bgp.l3vpn.0 copy (every agent route has one) is kept as the copied path alone: its
   * location follows from it (see replicaLocation). Read through replicaLocation / replicaCount.
   */
  replicas: Replicas;
  /** VPN routes only: route targets indexed by VpnTargetIndex. NO_TARGETS until the first one. */
  indexedTargets: ReadonlySet<string>;
  /** VRF and VPN routes: the RIB mutation whose changes last reported this route (./table-store.ts). */
  changeMark?: number;
}

// Most routes never get a copy (VPN routes whose only importer is their origin) and VRF routes never
// index targets: sharing one empty collection spares two allocations per route.
export const NO_REPLICAS: readonly PathLocation[] = Object.freeze([]);
export const NO_TARGETS: ReadonlySet<string> = new Set();
/**
 * A VRF table's route: keyed by its prefix, without an RD or an index of targets (both only bgp.l3vpn.0's
 * routes have), so three fields fewer than a plain route object; every agent route is one of these.
 */
export class VrfRoute implements Route {
  held: Path | Path[];
  sorted: Path[] | null = null;
  replicas: Replicas = NO_REPLICAS;
  changeMark = 0;

  constructor(readonly prefix: string, path: Path) {
    this.held = path;
  }

  get key(): string {
    return this.prefix;
  }

  get rd(): undefined {
    return undefined;
  }

  get indexedTargets(): ReadonlySet<string> {
    return NO_TARGETS;
  }

  set indexedTargets(_targets: ReadonlySet<string>) {
    throw new Error('a VRF route indexes no route targets');
  }
}

/** A route with no path (until it leaves its table). Frozen: ./table-store.ts never pushes onto it. */
export const NO_PATHS: Path[] = Object.freeze([]) as unknown as Path[];

/**
 * A route holds its paths, and its copy locations, alone while there is one and in an array from two on:
 * most routes have one, and an array each would cost ~56 B per route.
 */
type OneOrMany<T> = T | readonly T[];

function isList<T>(held: OneOrMany<T>): held is readonly T[] {
  return Array.isArray(held);
}

function listOf<T>(held: OneOrMany<T>): readonly T[] {
  return isList(held) ? held : [held];
}

function countOf<T>(held: OneOrMany<T>): number {
  return isList(held) ? held.length : 1;
}

/** The route's paths as a list: its own array, or a fresh one-element array for a single path. */
export function pathsOf(route: Route): readonly Path[] {
  return listOf(route.held);
}

export function pathCount(route: Route): number {
  return countOf(route.held);
}

/** Whether this very path object is one of the route's. */
export function holdsPath(route: Route, path: Path): boolean {
  const held = route.held;
  return held === path || (isList(held) && held.includes(path));
}

/** The route's single path, or undefined when it has none or several. */
export function singlePath(route: Route): Path | undefined {
  const held = route.held;
  return isList(held) ? (held.length === 1 ? held[0] : undefined) : held;
}

/** A route's copies: see Route.replicas. */
export type Replicas = OneOrMany<PathLocation> | Path;

export function isLocationList(replicas: Replicas): replicas is readonly PathLocation[] {
  return isList(replicas);
}

/** Where a route's single copy sits: a lone copied path is in bgp.l3vpn.0, under its own RD and prefix. */
export function replicaLocation(replica: PathLocation | Path): PathLocation {
  return 'attrs' in replica ? { table: VPN_TABLE, routeKey: VPN_LOCATION_KEY, path: replica } : replica;
}

/**
 * A bgp.l3vpn.0 location's route key: that table finds a route by its path's RD and prefix
 * (./vpn-route-map.ts), so no `<rd>:<prefix>` key is spelled for it.
 */
export const VPN_LOCATION_KEY = '';

export function replicaCount(route: Route): number {
  return countOf(route.replicas);
}

export interface Table {
  readonly name: string;
  /** Set for VRF tables. The instance is looked up by name so a table being deleted exports nothing. */
  readonly instanceName?: string;
  readonly routes: RouteMap;
}

/**
 * What the RIB asks of a table's routes by key (./vrf-route-map.ts for VRF tables, ./vpn-route-map.ts for
 * bgp.l3vpn.0). `host`: a VRF route's ../net/ipv4.ts hostPrefixKey when the caller has read it already.
 */
export interface RouteMap {
  readonly size: number;
  get(key: string, host?: number): Route | undefined;
  set(key: string, route: Route, host?: number): unknown;
  delete(key: string, host?: number): boolean;
  values(): IterableIterator<Route>;
  keys(): IterableIterator<string>;
}

export interface InstanceState {
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

/** A copy's `replicatedFrom`: the table its primary lives in. */
export interface CopySource {
  readonly table: string;
}

export interface PathLocation {
  readonly table: string;
  /** The route's key in that table ('' in bgp.l3vpn.0, which finds a route by its path's RD and prefix). */
  readonly routeKey: string;
  /** The copy stored there; its slot (sameSlot) is what identifies it in that route. */
  readonly path: Path;
}

/** A route keeps one path per peer, RD and origin table: a new path in the same slot replaces the old. */
export function sameSlot(a: Path, b: Path): boolean {
  return a.rd === b.rd && a.peer.name === b.peer.name && a.replicatedFrom?.table === b.replicatedFrom?.table;
}

export function slotIndex(paths: readonly Path[], path: Path): number {
  for (let i = 0; i < paths.length; i++) if (sameSlot(paths[i], path)) return i;
  return -1;
}

export function vpnRouteKey(rd: string, prefix: string): string {
  return `${rd}:${prefix}`;
}

export function checkInstanceConfig(config: RoutingInstanceConfig): RoutingInstanceConfig {
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
