// What one compute's agent is told (our stand-in for IF-MAP, see ../xmpp/config-stanza.ts): its own VMIs
// with their addresses, every floating-ip attached to one of them (docs/protocol.md §8.2: the native driver attaches the
// VIP's FIP to each member VMI), the service-health-checks that probe them (docs/protocol.md §8.2 step 5), the VIPs of
// its networks that use Maglev hashing, and the networks that all of these live in.
import type { HashField } from '../net/hash-fields.ts';
import type { AgentConfig, ConfigFloatingIp, ConfigHealthCheck } from '../xmpp/config-stanza.ts';
import type { FloatingIp, InstanceIp, LoadBalancer, ServiceHealthCheck, ServiceInstance, VirtualMachineInterface, VirtualNetwork } from '../model/objects.ts';
import type { ConfigServiceInstance } from '../xmpp/config-stanza.ts';

import type { NetworkPolicy } from '../model/network-policy.ts';

export interface ConfigView {
  networks: readonly VirtualNetwork[];
  interfaces: readonly VirtualMachineInterface[];
  instanceIps: readonly InstanceIp[];
  floatingIps: readonly FloatingIp[];
  loadBalancers: readonly LoadBalancer[];
  /** The native driver's service-health-checks (docs/protocol.md §8.2 step 5). */
  serviceHealthChecks: readonly ServiceHealthCheck[];
  /** Policies connecting networks: extra route-target imports of their routing instances (docs/protocol.md §6). */
  networkPolicies?: readonly NetworkPolicy[];
  /** The proxy driver's service instances (docs/protocol.md §8.4): each compute hears of its own haproxies. */
  serviceInstances?: readonly ServiceInstance[];
}

/** The haproxies of `compute`, as its agent runs them (docs/protocol.md §8.4). */
function serviceInstancesOn(compute: string, view: ConfigView): ConfigServiceInstance[] {
  const out: ConfigServiceInstance[] = [];
  for (const si of view.serviceInstances ?? []) {
    for (const placement of si.instances) {
      if (placement.compute !== compute) continue;
      out.push({
        name: si.name,
        role: placement.role,
        localPreference: placement.localPreference,
        vip: si.vip,
        vipNetwork: si.vipNetwork,
        vipInterface: placement.vipInterface,
        poolNetwork: si.poolNetwork,
        poolAddress: placement.poolAddress,
        ...(placement.poolInterface === undefined ? {} : { poolInterface: placement.poolInterface }),
        frontends: si.frontends.map((f) => ({
          listener: f.listener,
          protocol: f.protocol,
          port: f.port,
          pool: f.pool,
          method: f.method,
          servers: f.backends.map((b) => ({ member: b.member, address: b.address, port: b.port, weight: b.weight, adminState: b.adminState })),
          ...(f.monitor === undefined ? {} : { monitor: { ...f.monitor } }),
        })),
      });
    }
  }
  return out;
}

export interface GlobalVrouterConfig {
  hashFields: readonly HashField[];
  encapsulationPriorities: readonly string[];
}

function portProtocol(protocol: string): 'tcp' | 'udp' {
  return protocol.toLowerCase() === 'udp' ? 'udp' : 'tcp';
}

/**
 * A view's objects indexed by compute and by VMI, built once per view (the view is rebuilt only after a
 * change): without it every agent's push scanned every VMI and instance-ip, N² for N computes.
 */
interface ViewIndex {
  /** compute → its VMIs, in view order */
  interfacesOn: Map<string, VirtualMachineInterface[]>;
  /** VMI name → the instance-ips naming it, in view order */
  instanceIpsOf: Map<string, InstanceIp[]>;
  instanceIpAddress: Map<string, string>;
  maglevLbs: Set<string>;
}
const indexes = new WeakMap<ConfigView, ViewIndex>();

function indexOf(view: ConfigView): ViewIndex {
  let index = indexes.get(view);
  if (index !== undefined) return index;
  index = { interfacesOn: new Map(), instanceIpsOf: new Map(), instanceIpAddress: new Map(), maglevLbs: new Set() };
  for (const vmi of view.interfaces) {
    if (vmi.compute === undefined) continue;
    const list = index.interfacesOn.get(vmi.compute);
    if (list === undefined) index.interfacesOn.set(vmi.compute, [vmi]);
    else list.push(vmi);
  }
  for (const iip of view.instanceIps) {
    index.instanceIpAddress.set(iip.name, iip.address);
    for (const vmi of iip.virtualMachineInterfaces ?? [iip.virtualMachineInterface]) {
      const list = index.instanceIpsOf.get(vmi);
      if (list === undefined) index.instanceIpsOf.set(vmi, [iip]);
      // an instance-ip naming a VMI twice counts once per naming, as the scan over instance-ips did
      else list.push(iip);
    }
  }
  for (const lb of view.loadBalancers) if (lb.maglev) index.maglevLbs.add(lb.name);
  indexes.set(view, index);
  return index;
}

