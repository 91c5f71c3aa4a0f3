/**
 * The config objects of the native load balancer, as the control node holds them (docs/protocol.md §8.1).
 * Refs are by name (the store keeps names unique per kind and also assigns every object a uuid).
 * Field names follow the Contrail properties they stand for.
 */

import type { HashField } from '../net/hash-fields.ts';
import type { NetworkPolicy } from './network-policy.ts';

export type { NetworkPolicy };

export const LISTENER_PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

export const POOL_METHODS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const;
export type PoolMethod = (typeof POOL_METHODS)[number];

export const MONITOR_TYPES = ['PING', 'TCP', 'HTTP', 'HTTPS'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

export const INSTANCE_IP_MODES = ['active-standby', 'active-active'] as const;
export type InstanceIpMode = (typeof INSTANCE_IP_MODES)[number];

export const TRAFFIC_DIRECTIONS = ['both', 'ingress', 'egress'] as const;
export type TrafficDirection = (typeof TRAFFIC_DIRECTIONS)[number];

/** `native`: ECMP floating-ips (docs/protocol.md §8.2); `opencontrail`: the haproxy service instance (docs/protocol.md §8.4). */
export const SUPPORTED_PROVIDERS = ['native', 'opencontrail'] as const;
export type LoadBalancerProvider = (typeof SUPPORTED_PROVIDERS)[number];

export interface VirtualNetwork {
  readonly kind: 'virtual-network';
  readonly uuid: string;
  readonly name: string;
  readonly subnets: readonly string[];
  /** `virtual-network-network-id`, allocated from 1 */
  readonly vnIndex: number;
  readonly routeTarget: string;
  readonly routingInstance: string;
  readonly hashFields?: readonly HashField[];
}

export interface VirtualMachineInterface {
  readonly kind: 'virtual-machine-interface';
  readonly uuid: string;
  readonly name: string;
  readonly mac: string;
  readonly virtualNetwork: string;
  /** The virtual-router (compute) hosting it; absent for a VIP VMI, which is bound to no VM. */
  readonly compute?: string;
  readonly hashFields?: readonly HashField[];
  readonly allowedAddressPairs?: readonly AllowedAddressPair[];
}

export interface InstanceIp {
  readonly kind: 'instance-ip';
  readonly uuid: string;
  readonly name: string;
  readonly address: string;
  readonly mode: InstanceIpMode;
  readonly virtualNetwork: string;
  /** The first (or only) VMI holding the address. */
  readonly virtualMachineInterface: string;
  /**
   * Every VMI holding the address, first = `virtualMachineInterface`; present only when there are
   * several, which needs mode `active-active` (a shared VIP: each VMI's compute advertises the /32 with
   * its own RD and label, docs/protocol.md §7.2). Read it through `instanceIpInterfaces`.
   */
  readonly virtualMachineInterfaces?: readonly string[];
}

/** `allowed-address-pairs` entry of a VMI: a further prefix the VM may use; `active-active` ones are advertised. */
export interface AllowedAddressPair {
  /** `a.b.c.d/len` (a /32 for a single address) */
  readonly prefix: string;
  readonly mode: InstanceIpMode;
}

/** A floating-ip pool: the public network floating IPs are allocated from (a child of that network in Contrail). */
export interface FloatingIpPool {
  readonly kind: 'floating-ip-pool';
  readonly uuid: string;
  readonly name: string;
  readonly virtualNetwork: string;
}

export interface PortMapping {
  /** `TCP` / `UDP` (the driver writes these; the agent matches case-insensitively) */
  readonly protocol: string;
  /** port clients use on the VIP (the listener port) */
  readonly srcPort: number;
  /** port on the member (its target port) */
  readonly dstPort: number;
}

export interface FloatingIp {
  readonly kind: 'floating-ip';
  readonly uuid: string;
  readonly name: string;
  readonly address: string;
  /** The VIP's network, or the pool's public network: the VRF in which agents publish the FIP route. */
  readonly virtualNetwork: string;
  /** The instance-ip it was made on (same address); absent for a FIP allocated from a pool. */
  readonly parentInstanceIp?: string;
  /** The floating-ip-pool it was allocated from (its own public address). */
  readonly pool?: string;
  /**
   * A pool FIP associated with an instance-ip (Contrail's fixed-ip address): it follows that address to
   * every VMI holding it, and agents translate public address → that address. When that instance-ip is
   * a native LB's VIP, the driver carries it on to the members (member address, port mappings).
   */
  readonly fixedInstanceIp?: string;
  readonly direction: TrafficDirection;
  readonly portMappingsEnable: boolean;
  readonly portMappings: readonly PortMapping[];
  readonly virtualMachineInterfaces: readonly string[];
  /** The load balancer whose native driver created or manages it; absent for a user FIP left alone. */
  readonly loadBalancer?: string;
  /** false for FIPs the driver created (they come and go with their load balancer). */
  readonly userCreated: boolean;
}

export interface LoadBalancer {
  readonly kind: 'loadbalancer';
  readonly uuid: string;
  readonly name: string;
  readonly provider: LoadBalancerProvider;
  readonly vipAddress: string;
  readonly virtualNetwork: string;
  /** The VIP VMI (ref `virtual-machine-interface`). */
  readonly virtualMachineInterface: string;
  readonly adminState: boolean;
  /** Not a Contrail property: the simulator's switch for Maglev-style hashing on agents. */
  readonly maglev: boolean;
}

export interface Listener {
  readonly kind: 'loadbalancer-listener';
  readonly uuid: string;
  readonly name: string;
  readonly loadBalancer: string;
  readonly protocol: ListenerProtocol;
  readonly port: number;
  readonly adminState: boolean;
}

export interface Pool {
  readonly kind: 'loadbalancer-pool';
  readonly uuid: string;
  readonly name: string;
  readonly listener: string;
  readonly protocol: ListenerProtocol;
  readonly method: PoolMethod;
  readonly healthMonitor?: string;
  readonly adminState: boolean;
}

export interface Member {
  readonly kind: 'loadbalancer-member';
  readonly uuid: string;
  readonly name: string;
  readonly pool: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly adminState: boolean;
  /** Restricts the VMI lookup to instance-ips inside this subnet (Contrail's `subnet-id`). */
  readonly subnet?: string;
}

export interface HealthMonitor {
  readonly kind: 'loadbalancer-healthmonitor';
  readonly uuid: string;
  readonly name: string;
  readonly type: MonitorType;
  readonly delay: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly urlPath?: string;
}

/** docs/protocol.md §8.2 step 5: what a health monitor's type becomes on the service-health-check. */
export type HealthCheckMonitorType = 'PING' | 'HTTP';

/**
 * A `service-health-check` (type `link-local`) the native driver derives from a health monitor (docs/protocol.md §8.2 step 5).
 * Derived like the driver's floating-ips: never written by users, it comes and goes with its monitor,
 * the pools using it and their members; so it is not a ConfigKind of its own.
 */
export interface ServiceHealthCheck {
  readonly kind: 'service-health-check';
  readonly uuid: string;
  readonly name: string;
  readonly healthCheckType: 'link-local';
  readonly monitorType: HealthCheckMonitorType;
  /** seconds between probes */
  readonly delay: number;
  /** seconds a probe waits for its answer */
  readonly timeout: number;
  /** consecutive failed probes that make the VMI L3-inactive */
  readonly maxRetries: number;
  readonly urlPath?: string;
  readonly healthMonitor: string;
  /** The member VMIs that reference it (refs from VMI to service-health-check in Contrail). */
  readonly virtualMachineInterfaces: readonly string[];
}

/** One haproxy `server` line: a member as the proxy balances onto it. */
export interface ProxyBackend {
  readonly member: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly adminState: boolean;
}

/** The health monitor of a proxied pool, as haproxy runs it (`check inter … fall …`). */
export interface ProxyMonitor {
  readonly type: MonitorType;
  readonly delay: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly urlPath?: string;
}

/** One listener of a proxied load balancer: haproxy's frontend and the backend of its pool. */
export interface ProxyFrontend {
  readonly listener: string;
  readonly protocol: ListenerProtocol;
  readonly port: number;
  readonly pool: string;
  readonly method: PoolMethod;
  readonly backends: readonly ProxyBackend[];
  readonly monitor?: ProxyMonitor;
}

/** Where one haproxy of the pair runs and the route preference it advertises (seed's `ha: "active: 200"`). */
export interface ProxyPlacement {
  readonly compute: string;
  readonly role: 'active' | 'standby';
  readonly localPreference: number;
  /** The proxy's interface in the VIP network; its address is the VIP. */
  readonly vipInterface: string;
  /** The interface in the pool network, when that differs from the VIP network. */
  readonly poolInterface?: string;
  /** The address backend connections come from: the pool-side address, else the VIP. */
  readonly poolAddress: string;
}

/**
 * The service instance the proxy driver derives for an `opencontrail` load balancer (docs/protocol.md §8.4):
 * two haproxy instances, active and standby on distinct computes. Derived like service-health-checks:
 * never written by users, so it is not a ConfigKind of its own.
 */
export interface ServiceInstance {
  readonly kind: 'service-instance';
  readonly uuid: string;
  readonly name: string;
  readonly loadBalancer: string;
  readonly vip: string;
  readonly vipNetwork: string;
  readonly poolNetwork: string;
  readonly frontends: readonly ProxyFrontend[];
  readonly instances: readonly [ProxyPlacement, ProxyPlacement];
}

export type ConfigObject =
  | VirtualNetwork
  | VirtualMachineInterface
  | InstanceIp
  | FloatingIp
  | FloatingIpPool
  | LoadBalancer
  | Listener
  | Pool
  | Member
  | HealthMonitor
  | NetworkPolicy;

export type ConfigKind = ConfigObject['kind'];

export const CONFIG_KINDS: readonly ConfigKind[] = [
  'virtual-network',
  'virtual-machine-interface',
  'instance-ip',
  'floating-ip-pool',
  'floating-ip',
  'loadbalancer',
  'loadbalancer-listener',
  'loadbalancer-pool',
  'loadbalancer-member',
  'loadbalancer-healthmonitor',
  'network-policy',
];

export type ObjectOfKind<K extends ConfigKind> = Extract<ConfigObject, { kind: K }>;
