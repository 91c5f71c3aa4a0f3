/**
 * Contrail's PathCompare (docs/protocol.md §6.4): the ordered steps that decide the best path, the
 * prefix of those steps (up to and including MED) that decides ECMP eligibility and the multipath set,
 * and the tie-breaks for the best path.
 * ETree root/leaf (step 3) and aliased / locally generated paths are not modelled: no path here has them.
 * Owns no route or table: callers sort and keep paths.
 */
import type { BgpOrigin, Path } from './path.ts';
import { ipv4ToNumber } from './route-syntax.ts';

export interface PathSelectionOptions {
  /** Compare MED between any two paths, not only between paths from the same neighbour AS. */
  readonly alwaysCompareMed?: boolean;
  /** Skip the AS-path length step (Contrail's `ignore-aspath`). */
  readonly ignoreAsPath?: boolean;
}

const ORIGIN_RANK: Record<BgpOrigin, number> = { igp: 0, egp: 1, incomplete: 2 };

/** Negative when `a` is preferred; higher wins. */
function preferHigher(a: number, b: number): number {
  return b - a;
}

function preferLower(a: number, b: number): number {
  return a - b;
}

function preferTrue(a: boolean, b: boolean): number {
  return Number(b) - Number(a);
}

function neighbourAs(path: Path): number {
  return path.attrs.asPath[0] ?? 0;
}

/**
 * Steps 1–9 of docs/protocol.md §6.4. Zero means the paths are ECMP-equal. MED counts only under always-compare-med or
 * when both paths have the same non-zero neighbour AS, so XMPP paths (no AS path) never compare MED.
 */
export function compareUpToMed(a: Path, b: Path, options: PathSelectionOptions = {}): number {
  const x = a.attrs;
  const y = b.attrs;
  return (
    preferTrue(x.feasible, y.feasible) ||
    preferHigher(x.localPref, y.localPref) ||
    preferTrue(x.sticky, y.sticky) ||
    preferHigher(x.sequence, y.sequence) ||
    preferTrue(!x.llgrStale, !y.llgrStale) ||
    (options.ignoreAsPath ? 0 : preferLower(x.asPath.length, y.asPath.length)) ||
    preferLower(ORIGIN_RANK[x.origin], ORIGIN_RANK[y.origin]) ||
    (options.alwaysCompareMed || (neighbourAs(a) !== 0 && neighbourAs(a) === neighbourAs(b))
      ? preferLower(x.med ?? 0, y.med ?? 0)
      : 0)
  );
}

export function isEcmpEqual(a: Path, b: Path, options: PathSelectionOptions = {}): boolean {
  return compareUpToMed(a, b, options) === 0;
}

function compareAddresses(a: string, b: string): number {
  const x = ipv4ToNumber(a);
  const y = ipv4ToNumber(b);
  if (x !== null && y !== null) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function identifier(path: Path): string {
  return path.attrs.originatorId ?? path.peer.routerId ?? path.peer.address;
}

/**
 * The full order used to sort a route's paths: docs/protocol.md §6.4 steps, then its tie-breaks (XMPP over BGP, eBGP
 * over iBGP, lower router-id/originator-id, shorter cluster list, lower peer address), then RD, peer
 * name and origin table so that the order is total and never depends on insertion order.
 */
export function comparePaths(a: Path, b: Path, options: PathSelectionOptions = {}): number {
  return (
    compareUpToMed(a, b, options) ||
    preferTrue(a.peer.kind === 'xmpp', b.peer.kind === 'xmpp') ||
    preferTrue(a.peer.kind === 'bgp' && !a.peer.isIbgp, b.peer.kind === 'bgp' && !b.peer.isIbgp) ||
    compareAddresses(identifier(a), identifier(b)) ||
    preferLower(a.attrs.clusterList.length, b.attrs.clusterList.length) ||
    compareAddresses(a.peer.address, b.peer.address) ||
    compareText(a.rd, b.rd) ||
    compareText(a.peer.name, b.peer.name) ||
    compareText(a.replicatedFrom?.table ?? '', b.replicatedFrom?.table ?? '')
  );
}

/**
 * The route's multipath (ECMP) set: best first, then each following path while it stays ECMP-equal to
 * the best (docs/protocol.md §6.5). `sortedPaths` must be in comparePaths order. Empty when no path is
 * feasible.
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