export function agentConfigFor(compute: string, view: ConfigView, globals: GlobalVrouterConfig, generation: number): AgentConfig {
  const index = indexOf(view);
  const local = index.interfacesOn.get(compute) ?? [];
  const localNames = new Set(local.map((vmi) => vmi.name));
  // the first instance-ip of a VMI is its address; the others (a shared active-active VIP among them)
  // and its active-active allowed-address-pairs are published with its label too (docs/protocol.md §7.2)
  const addressOf = new Map<string, string>();
  const sharedOf = new Map<string, string[]>();
  for (const vmi of localNames) {
    for (const iip of index.instanceIpsOf.get(vmi) ?? []) {
      if (!addressOf.has(vmi)) addressOf.set(vmi, iip.address);
      else sharedOf.set(vmi, [...(sharedOf.get(vmi) ?? []), `${iip.address}/32`]);
    }
  }
  for (const vmi of local) {
    for (const pair of vmi.allowedAddressPairs ?? []) {
      if (pair.mode === 'active-active') sharedOf.set(vmi.name, [...(sharedOf.get(vmi.name) ?? []), pair.prefix]);
    }
  }
  const { instanceIpAddress, maglevLbs } = index;
  const localNetworks = new Set(local.map((vmi) => vmi.virtualNetwork));
  const serviceInstances = serviceInstancesOn(compute, view);
  for (const si of serviceInstances) localNetworks.add(si.vipNetwork).add(si.poolNetwork);

  const floatingIps: ConfigFloatingIp[] = [];
  for (const fip of view.floatingIps) {
    const refs = fip.virtualMachineInterfaces.filter((name) => localNames.has(name));
    if (refs.length === 0 && !localNetworks.has(fip.virtualNetwork)) continue;
    if (refs.length > 0) localNetworks.add(fip.virtualNetwork);
    floatingIps.push({
      name: fip.name,
      address: fip.address,
      network: fip.virtualNetwork,
      direction: fip.direction,
      portMappingsEnable: fip.portMappingsEnable,
      portMappings: fip.portMappings.map((m) => ({ protocol: portProtocol(m.protocol), srcPort: m.srcPort, dstPort: m.dstPort })),
      interfaces: refs.sort(),
      maglev: fip.loadBalancer !== undefined && maglevLbs.has(fip.loadBalancer),
      // an LB's driver carries the FIP on to the members (their own address); otherwise the association's address
      ...(fip.fixedInstanceIp !== undefined && fip.loadBalancer === undefined && instanceIpAddress.has(fip.fixedInstanceIp)
        ? { fixedIp: instanceIpAddress.get(fip.fixedInstanceIp) }
        : {}),
    });
  }

  const sentInterfaces = local.filter((vmi) => addressOf.has(vmi.name));
  const sentNames = new Set(sentInterfaces.map((vmi) => vmi.name));
  const checksOf = new Map<string, string[]>();
  const healthChecks: ConfigHealthCheck[] = [];
  for (const check of view.serviceHealthChecks) {
    const refs = check.virtualMachineInterfaces.filter((name) => sentNames.has(name));
    if (refs.length === 0) continue;
    for (const vmi of refs) checksOf.set(vmi, [...(checksOf.get(vmi) ?? []), check.name]);
    healthChecks.push({
      name: check.name,
      type: check.healthCheckType,
      monitorType: check.monitorType,
      delay: check.delay,
      timeout: check.timeout,
      maxRetries: check.maxRetries,
      ...(check.urlPath === undefined ? {} : { urlPath: check.urlPath }),
    });
  }

  return {
    generation,
    hashFields: [...globals.hashFields],
    encapsulationPriorities: [...globals.encapsulationPriorities],
    networks: view.networks
      .filter((vn) => localNetworks.has(vn.name))
      .map((vn) => ({
        name: vn.name,
        routingInstance: vn.routingInstance,
        vnIndex: vn.vnIndex,
        routeTarget: vn.routeTarget,
        hashFields: vn.hashFields ? [...vn.hashFields] : undefined,
      })),
    interfaces: sentInterfaces.map((vmi) => ({
      name: vmi.name,
      network: vmi.virtualNetwork,
      address: addressOf.get(vmi.name)!,
      mac: vmi.mac,
      hashFields: vmi.hashFields ? [...vmi.hashFields] : undefined,
      ...(checksOf.has(vmi.name) ? { healthChecks: checksOf.get(vmi.name) } : {}),
      ...(sharedOf.has(vmi.name) ? { sharedAddresses: sharedOf.get(vmi.name) } : {}),
    })),
    floatingIps,
    healthChecks,
    ...(serviceInstances.length > 0 ? { serviceInstances } : {}),
  };
}
