/**
 * The proxy (`opencontrail`, haproxy) load-balancer driver as a pure reconcile (docs/protocol.md §8.4):
 * each such load balancer becomes a service instance of two haproxy instances on distinct computes,
 * active (local-preference 200) and standby (100), each with an interface in the VIP network (address:
 * the VIP) and one in the pool network when that differs. The scheduler is seeded rendezvous hashing:
 * the same config and seed always give the same placement, and a compute joining or leaving moves an
 * instance only when it is one of the two chosen.
 * Owns: placement, the frontends/backends the haproxies balance, and refusing what cannot be placed.
 * Does not own: the native driver (native-driver.ts), the haproxy file (haproxy-config.ts), or the data
 * plane that proxies connections (src/vrouter/proxy-service.ts).
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../model/config-error.ts';
import type { DriverNotice, ReconcileInput } from '../model/reconcile-hook.ts';
import type { LoadBalancer, ProxyBackend, ProxyFrontend, ProxyPlacement, ServiceInstance } from '../model/objects.ts';
import { intToIpv4, parseIpv4Prefix } from '../net/ipv4.ts';
import { uuidFromName } from './native-driver.ts';

export const PROVIDER_PROXY = 'opencontrail';
export const ACTIVE_LOCAL_PREF = 200;
export const STANDBY_LOCAL_PREF = 100;

export interface ProxyDriverOptions {
  /** The computes that may host a haproxy (the topology's); default: every compute hosting an interface. */
  computes?: readonly string[];
  /** Scheduler seed: the same seed and config give the same placement. */
  seed?: number;
}

export interface ProxyDriverResult {
  readonly serviceInstances: ServiceInstance[];
  readonly warnings: DriverNotice[];
  readonly problems: DriverNotice[];
}

export function serviceInstanceName(loadBalancer: string): string {
  return `${loadBalancer}-haproxy`;
}

/** Rendezvous score of `compute` for `lb`: the highest two scores host the pair. */
function score(seed: number, lb: string, compute: string): string {
  return createHash('sha1').update(`${seed}\u0000${lb}\u0000${compute}`).digest('hex');
}

/** The computes, best first, that the scheduler would place `lb` on. */
export function rankComputes(seed: number, lb: string, candidates: readonly string[]): string[] {
  return [...candidates].sort((a, b) => (score(seed, lb, b) < score(seed, lb, a) ? -1 : score(seed, lb, b) > score(seed, lb, a) ? 1 : a.localeCompare(b)));
}

function fail(lb: LoadBalancer, reason: string, field?: string): never {
  throw new ConfigError('loadbalancer', lb.name, reason, field);
}

/**
 * Computes that reach the load balancer's networks: those hosting an interface in the VIP network or in
 * the pool's network (a haproxy has a leg in both). Hosts outside `options.computes` never count.
 */
function computesReaching(input: ReconcileInput, networks: readonly string[], allowed: ReadonlySet<string> | undefined): string[] {
  const found = new Set<string>();
  for (const vmi of input.virtualMachineInterfaces) {
    if (vmi.compute !== undefined && networks.includes(vmi.virtualNetwork) && (allowed === undefined || allowed.has(vmi.compute))) found.add(vmi.compute);
  }
  return [...found].sort();
}

/**
 * A pool-side address: the highest of the subnet that no instance-ip holds and no other haproxy took
 * (the IPAM hands out the lowest first, so the two ends meet only in a full subnet).
 */
function poolSideAddress(input: ReconcileInput, network: string, taken: Set<string>): string | undefined {
  const vn = input.virtualNetworks.find((candidate) => candidate.name === network);
  const used = new Set(input.instanceIps.map((iip) => iip.address));
  for (const text of vn?.subnets ?? []) {
    const subnet = parseIpv4Prefix(text);
    if (typeof subnet === 'string') continue;
    const first = subnet.address;
    const last = first + 2 ** (32 - subnet.length) - 1;
    for (let address = last - 1; address > first + 1; address--) {
      const candidate = intToIpv4(address);
      if (used.has(candidate) || taken.has(candidate)) continue;
      taken.add(candidate);
      return candidate;
    }
  }
  return undefined;
}

