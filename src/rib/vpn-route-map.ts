/**
 * bgp.l3vpn.0's routes, held as prefixes per route distinguisher. A reflected feed puts a million routes
 * here: one flat map keyed by `<rd>:<prefix>` made every lookup build, flatten and hash a new key string
 * and probe a million-entry table, where (RD, prefix) is two lookups of strings already hashed (RDs come
 * in runs of one shared string) in tables of a few thousand. Also answers the plain key-string calls of
 * ./tables.ts's RouteMap, which the RIB makes off the hot paths.
 * Owns nothing but the index: the routes are ./table-store.ts's.
 */
import type { Route, RouteMap } from './tables.ts';

export class VpnRouteMap implements RouteMap {
  readonly #byRd = new Map<string, Map<string, Route>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The route of (rd, prefix): the call the hot paths make. */
  route(rd: string, prefix: string): Route | undefined {
    return this.#byRd.get(rd)?.get(prefix);
  }

  get(key: string): Route | undefined {
    const [rd, prefix] = splitKey(key);
    return this.route(rd, prefix);
  }

  /** Stores `route` under its own RD and prefix (the key is `vpnRouteKey` of those). */
  set(_key: string, route: Route): this {
    const rd = route.rd ?? '';
    let prefixes = this.#byRd.get(rd);
    if (prefixes === undefined) this.#byRd.set(rd, (prefixes = new Map()));
    const before = prefixes.size;
    prefixes.set(route.prefix, route);
    this.#size += prefixes.size - before;
    return this;
  }

  delete(key: string): boolean {
    const [rd, prefix] = splitKey(key);
    return this.deleteRoute(rd, prefix);
  }

  deleteRoute(rd: string, prefix: string): boolean {
    const prefixes = this.#byRd.get(rd);
    if (prefixes === undefined || !prefixes.delete(prefix)) return false;
    if (prefixes.size === 0) this.#byRd.delete(rd);
    this.#size--;
    return true;
  }

  *values(): IterableIterator<Route> {
    for (const prefixes of this.#byRd.values()) yield* prefixes.values();
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
