/**
 * The gateway's table: VPNv4 routes learned from its BGP peers, imported when they carry one of its
 * route targets (the public networks'), grouped per prefix into an ECMP set of at most `maxPaths`
 * paths, one per next hop (the same compute's route reflected by two control nodes is one path).
 * Owns the import, the path choice and longest-prefix lookup; not the hash (gateway-hash.ts) nor the
 * sessions (gateway.ts).
 */
import type { VpnKey, VpnRoute } from '../bgp/routes.ts';
import { parseIpv4Subnet, ipv4ToInt } from '../net/ipv4.ts';

export interface GatewayPath {
  readonly nextHop: string;
  readonly label: number;
  readonly rd: string;
  /** the peer it was learned from */
  readonly peer: string;
}

export interface GatewayRoute {
  readonly prefix: string;
  /** installed paths, at most maxPaths, in next-hop order (the order hash mod n uses) */
  readonly paths: readonly GatewayPath[];
  /** learned paths (distinct next hops) beyond maxPaths */
  readonly unused: number;
}

interface Entry {
  readonly net: number;
  readonly plen: number;
  /** `${peer}|${rd}` → path */
  readonly learned: Map<string, GatewayPath>;
}

function compareAddresses(a: string, b: string): number {
  return ipv4ToInt(a) - ipv4ToInt(b);
}

export class GatewayFib {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly importTargets: ReadonlySet<string>,
    private readonly maxPaths: number,
  ) {
    if (!Number.isInteger(maxPaths) || maxPaths < 1 || maxPaths > 128) throw new RangeError(`maxPaths ${maxPaths} must be 1..128`);
  }

  /** Learns or replaces a peer's route; returns the prefix when it is imported (changed or not). */
  learn(peer: string, route: VpnRoute): string | undefined {
    const key = `${peer}|${route.rd}`;
    const imported = route.attrs.extCommunities.routeTargets.some((rt) => this.importTargets.has(rt));
    if (!imported) return this.forget(peer, route) ? route.prefix : undefined;
    let entry = this.entries.get(route.prefix);
    if (entry === undefined) {
      const parsed = parseIpv4Subnet(route.prefix);
      if (typeof parsed === 'string') return undefined;
      entry = { net: ipv4ToInt(route.prefix.split('/')[0]), plen: Number(route.prefix.split('/')[1]), learned: new Map() };
      this.entries.set(route.prefix, entry);
    }
    entry.learned.set(key, { nextHop: route.nextHop, label: route.label, rd: route.rd, peer });
    return route.prefix;
  }

  /** Forgets a peer's route; true when it was there. */
  forget(peer: string, key: VpnKey): boolean {
    const entry = this.entries.get(key.prefix);
    if (entry === undefined || !entry.learned.delete(`${peer}|${key.rd}`)) return false;
    if (entry.learned.size === 0) this.entries.delete(key.prefix);
    return true;
  }

  /** Everything a peer taught (its session went down); returns the prefixes that changed. */
  forgetPeer(peer: string): string[] {
    const changed: string[] = [];
    for (const [prefix, entry] of this.entries) {
      const before = entry.learned.size;
      for (const key of [...entry.learned.keys()]) if (key.startsWith(`${peer}|`)) entry.learned.delete(key);
      if (entry.learned.size === 0) this.entries.delete(prefix);
      if (entry.learned.size !== before) changed.push(prefix);
    }
    return changed;
  }

  route(prefix: string): GatewayRoute | undefined {
    const entry = this.entries.get(prefix);
    return entry === undefined ? undefined : this.view(prefix, entry);
  }

  routes(): GatewayRoute[] {
    return [...this.entries.entries()].map(([prefix, entry]) => this.view(prefix, entry)).sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  /** Longest-prefix match. */
  lookup(address: string): GatewayRoute | undefined {
    const dst = ipv4ToInt(address);
    if (dst < 0) return undefined;
    let best: [string, Entry] | undefined;
    for (const [prefix, entry] of this.entries) {
      const mask = entry.plen === 0 ? 0 : (0xffffffff << (32 - entry.plen)) >>> 0;
      if (((dst & mask) >>> 0) !== ((entry.net & mask) >>> 0)) continue;
      if (best === undefined || entry.plen > best[1].plen) best = [prefix, entry];
    }
    return best === undefined ? undefined : this.view(best[0], best[1]);
  }

  private view(prefix: string, entry: Entry): GatewayRoute {
    // one path per next hop: the copies reflected by several control nodes are one path
    const byNextHop = new Map<string, GatewayPath>();
    const ordered = [...entry.learned.values()].sort((a, b) => a.peer.localeCompare(b.peer) || a.rd.localeCompare(b.rd));
    for (const path of ordered) if (!byNextHop.has(path.nextHop)) byNextHop.set(path.nextHop, path);
    const all = [...byNextHop.values()].sort((a, b) => compareAddresses(a.nextHop, b.nextHop));
    return { prefix, paths: all.slice(0, this.maxPaths), unused: Math.max(0, all.length - this.maxPaths) };
  }
}
