import { createHash } from 'node:crypto';
import type {
  FloatingIp,
  HealthCheckMonitorType,
  HealthMonitor,
  InstanceIp,
  Listener,
  LoadBalancer,
  Member,
  PortMapping,
  ServiceHealthCheck,
} from '../model/objects.ts';
import { parseIpv4Address, parseIpv4Subnet } from '../net/ipv4.ts';
import type { DriverNotice, ReconcileHook, ReconcileInput } from '../model/reconcile-hook.ts';

/** The store's reconcile input (model/reconcile-hook.ts): this driver is a `ReconcileHook`. */
export type NativeDriverInput = ReconcileInput;
export type { DriverNotice };

export interface NativeDriverResult {
  /** The complete set of floating-ips after reconciling: replaces the previous set. */
  readonly floatingIps: FloatingIp[];
  /** docs/protocol.md §8.2 step 5: one per health monitor in use by a native LB's pool with at least one member VMI. */
  readonly serviceHealthChecks: ServiceHealthCheck[];
  /** Config that works but not as the user may expect (Contrail's own limitations). */
  readonly warnings: DriverNotice[];
  /** Config the driver could not act on (e.g. a member address with no VMI); never fatal. */
  readonly problems: DriverNotice[];
}

/**
 * Contrail names these FIPs with a random UUID; a reconcile must be a pure function of its input, so
 * the uuid is derived from the (load balancer, instance-ip) pair instead.
 */
export function nativeFloatingIpName(loadBalancer: string, instanceIp: string): string {
  return `${instanceIp}:native-lb-${loadBalancer}`;
}

/** Deterministic like the FIP names: one service-health-check per health monitor, however many pools share it. */
export function nativeHealthCheckName(healthMonitor: string): string {
  return `${healthMonitor}:service-health-check`;
}

