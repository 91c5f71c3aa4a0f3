// The agent's plan: a pure function of one config snapshot (and of which local VMIs a health check has
// made L3-inactive) → the interfaces to program, the VRFs to subscribe, the local-ECMP composites and the
// routes to publish. Owns none of the state: labels are named by key (`vmi:<name>`, `fip:<name>`) and
// allocated by the agent in `labelKeys` order; programming the vRouter and talking to control nodes are
// the agent's (./agent.ts, ./route-export.ts).
import type { AgentConfig } from '../xmpp/config-stanza.ts';
import type { LoadBalanceField } from '../xmpp/route-entry.ts';
import type { LocalInterfaceSpec } from './vrouter.ts';
import { loadBalanceFieldsOf } from './load-balance-fields.ts';

/** One (VRF, prefix) as a Map key. */
export const routeKey = (instance: string, prefix: string): string => `${instance}\u0000${prefix}`;
export const splitRouteKey = (key: string): [string, string] => key.split('\u0000') as [string, string];

/** A local interface as the vRouter gets it, its label still named by key. */
export interface PlannedInterface extends Omit<LocalInterfaceSpec, 'label'> {
  labelKey: string;
}

/** A route this compute publishes (docs/protocol.md §7.2), its label named by key. */
export interface PlannedExport {
  instance: string;
  prefix: string;
  labelKey: string;
  virtualNetwork: string;
  loadBalanceFields: LoadBalanceField[];
  /** A haproxy's VIP: 200 active, 100 standby (docs/protocol.md §8.4); absent: the member default. */
  localPreference?: number;
}

/** docs/protocol.md §7.2: the local-ECMP composite of the VMIs on this compute that share one floating-ip. */
export interface PlannedComposite {
  instance: string;
  prefix: string;
  /** Local VMI names, sorted. */
  interfaces: string[];
}

export interface AgentPlan {
  /** Every label key the plan uses, in order of first use: allocating in this order gives stable labels. */
  labelKeys: string[];
  interfaces: PlannedInterface[];
  /** Interfaces left out because they name a network the config does not have. */
  skipped: { interface: string; network: string }[];
  /** Every interface name of the config (skipped ones included): the vRouter keeps these. */
  liveInterfaces: Set<string>;
  /** instance → VN fq-name, for every VRF this compute needs. */
  instances: Map<string, string>;
  /** routeKey → the route to publish. */
  exports: Map<string, PlannedExport>;
  /**
   * `fip:<name>` (also its label key) → the composite of a floating-ip with several local L3-active VMIs;
   * `shared:<instance>:<prefix>` → the same for a shared address several local VMIs hold.
   */
  composites: Map<string, PlannedComposite>;
  /** `fip:<name>` → the floating-ip's local L3-active VMIs, sorted (one or more). */
  localMembers: Map<string, string[]>;
  /** Prefixes (VIP/32) whose new flows are placed by Maglev. */
  maglevPrefixes: Set<string>;
  /** The haproxies on this compute (docs/protocol.md §8.4), their interfaces among `interfaces`. */
  serviceInstances: NonNullable<AgentConfig['serviceInstances']>;
}

/** A stable, locally administered MAC for a haproxy's interface, derived from its name. */
function proxyMac(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return ['02', 'aa', ...[24, 16, 8, 0].map((s) => ((h >>> s) & 255).toString(16).padStart(2, '0'))].join(':');
}

/**
 * docs/protocol.md §8.4: each haproxy gets an interface in the VIP network at the VIP, published with its
 * role's local preference, and one in the pool network (its own address) when the pool lives elsewhere.
 */
function planServiceInstances(plan: AgentPlan, config: AgentConfig, networks: Map<string, PlanNetwork>, labelKeys: Set<string>): void {
  for (const si of config.serviceInstances ?? []) {
    const sides = [{ name: si.vipInterface, network: si.vipNetwork, address: si.vip, localPreference: si.localPreference }];
    if (si.poolInterface !== undefined) sides.push({ name: si.poolInterface, network: si.poolNetwork, address: si.poolAddress, localPreference: si.localPreference });
    const planned = sides.filter((side) => networks.has(side.network));
    if (planned.length !== sides.length) {
      for (const side of sides.filter((s) => !networks.has(s.network))) plan.skipped.push({ interface: side.name, network: side.network });
      continue;
    }
    for (const side of planned) {
      const network = networks.get(side.network)!;
      const labelKey = `vmi:${side.name}`;
      labelKeys.add(labelKey);
      plan.liveInterfaces.add(side.name);
      plan.instances.set(network.routingInstance, network.name);
      const vmi: PlanInterface = { name: side.name, network: network.name, address: side.address, mac: proxyMac(side.name) };
      addExport(plan, network, vmi, `${side.address}/32`, labelKey);
      plan.exports.get(routeKey(network.routingInstance, `${side.address}/32`))!.localPreference = side.localPreference;
      plan.interfaces.push({
        name: side.name, vrf: network.routingInstance, ip: side.address, mac: vmi.mac, labelKey, virtualNetwork: network.name,
        hashFields: network.hashFields, floatingIps: [],
      });
    }
    plan.serviceInstances.push(si);
  }
}

/** The plan for `config`; the routes of VMIs in `l3Inactive` are left out (docs/protocol.md §7.2 last paragraph). */
type PlanNetwork = AgentConfig['networks'][number];
type PlanInterface = AgentConfig['interfaces'][number];

