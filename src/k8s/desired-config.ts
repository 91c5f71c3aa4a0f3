// What the config should hold for one pod or one service, given kube-manager's cache: pure functions,
// no I/O. A pod → a workload (VMI + instance-ip) in the pod network on its node's compute; a ClusterIP,
// NodePort or LoadBalancer service → a native load balancer `<namespace>-<service>` (VIP = clusterIP
// in the service network), a listener and a pool per port, a member per ready endpoint address with
// the endpoint's port (docs/protocol.md §8.1). Applying the difference is kube-manager.ts.
import type { ListenerProtocol } from '../model/objects.ts';
import type { EndpointPort, K8sNode, Pod, Service, ServicePort } from './k8s-objects.ts';
import type { ObjectCache } from './object-cache.ts';
import type { K8sSettings } from './k8s-settings.ts';

export interface ComputeRef {
  readonly name: string;
  readonly address: string;
}

export interface DesiredWorkload {
  /** VMI and instance-ip name: `<namespace>__<pod>` (`_` never occurs in Kubernetes names). */
  readonly name: string;
  readonly network: string;
  readonly compute: string;
  readonly address: string;
}

export interface DesiredMember {
  readonly address: string;
  readonly port: number;
}

export interface DesiredListener {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly port: number;
  readonly pool: string;
  readonly members: readonly DesiredMember[];
}

export interface DesiredLoadBalancer {
  readonly name: string;
  readonly network: string;
  readonly vip: string;
  readonly listeners: readonly DesiredListener[];
  /**
   * type LoadBalancer: an external IP, a floating IP from the public pool associated with the VIP
   * (docs/protocol.md §8.2); `address` is the one asked for (status.loadBalancer.ingress, spec.loadBalancerIP),
   * absent: the pool's next free one.
   */
  readonly external?: { readonly address?: string };
}

/** A desired object, or why there is none (the reason is reported for the Kubernetes object). */
export type Desired<T> = { readonly want: T; readonly notes: readonly string[] } | { readonly want: null; readonly reason: string; readonly notes: readonly string[] };

export function workloadName(namespace: string, pod: string): string {
  return `${namespace}__${pod}`;
}

export function loadBalancerName(namespace: string, service: string): string {
  return `${namespace}-${service}`;
}

export function listenerName(lb: string, port: ServicePort): string {
  return `${lb}-${port.protocol}-${port.port}`;
}

/**
 * The compute a node runs on: the topology's node map first, then a compute of the same name, then the
 * compute whose address is the Node's InternalIP (a simulated node is its compute).
 */
export function computeOfNode(nodeName: string, settings: K8sSettings, computes: readonly ComputeRef[], nodes: readonly K8sNode[]): string | undefined {
  const mapped = settings.nodes[nodeName];
  if (mapped !== undefined) return mapped;
  if (computes.some((c) => c.name === nodeName)) return nodeName;
  const node = nodes.find((n) => n.metadata.name === nodeName);
  const internal = node?.status.addresses.find((a) => a.type === 'InternalIP')?.address;
  return internal === undefined ? undefined : computes.find((c) => c.address === internal)?.name;
}

export function desiredWorkload(pod: Pod, cache: ObjectCache, settings: K8sSettings, computes: readonly ComputeRef[]): Desired<DesiredWorkload> {
  const notes: string[] = [];
  const none = (reason: string): Desired<DesiredWorkload> => ({ want: null, reason, notes });
  if (pod.metadata.deletionTimestamp !== undefined) return none('terminating (deletionTimestamp set): its workload is removed');
  if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return none(`phase ${pod.status.phase}: the pod no longer has an interface`);
  if (pod.spec.hostNetwork) return none('hostNetwork pod: it uses its node address, kube-manager makes no interface for it');
  const nodeName = pod.spec.nodeName;
  if (nodeName === undefined) return none('not scheduled yet (no spec.nodeName)');
  if (pod.status.podIP === undefined) return none(`no status.podIP yet on node ${nodeName}`);
  const compute = computeOfNode(nodeName, settings, computes, cache.nodes());
  if (compute === undefined) return none(`node ${nodeName} maps to no compute (name a compute after it, give its Node an InternalIP of a compute, or map it in the topology's k8s.nodes)`);
  return { want: { name: workloadName(pod.metadata.namespace as string, pod.metadata.name), network: settings.podNetwork.name, compute, address: pod.status.podIP }, notes };
}

