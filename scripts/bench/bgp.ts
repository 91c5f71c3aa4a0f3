// BGP benchmark (issue 6, part 2), bgperf-style: one feeder → target → one monitor, side by side for our
// control node and gobgpd, BIRD 2 and FRR bgpd, each a route reflector with feeder and monitor as iBGP
// clients. Per target and size: time from the first UPDATE written until the monitor holds all N VPNv4
// routes, the target's peak RSS per route, its CPU seconds, and the ratio ours/each.
//   quick: 10k routes, one run per target.  full: 100k and 1M, medians of 3.
// Narrow a run with BENCH_BGP_SIZES=100000,1000000, BENCH_BGP_RUNS=1 and BENCH_BGP_TARGETS=ours,bird
// (harness, ours, bird, frr, gobgpd); KEEP=1 keeps each run's temp dir (configs, logs);
// BENCH_BGP_CPU_PROF=<dir> writes a V8 CPU profile of our control node per run.
import { cpus } from 'node:os';
import { figure, type BenchFigure, type BenchOptions, type BenchSection } from './bench-section.ts';
import { encodeFeed, encodeWithdrawFeed, feedPlan, FEED_ROUTE_TARGET } from './bgp/feed.ts';
import { type Addresses, type Feeds, type RunResult, measureHarness, measureTarget } from './bgp/measure.ts';
import { type BgpTarget, TARGETS, killAllStarted } from './bgp/targets.ts';

const RDS = 100;
const QUICK = { sizes: [10_000], runs: 1 };
const FULL = { sizes: [100_000, 1_000_000], runs: 3 };
/** Generous: gobgpd needs about a minute for 1M here. */
const timeoutMs = (routes: number): number => 20_000 + routes * 0.3;

/** 127.79.<x>.0/24 for this process; target k uses .10k+1 (target), +2 (feeder), +3 (monitor). */
function addressesFor(k: number): Addresses {
  const x = 1 + (process.pid % 200);
  return { target: `127.79.${x}.${10 * k + 1}`, feeder: `127.79.${x}.${10 * k + 2}`, monitor: `127.79.${x}.${10 * k + 3}` };
}

function sizeLabel(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function envList(name: string): string[] | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
}

interface Summary {
  readonly target: string;
  readonly routes: number;
  readonly runs: number;
  readonly okRuns: number;
  readonly seconds: number | null;
  readonly bytesPerRoute: number | null;
  readonly cpuSeconds: number | null;
  readonly withdrawSeconds: number | null;
  readonly withdrawCpuSeconds: number | null;
  readonly peakRssBytes: number | null;
  readonly secondsRange: [number, number] | null;
  readonly error?: string;
}

function summarize(target: string, routes: number, results: readonly RunResult[]): Summary {
  const ok = results.filter((r) => r.ok);
  const pick = (f: (r: RunResult) => number | null): number[] => ok.map(f).filter((v): v is number => v !== null);
  const secs = pick((r) => r.seconds);
  const firstError = results.find((r) => !r.ok)?.error?.split('\n')[0];
  return {
    target, routes, runs: results.length, okRuns: ok.length,
    seconds: median(secs),
    bytesPerRoute: median(pick((r) => r.bytesPerRoute)),
    cpuSeconds: median(pick((r) => r.cpuSeconds)),
    withdrawSeconds: median(pick((r) => r.withdrawSeconds)),
    withdrawCpuSeconds: median(pick((r) => r.withdrawCpuSeconds)),
    peakRssBytes: median(pick((r) => r.peakRssBytes)),
    secondsRange: secs.length ? [Math.min(...secs), Math.max(...secs)] : null,
    ...(firstError ? { error: firstError } : {}),
  };
}

