/**
 * What the control node sends an agent for one VRF prefix (docs/protocol.md §4.1, §5, §6.5): the best
 * path's next hop first, then every following ECMP-equal path's, duplicates dropped, entry attributes
 * from the best path. Owns the shape of the XMPP `<item>` content; not its encoding (src/xmpp) and not
 * path selection (the RIB's multipathSet decides which paths take part).
 */
import { instanceTableName, type LoadBalance, type Path, type Rib } from '../rib/index.ts';

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
 * The `<item>` for a route whose multipath set (the RIB's multipathSet: best first, then the ECMP-equal
 * paths) is `multipath`, or null when the set is empty: no path is feasible and the control node sends
 * `<retract>` (docs/protocol.md §4.2).
 */
export function agentRouteItem(
  prefix: string,
  multipath: readonly Path[],
  resolveVn: VirtualNetworkResolver = () => undefined,
): AgentRouteItem | null {
  const chosen = multipath;
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

/**
 * The `<item>` for a VRF prefix of `rib`, or null when it has no feasible path (→ `<retract>`). Also
 * null for an instance that no longer exists: deleteInstance reports its prefixes, and they must be
 * retracted.
 */
export function agentItemOf(rib: Rib, instance: string, prefix: string): AgentRouteItem | null {
  const chosen = rib.multipathPaths(instanceTableName(instance), prefix);
  if (chosen.length === 0) return null;
  return agentRouteItem(prefix, chosen, (vnIndex) => rib.virtualNetworkName(vnIndex));
}
