// What a portable scenario needs to know about the load balancer it exercises, read from the running
// simulation instead of written into the script: the VIP, its listener, its pool's members with the
// workload, compute and router address behind each, the workloads that could join the pool, and a
// client. Owns the choice of "which LB, which client, which spares" and the refusal when a topology
// cannot host a scenario; it does not talk to the API itself (the ScenarioContext feeds it).
import type { Topology } from '../topology/topology.ts';

export interface WorkloadView {
  name: string;
  compute: string;
  /** The compute's own (router) address: what a composite slot holds for this workload. */
  computeAddress: string;
  address: string;
  network: string;
  /** `<compute>/<workload>`, as traffic reports name the member a flow reached. */
  id: string;
}

export interface MemberView extends WorkloadView {
  /** The loadbalancer-member's config name. */
  member: string;
  port: number;
  adminState: boolean;
}

export interface LoadBalancerView {
  name: string;
  vip: string;
  network: string;
  listener: { name: string; protocol: string; port: number };
  pool: string;
  memberPort: number;
  /** Current members that match a workload, in config order. */
  members: MemberView[];
  /** Workloads in the VIP network on computes that hold no member and no client: candidates to join. */
  spares: WorkloadView[];
  /** A workload in the VIP network on a compute without members, to send traffic from. */
  client: WorkloadView;
}

export interface LoadBalancerNeeds {
  /** Members the pool must have to start with. */
  members?: number;
  /** Spare workloads (each on a compute of its own) the scenario will add. */
  spares?: number;
}

export interface ConfigMember {
  name: string;
  pool: string;
  address: string;
  port: number;
  adminState: boolean;
}

/** Thrown when the topology cannot host the scenario; the message says what is missing. */
export class ScenarioRefused extends Error {
  override readonly name = 'ScenarioRefused';
}

export function describeLoadBalancer(topology: Topology, configMembers: readonly ConfigMember[], needs: LoadBalancerNeeds = {}): LoadBalancerView {
  const wantMembers = needs.members ?? 1;
  const wantSpares = needs.spares ?? 0;
  const computes = new Map(topology.computes.filter((c) => !c.external).map((c) => [c.name, c.address]));
  const reasons: string[] = [];
  if (topology.loadBalancers.length === 0) throw new ScenarioRefused(`topology ${topology.name} has no native load balancer`);
  for (const lb of topology.loadBalancers) {
    const listener = lb.listeners.find((l) => l.protocol === 'TCP' || l.protocol === 'UDP') ?? lb.listeners[0];
    if (!listener) {
      reasons.push(`${lb.name} has no listener`);
      continue;
    }
    const view = (w: Topology['workloads'][number]): WorkloadView | null => {
      const computeAddress = computes.get(w.compute);
      return computeAddress === undefined ? null : { name: w.name, compute: w.compute, computeAddress, address: w.address, network: w.network, id: `${w.compute}/${w.name}` };
    };
    const inNetwork = topology.workloads.filter((w) => w.network === lb.network).map(view).filter((w): w is WorkloadView => w !== null);
    const byAddress = new Map(inNetwork.map((w) => [w.address, w]));
    const members = configMembers
      .filter((m) => m.pool === listener.pool.name)
      .flatMap((m): MemberView[] => {
        const w = byAddress.get(m.address);
        return w ? [{ ...w, member: m.name, port: m.port, adminState: m.adminState }] : [];
      });
    const memberComputes = new Set(members.map((m) => m.compute));
    const memberAddresses = new Set(members.map((m) => m.address));
    const client = inNetwork.find((w) => !memberComputes.has(w.compute) && !memberAddresses.has(w.address) && w.address !== lb.vip);
    if (members.length < wantMembers) {
      reasons.push(`${lb.name}: pool ${listener.pool.name} has ${members.length} member(s) on workloads, the scenario needs ${wantMembers}`);
      continue;
    }
    if (!client) {
      reasons.push(`${lb.name}: no workload in ${lb.network} on a compute without members to send traffic from`);
      continue;
    }
    const taken = new Set([...memberComputes, client.compute]);
    const spares: WorkloadView[] = [];
    for (const w of inNetwork) {
      if (taken.has(w.compute) || memberAddresses.has(w.address)) continue;
      taken.add(w.compute);
      spares.push(w);
    }
    if (spares.length < wantSpares) {
      reasons.push(`${lb.name}: ${spares.length} spare workload(s) in ${lb.network} on computes of their own, the scenario needs ${wantSpares}`);
      continue;
    }
    return {
      name: lb.name,
      vip: lb.vip,
      network: lb.network,
      listener: { name: listener.name, protocol: listener.protocol, port: listener.port },
      pool: listener.pool.name,
      memberPort: members[0]?.port ?? listener.port,
      members,
      spares,
      client,
    };
  }
  throw new ScenarioRefused(`topology ${topology.name} cannot host this scenario: ${reasons.join('; ')}`);
}
