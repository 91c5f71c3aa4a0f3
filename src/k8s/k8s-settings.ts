// The topology's optional `k8s` section and its defaults: the pod and service networks kube-manager
// creates (Contrail's names and subnets unless the topology says otherwise) and the node → compute map.
// Owns defaults and the checks that name a JSON path; reading the file is the topology loader's job.
import { parseIpv4Subnet } from '../net/ipv4.ts';
import type { NetworkPolicySpec } from '../model/network-policy.ts';

/** As written in the topology file (mirrors the `k8s` entry of topologies/schema.json). */
export interface RawK8sSection {
  podNetwork?: { name?: string; subnets?: string[] };
  serviceNetwork?: { name?: string; subnets?: string[] };
  /** Kubernetes node name → compute name, for nodes not named after their compute. */
  nodes?: Record<string, string>;
}

export interface K8sNetwork {
  readonly name: string;
  readonly subnets: readonly string[];
}

export interface K8sSettings {
  readonly podNetwork: K8sNetwork;
  readonly serviceNetwork: K8sNetwork;
  readonly nodes: Readonly<Record<string, string>>;
}

/**
 * kube-manager's defaults: project `k8s-default` in `default-domain`, pods from 10.32.0.0/12, service
 * IPs from 10.96.0.0/12 (the apiserver's --service-cluster-ip-range must match the service network).
 */
export const DEFAULT_POD_NETWORK: K8sNetwork = { name: 'default-domain:k8s-default:k8s-default-pod-network', subnets: ['10.32.0.0/12'] };
export const DEFAULT_SERVICE_NETWORK: K8sNetwork = { name: 'default-domain:k8s-default:k8s-default-service-network', subnets: ['10.96.0.0/12'] };

export function k8sSettings(raw: RawK8sSection | undefined): K8sSettings {
  return {
    podNetwork: { name: raw?.podNetwork?.name ?? DEFAULT_POD_NETWORK.name, subnets: raw?.podNetwork?.subnets ?? DEFAULT_POD_NETWORK.subnets },
    serviceNetwork: { name: raw?.serviceNetwork?.name ?? DEFAULT_SERVICE_NETWORK.name, subnets: raw?.serviceNetwork?.subnets ?? DEFAULT_SERVICE_NETWORK.subnets },
    nodes: { ...(raw?.nodes ?? {}) },
  };
}

/**
 * True when pods and services share one network: the VIP's ECMP route is then in the pods' own VRF
 * without any route-target import between networks (the layout the simulator can run end to end today).
 */
export function sharedNetwork(settings: K8sSettings): boolean {
  return settings.podNetwork.name === settings.serviceNetwork.name;
}

/** `k8s.nodes.worker-1: no compute named compute-9` …; paths point into the topology file. */
/**
 * Problems of the section, each with its path. A network the topology also declares keeps its declared
 * subnets (kube-manager finds it and creates nothing); the subnets here are for networks it creates.
 * The resolved settings are written back into topology files (`--processes`), so they must pass again.
 */
export function k8sSectionProblems(raw: RawK8sSection | undefined, computes: readonly string[]): { path: string; message: string }[] {
  if (!raw) return [];
  const problems: { path: string; message: string }[] = [];
  for (const [node, compute] of Object.entries(raw.nodes ?? {})) {
    if (!computes.includes(compute)) problems.push({ path: `k8s.nodes.${node}`, message: `no compute named ${compute}; computes: ${computes.join(', ')}` });
  }
  for (const which of ['podNetwork', 'serviceNetwork'] as const) {
    const section = raw[which];
    (section?.subnets ?? []).forEach((subnet, i) => {
      const parsed = parseIpv4Subnet(subnet);
      if (typeof parsed === 'string') problems.push({ path: `k8s.${which}.subnets[${i}]`, message: parsed });
    });
  }
  return problems;
}

/**
 * The policy kube-manager attaches to its pod and service networks so that each imports the other's
 * route target: the VIP's ECMP route reaches the pods' VRF, and replies to clients the service VRF.
 * None when both are one network.
 */
export function podServicePolicy(settings: K8sSettings): NetworkPolicySpec | undefined {
  if (sharedNetwork(settings)) return undefined;
  const project = settings.podNetwork.name.split(':').slice(0, -1);
  const name = [...(project.length > 0 ? project : ['default-domain', 'k8s-default']), 'k8s-default-pod-service-np'].join(':');
  const pod = settings.podNetwork.name;
  const service = settings.serviceNetwork.name;
  return { name, networks: [pod, service], rules: [{ action: 'pass', direction: '<>', sourceNetwork: pod, destinationNetwork: service }] };
}
