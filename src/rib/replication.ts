/**
 * Contrail's RoutePathReplicator (docs/protocol.md §6.1), as pure functions: which copies a route's
 * paths should have, and how to diff them against the copies it has.
 *
 *   VRF primary path (XMPP, ECMP-eligible) ──copy: RTs = VRF export targets, OriginVN = VRF's VN──►
 *   bgp.l3vpn.0 path (ECMP-eligible, incl. BGP-learned) ──copy──► every other VRF importing one of its RTs
 *
 * Secondaries are never replicated again, which bounds the chain at VRF → VPN → VRF. Storing and
 * deleting the copies (and reporting the change) is the RIB's job (./table-store.ts); this module never touches
 * a table.
 */
import type { Path, PathAttributes } from './path.ts';
import { VPN_LOCATION_KEY, VPN_TABLE, replicaCount, sameSlot, type CopySource, type InstanceState, type PathLocation, type Route, type Table } from './tables.ts';
import type { VpnTargetIndex } from './vpn-target-index.ts';

/**
 * A copy replication wants stored: `path` in `target`'s route `targetKey`. It is also the PathLocation the
 * source route keeps for it (`table`, `routeKey`): no second object and array per route once stored; a lone
 * bgp.l3vpn.0 copy (every VRF route's) is kept as its path alone (keptReplica). Two fields, the rest derived:
 * a VRF's table is keyed by prefix, bgp.l3vpn.0 by the path's RD and prefix (its location key is '', see
 * VPN_LOCATION_KEY).
 */
export class WantedCopy implements PathLocation {
  constructor(readonly target: Table, readonly path: Path) {}

  get table(): string {
    return this.target.name;
  }

  /** The route's key in `target`: the prefix in a VRF, '' in bgp.l3vpn.0. */
  get targetKey(): string {
    return this.target.instanceName === undefined ? VPN_LOCATION_KEY : this.path.prefix;
  }

  get routeKey(): string {
    return this.targetKey;
  }

  /** The RD `target` files the copy under: the path's in bgp.l3vpn.0, none in a VRF. */
  get rd(): string | undefined {
    return this.target.instanceName === undefined ? this.path.rd : undefined;
  }
}

/** What replication reads of the RIB. */
export interface ReplicationContext {
  readonly vpn: Table;
  readonly targets: VpnTargetIndex;
  instance(name: string): InstanceState | undefined;
}

const SEP = '\u0000';

// Above this many copies of one route, the replica diff indexes by key instead of scanning.
const LINEAR_REPLICAS = 16;

function copyKey(table: string, routeKey: string, path: Path): string {
  return `${table}${SEP}${routeKey}${SEP}${path.peer.name}${SEP}${path.rd}${SEP}${path.replicatedFrom?.table ?? ''}`;
}

/**
 * A replicated path. Spelled out rather than spread: a spread of a stored path gave every copy its own
 * hidden class (~125 B each, one per route).
 */
function copyOf(path: Path, attrs: PathAttributes, replicatedFrom: CopySource): Path {
  return { peer: path.peer, rd: path.rd, prefix: path.prefix, label: path.label, nextHop: path.nextHop, attrs, replicatedFrom };
}

/** One frozen `replicatedFrom` per source table, shared by all its copies (a copy names its table, not its route). */
const sources = new Map<string, CopySource>();

/** The last one asked for: a batch's routes come from one table. */
let lastSource: CopySource | null = null;

function sourceOf(table: string): CopySource {
  if (lastSource !== null && table === lastSource.table) return lastSource;
  let source = sources.get(table);
  if (source === undefined) sources.set(table, (source = Object.freeze({ table })));
  return (lastSource = source);
}


/** A VRF path's attributes as its bgp.l3vpn.0 copy carries them (docs/protocol.md §6.1), shared while source and config stay. */
function copyAttrs(instance: InstanceState, from: PathAttributes): PathAttributes {
  const last = instance.lastCopyAttrs;
  // A config change replaces the config object, so identity tells whether targets or VN moved.
  if (last !== null && last.from === from && last.config === instance.config) return last.attrs;
  const { exportTargets, vnIndex, virtualNetwork } = instance.config;
  // exportTargets is never mutated (a target change replaces the config), so copies can share it.
  const attrs: PathAttributes = { ...from, routeTargets: exportTargets, vnIndex, virtualNetwork };
  instance.lastCopyAttrs = { from, config: instance.config, attrs };
  return attrs;
}

