// The typed handle scenario scripts (scripts/*.ts) get on a running simulation. It is a client of the
// simulation API only, so a script runs the same against an in-process simulation and against one node
// per process. State is asserted with `eventually(…)`: poll until the state contains the expected
// subset or the time is up (FRR topotests' run_and_expect).
import type { ApiHandler, ApiResponse } from '../api/api-router.ts';
import type { DistributionReport, ResendReport } from '../vrouter/traffic.ts';
import type { SlotView, VrfView } from '../vrouter/vrouter.ts';
import type { WorkloadHealth } from '../vrouter/agent.ts';
import type { Topology } from '../topology/topology.ts';
import { subsetMismatch, type Subset } from './subset.ts';
import { describeLoadBalancer, type ConfigMember, type LoadBalancerNeeds, type LoadBalancerView } from './load-balancer-view.ts';

export type { SlotView };
export { ScenarioRefused, type LoadBalancerView, type LoadBalancerNeeds, type MemberView, type WorkloadView } from './load-balancer-view.ts';

export interface Scenario {
  name: string;
  description: string;
  /** Topology file, relative to the repository's topologies/ folder; default `default.json`. */
  topology?: string;
  run(sim: ScenarioContext): Promise<void>;
}

/** Lets a script's default export be type-checked without ceremony. */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}

export interface TimelineEntry {
  atMs: number;
  kind: 'step' | 'check' | 'note';
  text: string;
  ok?: boolean;
  detail?: string;
}

export interface ScenarioReport {
  scenario: string;
  topology: string;
  mode: string;
  ok: boolean;
  durationMs: number;
  checks: { passed: number; failed: number };
  timeline: TimelineEntry[];
  error?: string;
  /** Set when the topology cannot host the scenario: what it lacks. Nothing was checked. */
  refused?: string;
}

export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure';
}

/** What opening or re-sending flows reports; `moved` and `movedFrom` come with a re-send. */
export type TrafficReport = DistributionReport & Partial<Pick<ResendReport, 'moved' | 'movedFrom'>>;

