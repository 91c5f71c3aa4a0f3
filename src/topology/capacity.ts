// Whether this box can run a topology at all, checked before anything starts: the file descriptors its
// sockets need against the process's limit (ulimit -n) and its estimated memory against what the box has
// free. A topology that would run out of either fails in the middle of bring-up with errors that do not
// say why (EMFILE on the 1,021st connect, or the kernel's OOM killer); this says why up front.
// The memory figures are the scale bench's measurements (scripts/bench/scale.ts, docs/architecture.md
// "Scale"); they are estimates, so the check refuses only what clearly does not fit.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Topology } from './topology.ts';

export class CapacityError extends Error {}

/**
 * Measured in-process (scale bench): the process itself, each compute's agent and session, each FIB route. A
 * route is ~170 B at 2,000 computes (a single tunnel stays a deferred FIB slot until read, vrouter/vrf-fib.ts);
 * an ECMP route or one that carries flows has an entry of its own (~400 B): the figure leaves room for some.
 */
export const PROCESS_BASE_BYTES = 160 * 2 ** 20;
export const COMPUTE_BYTES = 96 * 1024;
export const ROUTE_BYTES = 250;
/** Each node of `--processes` is a Node.js process of its own. */
export const NODE_PROCESS_BYTES = 70 * 2 ** 20;
/** Descriptors a process uses besides its sessions (stdio, the event loop, the API listener, files). */
const BASE_FDS = 64;

export interface CapacityEstimate {
  /** Most descriptors one process needs (the in-process simulation, or the control node's process). */
  fds: number;
  memoryBytes: number;
  /** FIB routes summed over the computes (one per workload of each network a compute has a workload in, plus VIPs). */
  routes: number;
}

export function estimateCapacity(topology: Topology, mode: 'in-process' | 'processes'): CapacityEstimate {
  const computes = topology.computes.filter((c) => !c.external);
  const sessions = computes.reduce((n, c) => n + c.xmppServers.length, 0);
  const perNetwork = new Map<string, number>();
  for (const w of topology.workloads) perNetwork.set(w.network, (perNetwork.get(w.network) ?? 0) + 1);
  for (const lb of topology.loadBalancers) perNetwork.set(lb.network, (perNetwork.get(lb.network) ?? 0) + 1);
  const networksOf = new Map<string, Set<string>>();
  for (const w of topology.workloads) {
    let set = networksOf.get(w.compute);
    if (!set) networksOf.set(w.compute, (set = new Set()));
    set.add(w.network);
  }
  let routes = 0;
  for (const c of computes) for (const network of networksOf.get(c.name) ?? []) routes += perNetwork.get(network) ?? 0;
  const bgp = topology.bgpPeers.length * Math.max(1, topology.controlNodes.length);
  if (mode === 'in-process') {
    // each session is two descriptors here: the agent's socket and the control node's end of it
    return {
      fds: BASE_FDS + 2 * sessions + bgp,
      memoryBytes: PROCESS_BASE_BYTES + computes.length * COMPUTE_BYTES + routes * ROUTE_BYTES,
      routes,
    };
  }
  const nodes = computes.length + topology.controlNodes.length;
  // the busiest process is the control node (one socket per agent session) or the launcher (pipes to every child)
  return {
    fds: Math.max(BASE_FDS + sessions + bgp, BASE_FDS + 3 * nodes),
    memoryBytes: nodes * NODE_PROCESS_BYTES + computes.length * COMPUTE_BYTES + routes * ROUTE_BYTES,
    routes,
  };
}

/** The soft limit on open files of this process (what a child inherits), or null when unknown. */
export function openFileLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return null;
  }
}

/** Memory the box can still give: MemAvailable, or less under a cgroup limit. */
export function availableMemory(): number {
  let available = os.freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max !== 'max') {
      const used = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
      available = Math.min(available, Number(max) - used);
    }
  } catch {
    // no cgroup v2 limit
  }
  return available;
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;

/** Why the topology cannot run here (one line), or undefined when it fits. */
export function capacityProblem(
  topology: Topology, mode: 'in-process' | 'processes',
  box: { openFiles?: number | null; memoryBytes?: number } = {},
): string | undefined {
  const need = estimateCapacity(topology, mode);
  const limit = box.openFiles === undefined ? openFileLimit() : box.openFiles;
  const computes = topology.computes.filter((c) => !c.external).length;
  if (limit !== null && need.fds > limit) {
    return `${topology.name}: ${computes} computes need about ${need.fds.toLocaleString('en-US')} open files ${mode === 'in-process' ? 'in this process' : 'in the busiest process'}, but the limit (ulimit -n) is ${limit.toLocaleString('en-US')}; raise it (ulimit -n ${Math.ceil((need.fds * 1.25) / 1024) * 1024}) or run fewer computes`;
  }
  const memory = box.memoryBytes ?? availableMemory();
  if (need.memoryBytes > memory) {
    const hint = mode === 'processes' ? '; in-process mode needs far less (one Node.js process for all nodes)' : '';
    return `${topology.name}: ${computes} computes with ${need.routes.toLocaleString('en-US')} FIB routes need about ${mib(need.memoryBytes)} ${mode === 'processes' ? `as ${computes + topology.controlNodes.length} processes` : 'in-process'}, but only ${mib(memory)} is available${hint}`;
  }
  return undefined;
}