interface ReadyAddress {
  readonly ip: string;
  readonly ports: readonly EndpointPort[];
}

/** Ready endpoint addresses with their ports: from the EndpointSlices when there are any, else the Endpoints. */
function readyAddresses(service: Service, cache: ObjectCache, notes: string[]): ReadyAddress[] {
  const namespace = service.metadata.namespace as string;
  const slices = cache.slicesOf(namespace, service.metadata.name);
  const out: ReadyAddress[] = [];
  if (slices.length > 0) {
    for (const slice of slices) {
      if (slice.addressType !== 'IPv4') {
        notes.push(`EndpointSlice ${slice.metadata.name}: addressType ${slice.addressType} is not simulated`);
        continue;
      }
      for (const endpoint of slice.endpoints) {
        if (endpoint.conditions.ready === false) continue;
        for (const ip of endpoint.addresses) out.push({ ip, ports: slice.ports });
      }
    }
    return out;
  }
  const endpoints = cache.endpoints(namespace, service.metadata.name);
  for (const subset of endpoints?.subsets ?? []) for (const address of subset.addresses) out.push({ ip: address.ip, ports: subset.ports });
  return out;
}

/** The endpoint port serving a service port: same name (both unnamed for a single-port service), same protocol. */
function endpointPortFor(port: ServicePort, ports: readonly EndpointPort[]): EndpointPort | undefined {
  return ports.find((p) => p.name === port.name && p.protocol === port.protocol) ?? (ports.length === 1 && port.name === undefined ? ports[0] : undefined);
}

export function desiredLoadBalancer(service: Service, cache: ObjectCache, settings: K8sSettings): Desired<DesiredLoadBalancer> {
  const notes: string[] = [];
  const none = (reason: string): Desired<DesiredLoadBalancer> => ({ want: null, reason, notes });
  const { spec } = service;
  if (spec.type === 'ExternalName') return none('ExternalName service: a DNS alias, no load balancer');
  if (spec.clusterIP === 'None') return none('headless service (clusterIP None): DNS only, no load balancer');
  if (spec.clusterIP === undefined) return none('no spec.clusterIP yet');
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const port of spec.ports) if (port.nodePort !== undefined) notes.push(`nodePort ${port.nodePort} is not simulated (the cluster IP is)`);
  }
  let external: DesiredLoadBalancer['external'];
  if (spec.type === 'LoadBalancer') {
    // spec.loadBalancerIP is what the user asked for; status.loadBalancer.ingress what a controller gave
    const asked = [...(spec.loadBalancerIP ? [spec.loadBalancerIP] : []), ...(service.status?.loadBalancer?.ingress?.flatMap((i) => (i.ip ? [i.ip] : [])) ?? [])];
    const distinct = [...new Set(asked)];
    if (distinct.length > 1) notes.push(`LoadBalancer: several external IPs (${distinct.join(', ')}); ${distinct[0]} is used`);
    external = distinct.length > 0 ? { address: distinct[0] } : {};
  }
  for (const ip of spec.externalIPs ?? []) notes.push(`externalIP ${ip} is not simulated: use type LoadBalancer for an external IP from the floating-ip pool`);
  const lb = loadBalancerName(service.metadata.namespace as string, service.metadata.name);
  const addresses = readyAddresses(service, cache, notes);
  const listeners: DesiredListener[] = [];
  for (const port of spec.ports) {
    if (port.protocol === 'SCTP') {
      notes.push(`port ${port.port}/SCTP is left out: the native load balancer maps TCP and UDP only`);
      continue;
    }
    const name = listenerName(lb, port);
    const members = new Map<string, DesiredMember>();
    for (const address of addresses) {
      const endpointPort = endpointPortFor(port, address.ports);
      if (endpointPort === undefined) continue;
      members.set(`${address.ip}:${endpointPort.port}`, { address: address.ip, port: endpointPort.port });
    }
    const targets = new Set([...members.values()].map((m) => m.port));
    if (targets.size > 1) notes.push(`port ${port.port}: endpoints use target ports ${[...targets].join(', ')}; the native driver maps one per listener (the first member's)`);
    listeners.push({ name, protocol: port.protocol, port: port.port, pool: `${name}-pool`, members: [...members.values()] });
  }
  if (listeners.length === 0) return none('no TCP or UDP port: nothing to load-balance');
  return { want: { name: lb, network: settings.serviceNetwork.name, vip: spec.clusterIP, listeners, ...(external ? { external } : {}) }, notes };
}
