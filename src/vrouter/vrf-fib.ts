// Longest-prefix-match table of one VRF (IPv4), one route object per prefix. A route may be stored
// deferred: a small shared value standing in for the route object (at thousands of computes, most routes
// are single tunnels that never carry a flow), turned into the route object by the FIB's owner the first
// time anyone reads it (docs/architecture.md, "Scale").
import { parseIpv4Prefix, prefixMask as maskOf } from '../net/ipv4.ts';

export interface ParsedPrefix { net: number; plen: number; text: string }

/** Parses `a.b.c.d/len` (host bits must be zero); returns why it is not a prefix as a string. */
export function parsePrefix(text: string): ParsedPrefix | string {
  const parsed = parseIpv4Prefix(text, 'refuse');
  if (typeof parsed === 'string') return `prefix ${parsed}`;
  return { net: parsed.address, plen: parsed.length, text };
}

/** How the owner tells a deferred value from a route and makes the route of one. */
export interface DeferredRoutes<R, D> {
  isDeferred(value: R | D): value is D;
  /** The route standing for `deferred` at (net, plen); the FIB stores it in the deferred value's place. */
  materialize(net: number, plen: number, deferred: D): R;
}

export class VrfFib<R, D = never> {
  private readonly byLength = new Map<number, Map<number, R | D>>();
  private lengths: number[] = [];
  private count = 0;

  constructor(private readonly deferred?: DeferredRoutes<R, D>) {}

  get size(): number { return this.count; }

  get(net: number, plen: number): R | undefined {
    const table = this.byLength.get(plen);
    const value = table?.get(net);
    return value === undefined ? undefined : this.route(table!, net, plen, value);
  }

  /** What is stored at (net, plen), a deferred value left as it is. */
  peek(net: number, plen: number): R | D | undefined {
    return this.byLength.get(plen)?.get(net);
  }

  set(net: number, plen: number, route: R | D): void {
    let table = this.byLength.get(plen);
    if (table === undefined) {
      table = new Map();
      this.byLength.set(plen, table);
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    }
    if (!table.has(net)) this.count++;
    table.set(net, route);
  }

  delete(net: number, plen: number): void {
    const table = this.byLength.get(plen);
    if (table === undefined || !table.delete(net)) return;
    this.count--;
    if (table.size === 0) {
      this.byLength.delete(plen);
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    }
  }

  lookup(address: number): R | undefined {
    for (const plen of this.lengths) {
      const table = this.byLength.get(plen)!;
      const net = (address & maskOf(plen)) >>> 0;
      const hit = table.get(net);
      if (hit !== undefined) return this.route(table, net, plen, hit);
    }
    return undefined;
  }

  *routes(): IterableIterator<R> {
    for (const plen of this.lengths) {
      const table = this.byLength.get(plen)!;
      // replacing the value of a key being iterated is safe for a Map
      for (const [net, value] of table) yield this.route(table, net, plen, value);
    }
  }

  private route(table: Map<number, R | D>, net: number, plen: number, value: R | D): R {
    if (this.deferred === undefined || !this.deferred.isDeferred(value)) return value as R;
    const route = this.deferred.materialize(net, plen, value);
    table.set(net, route);
    return route;
  }
}
