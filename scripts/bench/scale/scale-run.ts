// One scale measurement, in a process of its own so that its RSS and CPU time are the simulation's alone:
// generates an N-compute topology (./scale-topology.ts), brings it up with the launcher, polls every
// compute's FIB for the VIP until each holds every member (converged), then adds one member at full
// size and records when each compute's VIP route holds it. Prints one JSON line (ScaleResult) on stdout.
//
//   node --import tsx scripts/bench/scale/scale-run.ts --computes 500 --members 64 [--timeout-s 120]
//       [--mode in-process|processes] [--heap-snapshot FILE]
import { writeHeapSnapshot } from 'node:v8';
import { Command } from 'commander';
import { validateTopology, formatTopologyError } from '../../../src/topology/loader.ts';
import { Simulation, type SimulationOptions } from '../../../src/topology/launcher.ts';
import { percentile } from '../bench-section.ts';
import { SCALE_NETWORK, SCALE_VIP, computeAddress, computeName, scaleTopology, workloadAddress } from './scale-topology.ts';

export interface ScaleResult {
  computes: number;
  agentThreads: number;
  members: number;
  converged: boolean;
  /** launcher start() → every compute's VIP route holds every member */
  convergeMs: number | null;
  /** launcher start() resolved (every node started, not yet converged) */
  startMs: number;
  peakRssBytes: number;
  rssAfterConvergeBytes: number;
  heapUsedAfterConvergeBytes: number;
  cpuSecondsToConverge: number;
  /** config write of a 65th member → each compute's VIP route holds it; the poll sweep bounds the resolution */
  memberAdd: { p50Ms: number; p99Ms: number; maxMs: number; reached: number; sweepMs: number } | null;
  notConverged: string[];
  /** The control node's reflection counters at convergence (items, messages and socket writes to agents). */
  reflection?: { itemsSent: number; retractsSent: number; messagesSent: number; writes?: number; heldBack: number };
}

interface SlotLike { empty: boolean; address?: string }
interface FibLike { routes: { prefix: string; slots: SlotLike[] }[] }

const VIP_PREFIX = `${SCALE_VIP}/32`;

async function vipMembers(sim: Simulation, compute: string): Promise<Set<string> | null> {
  const response = await sim.api({
    method: 'GET', path: `/api/nodes/${compute}/fib`, params: {}, body: undefined,
    query: new URLSearchParams({ vrf: SCALE_NETWORK, prefix: VIP_PREFIX }),
  });
  if (!('body' in response) || response.status !== 200) return null;
  const route = (response.body as FibLike[])[0]?.routes[0];
  if (!route) return null;
  return new Set(route.slots.filter((s) => !s.empty && s.address !== undefined).map((s) => s.address!));
}

