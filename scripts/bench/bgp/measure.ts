// One measured run, bgperf-style: monitor and feeder establish with the target, the target settles, then
// the feeder writes every pre-encoded UPDATE and End-of-RIB; the clock runs from the first byte written
// until the monitor holds every planned route (right RD, label and next hop). Target RSS and CPU come
// from /proc/<pid>.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { encodeMessage } from '../../../src/bgp/messages.ts';
import { defaultPathAttributes } from '../../../src/bgp/path-attributes.ts';
import { type EncodedFeed, type FeedPlan, FEED_ASN, FEED_ROUTE_TARGET, vpnEndOfRib } from './feed.ts';
import { HarnessSession, type HarnessSpeaker } from './harness-session.ts';
import { cpuSecondsOf } from './process-stats.ts';
import { VpnRouteCounter } from './route-counter.ts';
import { type BgpTarget, type RunningTarget } from './targets.ts';
import { freePort } from '../../../test/interop/bgp-daemons.ts';

export interface Addresses {
  readonly target: string;
  readonly feeder: string;
  readonly monitor: string;
}

export interface RunResult {
  readonly target: string;
  readonly routes: number;
  readonly ok: boolean;
  /** First UPDATE byte written → monitor holds all routes. */
  readonly seconds: number | null;
  /** First byte → the target's socket took the last byte (End-of-RIB) from the feeder. */
  readonly feedSeconds: number | null;
  readonly baselineRssBytes: number | null;
  readonly peakRssBytes: number | null;
  readonly bytesPerRoute: number | null;
  readonly cpuSeconds: number | null;
  /** After the announce: first withdraw byte written → the monitor holds none of the routes (null: not run or failed). */
  readonly withdrawSeconds: number | null;
  /** The target's CPU over the withdraw phase. */
  readonly withdrawCpuSeconds: number | null;
  readonly received: number;
  readonly duplicates: number;
  readonly foreign: number;
  readonly withdrawn: number;
  readonly monitorFamilies: string[];
  /** UPDATEs and bytes the monitor got from the target: how well the target packs NLRI. */
  readonly monitorUpdates: number;
  readonly monitorBytes: number;
  /** The machine's 1-minute load average when the feed started: other work on the 2 cores skews the figures. */
  readonly loadAverage: number | null;
  readonly error?: string;
}

const SESSION_DEADLINE_MS = 20000;
/** After both sessions are up: time for the target to finish its own session start (initial dumps, RT interest). */
const SETTLE_MS = 750;

function speakers(a: Addresses, counter: VpnRouteCounter): { feeder: HarnessSpeaker; monitor: HarnessSpeaker } {
  return {
    feeder: { name: 'feeder', localAddress: a.feeder, routerId: '10.255.255.1', asn: FEED_ASN, families: ['inet-vpn'], holdTime: 90 },
    monitor: {
      name: 'monitor', localAddress: a.monitor, routerId: '10.255.255.2', asn: FEED_ASN, families: ['inet-vpn', 'route-target'], holdTime: 90,
      onUpdate: (m) => counter.onUpdate(m),
    },
  };
}

/** RFC 4684: a target that negotiated route-target sends VPN routes only for targets a peer asked for. */
async function announceInterest(monitor: HarnessSession, address: string): Promise<void> {
  const messages: Buffer[] = [];
  if (monitor.families.includes('route-target')) {
    messages.push(encodeMessage({
      type: 'update', attributes: defaultPathAttributes({ localPref: 100 }),
      mpReach: { nextHop: address, nlri: { family: 'route-target', targets: [{ originAs: FEED_ASN, routeTarget: FEED_ROUTE_TARGET, prefixLength: 96 }] } },
    }));
    messages.push(encodeMessage({ type: 'update', mpUnreach: { family: 'route-target', targets: [] } }));
  }
  messages.push(vpnEndOfRib());
  await monitor.write(messages);
}