/** A name-derived uuid (version-5 shape), so that derived objects keep their uuid across reconciles. */
export function uuidFromName(kind: 'floating-ip' | 'service-health-check' | 'service-instance', name: string): string {
  const hex = createHash('sha1').update(`ecmpsim:${kind}:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** docs/protocol.md §8.2 step 2: the mapping protocol is UDP for a UDP listener and TCP for everything else. */
function mappingProtocol(listener: Listener): 'TCP' | 'UDP' {
  return listener.protocol === 'UDP' ? 'UDP' : 'TCP';
}

interface ManagedSet {
  readonly memberVmis: string[];
  readonly mappings: PortMapping[];
  /** pool name → the VMIs of its members that were found */
  readonly poolVmis: Map<string, string[]>;
}

/** docs/protocol.md §8.2 step 5: PING and TCP monitors become PING checks, HTTP and HTTPS become HTTP checks. */
function healthCheckMonitorType(monitor: HealthMonitor): HealthCheckMonitorType {
  return monitor.type === 'HTTP' || monitor.type === 'HTTPS' ? 'HTTP' : 'PING';
}

/**
 * The native load-balancer driver (docs/protocol.md §8.2) as a pure reconcile: config in, floating-ips out.
 * Every native LB gets one FIP per instance-ip of its VIP VMI (child of that instance-ip, same address,
 * direction ingress) carrying the member VMIs and one port mapping per listener; user FIPs on the VIP VMI
 * are taken over the same way and handed back (direction both, no mappings) once the LB is gone.
 * Each health monitor used by such an LB's pools becomes a service-health-check referenced by the
 * member VMIs of those pools (docs/protocol.md §8.2 step 5).
 */
export function reconcileNativeLoadBalancers(input: NativeDriverInput): NativeDriverResult {
  const warnings: DriverNotice[] = [];
  const problems: DriverNotice[] = [];
  const vipVmis = new Map<string, LoadBalancer>();
  for (const lb of input.loadBalancers) {
    if (lb.provider === 'native' && lb.adminState) vipVmis.set(lb.virtualMachineInterface, lb);
  }

  const instanceIpsByAddress = groupBy(input.instanceIps, (iip) => iip.address);
  const managed = new Map<string, ManagedSet>();
  for (const lb of vipVmis.values()) managed.set(lb.name, resolveLoadBalancer(lb, input, vipVmis, instanceIpsByAddress, warnings, problems));

  const previous = new Map(input.floatingIps.map((fip) => [fip.name, fip]));
  const floatingIps: FloatingIp[] = [];

  for (const fip of input.floatingIps) {
    if (!fip.userCreated) continue;
    const ownRefs = input.userFloatingIpRefs.get(fip.name) ?? fip.virtualMachineInterfaces;
    const lb = ownRefs.map((vmi) => vipVmis.get(vmi)).find((found) => found !== undefined);
    if (lb) {
      const set = managed.get(lb.name) as ManagedSet;
      floatingIps.push({
        ...fip,
        direction: 'ingress',
        portMappingsEnable: set.mappings.length > 0,
        portMappings: set.mappings,
        virtualMachineInterfaces: union(ownRefs, set.memberVmis),
        loadBalancer: lb.name,
      });
    } else if (fip.loadBalancer !== undefined) {
      // docs/protocol.md §8.2 step 4: a user FIP the driver took over goes back to plain behaviour on its own VMIs
      const { loadBalancer: _released, ...rest } = fip;
      floatingIps.push({ ...rest, direction: 'both', portMappingsEnable: false, portMappings: [], virtualMachineInterfaces: [...ownRefs] });
    } else {
      floatingIps.push(fip);
    }
  }

  const instanceIpsByVmi = groupBy(input.instanceIps, (iip) => iip.virtualMachineInterface);
  for (const lb of vipVmis.values()) {
    const set = managed.get(lb.name) as ManagedSet;
    const vipIps = instanceIpsByVmi.get(lb.virtualMachineInterface) ?? [];
    if (vipIps.length === 0) {
      problems.push({ loadBalancer: lb.name, object: `loadbalancer ${lb.name}`, message: `its VIP interface ${lb.virtualMachineInterface} has no instance-ip, so no floating-ip can be made` });
    }
    for (const iip of vipIps) {
      const name = nativeFloatingIpName(lb.name, iip.name);
      floatingIps.push({
        kind: 'floating-ip',
        uuid: previous.get(name)?.uuid ?? uuidFromName('floating-ip', name),
        name,
        address: iip.address,
        virtualNetwork: iip.virtualNetwork,
        parentInstanceIp: iip.name,
        direction: 'ingress',
        portMappingsEnable: set.mappings.length > 0,
        portMappings: set.mappings,
        virtualMachineInterfaces: [...set.memberVmis],
        loadBalancer: lb.name,
        userCreated: false,
      });
    }
  }
  const serviceHealthChecks = deriveHealthChecks(input, vipVmis, managed, problems);
  return { floatingIps, serviceHealthChecks, warnings, problems };
}

/**
 * One service-health-check per monitor that a managed pool uses, referenced by the member VMIs of every
 * such pool; a monitor whose pools have no member VMI yields none (it comes back with the first member).
 */
function deriveHealthChecks(
  input: NativeDriverInput,
  vipVmis: ReadonlyMap<string, LoadBalancer>,
  managed: ReadonlyMap<string, ManagedSet>,
  problems: DriverNotice[],
): ServiceHealthCheck[] {
  const refs = new Map<string, string[]>();
  for (const lb of vipVmis.values()) {
    const set = managed.get(lb.name) as ManagedSet;
    for (const [poolName, vmis] of set.poolVmis) {
      const pool = input.pools.find((candidate) => candidate.name === poolName);
      if (pool?.healthMonitor === undefined || vmis.length === 0) continue;
      if (!input.healthMonitors.some((monitor) => monitor.name === pool.healthMonitor)) {
        problems.push({ loadBalancer: lb.name, object: `loadbalancer-pool ${pool.name}`, message: `its health monitor ${pool.healthMonitor} does not exist; no service-health-check is made` });
        continue;
      }
      refs.set(pool.healthMonitor, union(refs.get(pool.healthMonitor) ?? [], vmis));
    }
  }
  const checks: ServiceHealthCheck[] = [];
  for (const monitor of input.healthMonitors) {
    const vmis = refs.get(monitor.name);
    if (!vmis) continue;
    const name = nativeHealthCheckName(monitor.name);
    const monitorType = healthCheckMonitorType(monitor);
    checks.push({
      kind: 'service-health-check',
      uuid: uuidFromName('service-health-check', name),
      name,
      healthCheckType: 'link-local',
      monitorType,
      delay: monitor.delay,
      timeout: monitor.timeout,
      maxRetries: monitor.maxRetries,
      ...(monitorType === 'HTTP' ? { urlPath: monitor.urlPath ?? '/' } : {}),
      healthMonitor: monitor.name,
      virtualMachineInterfaces: vmis,
    });
  }
  return checks;
}

function resolveLoadBalancer(
  lb: LoadBalancer,
  input: NativeDriverInput,
  vipVmis: ReadonlyMap<string, LoadBalancer>,
  instanceIpsByAddress: ReadonlyMap<string, InstanceIp[]>,
  warnings: DriverNotice[],
  problems: DriverNotice[],
): ManagedSet {
  const memberVmis: string[] = [];
  const mappings: PortMapping[] = [];
  const poolVmis = new Map<string, string[]>();
  const mappingOwner = new Map<string, string>();
  for (const listener of input.listeners.filter((candidate) => candidate.loadBalancer === lb.name)) {
    const protocol = mappingProtocol(listener);
    const pools = input.pools.filter((pool) => pool.listener === listener.name);
    for (const pool of pools.filter((candidate) => candidate.method === 'SOURCE_IP')) {
      warnings.push({ loadBalancer: lb.name, object: `loadbalancer-pool ${pool.name}`, message: 'SOURCE_IP is not applied by the native driver: ECMP hashes the network\'s hash fields (set them to source-ip alone for per-client affinity)' });
    }
    let mapping: PortMapping | undefined;
    let firstMember: Member | undefined;
    for (const member of input.members.filter((candidate) => pools.some((pool) => pool.name === candidate.pool))) {
      const object = `loadbalancer-member ${member.name}`;
      if (member.weight === 0) {
        warnings.push({ loadBalancer: lb.name, object, message: 'weight 0 is ignored by the native driver: ECMP has no weights, so the member keeps receiving new flows (use the proxy provider, or remove the member)' });
      }
      if (!member.adminState) {
        warnings.push({ loadBalancer: lb.name, object, message: 'admin-state down is ignored by the native driver: the member stays in the ECMP set (as in Contrail)' });
      }
      const vmi = findMemberVmi(member, lb, input, vipVmis, instanceIpsByAddress, warnings);
      if (!vmi) {
        problems.push({ loadBalancer: lb.name, object, message: `address ${member.address}${member.subnet ? ` in ${member.subnet}` : ''} matches no virtual-machine-interface; the member is left out` });
        continue;
      }
      if (!memberVmis.includes(vmi)) memberVmis.push(vmi);
      poolVmis.set(member.pool, union(poolVmis.get(member.pool) ?? [], [vmi]));
      if (!mapping) {
        mapping = { protocol, srcPort: listener.port, dstPort: member.port };
        firstMember = member;
      } else if (member.port !== mapping.dstPort) {
        warnings.push({
          loadBalancer: lb.name,
          object,
          message: `target port ${member.port} differs from ${mapping.dstPort} of the first member ${firstMember?.name}; all members of listener ${listener.name} receive port ${mapping.dstPort} (Contrail keys mappings by protocol and listener port)`,
        });
      }
    }
    if (!mapping) continue;
    const key = `${protocol}/${listener.port}`;
    const owner = mappingOwner.get(key);
    if (owner !== undefined) {
      warnings.push({ loadBalancer: lb.name, object: `loadbalancer-listener ${listener.name}`, message: `${protocol} port ${listener.port} is already mapped for listener ${owner}; this listener adds no mapping` });
      continue;
    }
    mappingOwner.set(key, listener.name);
    mappings.push(mapping);
  }
  return { memberVmis, mappings, poolVmis };
}

/**
 * A member's VMI is the one whose instance-ip carries the member address (restricted to the member's
 * subnet when given). VIP interfaces are never members. When several VMIs match, the one in the VIP's
 * network wins, then the first created, and the ambiguity is reported.
 */
function findMemberVmi(
  member: Member,
  lb: LoadBalancer,
  input: NativeDriverInput,
  vipVmis: ReadonlyMap<string, LoadBalancer>,
  instanceIpsByAddress: ReadonlyMap<string, InstanceIp[]>,
  warnings: DriverNotice[],
): string | undefined {
  const subnet = member.subnet === undefined ? undefined : parseIpv4Subnet(member.subnet);
  const address = parseIpv4Address(member.address);
  if (typeof address === 'string' || typeof subnet === 'string') return undefined;
  const candidates = (instanceIpsByAddress.get(member.address) ?? []).filter(
    (iip) =>
      !vipVmis.has(iip.virtualMachineInterface) &&
      (subnet === undefined || (subnet.contains(address) && networkHasSubnet(input, iip.virtualNetwork, member.subnet as string))),
  );
  if (candidates.length === 0) return undefined;
  const preferred = candidates.filter((iip) => iip.virtualNetwork === lb.virtualNetwork);
  const chosen = (preferred.length > 0 ? preferred : candidates)[0];
  const vmis = new Set(candidates.map((iip) => iip.virtualMachineInterface));
  if (vmis.size > 1) {
    warnings.push({
      loadBalancer: lb.name,
      object: `loadbalancer-member ${member.name}`,
      message: `address ${member.address} belongs to several interfaces (${[...vmis].join(', ')}); using ${chosen.virtualMachineInterface} (give the member a subnet to choose)`,
    });
  }
  return chosen.virtualMachineInterface;
}

function networkHasSubnet(input: NativeDriverInput, network: string, subnet: string): boolean {
  return input.virtualNetworks.some((vn) => vn.name === network && vn.subnets.includes(subnet));
}

function union(first: readonly string[], second: readonly string[]): string[] {
  return [...new Set([...first, ...second])];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** What builders of a ConfigStore pass as its reconcile hook to get the native load balancer. */
export const nativeDriverHook: ReconcileHook = reconcileNativeLoadBalancers;