/** Polls the computes in `pending` until `done(members)` holds for each; returns when each got there (ms since t0). */
async function pollUntil(
  sim: Simulation, pending: Set<string>, done: (members: Set<string> | null) => boolean, t0: number, deadline: number,
  intervalMs: number,
): Promise<{ reachedAt: Map<string, number>; sweepMs: number }> {
  const reachedAt = new Map<string, number>();
  let sweeps = 0;
  let sweepTotal = 0;
  while (pending.size > 0 && performance.now() < deadline) {
    const s0 = performance.now();
    for (const name of [...pending]) {
      let members: Set<string> | null;
      try {
        members = await vipMembers(sim, name);
      } catch {
        members = null;
      }
      if (done(members)) {
        reachedAt.set(name, performance.now() - t0);
        pending.delete(name);
      }
    }
    sweeps++;
    sweepTotal += performance.now() - s0;
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return { reachedAt, sweepMs: sweeps === 0 ? 0 : sweepTotal / sweeps };
}


export async function measureScale(o: {
  computes: number; members: number; timeoutMs: number; mode: SimulationOptions['mode']; heapSnapshot?: string; agentThreads?: number;
  log: (line: string) => void;
}): Promise<ScaleResult> {
  const raw = scaleTopology({ computes: o.computes, members: o.members });
  const checked = validateTopology(raw, raw.name);
  if (!checked.ok) throw new Error(`generated topology refused: ${checked.errors.map(formatTopologyError).join('; ')}`);
  const names = Array.from({ length: o.computes }, (_, n) => computeName(n));
  // a slot's address is the next hop: the compute that hosts the member
  const wanted = new Set(Array.from({ length: o.members }, (_, i) => computeAddress(i)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + o.timeoutMs;
  const sim = await Simulation.start(checked.topology, { mode: o.mode, agentThreads: o.agentThreads });
  try {
    const startMs = performance.now() - t0;
    o.log(`${o.computes} computes started in ${Math.round(startMs)} ms; polling for the ${o.members}-member VIP`);
    const pending = new Set(names);
    const hasAll = (m: Set<string> | null): boolean => m !== null && m.size === wanted.size && [...wanted].every((a) => m.has(a));
    const converge = await pollUntil(sim, pending, hasAll, t0, deadline, 200);
    const converged = pending.size === 0;
    const convergeMs = converged ? Math.max(...converge.reachedAt.values()) : null;
    const cpu = process.cpuUsage(cpu0);
    const mem = process.memoryUsage();
    o.log(`converged=${converged} in ${convergeMs === null ? '—' : Math.round(convergeMs)} ms, rss ${Math.round(mem.rss / 2 ** 20)} MiB`);
    const status = await sim.api({ method: 'GET', path: '/api/nodes/control-1/status', params: {}, body: undefined, query: new URLSearchParams() });
    const reflection = 'body' in status ? (status.body as { reflection?: ScaleResult['reflection'] }).reflection : undefined;
    if (reflection) o.log(`reflection: ${JSON.stringify(reflection)}`);
    if (o.heapSnapshot) writeHeapSnapshot(o.heapSnapshot);
    let memberAdd: ScaleResult['memberAdd'] = null;
    if (converged) {
      const added = workloadAddress(o.members);
      const a0 = performance.now();
      const response = await sim.api({
        method: 'POST', path: '/api/config/loadbalancer-member', params: {}, query: new URLSearchParams(),
        body: { pool: 'pool-scale', address: added, port: 8080 },
      });
      if (response.status >= 300) throw new Error(`adding a member failed: ${JSON.stringify('body' in response ? response.body : response.status)}`);
      const again = new Set(names);
      const add = await pollUntil(sim, again, (m) => m !== null && m.has(computeAddress(o.members)), a0, performance.now() + o.timeoutMs, 10);
      const times = [...add.reachedAt.values()];
      memberAdd = {
        p50Ms: percentile(times, 50) ?? NaN, p99Ms: percentile(times, 99) ?? NaN, maxMs: percentile(times, 100) ?? NaN,
        reached: times.length, sweepMs: add.sweepMs,
      };
    }
    return {
      computes: o.computes, agentThreads: sim.agentThreads, members: o.members, converged, convergeMs, startMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      rssAfterConvergeBytes: mem.rss, heapUsedAfterConvergeBytes: mem.heapUsed,
      cpuSecondsToConverge: (cpu.user + cpu.system) / 1e6,
      memberAdd, notConverged: [...pending].slice(0, 10), reflection,
    };
  } finally {
    await sim.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .requiredOption('--computes <n>', 'computes', (v) => Number(v))
    .option('--members <n>', 'pool members', (v) => Number(v), 64)
    .option('--timeout-s <s>', 'give up converging after', (v) => Number(v), 180)
    .option('--mode <mode>', 'in-process | processes', 'in-process')
    .option('--heap-snapshot <file>', 'write a heap snapshot once converged')
    .option('--agent-threads <n>', 'worker threads for the agents (0: all in the main thread; default: the launcher\'s choice)', (v) => Number(v))
    .parse(process.argv)
    .opts<{ computes: number; members: number; timeoutS: number; mode: 'in-process' | 'processes'; heapSnapshot?: string; agentThreads?: number }>();
  const log = (line: string): void => { process.stderr.write(`[scale] ${line}\n`); };
  measureScale({ computes: opts.computes, members: Math.min(opts.members, opts.computes - 1), timeoutMs: opts.timeoutS * 1000, mode: opts.mode, heapSnapshot: opts.heapSnapshot, agentThreads: opts.agentThreads, log })
    .then((r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); })
    .catch((e: Error) => { process.stderr.write(`scale-run: ${e.message}\n`); process.exit(1); });
}
