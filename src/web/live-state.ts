// Reads the running simulation through its own API (the same documents the CLI prints) and assembles
// the web view's LiveView: node liveness, XMPP/BGP session states, each VIP's composite on every
// compute, member health and flow shares, and the topology graph's elements with state classes.
// Owns the reading and the assembly; the page owns how it looks, timeline.ts owns what changed.
import type { ApiHandler } from '../api/api-router.ts';
import { cytoscapeElements, type CyElement } from '../graph/cytoscape-elements.ts';
import { layoutGraph } from '../graph/graph-layout.ts';
import { nodeId } from '../graph/graph-model.ts';
import { bgpEdgeId, memberEdge, topologyGraph, type MemberRef } from '../graph/topology-graph.ts';
import type { Topology } from '../topology/topology.ts';
import type { CompositeView, FlowShare, LiveView, MemberView, NodeState, SessionView, SlotView, VipView } from './view-model.ts';

interface NodeSummary {
  name: string;
  kind: 'control-node' | 'compute' | 'gateway';
  address: string;
  alive: boolean;
  status: {
    sessions?: { controlNode: string; established: boolean }[];
    labels?: { interface: string; label: number }[];
    agents?: { name: string; stats?: { established?: boolean } }[];
    bgp?: { peers?: { name: string; state: string }[] };
  } | null;
}

interface ConfigObjects {
  objects: {
    loadbalancer?: { name: string; vipAddress: string; virtualNetwork: string }[];
    'loadbalancer-listener'?: { name: string; loadBalancer: string; port: number }[];
    'loadbalancer-pool'?: { name: string; listener: string }[];
    'loadbalancer-member'?: { name: string; pool: string; address: string; port: number; adminState: boolean }[];
    'virtual-machine-interface'?: { name: string; compute?: string }[];
    'instance-ip'?: { address: string; virtualMachineInterface: string }[];
  };
}

interface FibSlot {
  index: number;
  empty: boolean;
  address?: string;
  label?: number;
  local?: boolean;
  active?: boolean;
  flows?: number;
  interface?: string;
}

type Fib = { vrf: string; routes: { prefix: string; kind: string; slots: FibSlot[] }[] }[];

/** One GET on the simulation API; null for a 4xx/5xx answer (a node that just went down). */
async function get<T>(api: ApiHandler, path: string): Promise<T | null> {
  const url = new URL(path, 'http://simulation');
  const response = await api({ method: 'GET', path: url.pathname, query: url.searchParams, body: undefined, params: {} }).catch(() => null);
  if (!response || !('body' in response) || response.status >= 400) return null;
  return response.body as T;
}

export class LiveStateReader {
  private base: CyElement[] | null = null;
  private topology: Topology | null = null;
  private simulation = { name: '', mode: '' };
  /** Each compute's last known label → interface map, so a dead compute's slots still name their member. */
  private readonly labels = new Map<string, { interface: string; label: number }[]>();

  constructor(private readonly api: ApiHandler) {}

  /** The topology's graph laid out once; live member edges are added per read (edges need no position). */
  private async init(): Promise<{ topology: Topology; base: CyElement[] }> {
    if (this.topology && this.base) return { topology: this.topology, base: this.base };
    const topology = await get<Topology>(this.api, '/api/topology');
    const about = await get<{ simulation: string; mode: string }>(this.api, '/api');
    if (!topology) throw new Error('the simulation API did not give its topology');
    const placed = await layoutGraph(topologyGraph(topology));
    this.topology = topology;
    this.base = cytoscapeElements(placed).filter((e) => e.data.kind !== 'member' || e.group === 'nodes');
    this.simulation = { name: about?.simulation ?? topology.name, mode: about?.mode ?? '' };
    return { topology, base: this.base };
  }

