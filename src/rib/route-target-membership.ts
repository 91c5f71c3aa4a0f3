/**
 * bgp.rtarget.0 (RFC 4684, docs/protocol.md §6.6): which peers asked for VPN routes carrying a given route target.
 * A membership route's prefix is `<origin-asn>:<route-target>`; each peer contributes at most one path
 * per prefix. Indexed by route target (for "who wants this VPN route") and by peer (for bulk removal).
 */
import type { PeerRef } from './path.ts';
import { RibError, checkRouteTarget } from './route-syntax.ts';

export interface MembershipRoute {
  /** `<origin-asn>:<route-target>`, e.g. `64512:target:64512:8000001`. */
  readonly prefix: string;
  readonly originAsn: number;
  readonly routeTarget: string;
  readonly peers: readonly PeerRef[];
}

export function membershipPrefix(originAsn: number, routeTarget: string): string {
  if (!Number.isInteger(originAsn) || originAsn < 0 || originAsn > 0xffffffff) {
    throw new RibError(`invalid origin AS ${String(originAsn)} for route target membership`);
  }
  return `${originAsn}:${checkRouteTarget(routeTarget)}`;
}

export class RouteTargetMembership {
  /** prefix → peer name → peer */
  readonly #routes = new Map<string, { originAsn: number; routeTarget: string; peers: Map<string, PeerRef> }>();
  /** route target → peer name → number of prefixes (origin ASes) through which the peer wants it */
  readonly #byTarget = new Map<string, Map<string, { peer: PeerRef; count: number }>>();
  /** peer name → prefixes it has a path in */
  readonly #byPeer = new Map<string, Set<string>>();

  /** Returns the changed prefix, or null when the membership was already there. */
  add(peer: PeerRef, originAsn: number, routeTarget: string): string | null {
    const prefix = membershipPrefix(originAsn, routeTarget);
    let route = this.#routes.get(prefix);
    if (route === undefined) {
      route = { originAsn, routeTarget, peers: new Map() };
      this.#routes.set(prefix, route);
    }
    const previous = route.peers.get(peer.name);
    route.peers.set(peer.name, peer);
    if (previous !== undefined) {
      const entry = this.#byTarget.get(routeTarget)?.get(peer.name);
      if (entry !== undefined) entry.peer = peer;
      return previous.address === peer.address && previous.asn === peer.asn ? null : prefix;
    }
    let wanting = this.#byTarget.get(routeTarget);
    if (wanting === undefined) this.#byTarget.set(routeTarget, (wanting = new Map()));
    const entry = wanting.get(peer.name);
    if (entry === undefined) wanting.set(peer.name, { peer, count: 1 });
    else entry.count++;
    let prefixes = this.#byPeer.get(peer.name);
    if (prefixes === undefined) this.#byPeer.set(peer.name, (prefixes = new Set()));
    prefixes.add(prefix);
    return prefix;
  }

  /** Returns the changed prefix, or null when the peer had no such membership. */
  remove(peerName: string, originAsn: number, routeTarget: string): string | null {
    const prefix = membershipPrefix(originAsn, routeTarget);
    return this.#removeByPrefix(peerName, prefix) ? prefix : null;
  }

  /** Drops every membership of a peer; returns the changed prefixes. */
  removePeer(peerName: string): string[] {
    const prefixes = [...(this.#byPeer.get(peerName) ?? [])];
    for (const prefix of prefixes) this.#removeByPrefix(peerName, prefix);
    return prefixes;
  }

  /** The prefixes the peer has a path in. */
  prefixesOf(peerName: string): string[] {
    return [...(this.#byPeer.get(peerName) ?? [])];
  }

  /** Drops the peer's path in one prefix; false when it had none. */
  removePrefix(peerName: string, prefix: string): boolean {
    return this.#removeByPrefix(peerName, prefix);
  }

  /** Peers that advertised interest in at least one of the targets, each once, sorted by name. */
  interestedPeers(routeTargets: readonly string[]): PeerRef[] {
    const found = new Map<string, PeerRef>();
    for (const rt of routeTargets) {
      for (const [name, { peer }] of this.#byTarget.get(rt) ?? []) found.set(name, peer);
    }
    return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  routes(): MembershipRoute[] {
    return [...this.#routes]
      .map(([prefix, r]) => ({ prefix, originAsn: r.originAsn, routeTarget: r.routeTarget, peers: [...r.peers.values()] }))
      .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  pathCount(peerName: string): number {
    return this.#byPeer.get(peerName)?.size ?? 0;
  }

  peerNames(): string[] {
    return [...this.#byPeer.keys()];
  }

  #removeByPrefix(peerName: string, prefix: string): boolean {
    const route = this.#routes.get(prefix);
    if (route === undefined || !route.peers.delete(peerName)) return false;
    if (route.peers.size === 0) this.#routes.delete(prefix);
    const wanting = this.#byTarget.get(route.routeTarget);
    const entry = wanting?.get(peerName);
    if (wanting !== undefined && entry !== undefined && --entry.count === 0) {
      wanting.delete(peerName);
      if (wanting.size === 0) this.#byTarget.delete(route.routeTarget);
    }
    const prefixes = this.#byPeer.get(peerName);
    prefixes?.delete(prefix);
    if (prefixes?.size === 0) this.#byPeer.delete(peerName);
    return true;
  }
}
