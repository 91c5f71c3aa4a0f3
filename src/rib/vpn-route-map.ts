/**
 * bgp.l3vpn.0's routes by (RD, prefix) (../net/rd-prefix-map.ts): a reflected feed puts a million routes
 * here, and a flat map keyed by `<rd>:<prefix>` made every lookup build, flatten and hash a new key string,
 * compare it with the stored one's characters, and kept one such string per route. Here a host route is
 * found by RD and address as a small integer, and its route key (./tables.ts `Route.key`) is only spelled out
 * when something asks for it (a replica's origin, an API view). Also answers the plain key-string calls of
 * ./tables.ts's RouteMap, which the RIB makes off the hot paths.
 * Owns nothing but the index: the routes are ./table-store.ts's.
 */
import type { Path } from './path.ts';
import { NO_REPLICAS, NO_TARGETS, vpnRouteKey, type Replicas, type Route, type RouteMap, type VpnExportEntry } from './tables.ts';
import { RdPrefixMap } from '../net/rd-prefix-map.ts';

/** A bgp.l3vpn.0 route: its key is derived from RD and prefix on demand instead of stored. */
class VpnRoute implements Route, VpnExportEntry {
  /** The prefix's hostPrefixKey (undefined unless a /32): read once, for every later lookup and its withdraw NLRI. */
  readonly hostKey: number | undefined;
  sorted: Path[] | null = null;
  replicas: Replicas = NO_REPLICAS;
  indexedTargets: ReadonlySet<string> = NO_TARGETS;
  changeMark = 0;
  exportMarks = 0;

  constructor(readonly rd: string, readonly prefix: string, public held: Path | Path[], host: number | undefined) {
    this.hostKey = host;
  }

  get key(): string {
    return vpnRouteKey(this.rd, this.prefix);
  }
}

export class VpnRouteMap implements RouteMap {
  readonly #routes = new RdPrefixMap<Route>();

  get size(): number {
    return this.#routes.size;
  }

  /** A new route holding `path` (not stored yet: see set); `host`: the prefix's hostPrefixKey, read by the caller. */
  static newRoute(rd: string, prefix: string, path: Path, host: number | undefined): Route & VpnExportEntry {
    return new VpnRoute(rd, prefix, path, host);
  }

  /** The route behind an export entry (every entry is one of these routes). */
  static routeOf(entry: VpnExportEntry): Route {
    return entry as VpnRoute;
  }

  /** The route of (rd, prefix): the call the hot paths make (`host`: the prefix's hostPrefixKey when read already). */
  route(rd: string, prefix: string, host?: number): Route | undefined {
    return this.#routes.get(rd, prefix, host);
  }

  /** The /32 route of (rd, address as hostPrefixKey). */
  hostRoute(rd: string, host: number): Route | undefined {
    return this.#routes.getHost(rd, host);
  }

  get(key: string): Route | undefined {
    const [rd, prefix] = splitKey(key);
    return this.route(rd, prefix);
  }

  /** Stores `route` under its own RD and prefix (the key is `vpnRouteKey` of those). */
  set(_key: string, route: Route): this {
    this.#routes.set(route.rd ?? '', route.prefix, route, (route as Partial<VpnRoute>).hostKey);
    return this;
  }

  delete(key: string): boolean {
    const [rd, prefix] = splitKey(key);
    return this.deleteRoute(rd, prefix);
  }

  deleteRoute(rd: string, prefix: string): boolean {
    return this.#routes.delete(rd, prefix);
  }

  /** Deletes the route stored under its own RD and prefix. */
  deleteStored(route: Route): boolean {
    return this.#routes.delete(route.rd ?? '', route.prefix, (route as Partial<VpnRoute>).hostKey);
  }

  values(): IterableIterator<Route> {
    return this.#routes.values();
  }

  *keys(): IterableIterator<string> {
    for (const route of this.values()) yield route.key;
  }
}

/** `<rd>:<prefix>`: a prefix holds no colon, so the last one ends the RD. */
function splitKey(key: string): [string, string] {
  const colon = key.lastIndexOf(':');
  return colon < 0 ? ['', key] : [key.slice(0, colon), key.slice(colon + 1)];
}