/**
 * The copies `eligible` (the route's ECMP set, from `source`) should have, one per target slot, the last
 * wanted winning, in first-wanted order.
 */
export function wantedCopies(source: Table, eligible: readonly Path[], ctx: ReplicationContext): WantedCopy[] {
  const instance = source.instanceName === undefined ? undefined : ctx.instance(source.instanceName);
  if (instance !== undefined && eligible.length === 1) {
    // An agent's route (one path): its one bgp.l3vpn.0 copy, without a list to de-duplicate.
    const path = eligible[0];
    if (path.replicatedFrom !== undefined || path.peer.kind !== 'xmpp') return [];
    return [new WantedCopy(ctx.vpn, copyOf(path, copyAttrs(instance, path.attrs), sourceOf(source.name)))];
  }
  const wanted: WantedCopy[] = [];
  if (instance !== undefined) {
    for (const path of eligible) {
      if (path.replicatedFrom !== undefined || path.peer.kind !== 'xmpp') continue;
      const copy = copyOf(path, copyAttrs(instance, path.attrs), sourceOf(source.name));
      wanted.push(new WantedCopy(ctx.vpn, copy));
    }
  } else if (source === ctx.vpn) {
    for (const path of eligible) {
      for (const name of ctx.targets.importersOfAny(path.attrs.routeTargets)) {
        const target = ctx.instance(name)!.table;
        if (target.name === path.replicatedFrom?.table) continue;
        // One object per place it is stored: the RIB's per-peer index is keyed by the stored object.
        wanted.push(new WantedCopy(target, copyOf(path, path.attrs, sourceOf(VPN_TABLE))));
      }
    }
  }
  // The source route keeps these as its replica locations (./table-store.ts: keptReplica for one, an exact-size copy beyond).
  return distinctCopies(wanted);
}

/** What the source route keeps of a lone wanted copy: the copied path alone when it goes to bgp.l3vpn.0 (see Route.replicas). */
export function keptReplica(wanted: WantedCopy): WantedCopy | Path {
  return wanted.target.instanceName === undefined ? wanted.path : wanted;
}

function sameCopy(a: WantedCopy, b: WantedCopy): boolean {
  return a.targetKey === b.targetKey && a.target === b.target && sameSlot(a.path, b.path);
}

function distinctCopies(wanted: WantedCopy[]): WantedCopy[] {
  if (wanted.length <= 1) return wanted;
  const out: WantedCopy[] = [];
  if (wanted.length <= LINEAR_REPLICAS) {
    for (const w of wanted) {
      let i = 0;
      while (i < out.length && !sameCopy(out[i], w)) i++;
      out[i] = w;
    }
    return out;
  }
  const at = new Map<string, number>();
  for (const w of wanted) {
    const key = copyKey(w.target.name, w.targetKey, w.path);
    const i = at.get(key);
    if (i === undefined) at.set(key, out.push(w) - 1);
    else out[i] = w;
  }
  return out;
}

/**
 * Tells which of the route's existing copies are still wanted: a scan for the usual handful, a key set
 * beyond. null when the route has no copies to test.
 */
export function stillWantedTest(route: Route, chosen: readonly WantedCopy[]): ((location: PathLocation) => boolean) | null {
  if (replicaCount(route) === 0) return null;
  if (chosen.length > LINEAR_REPLICAS) {
    const keys = new Set(chosen.map((w) => copyKey(w.target.name, w.targetKey, w.path)));
    return (location) => keys.has(copyKey(location.table, location.routeKey, location.path));
  }
  return (location) => {
    for (const w of chosen) {
      if (w.targetKey === location.routeKey && w.target.name === location.table && sameSlot(w.path, location.path)) return true;
    }
    return false;
  };
}
