/**
 * What the RIB's queries hand out: read-only views of routes (paths in selection order, each with its
 * best / ECMP flags and the reason for its place), of routing instances and of per-peer path counts.
 * Views are built fresh per query and never alias the RIB's own state. Does not decide selection
 * (./path-selection.ts) or hold any table.
 */
import type { Path, PathAttributes, PeerRef } from './path.ts';
import { multipathSet, pathReason, type PathReason, type PathSelectionOptions } from './path-selection.ts';
import type { InstanceState, Route, RoutingInstanceConfig, Table } from './tables.ts';

export interface PathView {
  readonly peer: PeerRef;
  readonly rd: string;
  readonly label: number;
  readonly nextHop: string;
  /** First in selection order and feasible. */
  readonly best: boolean;
  /** Part of the ECMP set (best included). */
  readonly multipath: boolean;
  /** Why the path is where it is: 'best', 'ecmp' (ties the best up to MED) or the step it lost on. */
  readonly reason: PathReason;
  /** Table the primary lives in, for replicated (secondary) paths. */
  readonly replicatedFrom?: string;
  readonly attrs: PathAttributes;
}

export interface RouteView {
  readonly table: string;
  readonly instance?: string;
  readonly rd?: string;
  readonly prefix: string;
  /** In selection order. */
  readonly paths: readonly PathView[];
}

export interface InstanceView extends RoutingInstanceConfig {
  readonly table: string;
  readonly routeCount: number;
}

export interface PeerPathCount {
  readonly peer: string;
  /** Paths the peer put in (VRF or VPN table). */
  readonly primary: number;
  /** Copies of those paths made by replication. */
  readonly secondary: number;
  readonly routeTargetMemberships: number;
}

/**
 * The view of `route` whose paths are `sorted` (selection order). Built without spreads or a Set: BGP
 * export asks for a view of every route it sends.
 */
export function routeView(table: Table, route: Route, sorted: readonly Path[], options: PathSelectionOptions): RouteView {
  const chosen = multipathSet(sorted, options);
  const best = sorted[0];
  const paths = sorted.map((path, i): PathView => {
    const multipath = chosen.includes(path);
    const reason = pathReason(path, best, multipath, options);
    const { peer, rd, label, nextHop, attrs, replicatedFrom } = path;
    return replicatedFrom
      ? { peer, rd, label, nextHop, best: i === 0 && multipath, multipath, reason, replicatedFrom: replicatedFrom.table, attrs }
      : { peer, rd, label, nextHop, best: i === 0 && multipath, multipath, reason, attrs };
  });
  const { name } = table;
  if (table.instanceName !== undefined) return { table: name, instance: table.instanceName, prefix: route.prefix, paths };
  if (route.rd !== undefined) return { table: name, rd: route.rd, prefix: route.prefix, paths };
  return { table: name, prefix: route.prefix, paths };
}

export function instanceView(state: InstanceState): InstanceView {
  // Spelled out rather than spread: the control node asks for this once per received route.
  const { name, virtualNetwork, vnIndex, importTargets, exportTargets } = state.config;
  return { name, virtualNetwork, vnIndex, importTargets, exportTargets, table: state.table.name, routeCount: state.table.routes.size };
}
