/**
 * Contrail's PathCompare (docs/protocol.md §6.4): the ordered steps that decide the best path, the
 * prefix of those steps (up to and including MED) that decides ECMP eligibility and the multipath set,
 * the tie-breaks for the best path, and why a path ranks where it does (PathReason, for route views).
 * ETree root/leaf (step 3) and aliased / locally generated paths are not modelled: no path here has them.
 * Owns no route or table: callers sort and keep paths.
 */
import { asPathLength, neighbourAsOf, type BgpOrigin, type Path } from './path.ts';
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
  return neighbourAsOf(path.attrs.asPath);
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
    (options.ignoreAsPath ? 0 : preferLower(asPathLength(x.asPath), asPathLength(y.asPath))) ||
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

// ───────────────────────── why one path ranks above another ─────────────────────────

/** A step of the full order (comparePaths), named as an operator would look for it. */
export type SelectionStep =
  | 'feasible'
  | 'local-pref'
  | 'sticky'
  | 'sequence'
  | 'llgr-stale'
  | 'as-path-length'
  | 'origin'
  | 'med'
  | 'peer-type'
  | 'router-id'
  | 'cluster-list-length'
  | 'peer-address'
  | 'rd'
  | 'peer-name'
  | 'origin-table';

/**
 * Why a path holds its place in a route: 'best' for the best path, 'ecmp' for another member of the
 * multipath set (it ties the best up to MED), otherwise the step it lost on against the best path.
 * `detail` reads best-path value first, e.g. `{ step: 'local-pref', detail: '200 > 100' }`.
 */
export interface PathReason {
  readonly step: 'best' | 'ecmp' | SelectionStep;
  readonly detail: string;
}

export const BEST_REASON: PathReason = Object.freeze({ step: 'best', detail: 'best path' });
export const NO_FEASIBLE_REASON: PathReason = Object.freeze({ step: 'feasible', detail: 'no feasible path' });
export const ECMP_REASON: PathReason = Object.freeze({ step: 'ecmp', detail: 'ECMP: tie up to MED' });

interface Step {
  readonly step: SelectionStep;
  /** Same sign convention as comparePaths: negative when `a` ranks first. */
  compare(a: Path, b: Path, options: PathSelectionOptions): number;
  /** The winner's value against the loser's. */
  detail(winner: Path, loser: Path): string;
}

const peerType = (path: Path): string => (path.peer.kind === 'xmpp' ? 'xmpp' : path.peer.isIbgp ? 'ibgp' : 'ebgp');

/**
 * comparePaths spelled out one named step at a time, for explanations only: the sort keeps the unrolled
 * form above, and test/rib/path-reasons.test.ts checks that both rank every pair the same way.
 */
const STEPS: readonly Step[] = [
  { step: 'feasible', compare: (a, b) => preferTrue(a.attrs.feasible, b.attrs.feasible), detail: () => 'feasible over infeasible' },
  { step: 'local-pref', compare: (a, b) => preferHigher(a.attrs.localPref, b.attrs.localPref), detail: (w, l) => `${w.attrs.localPref} > ${l.attrs.localPref}` },
  { step: 'sticky', compare: (a, b) => preferTrue(a.attrs.sticky, b.attrs.sticky), detail: () => 'sticky over not sticky' },
  { step: 'sequence', compare: (a, b) => preferHigher(a.attrs.sequence, b.attrs.sequence), detail: (w, l) => `${w.attrs.sequence} > ${l.attrs.sequence}` },
  { step: 'llgr-stale', compare: (a, b) => preferTrue(!a.attrs.llgrStale, !b.attrs.llgrStale), detail: () => 'fresh over LLGR-stale' },
  {
    step: 'as-path-length',
    compare: (a, b, o) => (o.ignoreAsPath ? 0 : preferLower(asPathLength(a.attrs.asPath), asPathLength(b.attrs.asPath))),
    detail: (w, l) => `${asPathLength(w.attrs.asPath)} < ${asPathLength(l.attrs.asPath)}`,
  },
  { step: 'origin', compare: (a, b) => preferLower(ORIGIN_RANK[a.attrs.origin], ORIGIN_RANK[b.attrs.origin]), detail: (w, l) => `${w.attrs.origin} < ${l.attrs.origin}` },
  {
    step: 'med',
    compare: (a, b, o) => (o.alwaysCompareMed || (neighbourAs(a) !== 0 && neighbourAs(a) === neighbourAs(b)) ? preferLower(a.attrs.med ?? 0, b.attrs.med ?? 0) : 0),
    detail: (w, l) => `${w.attrs.med ?? 0} < ${l.attrs.med ?? 0}`,
  },
  {
    step: 'peer-type',
    compare: (a, b) =>
      preferTrue(a.peer.kind === 'xmpp', b.peer.kind === 'xmpp') ||
      preferTrue(a.peer.kind === 'bgp' && !a.peer.isIbgp, b.peer.kind === 'bgp' && !b.peer.isIbgp),
    detail: (w, l) => `${peerType(w)} over ${peerType(l)}`,
  },
  { step: 'router-id', compare: (a, b) => compareAddresses(identifier(a), identifier(b)), detail: (w, l) => `${identifier(w)} < ${identifier(l)}` },
  {
    step: 'cluster-list-length',
    compare: (a, b) => preferLower(a.attrs.clusterList.length, b.attrs.clusterList.length),
    detail: (w, l) => `${w.attrs.clusterList.length} < ${l.attrs.clusterList.length}`,
  },
  { step: 'peer-address', compare: (a, b) => compareAddresses(a.peer.address, b.peer.address), detail: (w, l) => `${w.peer.address} < ${l.peer.address}` },
  { step: 'rd', compare: (a, b) => compareText(a.rd, b.rd), detail: (w, l) => `${w.rd} < ${l.rd}` },
  { step: 'peer-name', compare: (a, b) => compareText(a.peer.name, b.peer.name), detail: (w, l) => `${w.peer.name} < ${l.peer.name}` },
  {
    step: 'origin-table',
    compare: (a, b) => compareText(a.replicatedFrom?.table ?? '', b.replicatedFrom?.table ?? ''),
    detail: (w, l) => `${w.replicatedFrom?.table ?? 'primary'} < ${l.replicatedFrom?.table ?? 'primary'}`,
  },
];

/** The step that ranked one of two paths first, which one, and the winner's value against the loser's. */
export interface DecidedStep {
  readonly step: SelectionStep;
  readonly winner: 'a' | 'b';
  readonly detail: string;
}

/**
 * The first step of the full order on which `a` and `b` differ, or null when they are the same path as
 * far as selection goes.
 */
export function decidingStep(a: Path, b: Path, options: PathSelectionOptions = {}): DecidedStep | null {
  for (const s of STEPS) {
    const c = s.compare(a, b, options);
    if (c !== 0) return c < 0 ? { step: s.step, winner: 'a', detail: s.detail(a, b) } : { step: s.step, winner: 'b', detail: s.detail(b, a) };
  }
  return null;
}

/**
 * Why `path` is where it is in a route whose best path is `best`: see PathReason. `multipath` says
 * whether the route's ECMP set holds it (the caller knows: multipathSet).
 */
export function pathReason(path: Path, best: Path, multipath: boolean, options: PathSelectionOptions = {}): PathReason {
  if (!best.attrs.feasible) return NO_FEASIBLE_REASON;
  if (path === best) return BEST_REASON;
  if (multipath) return ECMP_REASON;
  const decided = decidingStep(best, path, options);
  if (decided === null) return ECMP_REASON;
  return { step: decided.step, detail: decided.detail };
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
