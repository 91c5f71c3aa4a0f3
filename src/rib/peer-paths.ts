/**
 * Which paths each peer put in the RIB, for removing a peer and for the per-peer counts: each path by its
 * stored object and the table holding it, except a BGP peer's primaries in bgp.l3vpn.0, which are only
 * counted. A reflected feed of a million routes would otherwise keep a million-entry map that only peer
 * removal reads; ./rib.ts finds those paths with one walk of bgp.l3vpn.0 instead.
 * Does not own the tables or the paths (./table-store.ts does).
 */
import type { Path } from './path.ts';
import type { Table } from './tables.ts';

export class PeerPathIndex {
  /** peer name → its paths (primary or secondary) → the table holding each, BGP VPN primaries excepted */
  readonly #byPeer = new Map<string, Map<Path, Table>>();
  /** peer name → how many primary paths it has in bgp.l3vpn.0 (a counter object: see #vpnCounter) */
  readonly #vpnPrimaries = new Map<string, { n: number }>();
  /** The last peer counted and its counter: a feed's paths come from one peer, a million in a row. */
  #lastVpnPeer: string | null = null;
  #lastVpnCounter: { n: number } | undefined;

  #vpnCounter(name: string): { n: number } | undefined {
    if (name === this.#lastVpnPeer) return this.#lastVpnCounter;
    this.#lastVpnPeer = name;
    return (this.#lastVpnCounter = this.#vpnPrimaries.get(name));
  }

  constructor(private readonly vpn: Table) {}

  /** `path` now sits in `table`. */
  add(table: Table, path: Path): void {
    const name = path.peer.name;
    if (table === this.vpn && path.replicatedFrom === undefined) {
      const counter = this.#vpnCounter(name);
      if (counter !== undefined) counter.n++;
      else this.#vpnPrimaries.set(name, (this.#lastVpnCounter = { n: 1 }));
      return;
    }
    let locations = this.#byPeer.get(name);
    if (locations === undefined) this.#byPeer.set(name, (locations = new Map()));
    locations.set(path, table);
  }

  /** `path` left `table`. */
  remove(table: Table, path: Path): void {
    const name = path.peer.name;
    if (table === this.vpn && path.replicatedFrom === undefined) {
      const counter = this.#vpnCounter(name);
      if (counter === undefined) return;
      if (--counter.n > 0) return;
      this.#vpnPrimaries.delete(name);
      this.#lastVpnCounter = undefined;
      return;
    }
    const locations = this.#byPeer.get(name);
    locations?.delete(path);
    if (locations?.size === 0) this.#byPeer.delete(name);
  }

  /** The peer's paths kept one by one (all but its bgp.l3vpn.0 primaries), with their tables: a copy. */
  tracked(peer: string): [Path, Table][] {
    return [...(this.#byPeer.get(peer) ?? [])];
  }

  /** Whether the peer has primaries in bgp.l3vpn.0 (found by walking that table). */
  hasVpnPrimaries(peer: string): boolean {
    return this.#vpnPrimaries.has(peer);
  }

  /** How many primary paths the peer has in bgp.l3vpn.0. */
  vpnPrimaryCount(peer: string): number {
    return this.#vpnPrimaries.get(peer)?.n ?? 0;
  }

  peerNames(): string[] {
    return [...new Set([...this.#byPeer.keys(), ...this.#vpnPrimaries.keys()])];
  }

  counts(peer: string): { primary: number; secondary: number } {
    let primary = this.#vpnPrimaries.get(peer)?.n ?? 0;
    let secondary = 0;
    for (const path of this.#byPeer.get(peer)?.keys() ?? []) {
      if (path.replicatedFrom === undefined) primary++;
      else secondary++;
    }
    return { primary, secondary };
  }
}