function runsNote(s: Summary): string | undefined {
  const parts: string[] = [];
  if (s.okRuns > 1 && s.secondsRange) parts.push(`median of ${s.okRuns}, ${s.secondsRange[0].toFixed(2)}–${s.secondsRange[1].toFixed(2)} s`);
  if (s.okRuns < s.runs) parts.push(`${s.runs - s.okRuns} of ${s.runs} run(s) failed: ${s.error}`);
  return parts.length ? parts.join('; ') : undefined;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

function figuresFor(summaries: readonly Summary[], routes: number): BenchFigure[] {
  const label = sizeLabel(routes);
  const out: BenchFigure[] = [];
  const of = (t: string) => summaries.find((s) => s.target === t && s.routes === routes);
  for (const s of summaries.filter((x) => x.routes === routes)) {
    const note = runsNote(s);
    const extra = note ? { note } : {};
    out.push(figure('bgp.seconds', `${s.target} ${label}`, s.seconds, 's', extra));
    out.push(figure('bgp.withdrawSeconds', `${s.target} ${label}`, s.withdrawSeconds, 's'));
    if (s.target === 'harness') continue;
    out.push(figure('bgp.withdrawCpuSeconds', `${s.target} ${label}`, s.withdrawCpuSeconds, 'CPU s'));
    out.push(figure('bgp.rssBytesPerRoute', `${s.target} ${label}`, s.bytesPerRoute, 'B/route', extra));
    out.push(figure('bgp.cpuSeconds', `${s.target} ${label}`, s.cpuSeconds, 'CPU s', extra));
    out.push(figure('bgp.peakRss', `${s.target} ${label}`, s.peakRssBytes === null ? null : s.peakRssBytes / 2 ** 20, 'MiB', extra));
  }
  const mine = of('ours');
  if (!mine) return out;
  for (const other of summaries.filter((x) => x.routes === routes && x.target !== 'ours' && x.target !== 'harness')) {
    const c = `ours/${other.target} ${label}`;
    const pending = mine.okRuns === 0 ? { note: `ours produced no figure: ${mine.error ?? 'no run'}` } : {};
    out.push(figure('bgp.ratio.seconds', c, ratio(mine.seconds, other.seconds), 'x',
      other.target === 'bird' ? { target: { op: '<=', value: 1 }, ...pending } : pending));
    out.push(figure('bgp.ratio.withdrawSeconds', c, ratio(mine.withdrawSeconds, other.withdrawSeconds), 'x',
      other.target === 'bird' ? { target: { op: '<=', value: 1 }, ...pending } : pending));
    out.push(figure('bgp.ratio.bytesPerRoute', c, ratio(mine.bytesPerRoute, other.bytesPerRoute), 'x',
      other.target === 'bird' ? { target: { op: '<=', value: 1 }, ...pending } : pending));
    out.push(figure('bgp.ratio.cpuSeconds', c, ratio(mine.cpuSeconds, other.cpuSeconds), 'x', pending));
    out.push(figure('bgp.ratio.withdrawCpuSeconds', c, ratio(mine.withdrawCpuSeconds, other.withdrawCpuSeconds), 'x', pending));
  }
  return out;
}

export async function run(o: BenchOptions): Promise<BenchSection> {
  const base = o.quick ? QUICK : FULL;
  const sizes = (envList('BENCH_BGP_SIZES') ?? base.sizes.map(String)).map(Number);
  const runs = Number(process.env.BENCH_BGP_RUNS ?? base.runs);
  const wanted = envList('BENCH_BGP_TARGETS') ?? ['harness', ...TARGETS.map((t) => t.name)];
  for (const n of sizes) if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_BGP_SIZES: ${n} is not a route count`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_BGP_RUNS: ${runs} is not a run count`);
  const unknown = wanted.filter((w) => w !== 'harness' && !TARGETS.some((t) => t.name === w));
  if (unknown.length) throw new Error(`BENCH_BGP_TARGETS: unknown ${unknown.join(', ')} (known: harness, ${TARGETS.map((t) => t.name).join(', ')})`);

  const notes: string[] = [];
  const targets: BgpTarget[] = [];
  const versions: Record<string, string> = {};
  for (const t of TARGETS.filter((x) => wanted.includes(x.name))) {
    const missing = t.missing();
    if (missing) {
      notes.push(`${t.name} skipped: ${missing}`);
      continue;
    }
    targets.push(t);
    versions[t.name] = await t.version();
  }

  // An interrupted benchmark must not leave daemons behind.
  const onSignal = (signal: NodeJS.Signals) => {
    killAllStarted();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllStarted);

  const results: RunResult[] = [];
  const feeds: Record<string, { updates: number; bytes: number; withdrawUpdates: number; encodeSeconds: number }> = {};
  try {
    for (const routes of sizes) {
      const plan = feedPlan(routes, RDS);
      const started = process.hrtime.bigint();
      const feed: Feeds = { announce: encodeFeed(plan), withdraw: encodeWithdrawFeed(plan) };
      feeds[sizeLabel(routes)] = { updates: feed.announce.updates, bytes: feed.announce.bytes, withdrawUpdates: feed.withdraw!.updates, encodeSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
      o.log(`${sizeLabel(routes)}: ${feed.announce.updates} UPDATEs, ${(feed.announce.bytes / 2 ** 20).toFixed(1)} MiB pre-encoded`);
      // Targets take turns within each round, so slow drift of the machine spreads over all of them.
      for (let round = 1; round <= runs; round++) {
        const lineup: (BgpTarget | 'harness')[] = [...(wanted.includes('harness') ? ['harness' as const] : []), ...targets];
        for (const [k, t] of lineup.entries()) {
          const a = addressesFor(k);
          const r = t === 'harness'
            ? await measureHarness(a, plan, feed, timeoutMs(routes))
            : await measureTarget(t, a, plan, feed, timeoutMs(routes));
          results.push(r);
          o.log(`${sizeLabel(routes)} run ${round}/${runs} ${r.target}: ${r.ok
            ? `${r.seconds!.toFixed(3)} s, withdraw ${r.withdrawSeconds === null ? '-' : r.withdrawSeconds.toFixed(3)} s / ${r.withdrawCpuSeconds === null ? '-' : r.withdrawCpuSeconds.toFixed(2)} CPU s, ${r.bytesPerRoute === null ? '-' : r.bytesPerRoute.toFixed(0)} B/route, ${r.cpuSeconds === null ? '-' : r.cpuSeconds.toFixed(2)} CPU s, ${r.monitorUpdates} UPDATEs to the monitor`
            : `FAILED: ${r.error}`}`);
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAllStarted);
  }

  const summaries: Summary[] = [];
  const names = [...(wanted.includes('harness') ? ['harness'] : []), ...targets.map((t) => t.name)];
  for (const routes of sizes) {
    for (const name of names) summaries.push(summarize(name, routes, results.filter((r) => r.target === name && r.routes === routes)));
  }
  const figures = sizes.flatMap((n) => figuresFor(summaries, n));
  const oursFailures = results.filter((r) => r.target === 'ours' && !r.ok);
  if (oursFailures.length) notes.push(`ours: ${oursFailures.length} run(s) without a result; first error: ${oursFailures[0]!.error?.split('\n').slice(0, 2).join(' | ')}`);
  const lost = results.filter((r) => r.foreign > 0 || r.duplicates > 0 || r.withdrawn > (r.withdrawSeconds === null ? 0 : r.routes));
  for (const r of lost) notes.push(`${r.target} ${sizeLabel(r.routes)}: monitor saw ${r.foreign} altered/unknown, ${r.duplicates} duplicate, ${r.withdrawn} withdrawn NLRI`);
  const loads = results.map((r) => r.loadAverage).filter((v): v is number => v !== null);
  if (loads.length) {
    notes.push(`1-minute load average at the start of the feeds: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores (anything above ~1 means other work competed with the target).`);
  }
  notes.push(
    'Clock: first UPDATE byte written by the feeder → the monitor holds all N routes, each with the RD, label and next hop the feeder sent (checked per NLRI); End-of-RIB follows the last UPDATE.',
    'Withdraw (issue 15): once the monitor holds all N, the feeder withdraws them all (MP_UNREACH, ~250 NLRI per UPDATE); clock from the first withdraw byte → the monitor holds none; CPU = the target\'s utime + stime over that interval.',
    'RSS per route = (peak − baseline) / N of the target process alone: baseline = VmRSS after both sessions are up and settled, peak = max of VmRSS sampled every 50 ms and VmHWM reset at the baseline (clear_refs 5). CPU = utime + stime of the target from first byte to completion.',
    'Each target is a route reflector (cluster id 10.255.0.1) with feeder and monitor as passive iBGP clients in AS 64512 that connect to it; every run starts a fresh target process. Ours is `ecmpsim node` (the control node alone in its own process).',
    `Feed: ${RDS} RDs of type 1 (<compute>:1, next hop = that compute, 10.1.0.x), /32s from 20.0.0.0, one label per route (16 + i: no two routes share attributes), one route target (${FEED_ROUTE_TARGET}), LOCAL_PREF 100, ORIGIN incomplete; packed ~250 NLRI per UPDATE. The monitor offers inet-vpn + route-target and, where the target negotiates route-target (RFC 4684), asks for that target.`,
    'Harness floor (`harness` rows): the same feeder writing straight into the monitor, no target in between.',
  );
  const actualRuns = Object.fromEntries(sizes.map((n) => [sizeLabel(n), runs]));
  return {
    name: 'bgp',
    title: `BGP route reflection, feeder → target → monitor (${sizes.map(sizeLabel).join(', ')} VPNv4 routes, ${runs === 1 ? 'one run' : `median of ${runs} runs`})`,
    params: { sizes, runsPerSize: actualRuns, rds: RDS, routeTarget: FEED_ROUTE_TARGET, targets: names, versions, feeds, summaries, runs: results },
    figures,
    notes,
  };
}
