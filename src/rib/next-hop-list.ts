/**
 * What the control node sends an agent for one VRF prefix (docs/protocol.md §4.1, §5, §6.5): the best path's next hop
 * first, then every following ECMP-equal path's, duplicates dropped, entry attributes from the best path.
 */
import type { LoadBalance, Path } from './path.ts';
import { isEcmpEqual, type PathSelectionOptions } from './path-selection.ts';

export interface AgentNextHop {
  readonly address: string;
  /** Always '' toward agents for inet routes (docs/protocol.md §5); the path's router MAC only counts for de-duplication. */
  readonly mac: string;
  readonly label: number;
  /** The path's encapsulations; 'gre' alone when it has none and a non-zero label (docs/protocol.md §5). */
  readonly encapsulations: readonly string[];
  /** Origin VN name, or 'unresolved' when the path's origin VN is unknown (docs/protocol.md §5). */
  readonly virtualNetwork: string;
  readonly tags: readonly number[];
}

/** The content of one `<item>` (its id is `prefix`). */
export interface AgentRouteItem {
  readonly prefix: string;
  readonly nextHops: readonly AgentNextHop[];
  /** Entry-level VN: the first next hop's. */
  readonly virtualNetwork: string;
  readonly mobility: { readonly seqno: number; readonly sticky: boolean };
  readonly sequenceNumber: number;
  readonly securityGroups: readonly number[];
  readonly communities: readonly string[];
  /** 0 when the best path has no LOCAL_PREF. */
  readonly localPreference: number;
  /** 0 when the best path has no MED. */
  readonly med: number;
  /** undefined = default load balancing (nothing to send). */
  readonly loadBalance: LoadBalance | undefined;
}

/**
 * The paths whose next hops go to agents: best first, then each following path while it stays
 * ECMP-equal to the best. `sortedPaths` must be in path-selection order. Empty when no path is feasible.
 */
export function multipathSet(sortedPaths: readonly Path[], options: PathSelectionOptions = {}): Path[] {
  const best = sortedPaths[0];
  if (best === undefined || !best.attrs.feasible) return [];
  const chosen = [best];
  for (let i = 1; i < sortedPaths.length && isEcmpEqual(best, sortedPaths[i], options); i++) {
    chosen.push(sortedPaths[i]);
  }
  return chosen;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sortedCopy<T extends string | number>(values: readonly T[]): T[] {
  return [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * The docs/protocol.md §6.5 duplicate rule. Encap and tag lists are compared as sets: a path learned back over BGP
 * rebuilds them from extended communities, whose order need not match the agent's.
 */
export function isDuplicateNextHop(a: Path, b: Path): boolean {
  return (
    a.nextHop === b.nextHop &&
    a.attrs.mac === b.attrs.mac &&
    a.label === b.label &&
    a.attrs.vnIndex === b.attrs.vnIndex &&
    sameList(sortedCopy(a.attrs.encapsulations), sortedCopy(b.attrs.encapsulations)) &&
    sameList(sortedCopy(a.attrs.tags), sortedCopy(b.attrs.tags))
  );
}

/** Turns a VN index into its name when the path itself carries none. */
export type VirtualNetworkResolver = (vnIndex: number) => string | undefined;

function agentNextHop(path: Path, resolveVn: VirtualNetworkResolver): AgentNextHop {
  const { attrs } = path;
  const encapsulations = attrs.encapsulations.length === 0 && path.label !== 0 ? ['gre'] : [...attrs.encapsulations];
  const virtualNetwork = attrs.virtualNetwork || (attrs.vnIndex !== 0 ? resolveVn(attrs.vnIndex) : undefined) || 'unresolved';
  return { address: path.nextHop, mac: '', label: path.label, encapsulations, virtualNetwork, tags: [...attrs.tags] };
}

/**
 * The `<item>` for a route whose paths are given in selection order, or null when no path is
 * feasible (the control node then sends `<retract>`, docs/protocol.md §4.2).
 */
export function agentRouteItem(
  prefix: string,
  sortedPaths: readonly Path[],
  resolveVn: VirtualNetworkResolver = () => undefined,
  options: PathSelectionOptions = {},
): AgentRouteItem | null {
  const chosen = multipathSet(sortedPaths, options);
  if (chosen.length === 0) return null;
  const kept: Path[] = [];
  for (const path of chosen) {
    if (!kept.some((k) => isDuplicateNextHop(k, path))) kept.push(path);
  }
  const nextHops = kept.map((path) => agentNextHop(path, resolveVn));
  const best = chosen[0].attrs;
  return {
    prefix,
    nextHops,
    virtualNetwork: nextHops[0].virtualNetwork,
    mobility: { seqno: best.sequence, sticky: best.sticky },
    sequenceNumber: best.sequence,
    securityGroups: [...best.securityGroups],
    communities: [...best.communities],
    localPreference: best.localPref,
    med: best.med ?? 0,
    loadBalance: best.loadBalance,
  };
}
