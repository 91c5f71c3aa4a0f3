// Longest-prefix-match table of one VRF (IPv4), one route object per prefix.
import { parseIpv4Prefix, prefixMask as maskOf } from '../net/ipv4.ts';

export interface ParsedPrefix { net: number; plen: number; text: string }

/** Parses `a.b.c.d/len` (host bits must be zero); returns why it is not a prefix as a string. */
export function parsePrefix(text: string): ParsedPrefix | string {
  const parsed = parseIpv4Prefix(text, 'refuse');
  if (typeof parsed === 'string') return `prefix ${parsed}`;
  return { net: parsed.address, plen: parsed.length, text };
}

export class VrfFib<R> {
  private readonly byLength = new Map<number, Map<number, R>>();
  private lengths: number[] = [];
  private count = 0;

  get size(): number { return this.count; }

  get(net: number, plen: number): R | undefined {
    return this.byLength.get(plen)?.get(net);
  }

  set(net: number, plen: number, route: R): void {
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
      const hit = this.byLength.get(plen)!.get((address & maskOf(plen)) >>> 0);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  *routes(): IterableIterator<R> {
    for (const plen of this.lengths) yield* this.byLength.get(plen)!.values();
  }
}
