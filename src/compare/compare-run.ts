/**
 * One provider's run of `ecmpsim compare`: the topology's first load balancer with every LB switched to
 * `native` or `opencontrail`, started in-process over real XMPP; the same client connections, then the
 * same events (a member added, a member removed, one compute failed), each measured from the packets that
 * crossed the simulated underlay (the ForwardResults' hops and the vRouters' counters).
 * Owns: driving one run and its measurements. Does not own: the pairing of runs, the failed compute's
 * choice or the output (compare.ts, compare-report.ts).
 */
import type { ForwardResult, Packet } from '../vrouter/packet.ts';
import type { Topology } from '../topology/topology.ts';
import { Simulation } from '../topology/launcher.ts';

export type Provider = 'native' | 'opencontrail';

export interface ComputeLoad {
  /** packets of the LB's connections this compute's vRouter handled (from its workloads or the fabric) */
  packets: number;
  /** flow entries in its table after the connections opened */
  flows: number;
}

export interface ProviderMetrics {
  connections: number;
  tunnelsPerConnection: number;
  trombonedConnections: number;
  busiestComputeShare: number;
  perCompute: Record<string, ComputeLoad>;
  brokenByScaleOut: number;
  brokenByScaleIn: number;
  brokenByLbNodeFailure: number;
  /** failure to the first new connection served; null: none served before the hold time ran out */
  recoveryMs: number | null;
  controlPlaneRoutes: number;
  xmppBytes: number;
}

export const METRIC_KEYS = [
  'connections', 'tunnelsPerConnection', 'trombonedConnections', 'busiestComputeShare', 'perCompute', 'brokenByScaleOut',
  'brokenByScaleIn', 'brokenByLbNodeFailure', 'recoveryMs', 'controlPlaneRoutes', 'xmppBytes',
] as const satisfies readonly (keyof ProviderMetrics)[];

/** A run's metrics and what the checks of its meaning need besides them. */
export interface ProviderRun {
  metrics: ProviderMetrics;
  /** connections held (member for native, haproxy for proxy) on the failed compute just before it failed */
  heldByFailedCompute: number;
}

export interface RunPlan {
  topology: Topology;
  provider: Provider;
  flows: number;
  /** the compute that fails: the active haproxy's, and for native the same one */
  failCompute: string;
  /** client workloads (name → compute), none on failCompute */
  clients: { name: string; compute: string }[];
  convergeTimeoutMs?: number;
}

interface Connection {
  client: { name: string; compute: string };
  packet: Packet;
  /** who holds the connection's state: the member (native) or haproxy + server (proxy) */
  identity: string | undefined;
}

export class CompareError extends Error {}

export function withProvider(topology: Topology, provider: Provider): Topology {
  return { ...topology, loadBalancers: topology.loadBalancers.map((lb) => ({ ...lb, provider })) };
}

function served(r: ForwardResult): boolean {
  return r.proxied !== undefined ? r.reply?.delivered === true && r.proxied.backend?.delivered === true : r.delivered;
}

function identityOf(r: ForwardResult): string | undefined {
  if (!served(r)) return undefined;
  return r.proxied !== undefined ? `${r.node}|${r.proxied.server}` : `${r.node}/${r.interface}`;
}

/** The computes a request crossed in order: to the member, through the haproxy when proxied. */
function requestPath(r: ForwardResult): string[] {
  return r.proxied?.backend !== undefined ? [...r.hops, ...r.proxied.backend.hops.slice(1)] : r.hops;
}

