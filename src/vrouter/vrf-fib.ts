// Longest-prefix-match table of one VRF (IPv4), one route object per prefix.
import { ipv4ToInt } from './packet.ts';

export interface ParsedPrefix { net: number; plen: number; text: string }

/** Parses `a.b.c.d/len` (host bits must be zero); returns why it is not a prefix as a string. */
export function parsePrefix(text: string): ParsedPrefix | string {
  if (typeof text !== 'string') return 'prefix is not a string';
  const slash = text.indexOf('/');
  if (slash < 0) return `prefix ${text} has no /length`;
  const addr = ipv4ToInt(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const plen = Number(lenText);
  if (addr < 0) return `prefix ${text}: ${text.slice(0, slash)} is not an IPv4 address`;
  if (lenText.length === 0 || !Number.isInteger(plen) || plen < 0 || plen > 32) return `prefix ${text}: length must be 0..32`;
  const net = plen === 0 ? 0 : (addr & ~(2 ** (32 - plen) - 1)) >>> 0;
  if (net !== addr) return `prefix ${text} has host bits set`;
  return { net, plen, text: `${text.slice(0, slash)}/${plen}` };
}

function maskOf(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
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
