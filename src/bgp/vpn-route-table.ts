import type { VpnKey } from './routes.ts';

/**
 * VPN routes by (RD, prefix), held as prefixes per RD: no key string is built or kept per route, which a
 * table of a million routes would otherwise pay for on every lookup and in memory.
 */
export class VpnRouteTable<R extends VpnKey> {
  private readonly byRd = new Map<string, Map<string, R>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: VpnKey): R | undefined {
    return this.byRd.get(key.rd)?.get(key.prefix);
  }

  set(route: R): void {
    let prefixes = this.byRd.get(route.rd);
    if (prefixes === undefined) this.byRd.set(route.rd, (prefixes = new Map()));
    const before = prefixes.size;
    prefixes.set(route.prefix, route);
    this.count += prefixes.size - before;
  }

  delete(key: VpnKey): boolean {
    const prefixes = this.byRd.get(key.rd);
    if (prefixes === undefined || !prefixes.delete(key.prefix)) return false;
    if (prefixes.size === 0) this.byRd.delete(key.rd);
    this.count--;
    return true;
  }

  clear(): void {
    this.byRd.clear();
    this.count = 0;
  }

  /** Grouped by RD, in the order RDs and then prefixes were first stored. */
  *values(): IterableIterator<R> {
    for (const prefixes of this.byRd.values()) yield* prefixes.values();
  }
}
