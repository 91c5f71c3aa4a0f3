// The shape every benchmark module returns to the harness (./run.ts), and the small helpers modules
// share to fill it: percentiles and figures with an optional target.

/** A target a figure is designed to meet: at least (`>=`) or at most (`<=`) `value`, in the figure's unit. */
export interface BenchTarget {
  readonly op: '>=' | '<=';
  readonly value: number;
}

export interface BenchFigure {
  /** Stable key, e.g. `ingest.itemsPerSecond`; a size or variant goes in `case`. */
  readonly name: string;
  /** Which run produced it, e.g. `100 agents`. */
  readonly case: string;
  /** null when the run could not produce it (the note says why). */
  readonly value: number | null;
  readonly unit: string;
  readonly target?: BenchTarget;
  /** Set when there is a target and a value. */
  readonly met?: boolean;
  readonly note?: string;
}

export interface BenchSection {
  /** The `--only` key (`xmpp`, `bgp`, `dataplane`, `disruption`). */
  readonly name: string;
  readonly title: string;
  /** Sizes and settings the figures were measured with. */
  readonly params: Record<string, unknown>;
  readonly figures: BenchFigure[];
  /** How the numbers were obtained and what bounds them. */
  readonly notes: string[];
}

export interface BenchOptions {
  readonly quick: boolean;
  /** Progress lines (stderr); the table and JSON are the harness's. */
  readonly log: (line: string) => void;
}

/** What a benchmark module exports. */
export type BenchRun = (o: BenchOptions) => Promise<BenchSection>;

export function figure(
  name: string,
  benchCase: string,
  value: number | null,
  unit: string,
  extra: { target?: BenchTarget; note?: string } = {},
): BenchFigure {
  const rounded = value === null || !Number.isFinite(value) ? null : Number(value.toPrecision(6));
  const met =
    extra.target === undefined || rounded === null
      ? undefined
      : extra.target.op === '>='
        ? rounded >= extra.target.value
        : rounded <= extra.target.value;
  return {
    name,
    case: benchCase,
    value: rounded,
    unit,
    ...(extra.target ? { target: extra.target } : {}),
    ...(met !== undefined ? { met } : {}),
    ...(extra.note ? { note: extra.note } : {}),
  };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; null when there are none. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
