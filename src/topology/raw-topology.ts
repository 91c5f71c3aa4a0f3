/**
 * The topology file as written, after the JSON Schema accepted it: shapes are right, optional fields
 * may be missing, meaning is not checked yet. Mirrors topologies/schema.json.
 */
import type { HashField } from '../net/hash-fields.ts';
import type { ListenerProtocol, MonitorType, PoolMethod } from '../model/objects.ts';
import type { BgpFamily, Encapsulation, GracefulRestartSpec } from './topology.ts';
import type { RawXmppAuth } from './xmpp-auth.ts';
import type { RawK8sSection } from '../k8s/k8s-settings.ts';
import type { PolicyRule } from '../model/network-policy.ts';

export interface RawTopology {
  name: string;
  description?: string;
  asn?: number;
  holdTimeSeconds?: number;
  hashFields?: HashField[];
  encapsulationPriorities?: Encapsulation[];
  controlNodes: { name: string; address: string; xmppPort?: number; bgpPort?: number; routerId?: string; clusterId?: string; xmppAuth?: NodeXmppAuth }[];
  computes: { name: string; address: string; external?: boolean; xmppServers?: string[]; xmppAuth?: NodeXmppAuth }[];
  networks: { name: string; subnets: string[]; hashFields?: HashField[] }[];
  workloads?: {
    name: string;
    compute: string;
    network: string;
    address?: string;
    mac?: string;
    hashFields?: HashField[];
    allowedAddressPairs?: { prefix: string; mode?: 'active-standby' | 'active-active' }[];
  }[];
  loadBalancers?: RawLoadBalancer[];
  bgpPeers?: { name: string; address: string; port?: number; asn: number; families?: BgpFamily[]; localAddress?: string; holdTime?: number; passive?: boolean }[];
  /** kube-manager's networks and node → compute map (src/k8s/k8s-settings.ts). */
  k8s?: RawK8sSection;
  /** Networks connected for routing: each imports the others' route targets (src/model/network-policy.ts). */
  networkPolicies?: { name: string; networks: string[]; rules?: PolicyRule[] }[];
  sharedVips?: { name: string; network: string; address: string; workloads: string[] }[];
  floatingIpPools?: { name: string; network: string }[];
  floatingIps?: { name: string; pool: string; address?: string; loadBalancer?: string; sharedVip?: string }[];
  gateways?: {
    name: string;
    address: string;
    asn?: number;
    networks: string[];
    maxPaths?: number;
    hash?: 'stateless' | 'resilient';
    buckets?: number;
    controlNodes?: string[];
  }[];
  /** Graceful restart knobs, Contrail's names (src/topology/topology.ts GracefulRestartSpec). */
  gracefulRestart?: Partial<GracefulRestartSpec>;
  /** XMPP over TLS (src/topology/xmpp-auth.ts). */
  xmppAuth?: RawXmppAuth;
}

type NodeXmppAuth = Pick<RawXmppAuth, 'certFile' | 'keyFile'>;

export interface RawLoadBalancer {
  name: string;
  provider?: 'native' | 'opencontrail';
  network: string;
  vip?: string;
  maglev?: boolean;
  listeners: {
    name: string;
    protocol: ListenerProtocol;
    port: number;
    pool: {
      name: string;
      algorithm?: PoolMethod;
      protocol?: ListenerProtocol;
      healthMonitor?: { type: MonitorType; delay?: number; timeout?: number; maxRetries?: number; urlPath?: string };
      members: { name?: string; address: string; port: number; weight?: number; adminState?: boolean; subnet?: string }[];
    };
  }[];
}