function frontendsOf(lb: LoadBalancer, input: ReconcileInput, warnings: DriverNotice[]): ProxyFrontend[] {
  const frontends: ProxyFrontend[] = [];
  for (const listener of input.listeners.filter((candidate) => candidate.loadBalancer === lb.name && candidate.adminState)) {
    const pool = input.pools.find((candidate) => candidate.listener === listener.name);
    if (!pool) continue;
    const members = input.members.filter((member) => member.pool === pool.name);
    const backends: ProxyBackend[] = members.map((member) => ({ member: member.name, address: member.address, port: member.port, weight: member.weight, adminState: member.adminState }));
    for (const member of members.filter((candidate) => candidate.weight === 0)) {
      warnings.push({ loadBalancer: lb.name, object: `loadbalancer-member ${member.name}`, message: 'weight 0: haproxy sends it no new connections (drained); existing ones stay' });
    }
    if (pool.method === 'SOURCE_IP' && members.length > 0 && members.every((member) => member.weight === 0)) {
      fail(lb, `pool ${pool.name} balances by SOURCE_IP but every member has weight 0: the source hash has no server to map onto; give at least one member a weight from 1 to 256`);
    }
    const monitor = pool.healthMonitor === undefined ? undefined : input.healthMonitors.find((candidate) => candidate.name === pool.healthMonitor);
    frontends.push({
      listener: listener.name,
      protocol: listener.protocol,
      port: listener.port,
      pool: pool.name,
      method: pool.method,
      backends,
      ...(monitor ? { monitor: { type: monitor.type, delay: monitor.delay, timeout: monitor.timeout, maxRetries: monitor.maxRetries, ...(monitor.urlPath === undefined ? {} : { urlPath: monitor.urlPath }) } } : {}),
    });
  }
  return frontends;
}

/** The network the pool's members live in: that of the first member address some instance-ip holds; else the VIP's. */
function poolNetworkOf(lb: LoadBalancer, frontends: readonly ProxyFrontend[], input: ReconcileInput): string {
  for (const frontend of frontends) {
    for (const backend of frontend.backends) {
      const iip = input.instanceIps.find((candidate) => candidate.address === backend.address && candidate.virtualNetwork !== lb.virtualNetwork);
      const same = input.instanceIps.find((candidate) => candidate.address === backend.address && candidate.virtualNetwork === lb.virtualNetwork);
      if (same) return lb.virtualNetwork;
      if (iip) return iip.virtualNetwork;
    }
  }
  return lb.virtualNetwork;
}

export function reconcileProxyLoadBalancers(input: ReconcileInput, options: ProxyDriverOptions = {}): ProxyDriverResult {
  const warnings: DriverNotice[] = [];
  const problems: DriverNotice[] = [];
  const serviceInstances: ServiceInstance[] = [];
  const allowed = options.computes === undefined ? undefined : new Set(options.computes);
  const seed = options.seed ?? 1;
  const taken = new Set<string>();
  for (const lb of input.loadBalancers) {
    if (lb.provider !== PROVIDER_PROXY || !lb.adminState) continue;
    const frontends = frontendsOf(lb, input, warnings);
    const poolNetwork = poolNetworkOf(lb, frontends, input);
    const networks = poolNetwork === lb.virtualNetwork ? [lb.virtualNetwork] : [lb.virtualNetwork, poolNetwork];
    const where = networks.join(' or ');
    const candidates = computesReaching(input, networks, allowed);
    if (candidates.length === 0) {
      fail(lb, `no compute reaches its VIP network ${lb.virtualNetwork} (no compute hosts an interface in ${where}), so its haproxy service instance has nowhere to run`, 'virtualNetwork');
    }
    if (candidates.length < 2) {
      fail(lb, `a proxy load balancer needs two computes (active and standby haproxy) that reach ${where}; only ${candidates.join(', ')} does`, 'provider');
    }
    const [activeHost, standbyHost] = rankComputes(seed, lb.name, candidates);
    const name = serviceInstanceName(lb.name);
    const placements = ([[activeHost, 'active', ACTIVE_LOCAL_PREF], [standbyHost, 'standby', STANDBY_LOCAL_PREF]] as const).map(([compute, role, localPreference]): ProxyPlacement => {
      const vipInterface = `${name}-${role}-vip`;
      if (poolNetwork === lb.virtualNetwork) return { compute, role, localPreference, vipInterface, poolAddress: lb.vipAddress };
      const poolAddress = poolSideAddress(input, poolNetwork, taken);
      if (poolAddress === undefined) {
        problems.push({ loadBalancer: lb.name, object: `loadbalancer ${lb.name}`, message: `no free address in the pool network ${poolNetwork} for the ${role} haproxy; it connects from the VIP` });
        return { compute, role, localPreference, vipInterface, poolAddress: lb.vipAddress };
      }
      return { compute, role, localPreference, vipInterface, poolInterface: `${name}-${role}-pool`, poolAddress };
    });
    serviceInstances.push({
      kind: 'service-instance',
      uuid: uuidFromName('service-instance', name),
      name,
      loadBalancer: lb.name,
      vip: lb.vipAddress,
      vipNetwork: lb.virtualNetwork,
      poolNetwork,
      frontends,
      instances: [placements[0], placements[1]],
    });
  }
  return { serviceInstances, warnings, problems };
}
