/**
 * The control node's routing tables (docs/protocol.md §6), composed: one `<instance>.inet.0` per routing
 * instance, `bgp.l3vpn.0` keyed by RD + prefix, `bgp.rtarget.0` for RT-constrain, and replication between
 * them. This class is the RIB's public API: it checks input, keeps the routing instances, a peer's
 * arrival and departure, graceful-restart stale marks (./peer-stale-marks.ts), RT-constrain memberships
 * (./route-target-membership.ts) and the queries. How a path is stored or deleted, replication settled
 * and changes reported is ./table-store.ts's; what gets copied where is ./replication.ts's, the result
 * shapes are ./views.ts's and path order ./path-selection.ts's. Protocol-neutral: what an agent's XMPP
 * `<item>` looks like is src/control's.
 *
 * Synchronous and in-memory. Every public mutation returns the (table, prefix) pairs whose paths
 * changed and passes the same list to onChange listeners; `batch` merges the lists of many mutations.
 * Invalid input throws RibError before anything is modified.
 */
import { makePath, makePathWithAttributes, normalizeAttributes, sameAttributes, type Path, type PathAttributes, type PathInput, type PeerRef } from './path.ts';
import { multipathSet } from './path-selection.ts';
import { RibError, checkIpv4Prefix, checkRouteDistinguisher } from './route-syntax.ts';
import { RouteTargetMembership, membershipPrefix, type MembershipRoute } from './route-target-membership.ts';
import {
  RTARGET_TABLE,
  checkInstanceConfig,
  instanceTableName,
  type ChangeListener,
  type InstanceState,
  type Route,
  type RouteChange,
  type RoutingInstanceConfig,
  type Table,
  type VpnExportEntry,
  pathsOf,
} from './tables.ts';
import { VpnRouteMap } from './vpn-route-map.ts';
import { VrfRouteMap } from './vrf-route-map.ts';
import { TableStore } from './table-store.ts';
import { instanceView, routeView, type InstanceView, type PeerPathCount, type RouteView } from './views.ts';

export {
  RTARGET_TABLE, VPN_TABLE, instanceTableName, type ChangeListener, type RouteChange, type RoutingInstanceConfig, type VpnExportEntry,
} from './tables.ts';
export type { InstanceView, PathView, PeerPathCount, RouteView } from './views.ts';

/** A frozen XMPP attrs object (`input`, lists frozen too) as it normalised under `config`. */
interface XmppAttributesMemo {
  readonly input: Partial<PathAttributes>;
  readonly config: RoutingInstanceConfig;
  readonly attrs: PathAttributes;
}

export class Rib extends TableStore {
  readonly #memberships = new RouteTargetMembership();

  // ───────────────────────── notifications ─────────────────────────

  /** Called once per top-level mutation (or batch) with every route whose paths changed. Returns an unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs several mutations and reports their changes once, de-duplicated. */
  batch(work: () => void): RouteChange[] {
    return this.mutate(work);
  }

  // ───────────────────────── routing instances ─────────────────────────

  /** Creates `<name>.inet.0` and imports every VPN route carrying one of its import targets. */
  createInstance(config: RoutingInstanceConfig): RouteChange[] {
    const checked = checkInstanceConfig(config);
    if (this.instanceStates.has(checked.name)) throw new RibError(`routing instance ${checked.name} already exists`);
    return this.mutate(() => {
      const table: Table = { name: instanceTableName(checked.name), instanceName: checked.name, routes: new VrfRouteMap() };
      const state: InstanceState = { config: checked, table, lastAttrs: null, lastCopyAttrs: null };
      this.instanceStates.set(checked.name, state);
      this.tables.set(table.name, table);
      for (const rt of checked.importTargets) this.targets.addImporter(rt, checked.name);
      this.markVpnRoutesWithTargets(checked.importTargets);
    });
  }

  /** Deletes the instance, every path in its table and every copy made from them. */
  deleteInstance(name: string): RouteChange[] {
    const state = this.#requireInstance(name);
    return this.mutate(() => {
      for (const rt of state.config.importTargets) this.targets.removeImporter(rt, name);
      this.markVpnRoutesWithTargets(state.config.importTargets);
      this.instanceStates.delete(name);
      for (const route of [...state.table.routes.values()]) {
        for (const path of [...pathsOf(route)]) {
          if (path.replicatedFrom === undefined) this.deletePath(state.table, route.key, path);
        }
      }
      this.drain();
      // Secondaries went when their VPN routes were re-synced against the shrunken importer set.
      this.tables.delete(state.table.name);
    });
  }

