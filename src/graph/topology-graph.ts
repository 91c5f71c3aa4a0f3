// Turns a validated topology into its picture's nodes and edges (src/graph/graph-model.ts): control nodes,
// computes holding their workloads, BGP peers (gateways), networks, load balancers and their members.
// It does not place anything (graph-layout.ts) nor draw (the graph-*.ts writers).
import type { Topology } from '../topology/topology.ts';
import { nodeId, type GraphEdge, type GraphNode, type TopologyGraph } from './graph-model.ts';

/** A pool member as the picture needs it: which load balancer, which workload address, which port. */
export interface MemberRef {
  readonly loadBalancer: string;
  readonly address: string;
  readonly port: number;
}

export function topologyMembers(topology: Topology): MemberRef[] {
  return topology.loadBalancers.flatMap((lb) =>
    lb.listeners.flatMap((l) => l.pool.members.map((m) => ({ loadBalancer: lb.name, address: m.address, port: m.port }))),
  );
}

export function memberEdgeId(ref: MemberRef): string {
  return `member:${ref.loadBalancer}:${ref.address}:${ref.port}`;
}

/** The member edge of `ref`, or null when no workload of the topology has its address. */
export function memberEdge(topology: Topology, ref: MemberRef): GraphEdge | null {
  const workload = topology.workloads.find((w) => w.address === ref.address);
  if (!workload) return null;
  // Workload → load balancer: layered layouts then put load balancers below the computes.
  return { id: memberEdgeId(ref), kind: 'member', source: nodeId('workload', workload.name), target: nodeId('load-balancer', ref.loadBalancer), label: `:${ref.port}` };
}

/** The picture of `topology`; `members` replaces the file's pool members (the live view passes the current ones). */
export function topologyGraph(topology: Topology, members: readonly MemberRef[] = topologyMembers(topology)): TopologyGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const p of topology.bgpPeers) nodes.push({ id: nodeId('bgp-peer', p.name), kind: 'bgp-peer', name: p.name, detail: `${p.address} AS${p.asn}` });
  // simulated gateways are drawn as the BGP peers they are
  for (const g of topology.gateways ?? []) nodes.push({ id: nodeId('bgp-peer', g.name), kind: 'bgp-peer', name: g.name, detail: `${g.address} AS${g.asn} ${g.hash}` });
  for (const c of topology.controlNodes) nodes.push({ id: nodeId('control-node', c.name), kind: 'control-node', name: c.name, detail: c.address });
  for (const c of topology.computes) nodes.push({ id: nodeId('compute', c.name), kind: 'compute', name: c.name, detail: c.external ? `${c.address} (external)` : c.address });
  for (const w of topology.workloads) {
    nodes.push({ id: nodeId('workload', w.name), kind: 'workload', name: w.name, detail: w.address, parent: nodeId('compute', w.compute) });
  }
  for (const n of topology.networks) nodes.push({ id: nodeId('network', n.name), kind: 'network', name: shortNetworkName(n.name), detail: n.subnets.join(' ') });
  for (const lb of topology.loadBalancers) {
    const ports = lb.listeners.map((l) => `${l.protocol}/${l.port}`).join(' ');
    nodes.push({ id: nodeId('load-balancer', lb.name), kind: 'load-balancer', name: lb.name, detail: `VIP ${lb.vip} ${ports}`.trim() });
  }

  // Control node → peer direction keeps control nodes above computes in a top-down layout.
  for (const c of topology.computes) {
    c.xmppServers.forEach((server, i) => {
      edges.push({ id: `xmpp:${c.name}:${server}`, kind: 'xmpp', source: nodeId('control-node', server), target: nodeId('compute', c.name), primary: i === 0 });
    });
  }
  const controls = topology.controlNodes;
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      edges.push({ id: bgpEdgeId(controls[i].name, controls[j].name), kind: 'bgp', source: nodeId('control-node', controls[i].name), target: nodeId('control-node', controls[j].name) });
    }
    for (const p of topology.bgpPeers) {
      edges.push({ id: bgpEdgeId(controls[i].name, p.name), kind: 'bgp', source: nodeId('bgp-peer', p.name), target: nodeId('control-node', controls[i].name) });
    }
    for (const g of (topology.gateways ?? []).filter((gateway) => gateway.controlNodes.includes(controls[i].name))) {
      edges.push({ id: bgpEdgeId(controls[i].name, g.name), kind: 'bgp', source: nodeId('bgp-peer', g.name), target: nodeId('control-node', controls[i].name) });
    }
  }
  for (const w of topology.workloads) {
    edges.push({ id: `attach:${w.name}`, kind: 'attach', source: nodeId('workload', w.name), target: nodeId('network', w.network) });
  }
  for (const lb of topology.loadBalancers) {
    edges.push({ id: `vip:${lb.name}`, kind: 'vip', source: nodeId('network', lb.network), target: nodeId('load-balancer', lb.name), label: lb.vip });
  }
  const seen = new Set<string>();
  for (const ref of members) {
    const edge = memberEdge(topology, ref);
    if (edge && !seen.has(edge.id)) {
      seen.add(edge.id);
      edges.push(edge);
    }
  }
  return { name: topology.name, nodes, edges };
}

/** One id for the session between two BGP speakers whichever side names it (the control node reports it by peer name). */
export function bgpEdgeId(a: string, b: string): string {
  return `bgp:${[a, b].sort().join(':')}`;
}

/** `default-domain:demo:svc-vn` → `svc-vn`: the last fq-name part is what people call the network. */
export function shortNetworkName(fqName: string): string {
  const parts = fqName.split(':');
  return parts[parts.length - 1] || fqName;
}
