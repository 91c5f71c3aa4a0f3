/**
 * `ecmpsim compare`: the blueprint's characterisation of the native (ECMP) load balancer against the proxy
 * (haproxy) one (docs/protocol.md §8.4). Both runs get the same topology, the same client connections and
 * the same events; the compute that fails is the active haproxy's, as the proxy driver's seeded scheduler
 * places it, and for native that same compute. Owns: the pairing and the choices both runs share.
 * Does not own: a run (compare-run.ts) or the output (compare-report.ts).
 */
import { buildConfigStore } from '../topology/config-from-topology.ts';
import type { Topology } from '../topology/topology.ts';
import { CompareError, runProvider, withProvider, type ProviderMetrics } from './compare-run.ts';

export { CompareError, METRIC_KEYS, type ProviderMetrics } from './compare-run.ts';

export interface CompareOptions {
  flows?: number;
  convergeTimeoutMs?: number;
}

export interface Comparison {
  topology: string;
  loadBalancer: string;
  flows: number;
  clients: string[];
  failedCompute: string;
  native: ProviderMetrics;
  proxy: ProviderMetrics;
  /** what the runs changed in the topology, in words */
  notes: string[];
  /** per provider, the connections the failed compute held just before it failed (not part of the JSON) */
  heldByFailedCompute: { native: number; proxy: number };
}

export const DEFAULT_FLOWS = 1000;

/** The active haproxy's compute for the first LB, as the proxy driver places it (no sockets needed). */
export function activeProxyCompute(topology: Topology): { compute: string; standby: string } {
  let store;
  try {
    store = buildConfigStore(withProvider(topology, 'opencontrail'));
  } catch (error) {
    throw new CompareError(`the topology cannot run the proxy provider: ${(error as Error).message}`);
  }
  const si = store.serviceInstances()[0];
  if (si === undefined) throw new CompareError('the proxy driver placed no service instance (is the load balancer admin-down?)');
  return { compute: si.instances[0].compute, standby: si.instances[1].compute };
}

export async function compareProviders(given: Topology, options: CompareOptions = {}): Promise<Comparison> {
  const notes: string[] = [];
  let topology = given;
  if (given.gracefulRestart?.enable === true) {
    // stale paths of the failed compute would be kept for restart-time: both runs measure the failure itself
    const { gracefulRestart: _off, ...rest } = given;
    topology = rest;
    notes.push('graceful restart turned off for both runs (stale paths would hide the failure for restart-time)');
  }
  const flows = options.flows ?? DEFAULT_FLOWS;
  if (!Number.isInteger(flows) || flows < 1 || flows > 100_000) throw new CompareError(`--flows must be an integer from 1 to 100000, got ${flows}`);
  const lb = topology.loadBalancers[0];
  if (lb === undefined) throw new CompareError(`topology ${topology.name} has no load balancer to compare`);
  if (lb.listeners.length === 0) throw new CompareError(`load balancer ${lb.name} has no listener`);
  if (lb.listeners[0].pool.members.length < 2) throw new CompareError(`pool ${lb.listeners[0].pool.name} needs two members (one is removed during the run)`);
  const { compute: failedCompute } = activeProxyCompute(topology);
  const memberAddresses = new Set(lb.listeners.flatMap((l) => l.pool.members.map((m) => m.address)));
  const clients = topology.workloads
    .filter((w) => w.network === lb.network && (w.address === undefined || !memberAddresses.has(w.address)) && w.compute !== failedCompute)
    .map((w) => ({ name: w.name, compute: w.compute }));
  if (clients.length === 0) {
    throw new CompareError(`no client workload in ${lb.network} outside ${failedCompute} (the compute that fails); add a workload that is not a member`);
  }
  const plan = { topology, flows, failCompute: failedCompute, clients, convergeTimeoutMs: options.convergeTimeoutMs };
  const native = await runProvider({ ...plan, provider: 'native' });
  const proxy = await runProvider({ ...plan, provider: 'opencontrail' });
  return {
    topology: topology.name, loadBalancer: lb.name, flows, clients: clients.map((c) => c.name), failedCompute, notes,
    native: native.metrics, proxy: proxy.metrics, heldByFailedCompute: { native: native.heldByFailedCompute, proxy: proxy.heldByFailedCompute },
  };
}