  async read(): Promise<LiveView> {
    const { topology, base } = await this.init();
    const [nodes, config] = await Promise.all([get<NodeSummary[]>(this.api, '/api/nodes'), get<ConfigObjects>(this.api, '/api/config')]);
    const summaries = nodes ?? [];
    const objects = config?.objects ?? {};
    const alive = new Map(summaries.map((n) => [n.name, n]));
    for (const n of summaries) if (n.status?.labels) this.labels.set(n.name, n.status.labels);
    const computeByAddress = new Map(topology.computes.map((c) => [c.address, c.name]));

    const fibs = new Map<string, Fib>();
    await Promise.all(
      summaries
        .filter((n) => n.kind === 'compute' && n.alive)
        .map(async (n) => {
          const fib = await get<Fib>(this.api, `/api/nodes/${encodeURIComponent(n.name)}/fib`);
          if (fib) fibs.set(n.name, fib);
        }),
    );

    // Which workload a member address is: the instance-ip's VMI, and the compute that VMI is bound to.
    const vmiByAddress = new Map((objects['instance-ip'] ?? []).map((i) => [i.address, i.virtualMachineInterface]));
    const computeOfVmi = new Map((objects['virtual-machine-interface'] ?? []).map((v) => [v.name, v.compute]));
    const listeners = new Map((objects['loadbalancer-listener'] ?? []).map((l) => [l.name, l]));
    const lbOfPool = new Map((objects['loadbalancer-pool'] ?? []).map((p) => [p.name, listeners.get(p.listener)?.loadBalancer]));

    const members = await Promise.all(
      (objects['loadbalancer-member'] ?? []).map(async (m): Promise<MemberView & { loadBalancer: string | undefined }> => {
        const workload = vmiByAddress.get(m.address) ?? null;
        const compute = (workload && computeOfVmi.get(workload)) ?? null;
        let healthy: boolean | null = null;
        if (workload && compute && alive.get(compute)?.alive) {
          const h = await get<{ healthy: boolean; l3Active: boolean }>(this.api, `/api/nodes/${encodeURIComponent(compute)}/workloads/${encodeURIComponent(workload)}/health`);
          healthy = h ? h.healthy && h.l3Active : null;
        }
        return { name: m.name, pool: m.pool, address: m.address, port: m.port, adminState: m.adminState, workload, compute, healthy, loadBalancer: lbOfPool.get(m.pool) };
      }),
    );

    const slotView = (s: FibSlot, owner: string): SlotView => {
      const compute = s.local ? owner : s.address ? (computeByAddress.get(s.address) ?? null) : null;
      const labels = compute ? this.labels.get(compute) : undefined;
      const workload = s.interface ?? labels?.find((l) => l.label === s.label)?.interface ?? null;
      return {
        index: s.index,
        empty: s.empty,
        address: s.address ?? null,
        label: s.label ?? null,
        active: s.active ?? false,
        local: s.local ?? false,
        compute,
        workload,
        flows: s.flows ?? 0,
      };
    };

    const vips: VipView[] = (objects.loadbalancer ?? []).map((lb) => {
      const prefix = `${lb.vipAddress}/32`;
      // An external compute's agent is not ours: there is no FIB to read.
      const composites: CompositeView[] = topology.computes.filter((c) => !c.external).map((c) => {
        const fib = fibs.get(c.name);
        const vrfs = [...(fib ?? [])].sort((a, b) => Number(b.vrf.startsWith(`${lb.virtualNetwork}:`)) - Number(a.vrf.startsWith(`${lb.virtualNetwork}:`)));
        const route = vrfs.flatMap((v) => v.routes).find((r) => r.prefix === prefix);
        return { compute: c.name, alive: alive.get(c.name)?.alive ?? false, kind: route?.kind ?? null, slots: (route?.slots ?? []).map((s) => slotView(s, c.name)) };
      });
      const lbMembers = members.filter((m) => m.loadBalancer === lb.name).map(({ loadBalancer: _lb, ...m }) => m);
      const shares = new Map<string, number>();
      for (const m of lbMembers) if (m.compute && m.workload) shares.set(`${m.compute}/${m.workload}`, 0);
      for (const c of composites) {
        for (const s of c.slots) {
          if (s.empty) continue;
          const key = s.compute && s.workload ? `${s.compute}/${s.workload}` : `${s.address}/label ${s.label}`;
          shares.set(key, (shares.get(key) ?? 0) + s.flows);
        }
      }
      const flowShares: FlowShare[] = [...shares].map(([member, flows]) => ({ member, flows })).sort((a, b) => a.member.localeCompare(b.member, 'en', { numeric: true }));
      const ports = [...listeners.values()].filter((l) => l.loadBalancer === lb.name).map((l) => l.port);
      return { loadBalancer: lb.name, vip: lb.vipAddress, network: lb.virtualNetwork, ports, members: lbMembers, composites, shares: flowShares };
    });

    const sessions = sessionViews(topology, alive);
    const nodeStates: NodeState[] = summaries.map((n) => ({ name: n.name, kind: n.kind, address: n.address, alive: n.alive }));
    const memberRefs: (MemberRef & { view: MemberView })[] = members.flatMap((m) => (m.loadBalancer ? [{ loadBalancer: m.loadBalancer, address: m.address, port: m.port, view: m }] : []));
    return {
      simulation: this.simulation.name,
      mode: this.simulation.mode,
      time: new Date().toISOString(),
      elements: liveElements(topology, base, nodeStates, sessions, memberRefs),
      nodes: nodeStates,
      sessions,
      vips,
      workloads: topology.workloads.map((w) => ({ name: w.name, compute: w.compute, address: w.address, network: w.network })),
    };
  }
}