/** The control plane is taken as settled once nothing the run watches has changed for this long. */
const QUIET_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runProvider(plan: RunPlan): Promise<ProviderRun> {
  const topology = withProvider(plan.topology, plan.provider);
  const lb = topology.loadBalancers[0];
  const listener = lb.listeners[0];
  const control = topology.controlNodes[0].name;
  const sim = await Simulation.start(topology);
  let xmppBytes = 0;
  for (const record of sim.tap.list()) xmppBytes += Buffer.byteLength(record.raw);
  const unfollow = sim.tap.follow({}, (record) => {
    xmppBytes += Buffer.byteLength(record.raw);
  });
  try {
    const store = sim.storeOf(control);
    if (store === undefined) throw new CompareError(`control node ${control} is not running in this process`);
    const addressOf = (workload: string): string => {
      const address = store.instanceIpsOf(workload)[0]?.address;
      if (address === undefined) throw new CompareError(`workload ${workload} has no address`);
      return address;
    };
    const computeAddress = new Map(topology.computes.map((c) => [c.name, c.address]));
    const alive = (): string[] => topology.computes.filter((c) => sim.agentOf(c.name) !== undefined).map((c) => c.name);
    const vipPrefix = `${lb.vip}/32`;
    const pool = listener.pool.name;

    /** The next hops every client compute should hold for the VIP once the control plane has settled. */
    const expectedNextHops = (): Set<string> => {
      if (plan.provider === 'opencontrail') {
        const si = store.serviceInstances().find((candidate) => candidate.loadBalancer === lb.name);
        const host = si?.instances.find((p) => sim.agentOf(p.compute) !== undefined);
        return new Set(host ? [computeAddress.get(host.compute)!] : []);
      }
      const hosts = new Set<string>();
      for (const member of store.list('loadbalancer-member').filter((m) => m.pool === pool)) {
        const iip = store.list('instance-ip').find((candidate) => candidate.address === member.address);
        const vmi = iip && store.get('virtual-machine-interface', iip.virtualMachineInterface);
        if (vmi?.compute !== undefined && sim.agentOf(vmi.compute) !== undefined) hosts.add(computeAddress.get(vmi.compute)!);
      }
      return hosts;
    };
    const settled = (): boolean => {
      const expected = expectedNextHops();
      for (const compute of new Set(plan.clients.map((c) => c.compute))) {
        const route = sim.agentOf(compute)?.vrouter.fib().flatMap((vrf) => vrf.routes).find((r) => r.prefix === vipPrefix && r.source === 'control');
        const hops = new Set((route?.slots ?? []).filter((s) => !s.empty && s.active !== false).map((s) => s.address));
        if (hops.size !== expected.size || [...expected].some((a) => !hops.has(a))) return false;
      }
      return true;
    };
    const vipPaths = async (): Promise<number> => {
      const routes = await sim.api({ method: 'GET', path: `/api/nodes/${control}/routes`, query: new URLSearchParams({ prefix: vipPrefix }), body: undefined, params: {} });
      const body = ('body' in routes ? routes.body : []) as { paths?: unknown[] }[];
      return body.reduce((sum, route) => sum + (route.paths?.length ?? 0), 0);
    };
    /** What must stop changing before traffic is sent: the clients' VIP composites, the haproxy backends, the control node's paths. */
    const fingerprint = async (): Promise<string> => {
      const slots = [...new Set(plan.clients.map((c) => c.compute))].map((compute) => {
        const route = sim.agentOf(compute)?.vrouter.fib().flatMap((vrf) => vrf.routes).find((r) => r.prefix === vipPrefix);
        return (route?.slots ?? []).map((s) => `${s.address}/${s.label}/${s.active}`).join(',');
      });
      return `${slots.join(';')}|${proxyServers()}|${await vipPaths()}`;
    };
    const converge = async (what: string, extra: () => boolean = () => true): Promise<void> => {
      const timeout = plan.convergeTimeoutMs ?? 15_000;
      const deadline = Date.now() + timeout;
      let last = '';
      let stableSince = Date.now();
      for (;;) {
        const now = await fingerprint();
        if (now !== last) {
          last = now;
          stableSince = Date.now();
        }
        if (settled() && extra() && Date.now() - stableSince >= QUIET_MS) return;
        if (Date.now() > deadline) throw new CompareError(`${plan.provider}: the VIP's routes did not settle ${what} within ${timeout} ms`);
        await sleep(20);
      }
    };
    const proxyServers = (): number => {
      const si = store.serviceInstances().find((candidate) => candidate.loadBalancer === lb.name);
      const host = si?.instances.find((p) => sim.agentOf(p.compute) !== undefined);
      return host === undefined ? -1 : (sim.agentOf(host.compute)?.vrouter.serviceInstances()[0]?.frontends[0]?.servers.length ?? -1);
    };
    const poolSize = (): number => store.list('loadbalancer-member').filter((m) => m.pool === pool).length;
    const proxyReady = (): boolean => plan.provider !== 'opencontrail' || proxyServers() === poolSize();

    await converge('after start', proxyReady);

    const send = (c: Connection): ForwardResult => {
      const vrouter = sim.agentOf(c.client.compute)?.vrouter;
      if (vrouter === undefined) throw new CompareError(`client compute ${c.client.compute} is down`);
      return vrouter.sendFromInterface(c.client.name, c.packet);
    };
    const connections: Connection[] = [];
    for (let i = 0; i < plan.flows; i++) {
      const client = plan.clients[i % plan.clients.length];
      const sport = 10_000 + Math.floor(i / plan.clients.length);
      if (sport > 65535) throw new CompareError(`${plan.flows} connections do not fit in ${plan.clients.length} client(s)`);
      connections.push({ client, packet: { src: addressOf(client.name), dst: lb.vip, proto: 6, sport, dport: listener.port }, identity: undefined });
    }

    // ---- steady state: open every connection ----
    const baseline = new Map(alive().map((name) => {
      const p = sim.agentOf(name)!.vrouter.counters().packets;
      return [name, p.fromWorkloads + p.fromFabric];
    }));
    let tunnels = 0;
    let tromboned = 0;
    let opened = 0;
    for (const c of connections) {
      const r = send(c);
      c.identity = identityOf(r);
      if (c.identity === undefined) continue;
      opened++;
      const path = requestPath(r);
      tunnels += path.length - 1;
      const memberCompute = path[path.length - 1];
      if (memberCompute === c.client.compute && path.some((hop) => hop !== c.client.compute)) tromboned++;
    }
    const perCompute: Record<string, ComputeLoad> = {};
    let total = 0;
    for (const name of alive()) {
      const counters = sim.agentOf(name)!.vrouter.counters();
      const packets = counters.packets.fromWorkloads + counters.packets.fromFabric - (baseline.get(name) ?? 0);
      perCompute[name] = { packets, flows: counters.flows.entries };
      total += packets;
    }
    const busiest = Math.max(0, ...Object.values(perCompute).map((load) => load.packets));
    const controlPlaneRoutes = await vipPaths();

    /** Resends on every connection: those now held elsewhere, reset by the haproxy or not served are broken. */
    const resend = (): number => {
      let broken = 0;
      for (const c of connections) {
        if (c.identity === undefined) continue;
        const r = send(c);
        const now = identityOf(r);
        if (now !== c.identity || r.proxied?.opened === true) broken++;
        c.identity = now;
      }
      return broken;
    };

    // ---- a member added ----
    const counts = new Map<string, number>();
    for (const w of topology.workloads) counts.set(w.compute, (counts.get(w.compute) ?? 0) + 1);
    const target = topology.computes.map((c) => c.name).filter((name) => name !== plan.failCompute).sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0))[0];
    store.batch(() => {
      store.createVirtualMachineInterface({ name: 'compare-scale-out', virtualNetwork: lb.network, compute: target });
      store.createInstanceIp({ name: 'compare-scale-out', virtualMachineInterface: 'compare-scale-out' });
      store.createMember({ pool, address: store.instanceIpsOf('compare-scale-out')[0].address, port: listener.pool.members[0]?.port ?? listener.port });
    });
    await converge('after a member was added', proxyReady);
    const brokenByScaleOut = resend();

    // ---- a member removed: the last one the topology lists off the compute that fails later (so both events count) ----
    const hostOf = (address: string): string | undefined => topology.workloads.find((w) => w.address === address)?.compute;
    const members = listener.pool.members;
    const original = [...members].reverse().find((m) => hostOf(m.address) !== plan.failCompute) ?? members[members.length - 1];
    const removed = store.list('loadbalancer-member').find((m) => m.pool === pool && m.address === original.address);
    if (removed) store.deleteMember(removed.name);
    await converge('after a member was removed', proxyReady);
    const brokenByScaleIn = resend();

    // ---- the compute fails ----
    const heldByFailedCompute = connections.filter((c) => c.identity !== undefined && c.identity.split(/[|/]/)[0] === plan.failCompute).length;
    const failedAt = Date.now();
    await sim.kill(plan.failCompute);
    const holdMs = topology.holdTimeSeconds * 1000;
    let recoveryMs: number | null = null;
    let probePort = 1024;
    const prober = plan.clients[0];
    while (Date.now() - failedAt <= holdMs) {
      const probe: Connection = { client: prober, packet: { src: addressOf(prober.name), dst: lb.vip, proto: 6, sport: probePort++, dport: listener.port }, identity: undefined };
      if (served(send(probe))) {
        recoveryMs = Date.now() - failedAt;
        break;
      }
      await sleep(5);
    }
    await converge('after the compute failed', proxyReady);
    const brokenByLbNodeFailure = resend();

    const metrics: ProviderMetrics = {
      connections: opened,
      tunnelsPerConnection: opened === 0 ? 0 : round(tunnels / opened),
      trombonedConnections: tromboned,
      busiestComputeShare: total === 0 ? 0 : round(busiest / total),
      perCompute,
      brokenByScaleOut,
      brokenByScaleIn,
      brokenByLbNodeFailure,
      recoveryMs,
      controlPlaneRoutes,
      xmppBytes,
    };
    return { metrics, heldByFailedCompute };
  } finally {
    unfollow();
    await sim.stop();
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
