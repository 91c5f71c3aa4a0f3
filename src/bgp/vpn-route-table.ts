import { RdPrefixMap } from '../net/rd-prefix-map.ts';
import type { VpnKey } from './routes.ts';

/**
 * VPN routes by (RD, prefix) (../net/rd-prefix-map.ts): no key string is built or kept per route, which a
 * table of a million routes would otherwise pay for on every lookup and in memory.
 */
export class VpnRouteTable<R extends VpnKey> {
  private readonly routes = new RdPrefixMap<R>();

  get size(): number {
    return this.routes.size;
  }

  get(key: VpnKey): R | undefined {
    return this.routes.get(key.rd, key.prefix);
  }

  set(route: R): void {
    this.routes.set(route.rd, route.prefix, route);
  }

  delete(key: VpnKey): boolean {
    return this.routes.delete(key.rd, key.prefix);
  }

  clear(): void {
    this.routes.clear();
  }

  /** Grouped by RD, in the order RDs were first stored. */
  values(): IterableIterator<R> {
    return this.routes.values();
  }
}