function sessionViews(topology: Topology, nodes: Map<string, NodeSummary>): SessionView[] {
  const out: SessionView[] = [];
  const isAlive = (name: string): boolean => nodes.get(name)?.alive ?? false;
  for (const c of topology.computes) {
    for (const server of c.xmppServers) {
      const id = `xmpp:${c.name}:${server}`;
      let state: SessionView['state'] = 'down';
      let detail = '';
      if (!isAlive(server)) detail = `${server} is down`;
      else if (!c.external && !isAlive(c.name)) detail = `${c.name} is down`;
      else {
        // The agent's view for simulated computes; the control node's for external ones.
        const fromAgent = nodes.get(c.name)?.status?.sessions?.find((s) => s.controlNode === server);
        const fromControl = nodes.get(server)?.status?.agents?.find((a) => a.name === c.name);
        const established = fromAgent ? fromAgent.established : fromControl?.stats?.established === true;
        state = established ? 'up' : fromAgent || fromControl ? 'connecting' : 'down';
        detail = established ? 'established' : fromAgent || fromControl ? 'connecting' : 'no session';
      }
      out.push({ edgeId: id, kind: 'xmpp', a: c.name, b: server, state, detail });
    }
  }
  const speakers = [...topology.controlNodes.map((c) => c.name)];
  const pairs: [string, string][] = [];
  for (let i = 0; i < speakers.length; i++) {
    for (let j = i + 1; j < speakers.length; j++) pairs.push([speakers[i], speakers[j]]);
    for (const p of topology.bgpPeers) pairs.push([speakers[i], p.name]);
  }
  for (const [a, b] of pairs) {
    const reports = [a, b]
      .filter((n) => isAlive(n))
      .map((n) => nodes.get(n)?.status?.bgp?.peers?.find((p) => p.name === (n === a ? b : a))?.state)
      .filter((s): s is string => s !== undefined);
    const down = !isAlive(a) || (speakers.includes(b) && !isAlive(b));
    const state: SessionView['state'] = down || reports.length === 0 ? 'down' : reports.every((s) => s === 'Established') ? 'up' : reports.some((s) => s === 'Idle') ? 'down' : 'connecting';
    const detail = down ? `${!isAlive(a) ? a : b} is down` : reports.join(' / ') || 'no session';
    out.push({ edgeId: bgpEdgeId(a, b), kind: 'bgp', a, b, state, detail });
  }
  return out;
}

function liveElements(
  topology: Topology,
  base: readonly CyElement[],
  nodes: readonly NodeState[],
  sessions: readonly SessionView[],
  members: readonly (MemberRef & { view: MemberView })[],
): CyElement[] {
  const dead = new Set(nodes.filter((n) => !n.alive).map((n) => nodeId(n.kind === 'gateway' ? 'bgp-peer' : n.kind, n.name)));
  const state = new Map(sessions.map((s) => [s.edgeId, s]));
  const out: CyElement[] = base.map((e) => {
    const id = String(e.data.id);
    if (e.group === 'nodes') return dead.has(id) ? { ...e, classes: `${e.classes ?? ''} dead`.trim() } : e;
    const s = state.get(id);
    return s ? { ...e, data: { ...e.data, state: s.state, detail: s.detail }, classes: `${e.classes ?? ''} ${s.state}`.trim() } : e;
  });
  const seen = new Set<string>();
  for (const m of members) {
    const edge = memberEdge(topology, m);
    if (!edge || seen.has(edge.id)) continue;
    seen.add(edge.id);
    const health = !m.view.adminState ? 'admin-down' : m.view.healthy === false ? 'unhealthy' : '';
    out.push({
      group: 'edges',
      data: { id: edge.id, kind: 'member', source: edge.source, target: edge.target, label: edge.label ?? '', member: m.view.name, workload: m.view.workload ?? undefined, loadBalancer: m.loadBalancer },
      classes: `member ${health}`.trim(),
    });
  }
  return out;
}