function waitFor(check: () => boolean, timeoutMs: number, failed: () => string | undefined): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + timeoutMs;
    const poll = () => {
      if (check()) return resolve(process.hrtime.bigint());
      const why = failed();
      if (why) return reject(new Error(why));
      if (Date.now() > until) return reject(new Error(`timed out after ${timeoutMs / 1000} s`));
      // A 1 ms poll keeps the resolution fine without starving the socket reads a busy loop would block.
      setTimeout(poll, 1);
    };
    poll();
  });
}

const seconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;

interface Side {
  readonly pid: number | null;
  readonly rss: RunningTarget['rss'] | null;
}

/** What the feeder sends: the announce, and optionally the withdraw of every route once the monitor holds them all. */
export interface Feeds {
  readonly announce: EncodedFeed;
  readonly withdraw?: EncodedFeed;
}

/** The withdraw phase: same clock and CPU rules as the announce, until the monitor holds none of the plan. */
async function withdrawAndWatch(
  feed: EncodedFeed, counter: VpnRouteCounter, feeder: HarnessSession, monitor: HarnessSession, pid: number | null, timeoutMs: number,
): Promise<{ withdrawSeconds: number | null; withdrawCpuSeconds: number | null; withdrawError?: string }> {
  const cpuBefore = pid === null ? null : cpuSecondsOf(pid);
  const t0 = process.hrtime.bigint();
  let feedError: string | undefined;
  const feeding = feeder.write(feed.chunks).catch((e: Error) => { feedError = e.message; });
  try {
    const doneAt = await waitFor(() => counter.distinct === 0, timeoutMs, () => feedError
      ?? (monitor.isEstablished ? undefined : `monitor session ended: ${monitor.endReason}`));
    const cpuAfter = pid === null ? null : cpuSecondsOf(pid);
    await feeding;
    return { withdrawSeconds: seconds(t0, doneAt), withdrawCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
  } catch (e) {
    return { withdrawSeconds: null, withdrawCpuSeconds: null, withdrawError: `withdraw: ${(e as Error).message}; monitor still has ${counter.distinct}` };
  }
}

async function feedAndWatch(
  plan: FeedPlan, feeds: Feeds, counter: VpnRouteCounter, feeder: HarnessSession, monitor: HarnessSession, side: Side, timeoutMs: number,
): Promise<Omit<RunResult, 'target' | 'routes' | 'monitorFamilies' | 'monitorUpdates' | 'monitorBytes' | 'received' | 'duplicates' | 'foreign' | 'withdrawn'>> {
  const feed = feeds.announce;
  const loadAverage = loadavg()[0] ?? null;
  const cpuBefore = side.pid === null ? null : cpuSecondsOf(side.pid);
  side.rss?.start();
  const t0 = process.hrtime.bigint();
  let fedAt: bigint | null = null;
  let feedError: string | undefined;
  const feeding = feeder.write([...feed.chunks, vpnEndOfRib()]).then(
    () => { fedAt = process.hrtime.bigint(); },
    (e: Error) => { feedError = e.message; },
  );
  let doneAt: bigint;
  try {
    doneAt = await waitFor(() => counter.complete, timeoutMs, () => feedError
      ?? (monitor.isEstablished ? undefined : `monitor session ended: ${monitor.endReason}`)
      ?? (feeder.isEstablished || fedAt !== null ? undefined : `feeder session ended: ${feeder.endReason}`));
  } catch (e) {
    const memory = side.rss?.stop();
    return {
      ok: false, loadAverage, seconds: null, feedSeconds: fedAt === null ? null : seconds(t0, fedAt), cpuSeconds: null, withdrawSeconds: null, withdrawCpuSeconds: null,
      baselineRssBytes: memory?.baseline ?? null, peakRssBytes: memory?.peak ?? null, bytesPerRoute: null,
      error: `${(e as Error).message}; monitor has ${counter.distinct} of ${plan.routes}`,
    };
  }
  const cpuAfter = side.pid === null ? null : cpuSecondsOf(side.pid);
  const memory = side.rss?.stop();
  await feeding;
  const { withdrawError, ...withdraw } = feeds.withdraw === undefined
    ? { withdrawSeconds: null, withdrawCpuSeconds: null, withdrawError: undefined }
    : await withdrawAndWatch(feeds.withdraw, counter, feeder, monitor, side.pid, timeoutMs);
  return {
    ...withdraw,
    ...(withdrawError === undefined ? {} : { error: withdrawError }),
    ok: true,
    loadAverage,
    seconds: seconds(t0, doneAt),
    feedSeconds: fedAt === null ? null : seconds(t0, fedAt),
    cpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    baselineRssBytes: memory?.baseline ?? null,
    peakRssBytes: memory?.peak ?? null,
    bytesPerRoute: memory ? (memory.peak - memory.baseline) / plan.routes : null,
  };
}

function result(target: string, plan: FeedPlan, counter: VpnRouteCounter, monitor: HarnessSession | undefined, r: Partial<RunResult>): RunResult {
  return {
    target, routes: plan.routes, ok: false, loadAverage: null, seconds: null, feedSeconds: null, baselineRssBytes: null, peakRssBytes: null,
    bytesPerRoute: null, cpuSeconds: null, withdrawSeconds: null, withdrawCpuSeconds: null, ...r,
    received: counter.peakDistinct, duplicates: counter.duplicates, foreign: counter.foreign, withdrawn: counter.withdrawn,
    monitorFamilies: monitor?.families ?? [],
    monitorUpdates: monitor?.updatesIn ?? 0,
    monitorBytes: monitor?.bytesIn ?? 0,
  };
}

/** One run against a target process; always stops it and removes its temp dir. */
export async function measureTarget(target: BgpTarget, a: Addresses, plan: FeedPlan, feeds: Feeds, timeoutMs: number): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), `ecmpsim-bench-bgp-${target.name}-`));
  const counter = new VpnRouteCounter(plan);
  const s = speakers(a, counter);
  let running: RunningTarget | undefined;
  let feeder: HarnessSession | undefined;
  let monitor: HarnessSession | undefined;
  try {
    const port = await freePort(a.target);
    running = await target.start({ address: a.target, port, feeder: a.feeder, monitor: a.monitor, asn: FEED_ASN, routerId: '10.255.0.1', clusterId: '10.255.0.1', dir });
    monitor = await HarnessSession.connect(s.monitor, a.target, port, SESSION_DEADLINE_MS);
    await announceInterest(monitor, a.monitor);
    feeder = await HarnessSession.connect(s.feeder, a.target, port, SESSION_DEADLINE_MS);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const r = await feedAndWatch(plan, feeds, counter, feeder, monitor, { pid: running.pid, rss: running.rss }, timeoutMs);
    return result(target.name, plan, counter, monitor, r.ok ? r : { ...r, error: `${r.error}\n${running.logTail()}` });
  } catch (e) {
    return result(target.name, plan, counter, monitor, { error: `${(e as Error).message}${running ? `\n${running.logTail()}` : ''}` });
  } finally {
    await Promise.all([feeder?.close(), monitor?.close()]);
    await running?.stop();
    if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

/** The harness alone: the monitor listens and the feeder connects straight to it (the floor every target adds to). */
export async function measureHarness(a: Addresses, plan: FeedPlan, feeds: Feeds, timeoutMs: number): Promise<RunResult> {
  const counter = new VpnRouteCounter(plan);
  const s = speakers(a, counter);
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: a.monitor, port: 0 }, () => resolve());
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  let feeder: HarnessSession | undefined;
  let monitor: HarnessSession | undefined;
  try {
    const feederUp = HarnessSession.connect(s.feeder, a.monitor, port, SESSION_DEADLINE_MS);
    monitor = await HarnessSession.accept(s.monitor, await accepted, SESSION_DEADLINE_MS);
    feeder = await feederUp;
    const r = await feedAndWatch(plan, feeds, counter, feeder, monitor, { pid: null, rss: null }, timeoutMs);
    return result('harness', plan, counter, monitor, r);
  } catch (e) {
    return result('harness', plan, counter, monitor, { error: (e as Error).message });
  } finally {
    await Promise.all([feeder?.close(), monitor?.close()]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
