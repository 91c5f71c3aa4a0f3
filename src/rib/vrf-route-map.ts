/**
 * A VRF table's (`<instance>.inet.0`) routes by prefix (../net/prefix-map.ts): nearly every agent route is a
 * /32, found by its address as a small integer, so storing a route neither hashes a fresh prefix string nor
 * compares it with the stored key's characters; other prefixes by their text. A route's key is its prefix.
 * Iterates host routes first, then the others, each in the order stored (queries that list routes sort them:
 * ./rib.ts). Owns nothing but the index: the routes are ./table-store.ts's.
 */
import { PrefixMap } from '../net/prefix-map.ts';
import type { Route, RouteMap } from './tables.ts';

export class VrfRouteMap implements RouteMap {
  readonly #routes = new PrefixMap<Route>();

  get size(): number {
    return this.#routes.size;
  }

  /** The route of `prefix`; `host`: its hostPrefixKey when the caller has read it already. */
  get(prefix: string, host?: number): Route | undefined {
    return this.#routes.get(prefix, host);
  }

  /** Stores `route` under its prefix (the key is the prefix). */
  set(_key: string, route: Route, host?: number): this {
    this.#routes.set(route.prefix, route, host);
    return this;
  }

  delete(prefix: string, host?: number): boolean {
    return this.#routes.delete(prefix, host);
  }

  values(): IterableIterator<Route> {
    return this.#routes.values();
  }

  *keys(): IterableIterator<string> {
    for (const route of this.#routes.values()) yield route.prefix;
  }
}
