/**
 * Which paths each peer put in the RIB, for removing a peer and for the per-peer counts: each path by its
 * stored object and the table holding it, except a BGP peer's primaries in bgp.l3vpn.0, which are only
 * counted. A reflected feed of a million routes would otherwise keep a million-entry map that only peer
 * removal reads; ./rib.ts finds those paths with one walk of bgp.l3vpn.0 instead. Copies (replicated
 * paths) are only counted too: they follow their primary (replication removes them with it), and an agent's
 * route would otherwise cost a second map entry for its bgp.l3vpn.0 copy.
 * Does not own the tables or the paths (./table-store.ts does).
 */
import type { Path } from './path.ts';
import type { Table } from './tables.ts';

export class PeerPathIndex {
  /** peer name → its paths (primary or secondary) → the table holding each, BGP VPN primaries excepted */
  readonly #byPeer = new Map<string, Map<Path, Table>>();
  /** peer name → how many primary paths it has in bgp.l3vpn.0 (a counter object: see #vpnCounter) */
  readonly #vpnPrimaries = new Map<string, { n: number }>();
  /** peer name → how many replicated paths (copies) of its paths are stored, in any table */
  readonly #copies = new Map<string, { n: number }>();
  #lastCopyPeer: string | null = null;
  #lastCopyCounter: { n: number } | undefined;
  /** The last peer counted and its counter: a feed's paths come from one peer, a million in a row. */
  #lastVpnPeer: string | null = null;
  #lastVpnCounter: { n: number } | undefined;

  #vpnCounter(name: string): { n: number } | undefined {
    if (name === this.#lastVpnPeer) return this.#lastVpnCounter;
    this.#lastVpnPeer = name;
    return (this.#lastVpnCounter = this.#vpnPrimaries.get(name));
  }

  constructor(private readonly vpn: Table) {}

  #copyCounter(name: string): { n: number } | undefined {
    if (name === this.#lastCopyPeer) return this.#lastCopyCounter;
    this.#lastCopyPeer = name;
    return (this.#lastCopyCounter = this.#copies.get(name));
  }

  /** `path` now sits in `table`. */
  add(table: Table, path: Path): void {
    const name = path.peer.name;
    if (path.replicatedFrom !== undefined) {
      const counter = this.#copyCounter(name);
      if (counter !== undefined) counter.n++;
      else this.#copies.set(name, (this.#lastCopyCounter = { n: 1 }));
      return;
    }
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
    if (path.replicatedFrom !== undefined) {
      const counter = this.#copyCounter(name);
      if (counter === undefined) return;
      if (--counter.n > 0) return;
      this.#copies.delete(name);
      this.#lastCopyCounter = undefined;
      return;
    }
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

  /** The peer's primary paths kept one by one (all but those in bgp.l3vpn.0), with their tables: a copy. */
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
    return [...new Set([...this.#byPeer.keys(), ...this.#vpnPrimaries.keys(), ...this.#copies.keys()])];
  }

  counts(peer: string): { primary: number; secondary: number } {
    const primary = (this.#vpnPrimaries.get(peer)?.n ?? 0) + (this.#byPeer.get(peer)?.size ?? 0);
    return { primary, secondary: this.#copies.get(peer)?.n ?? 0 };
  }
}