export interface FlowRun {
  readonly id: string;
  readonly compute: string;
  readonly opened: TrafficReport;
  /** One more packet on every connection: where each lands now, and how many changed member. */
  resend(): Promise<TrafficReport>;
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export class ScenarioContext {
  readonly timeline: TimelineEntry[] = [];
  private readonly started = Date.now();
  private failures = 0;
  private passes = 0;
  private topologyCache: Topology | undefined;

  constructor(
    private readonly api: ApiHandler,
    private readonly onEntry: (entry: TimelineEntry) => void = () => {},
  ) {}

  // ---- timeline ----

  private add(entry: Omit<TimelineEntry, 'atMs'>): void {
    const full = { atMs: Date.now() - this.started, ...entry };
    this.timeline.push(full);
    this.onEntry(full);
  }

  step(text: string): void {
    this.add({ kind: 'step', text });
  }

  note(text: string): void {
    this.add({ kind: 'note', text });
  }

  /** Records a check; a failed one fails the scenario but lets it go on to show what else is wrong. */
  check(text: string, ok: boolean, detail?: string): boolean {
    if (ok) this.passes++;
    else this.failures++;
    this.add({ kind: 'check', text, ok, detail });
    return ok;
  }

  /**
   * One check over every item of a set. An empty set fails: "every survivor keeps its slot" over no
   * survivors proves nothing, and usually means the script looked in the wrong place.
   */
  checkAll<T>(text: string, items: readonly T[], holds: (item: T) => boolean, detail?: string): boolean {
    if (items.length === 0) return this.check(text, false, `nothing to check: the set is empty${detail ? ` (${detail})` : ''}`);
    const failing = items.filter((item) => !holds(item)).length;
    return this.check(text, failing === 0, detail ?? (failing ? `${failing} of ${items.length} do not hold` : `${items.length} checked`));
  }

  get counts(): { passed: number; failed: number } {
    return { passed: this.passes, failed: this.failures };
  }

  /** Polls `probe` until it contains `expected` (or the predicate holds); a timeout fails the scenario. */
  async eventually<T>(text: string, probe: () => Promise<T>, expected: Subset<T> | ((value: T) => boolean), options: EventuallyOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    const began = Date.now();
    let last: T | undefined;
    let why = 'never probed';
    for (;;) {
      try {
        last = await probe();
        const mismatch = typeof expected === 'function' ? ((expected as (value: T) => boolean)(last) ? null : 'the condition does not hold') : subsetMismatch(last, expected);
        if (mismatch === null) {
          this.check(text, true, `after ${Date.now() - began} ms`);
          return last;
        }
        why = mismatch;
      } catch (e) {
        why = (e as Error).message;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    this.check(text, false, `not within ${timeoutMs} ms: ${why}`);
    throw new ScenarioFailure(`${text}: ${why}`);
  }

  // ---- API access ----

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, 'http://simulation');
    const response: ApiResponse = await this.api({ method, path: url.pathname, query: url.searchParams, body, params: {} });
    if (!('body' in response)) throw new ScenarioFailure(`${method} ${path} answered with a stream`);
    if (response.status >= 400) {
      // the error body is `{ error: "…" }` or `{ error: { code, message, path } }`
      const error = (response.body as { error?: string | { message?: string } } | null)?.error;
      const message = (typeof error === 'string' ? error : error?.message) ?? `status ${response.status}`;
      throw new ScenarioFailure(`${method} ${path}: ${message}`);
    }
    return response.body as T;
  }

  // ---- config (the seed's LBaaS workflow and the workloads behind it) ----

  /** A new VM/pod: a VMI on `compute` with an instance-ip in `network` (address allocated when absent). */
  async addWorkload(w: { name: string; compute: string; network: string; address?: string }): Promise<string> {
    await this.request('POST', '/api/config/virtual-machine-interface', { name: w.name, virtualNetwork: w.network, compute: w.compute });
    const iip = await this.request<{ object: { address: string } }>('POST', '/api/config/instance-ip', {
      name: w.name,
      virtualMachineInterface: w.name,
      ...(w.address ? { address: w.address } : {}),
    });
    this.note(`workload ${w.name} on ${w.compute} at ${iip.object.address}`);
    return iip.object.address;
  }

  async removeWorkload(name: string): Promise<void> {
    await this.request('DELETE', `/api/config/instance-ip/${encodeURIComponent(name)}`);
    await this.request('DELETE', `/api/config/virtual-machine-interface/${encodeURIComponent(name)}`);
  }

  async addMember(pool: string, member: { address: string; port: number; name?: string }): Promise<string> {
    const created = await this.request<{ object: { name: string } }>('POST', '/api/config/loadbalancer-member', { pool, ...member });
    this.note(`member ${member.address}:${member.port} added to ${pool}`);
    return created.object.name;
  }

  async members(pool: string): Promise<{ name: string; address: string; port: number; adminState: boolean }[]> {
    const all = await this.request<{ name: string; pool: string; address: string; port: number; adminState: boolean }[]>('GET', '/api/config/loadbalancer-member');
    return all.filter((m) => m.pool === pool);
  }

  async removeMember(pool: string, address: string): Promise<void> {
    const member = (await this.members(pool)).find((m) => m.address === address);
    if (!member) throw new ScenarioFailure(`pool ${pool} has no member ${address}`);
    await this.request('DELETE', `/api/config/loadbalancer-member/${encodeURIComponent(member.name)}`);
    this.note(`member ${address} removed from ${pool}`);
  }

  async setMemberAdminState(pool: string, address: string, up: boolean): Promise<void> {
    const member = (await this.members(pool)).find((m) => m.address === address);
    if (!member) throw new ScenarioFailure(`pool ${pool} has no member ${address}`);
    await this.request('PATCH', `/api/config/loadbalancer-member/${encodeURIComponent(member.name)}`, { adminState: up });
    this.note(`member ${address} admin ${up ? 'up' : 'down'}`);
  }

  // ---- nodes ----

  async kill(node: string): Promise<void> {
    await this.request('POST', `/api/nodes/${encodeURIComponent(node)}/kill`);
    this.note(`${node} killed`);
  }

  async restart(node: string): Promise<void> {
    await this.request('POST', `/api/nodes/${encodeURIComponent(node)}/restart`);
    this.note(`${node} restarted`);
  }

  // ---- state ----

  /** The topology the simulation runs (every default filled in). */
  async topology(): Promise<Topology> {
    this.topologyCache ??= await this.request<Topology>('GET', '/api/topology');
    return this.topologyCache;
  }

  /** The computes this simulation runs agents for (external ones excluded). */
  async computes(): Promise<string[]> {
    return (await this.topology()).computes.filter((c) => !c.external).map((c) => c.name);
  }

  /** The control node a compute's agent prefers (its first XMPP server). */
  async controlNodeOf(compute: string): Promise<string> {
    const topology = await this.topology();
    const spec = topology.computes.find((c) => c.name === compute);
    const name = spec?.xmppServers[0] ?? topology.controlNodes[0]?.name;
    if (name === undefined) throw new ScenarioFailure(`no control node serves ${compute}`);
    return name;
  }

  /**
   * The native load balancer to exercise, as it stands now: VIP, listener, members with their
   * workloads and computes, spare workloads to add, a client. Throws ScenarioRefused (the scenario is
   * not run, the report says why) when no load balancer of the topology meets `needs`.
   */
  async loadBalancer(needs?: LoadBalancerNeeds): Promise<LoadBalancerView> {
    const members = await this.request<ConfigMember[]>('GET', '/api/config/loadbalancer-member');
    return describeLoadBalancer(await this.topology(), members, needs);
  }

  /** Waits until each compute's composite for the VIP has the expected number of active members. */
  async expectVipMembers(vip: string, expected: number | Record<string, number>, options?: EventuallyOptions): Promise<void> {
    const computes = typeof expected === 'number' ? await this.computes() : Object.keys(expected);
    if (computes.length === 0) {
      this.check(`${vip} has the expected members`, false, 'nothing to check: no compute given');
      throw new ScenarioFailure(`expectVipMembers(${vip}): no compute to check`);
    }
    for (const compute of computes) {
      const n = typeof expected === 'number' ? expected : expected[compute];
      await this.eventually(
        `${compute}: ${vip} has ${n} active member(s)`,
        () => this.slots(compute, vip),
        (slots) => slots.filter((s) => !s.empty && s.active !== false).length === n,
        options,
      );
    }
  }

  /** The slots of a compute's composite for `prefix` (a VIP), as its FIB holds them; [] when no route. */
  async slots(compute: string, prefix: string): Promise<SlotView[]> {
    const target = prefix.includes('/') ? prefix : `${prefix}/32`;
    const vrfs = await this.request<VrfView[]>('GET', `/api/nodes/${encodeURIComponent(compute)}/fib`);
    for (const vrf of vrfs) {
      const route = vrf.routes.find((r) => r.prefix === target && r.source === 'control');
      if (route) return route.slots;
    }
    return [];
  }

  /** The next-hop addresses of the composite, in slot order, with holes as null. */
  async nextHops(compute: string, prefix: string): Promise<(string | null)[]> {
    return (await this.slots(compute, prefix)).map((s) => (s.empty ? null : (s.address ?? null)));
  }

  async controlRoutes(controlNode: string, query: { vrf?: string; prefix?: string } = {}): Promise<unknown[]> {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined) as [string, string][]);
    return this.request('GET', `/api/nodes/${encodeURIComponent(controlNode)}/routes?${q}`);
  }

  // ---- traffic ----

  async openFlows(spec: {
    from: string;
    to: string;
    count: number;
    sourcePorts?: 'sequential' | 'random';
    /** Where sequential source ports start: a second run from another port opens new connections. */
    firstSourcePort?: number;
    sources?: number;
    seed?: number;
  }): Promise<FlowRun> {
    const opened = await this.request<{ id: string; compute: string; report: TrafficReport }>('POST', '/api/traffic', spec);
    const compute = opened.compute;
    const id = opened.id;
    return {
      id,
      compute,
      opened: opened.report,
      resend: async () => (await this.request<{ report: TrafficReport }>('POST', `/api/nodes/${encodeURIComponent(compute)}/traffic/${id}/resend`)).report,
    };
  }

  report(meta: { scenario: string; topology: string; mode: string }, error?: string, refused?: string): ScenarioReport {
    // A scenario that checked nothing proved nothing.
    if (error === undefined && refused === undefined && this.passes + this.failures === 0) error = 'the scenario made no check';
    return {
      ...meta,
      ok: this.failures === 0 && error === undefined && refused === undefined,
      durationMs: Date.now() - this.started,
      checks: this.counts,
      timeline: this.timeline,
      ...(error ? { error } : {}),
      ...(refused ? { refused } : {}),
    };
  }

  // ---- health (service-health-checks, docs/protocol.md §8.2 step 5, §7.2) ----

  /** Creates a health monitor and attaches it to `pool`: its members' VMIs get a service-health-check. */
  async addHealthMonitor(pool: string, monitor: { name: string; type: 'PING' | 'TCP' | 'HTTP' | 'HTTPS'; delay?: number; timeout?: number; maxRetries?: number; urlPath?: string }): Promise<void> {
    await this.request('POST', '/api/config/healthmonitor', monitor);
    await this.request('PATCH', `/api/config/pool/${encodeURIComponent(pool)}`, { healthMonitor: monitor.name });
    this.note(`health monitor ${monitor.name} (${monitor.type}) on ${pool}`);
  }

  /** What `workload` answers to probes from now on. */
  async setWorkloadHealth(compute: string, workload: string, healthy: boolean): Promise<WorkloadHealth> {
    const state = await this.request<WorkloadHealth>('POST', `/api/nodes/${encodeURIComponent(compute)}/workloads/${encodeURIComponent(workload)}/health`, { healthy });
    this.note(`${workload} on ${compute} turns ${healthy ? 'healthy' : 'unhealthy'}`);
    return state;
  }

  /** Probes sent, failures in a row and L3 activity of a workload, as its agent sees them. */
  async workloadHealth(compute: string, workload: string): Promise<WorkloadHealth> {
    return this.request<WorkloadHealth>('GET', `/api/nodes/${encodeURIComponent(compute)}/workloads/${encodeURIComponent(workload)}/health`);
  }
}

export function describeShares(report: TrafficReport): string {
  return report.members.map((m) => `${m.member} ${(m.share * 100).toFixed(1)}%`).join(', ');
}