  /** Replaces the import and/or export targets; re-imports and re-exports what they affect. */
  setInstanceTargets(name: string, targets: { importTargets?: readonly string[]; exportTargets?: readonly string[] }): RouteChange[] {
    const state = this.#requireInstance(name);
    const next = checkInstanceConfig({
      ...state.config,
      importTargets: targets.importTargets ?? state.config.importTargets,
      exportTargets: targets.exportTargets ?? state.config.exportTargets,
    });
    return this.mutate(() => {
      const before = new Set(state.config.importTargets);
      const after = new Set(next.importTargets);
      const changedImports = [...before, ...after].filter((rt) => before.has(rt) !== after.has(rt));
      for (const rt of before) if (!after.has(rt)) this.targets.removeImporter(rt, name);
      for (const rt of after) if (!before.has(rt)) this.targets.addImporter(rt, name);
      const exportsChanged = JSON.stringify(state.config.exportTargets) !== JSON.stringify(next.exportTargets);
      state.config = next;
      this.markVpnRoutesWithTargets(changedImports);
      if (exportsChanged) for (const route of state.table.routes.values()) this.markDirty(state.table, route);
    });
  }

  // ───────────────────────── paths ─────────────────────────

  /**
   * Adds or replaces the peer's path (per peer and RD) for a prefix in `<instance>.inet.0`. For XMPP
   * peers the origin VN and its index come from the instance: the control node ignores the agent's (docs/protocol.md §5).
   * The caller applies medForXmppPath to XMPP items first. An XMPP path's attrs object that is frozen (its
   * lists too) is taken as immutable: the RIB normalises it once and reuses the result for every later path
   * passed the same object.
   */
  addPath(instance: string, input: PathInput): RouteChange[] {
    const state = this.#requireInstance(instance);
    const path = this.#xmppAttributesMemo(state, input) ?? this.#newPath(state, input);
    // An agent's items arrive inside one batch per received segment: no closure each.
    if (this.mutating) {
      this.putPath(state.table, path.prefix, path.prefix, undefined, path);
      return [];
    }
    return this.mutate(() => this.putPath(state.table, path.prefix, path.prefix, undefined, path));
  }

