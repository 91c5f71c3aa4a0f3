import type { HashField } from '../net/hash-fields.ts';
import type { ListenerProtocol, MonitorType, PoolMethod } from '../model/objects.ts';
import type { K8sSettings } from '../k8s/k8s-settings.ts';
import type { NetworkPolicySpec } from '../model/network-policy.ts';
import type { XmppAuthFiles } from './xmpp-auth.ts';

/** A validated topology with every default filled in (addresses and MACs included). */
export interface Topology {
  readonly name: string;
  readonly description?: string;
  readonly asn: number;
  readonly holdTimeSeconds: number;
  readonly hashFields: readonly HashField[];
  readonly encapsulationPriorities: readonly Encapsulation[];
  readonly controlNodes: readonly ControlNodeSpec[];
  readonly computes: readonly ComputeSpec[];
  readonly networks: readonly NetworkSpec[];
  readonly workloads: readonly WorkloadSpec[];
  readonly loadBalancers: readonly LoadBalancerTopology[];
  readonly bgpPeers: readonly BgpPeerSpec[];
  /** Present when the file has a `k8s` section (kube-manager uses its defaults otherwise). */
  readonly k8s?: K8sSettings;
  readonly networkPolicies: readonly NetworkPolicySpec[];
  /** North-south (src/topology/resolve-north-south.ts); absent in topologies without them. */
  readonly sharedVips?: readonly SharedVipSpec[];
  readonly floatingIpPools?: readonly FloatingIpPoolTopology[];
  readonly floatingIps?: readonly FloatingIpTopology[];
  readonly gateways?: readonly GatewaySpec[];
  /** Present when the file has a `gracefulRestart` section; gracefulRestartOf fills the defaults. */
  readonly gracefulRestart?: GracefulRestartSpec;
}

/** Graceful restart as Contrail's global-system-config names it (docs/protocol.md §6.7); times in seconds. */
export interface GracefulRestartSpec {
  readonly enable: boolean;
  readonly restartTime: number;
  readonly longLivedRestartTime: number;
  readonly endOfRibTimeout: number;
  readonly xmppHelperEnable: boolean;
  readonly bgpHelperEnable: boolean;
}

export const DEFAULT_GRACEFUL_RESTART: GracefulRestartSpec = {
  enable: false,
  restartTime: 300,
  longLivedRestartTime: 300,
  endOfRibTimeout: 300,
  xmppHelperEnable: false,
  bgpHelperEnable: false,
};

export function gracefulRestartOf(topology: Pick<Topology, 'gracefulRestart'>): GracefulRestartSpec {
  return { ...DEFAULT_GRACEFUL_RESTART, ...topology.gracefulRestart };
}

/** One address on several workloads' interfaces: an active-active instance-ip (docs/protocol.md §7.2). */
export interface SharedVipSpec {
  readonly name: string;
  readonly network: string;
  readonly address: string;
  readonly workloads: readonly string[];
}

export interface FloatingIpPoolTopology {
  readonly name: string;
  readonly network: string;
}

export interface FloatingIpTopology {
  readonly name: string;
  readonly pool: string;
  readonly address?: string;
  /** associated with a native LB's VIP or with a shared VIP (at most one) */
  readonly loadBalancer?: string;
  readonly sharedVip?: string;
}

export interface GatewaySpec {
  readonly name: string;
  readonly address: string;
  readonly asn: number;
  readonly networks: readonly string[];
  readonly maxPaths: number;
  readonly hash: 'stateless' | 'resilient';
  readonly buckets: number;
  /** the control nodes it peers with */
  readonly controlNodes: readonly string[];
}

export type Encapsulation = 'MPLSoGRE' | 'MPLSoUDP' | 'VXLAN';
export type BgpFamily = 'inet-vpn' | 'route-target';

export interface ControlNodeSpec {
  readonly name: string;
  readonly address: string;
  readonly xmppPort: number;
  readonly bgpPort: number;
  readonly routerId: string;
  readonly clusterId?: string;
  /** XMPP over TLS: present when the topology enables xmppAuth (src/topology/xmpp-auth.ts). */
  readonly xmppAuth?: XmppAuthFiles;
}

export interface ComputeSpec {
  readonly name: string;
  readonly address: string;
  readonly external: boolean;
  /** 1 or 2 control-node names, in order of preference */
  readonly xmppServers: readonly string[];
  /** XMPP over TLS: present when the topology enables xmppAuth. */
  readonly xmppAuth?: XmppAuthFiles;
}

export interface NetworkSpec {
  readonly name: string;
  readonly subnets: readonly string[];
  readonly hashFields?: readonly HashField[];
}

export interface WorkloadSpec {
  readonly name: string;
  readonly compute: string;
  readonly network: string;
  readonly address: string;
  readonly mac: string;
  readonly hashFields?: readonly HashField[];
  readonly allowedAddressPairs?: readonly { readonly prefix: string; readonly mode: 'active-standby' | 'active-active' }[];
}

export interface LoadBalancerTopology {
  readonly name: string;
  readonly provider: 'native' | 'opencontrail';
  readonly network: string;
  readonly vip: string;
  readonly maglev: boolean;
  readonly listeners: readonly ListenerTopology[];
}

export interface ListenerTopology {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly port: number;
  readonly pool: PoolTopology;
}

export interface PoolTopology {
  readonly name: string;
  readonly algorithm: PoolMethod;
  readonly protocol: ListenerProtocol;
  readonly healthMonitor?: HealthMonitorTopology;
  readonly members: readonly MemberTopology[];
}

export interface HealthMonitorTopology {
  readonly type: MonitorType;
  readonly delay: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly urlPath?: string;
}

export interface MemberTopology {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly adminState: boolean;
  readonly subnet?: string;
}

export interface BgpPeerSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly asn: number;
  readonly families: readonly BgpFamily[];
  readonly localAddress?: string;
  readonly holdTime: number;
  readonly passive: boolean;
}

export interface TopologyError {
  /** JSON path into the file, e.g. `computes[2].address`; empty for the document itself */
  readonly path: string;
  readonly message: string;
}

export type TopologyResult =
  | { readonly ok: true; readonly topology: Topology; readonly warnings: readonly TopologyError[] }
  | { readonly ok: false; readonly errors: readonly TopologyError[] };

export function formatTopologyError(error: TopologyError): string {
  return error.path === '' ? error.message : `${error.path}: ${error.message}`;
}