/** Publish `prefix` in the network's VRF with the label named `labelKey`; the VMI's hash fields win over the VN's. */
function addExport(plan: AgentPlan, network: PlanNetwork, vmi: PlanInterface, prefix: string, labelKey: string): void {
  plan.exports.set(routeKey(network.routingInstance, prefix), {
    instance: network.routingInstance,
    prefix,
    labelKey,
    virtualNetwork: network.name,
    loadBalanceFields: loadBalanceFieldsOf(vmi.hashFields ?? network.hashFields),
  });
}

export function planAgent(config: AgentConfig, l3Inactive: ReadonlySet<string> = new Set()): AgentPlan {
  const networks = new Map(config.networks.map((n) => [n.name, n]));
  const labelKeys = new Set<string>();
  const plan: AgentPlan = {
    labelKeys: [],
    interfaces: [],
    skipped: [],
    liveInterfaces: new Set(config.interfaces.map((i) => i.name)),
    instances: new Map(),
    exports: new Map(),
    composites: new Map(),
    localMembers: new Map(),
    maglevPrefixes: new Set(config.floatingIps.filter((f) => f.maglev).map((f) => `${f.address}/32`)),
    serviceInstances: [],
  };

  const sharedHolders = new Map<string, { network: PlanNetwork; prefix: string; vmis: PlanInterface[] }>();
  for (const vmi of config.interfaces) {
    const network = networks.get(vmi.network);
    if (!network) {
      plan.skipped.push({ interface: vmi.name, network: vmi.network });
      continue;
    }
    const labelKey = `vmi:${vmi.name}`;
    labelKeys.add(labelKey);
    plan.instances.set(network.routingInstance, network.name);
    const prefix = `${vmi.address}/32`;
    if (!l3Inactive.has(vmi.name)) {
      addExport(plan, network, vmi, prefix, labelKey);
      for (const shared of vmi.sharedAddresses ?? []) {
        const key = routeKey(network.routingInstance, shared);
        const holders = sharedHolders.get(key) ?? { network, prefix: shared, vmis: [] };
        holders.vmis.push(vmi);
        sharedHolders.set(key, holders);
      }
    }
    const floatingIps = config.floatingIps
      .filter((f) => f.interfaces.includes(vmi.name) && networks.has(f.network))
      .map((f) => ({
        address: f.address,
        vrf: networks.get(f.network)!.routingInstance,
        virtualNetwork: f.network,
        portMappingsEnable: f.portMappingsEnable,
        portMappings: f.portMappings.map((m) => ({ protocol: m.protocol, srcPort: m.srcPort, dstPort: m.dstPort })),
        direction: f.direction,
        ...(f.fixedIp === undefined ? {} : { fixedIp: f.fixedIp }),
      }));
    plan.interfaces.push({
      name: vmi.name,
      vrf: network.routingInstance,
      ip: vmi.address,
      mac: vmi.mac,
      labelKey,
      virtualNetwork: network.name,
      hashFields: vmi.hashFields ?? network.hashFields,
      floatingIps,
      ...(vmi.sharedAddresses === undefined ? {} : { sharedAddresses: [...vmi.sharedAddresses] }),
    });
  }

  // docs/protocol.md §7.2: a shared (active-active) address goes out with its VMI's own label, so every
  // compute holding it adds one path (own RD, own label) and the ECMP is built remotely; several local
  // VMIs holding it share a local composite, as a floating-ip's do
  for (const [key, { network, prefix, vmis }] of sharedHolders) {
    if (vmis.length === 1) {
      addExport(plan, network, vmis[0], prefix, `vmi:${vmis[0].name}`);
      continue;
    }
    const compositeKey = `shared:${key.replace('\u0000', ':')}`;
    const names = vmis.map((v) => v.name).sort();
    plan.localMembers.set(compositeKey, names);
    plan.composites.set(compositeKey, { instance: network.routingInstance, prefix, interfaces: names });
    labelKeys.add(compositeKey);
    addExport(plan, network, vmis.find((v) => v.name === names[0])!, prefix, compositeKey);
  }

  // docs/protocol.md §7.2: the VIP/32 is published once per compute, in the FIP's network: with the member's
  // label when one local VMI has the floating-ip, with the label of a local composite of them when several do.
  for (const fip of config.floatingIps) {
    const local = fip.interfaces.filter((name) => plan.liveInterfaces.has(name) && !l3Inactive.has(name)).sort();
    const network = networks.get(fip.network);
    if (local.length === 0 || !network) continue;
    const vmi = config.interfaces.find((i) => i.name === local[0])!;
    plan.instances.set(network.routingInstance, network.name);
    const prefix = `${fip.address}/32`;
    const compositeKey = `fip:${fip.name}`;
    plan.localMembers.set(compositeKey, local);
    let labelKey: string;
    if (local.length > 1) {
      labelKey = compositeKey;
      plan.composites.set(compositeKey, { instance: network.routingInstance, prefix, interfaces: local });
    } else {
      labelKey = `vmi:${vmi.name}`;
    }
    labelKeys.add(labelKey);
    addExport(plan, network, vmi, prefix, labelKey);
  }
  planServiceInstances(plan, config, networks, labelKeys);
  plan.labelKeys = [...labelKeys];
  return plan;
}