  /**
   * An XMPP path whose attrs object is frozen and was normalised before for this instance's config gets
   * that result without normalising again (the agent channel passes one frozen object for a run of items
   * with equal attributes). Undefined when there is no such result.
   */
  #xmppAttributesMemo(state: InstanceState, input: PathInput): Path | undefined {
    const attrs = input.attrs;
    if (attrs === undefined || input.peer.kind !== 'xmpp') return undefined;
    let memo = this.#lastXmppAttrs;
    if (memo === null || memo.input !== attrs) {
      if (!Object.isFrozen(attrs)) return undefined;
      memo = this.#normalisedXmppAttrs.get(attrs) ?? null;
      if (memo === null) return undefined;
      this.#lastXmppAttrs = memo;
    }
    return memo.config === state.config ? makePathWithAttributes(input, memo.attrs) : undefined;
  }

  readonly #normalisedXmppAttrs = new WeakMap<Partial<PathAttributes>, XmppAttributesMemo>();
  #lastXmppAttrs: XmppAttributesMemo | null = null;

  #newPath(state: InstanceState, input: PathInput): Path {
    const { virtualNetwork, vnIndex } = state.config;
    const made = makePath(input, input.peer.kind === 'xmpp' ? { virtualNetwork, vnIndex } : {});
    const last = state.lastAttrs;
    let path = made;
    if (last !== null && sameAttributes(last, made.attrs)) {
      path = { peer: made.peer, rd: made.rd, prefix: made.prefix, label: made.label, nextHop: made.nextHop, attrs: last };
    } else {
      state.lastAttrs = made.attrs;
    }
    if (input.attrs !== undefined && input.peer.kind === 'xmpp' && Object.isFrozen(input.attrs)) {
      this.#lastXmppAttrs = { input: input.attrs, config: state.config, attrs: path.attrs };
      this.#normalisedXmppAttrs.set(input.attrs, this.#lastXmppAttrs);
    }
    return path;
  }

  /** Removes the peer's path for the prefix in the instance (only the one with `rd` when given). */
  removePath(instance: string, prefix: string, peerName: string, rd?: string): RouteChange[] {
    const state = this.#requireInstance(instance);
    checkIpv4Prefix(prefix);
    return this.mutate(() => {
      const route = state.table.routes.get(prefix);
      if (route === undefined) return;
      for (const path of [...pathsOf(route)]) {
        if (path.peer.name === peerName && path.replicatedFrom === undefined && (rd === undefined || path.rd === rd)) {
          this.deletePath(state.table, prefix, path);
        }
      }
    });
  }

  /**
   * Adds or replaces a path in bgp.l3vpn.0 (a BGP peer's VPN route, keyed by RD + prefix). The attrs
   * object is read once: the RIB remembers what it normalised to, so a caller must not change an attrs
   * object after passing it (BGP ingest builds one per UPDATE and passes it with each of its routes).
   */
  addVpnPath(input: PathInput): RouteChange[] {
    const path = makePathWithAttributes(input, this.vpnAttributes(input.attrs));
    // bgp.l3vpn.0 finds routes by RD and prefix and spells no key out (./vpn-route-map.ts).
    return this.mutate(() => this.putPath(this.vpn, '', path.prefix, path.rd, path));
  }

  removeVpnPath(rd: string, prefix: string, peerName: string): RouteChange[] {
    const route = this.vpnRoutes.route(rd, prefix);
    // A stored route's RD and prefix were checked when it was stored: BGP withdraws (a million at a time)
    // skip the syntax checks unless there is nothing to remove.
    if (route === undefined || route.rd !== rd || route.prefix !== prefix) {
      checkRouteDistinguisher(rd);
      checkIpv4Prefix(prefix);
      if (route === undefined) return [];
    }
    return this.#removeVpnPathOf(route, peerName);
  }

  /**
   * removeVpnPath of a /32 given as its address (../net/ipv4.ts hostPrefixKey), as BGP decodes a withdrawal:
   * no prefix text is made or read.
   */
  removeVpnHostPath(rd: string, host: number, peerName: string): RouteChange[] {
    if (!Number.isInteger(host) || host < -0x80000000 || host > 0x7fffffff) throw new RibError(`invalid host route key ${String(host)}`);
    const route = this.vpnRoutes.hostRoute(rd, host);
    if (route === undefined) {
      checkRouteDistinguisher(rd);
      return [];
    }
    return this.#removeVpnPathOf(route, peerName);
  }

  #removeVpnPathOf(route: Route, peerName: string): RouteChange[] {
    // BGP ingest withdraws inside one batch per UPDATE: a million withdrawals need no closure each.
    if (this.mutating) {
      this.#deleteVpnPathsOf(route, peerName);
      return [];
    }
    return this.mutate(() => this.#deleteVpnPathsOf(route, peerName));
  }

  #deleteVpnPathsOf(route: Route, peerName: string): void {
    const held = route.held;
    if (!Array.isArray(held)) {
      if (held.peer.name === peerName && held.replicatedFrom === undefined) this.deleteFromRoute(this.vpn, route, held);
      return;
    }
    // Backwards: a delete splices the array, or leaves it as it was when the route goes back to one path.
    for (let i = held.length - 1; i >= 0; i--) {
      const path = held[i];
      if (path !== undefined && path.peer.name === peerName && path.replicatedFrom === undefined) this.deleteFromRoute(this.vpn, route, path);
    }
  }

  /** Everything a peer brought in goes at once: its paths, their copies, its RT memberships (docs/protocol.md §6.7). */
  removePeer(peerName: string): RouteChange[] {
    this.stale.takePaths(peerName);
    this.stale.takeMemberships(peerName);
    return this.mutate(() => {
      for (const [path, table] of this.peerPaths.tracked(peerName)) {
        if (path.replicatedFrom !== undefined) continue;
        const routeKey = this.routeKeyOf(table, path);
        if (this.holds(table, path)) this.deletePath(table, routeKey, path);
      }
      for (const [route, path] of this.#vpnPrimariesOf(peerName)) this.deleteFromRoute(this.vpn, route, path);
      for (const prefix of this.#memberships.removePeer(peerName)) this.record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  /**
   * The peer's own paths in bgp.l3vpn.0 go (its copies with them): a BGP session ended and graceful restart
   * keeps its other families but not this one (docs/protocol.md §6.7).
   */
  removePeerVpnPaths(peerName: string): RouteChange[] {
    return this.mutate(() => {
      for (const [route, path] of this.#vpnPrimariesOf(peerName)) this.deleteFromRoute(this.vpn, route, path);
    });
  }

  /** The peer's own paths in bgp.l3vpn.0 (BGP's Adj-RIB-In view of the routes it sent): the RIB's objects. */
  vpnPathsOf(peerName: string): Path[] {
    return this.#vpnPrimariesOf(peerName).map(([, path]) => path);
  }

  /** How many paths the peer has in bgp.l3vpn.0 (not counting copies). */
  vpnPathCount(peerName: string): number {
    return this.peerPaths.vpnPrimaryCount(peerName);
  }

  #vpnPrimariesOf(peerName: string): [Route, Path][] {
    const found: [Route, Path][] = [];
    if (!this.peerPaths.hasVpnPrimaries(peerName)) return found;
    for (const route of this.vpn.routes.values()) {
      for (const path of pathsOf(route)) if (path.peer.name === peerName && path.replicatedFrom === undefined) found.push([route, path]);
    }
    return found;
  }

  // ───────────────────────── graceful restart (docs/protocol.md §6.7) ─────────────────────────

  /**
   * The peer's session ended and it may come back: its primary paths and RT memberships stay, marked stale,
   * until sweepStale. Whatever its next session announces again is no longer stale. Returns the paths marked.
   */
  markPeerStale(peerName: string): number {
    const primaries = this.peerPaths.tracked(peerName).filter(([p]) => p.replicatedFrom === undefined);
    // The index only counts a peer's bgp.l3vpn.0 primaries (./peer-paths.ts): find them with one walk.
    if (this.peerPaths.hasVpnPrimaries(peerName)) {
      for (const route of this.vpn.routes.values()) {
        for (const p of pathsOf(route)) if (p.peer.name === peerName && p.replicatedFrom === undefined) primaries.push([p, this.vpn]);
      }
    }
    this.stale.mark(peerName, primaries, this.#memberships.prefixesOf(peerName));
    return this.stale.pathCount(peerName);
  }

  /** Long-lived GR (RFC 9494): the peer's stale paths become LLGR-stale and lose against any fresh path. */
  markPeerLlgrStale(peerName: string): RouteChange[] {
    return this.mutate(() => {
      for (const [path, table] of this.stale.takePaths(peerName)) {
        if (!this.holds(table, path)) continue;
        if (path.attrs.llgrStale) {
          this.stale.mark(peerName, [[path, table]], []);
          continue;
        }
        const copy: Path = { ...path, attrs: normalizeAttributes({ ...path.attrs, llgrStale: true }) };
        this.putPath(table, this.routeKeyOf(table, path), path.prefix, table === this.vpn ? path.rd : undefined, copy);
        this.stale.mark(peerName, [[copy, table]], []);
      }
    });
  }

  /** Drops what the peer's ended session left and its new one did not announce again (End-of-RIB or timeout). */
  sweepStale(peerName: string, what: 'paths' | 'memberships' | 'all' = 'all'): RouteChange[] {
    return this.mutate(() => {
      if (what !== 'memberships') {
        for (const [path, table] of this.stale.takePaths(peerName)) {
          if (this.holds(table, path)) this.deletePath(table, this.routeKeyOf(table, path), path);
        }
      }
      if (what !== 'paths') {
        for (const prefix of this.stale.takeMemberships(peerName)) {
          if (this.#memberships.removePrefix(peerName, prefix)) this.record(prefix, { table: RTARGET_TABLE, prefix });
        }
      }
    });
  }

  /** How many of the peer's paths and memberships are still stale. */
  staleCounts(peerName: string): { paths: number; memberships: number } {
    return { paths: this.stale.pathCount(peerName), memberships: this.stale.membershipCount(peerName) };
  }

  // ───────────────────────── route-target membership (bgp.rtarget.0) ─────────────────────────

  addRouteTargetMembership(peer: PeerRef, originAsn: number, routeTarget: string): RouteChange[] {
    if (this.stale.active) this.stale.unmarkMembership(peer.name, membershipPrefix(originAsn, routeTarget));
    return this.mutate(() => {
      const prefix = this.#memberships.add(peer, originAsn, routeTarget);
      if (prefix !== null) this.record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  removeRouteTargetMembership(peerName: string, originAsn: number, routeTarget: string): RouteChange[] {
    return this.mutate(() => {
      const prefix = this.#memberships.remove(peerName, originAsn, routeTarget);
      if (prefix !== null) this.record(prefix, { table: RTARGET_TABLE, prefix });
    });
  }

  /** BGP peers that want a VPN route carrying any of these targets (RT-constrain, docs/protocol.md §6.6). */
  peersInterestedIn(routeTargets: readonly string[]): PeerRef[] {
    return this.#memberships.interestedPeers(routeTargets);
  }

  routeTargetMemberships(): MembershipRoute[] {
    return this.#memberships.routes();
  }

  // ───────────────────────── queries ─────────────────────────

  /**
   * The multipath (ECMP) set of a route in a VRF or VPN table (`rd` required for bgp.l3vpn.0): best
   * first, then every path that ties it up to MED. Empty when the route, its table or a feasible path
   * is missing. A fresh array; the paths are the RIB's own and must not be changed.
   */
  multipathPaths(table: string, prefix: string, rd?: string): Path[] {
    const found = this.tables.get(table);
    const route = found === this.vpn ? this.vpnRoutes.route(rd ?? '', prefix) : found?.routes.get(prefix);
    return route === undefined ? [] : multipathSet(this.sorted(route), this.options);
  }

  /**
   * The best path of a bgp.l3vpn.0 route when it is feasible (what BGP export advertises), else undefined.
   * The RIB's own object, not a view: export asks once per changed route and must not change it.
   */
  bestVpnPath(rd: string, prefix: string): Path | undefined {
    const route = this.vpnRoutes.route(rd, prefix);
    if (route === undefined) return undefined;
    const best = this.bestOf(route);
    return best !== undefined && best.attrs.feasible ? best : undefined;
  }

  /** bestVpnPath of a route BGP export holds (a change's `entry`); undefined also once the route has left the table. */
  bestVpnPathOf(entry: VpnExportEntry): Path | undefined {
    const best = this.bestOf(VpnRouteMap.routeOf(entry));
    return best !== undefined && best.attrs.feasible ? best : undefined;
  }

  /** Every route of bgp.l3vpn.0 as BGP export holds them, unordered. */
  vpnEntries(): IterableIterator<VpnExportEntry> {
    return this.vpnRoutes.values() as IterableIterator<Route & VpnExportEntry>;
  }

  /** The fq-name of the virtual network with this index, when an instance here belongs to it. */
  virtualNetworkName(vnIndex: number): string | undefined {
    for (const state of this.instanceStates.values()) {
      if (state.config.vnIndex === vnIndex && state.config.virtualNetwork !== '') return state.config.virtualNetwork;
    }
    return undefined;
  }

  /** The route in a VRF or VPN table (`rd` required for bgp.l3vpn.0), paths in selection order. */
  route(table: string, prefix: string, rd?: string): RouteView | undefined {
    const found = this.tables.get(table);
    if (found === undefined) return undefined;
    const route = found === this.vpn ? this.vpnRoutes.route(rd ?? '', prefix) : found.routes.get(prefix);
    return route === undefined ? undefined : routeView(found, route, this.sorted(route), this.options);
  }

  /** Every route of a VRF or VPN table, sorted by RD then prefix. bgp.rtarget.0: see routeTargetMemberships. */
  routes(table: string): RouteView[] {
    const found = this.tables.get(table);
    if (found === undefined) throw new RibError(`no table ${table}`);
    return [...found.routes.values()]
      .sort((a, b) => (a.rd ?? '').localeCompare(b.rd ?? '') || a.prefix.localeCompare(b.prefix, 'en', { numeric: true }))
      .map((route) => routeView(found, route, this.sorted(route), this.options));
  }

  /** The prefixes of a VRF table, unordered: what a table walk needs, without building route views. */
  prefixes(table: string): string[] {
    const found = this.tables.get(table);
    if (found === undefined || found === this.vpn) throw new RibError(`no VRF table ${table}`);
    return [...found.routes.keys()];
  }

  tableNames(): string[] {
    return [...this.tables.keys(), RTARGET_TABLE];
  }

  instances(): InstanceView[] {
    return [...this.instanceStates.values()].map((state) => instanceView(state));
  }

  instance(name: string): InstanceView | undefined {
    const state = this.instanceStates.get(name);
    return state === undefined ? undefined : instanceView(state);
  }

  /**
   * The instance's configuration as the RIB holds it, without a view: the control node asks once per
   * received route. Replaced, never changed, when the instance's targets change; must not be modified.
   */
  instanceConfig(name: string): RoutingInstanceConfig | undefined {
    return this.instanceStates.get(name)?.config;
  }

  /** Path counts per peer, sorted by peer name. */
  peerPathCounts(): PeerPathCount[] {
    const names = new Set([...this.peerPaths.peerNames(), ...this.#memberships.peerNames()]);
    return [...names].sort().map((peer) => {
      const { primary, secondary } = this.peerPaths.counts(peer);
      return { peer, primary, secondary, routeTargetMemberships: this.#memberships.pathCount(peer) };
    });
  }

  // ───────────────────────── internals ─────────────────────────

  #requireInstance(name: string): InstanceState {
    const state = this.instanceStates.get(name);
    if (state === undefined) throw new RibError(`no routing instance ${name}`);
    return state;
  }
}
