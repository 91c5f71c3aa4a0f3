/**
 * floating-ip made by users: a child of an instance-ip (same address and network), or allocated from a
 * floating-ip-pool (an address of the pool's public network, optionally associated with an instance-ip
 * whose VMIs it then follows: model/floating-ip-association.ts); direction, port mappings, and the VMIs
 * the user attached. Those user refs live in a side table because the object's
 * `virtualMachineInterfaces` also carries the member VMIs a driver adds (docs/protocol.md §8.2), and
 * only the user's refs block deletes. The driver-made floating-ips are written by the reconcile step
 * (model/reconcile-hook.ts), never here; this module refuses to edit them.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config-error.ts';
import { FieldChecks } from '../field-checks.ts';
import { TRAFFIC_DIRECTIONS, type FloatingIp, type PortMapping, type TrafficDirection } from '../objects.ts';
import type { HeldRef } from '../store/reference-graph.ts';
import { sideTable } from '../store/transaction.ts';
import type { Ipam } from '../ipam.ts';
import type { KindContext, KindRules } from './kind-context.ts';
import { ipamOf } from './virtual-network.ts';

export interface FloatingIpSpec {
  name: string;
  /** parent instance-ip; the FIP takes its address and network. Or give `pool`. */
  instanceIp?: string;
  /** floating-ip-pool to allocate from: the FIP gets an address of the pool's network */
  pool?: string;
  /** with `pool`: the address to take (default: the lowest free one) */
  address?: string;
  /** with `pool`: associate with this instance-ip (a native LB's VIP, or a shared active-active address) */
  fixedInstanceIp?: string;
  direction?: TrafficDirection;
  portMappingsEnable?: boolean;
  portMappings?: PortMapping[];
  virtualMachineInterfaces?: string[];
}

/** What users attached to their own FIPs, by FIP name; the driver adds member VMIs on top. */
export const USER_FIP_REFS = sideTable<string, readonly string[]>('VMIs users attached to their floating-ips');

export const floatingIpRules: KindRules<'floating-ip'> = {
  kind: 'floating-ip',
  // driver-made FIPs and the member refs the driver adds are derived: they follow, never block;
  // a user FIP's own refs are held refs (below)
  refsOf: (fip) => [
    ...(fip.pool === undefined ? [] : [{ kind: 'floating-ip-pool' as const, name: fip.pool }]),
    ...(fip.fixedInstanceIp === undefined ? [] : [{ kind: 'instance-ip' as const, name: fip.fixedInstanceIp }]),
  ],
  *heldRefs(context: KindContext): Iterable<HeldRef<'virtual-machine-interface' | 'instance-ip' | 'floating-ip'>> {
    for (const [fip, refs] of context.side(USER_FIP_REFS).entries()) {
      const user = { kind: 'floating-ip' as const, name: fip };
      for (const vmi of refs) yield { user, target: { kind: 'virtual-machine-interface', name: vmi } };
      const parent = context.get('floating-ip', fip)?.parentInstanceIp;
      // a pool FIP has no parent: its pool and association are refs of the object itself
      if (parent !== undefined) yield { user, target: { kind: 'instance-ip', name: parent } };
    }
  },
};

function floatingIpFields(context: KindContext, check: FieldChecks, spec: Pick<Partial<FloatingIpSpec>, 'direction' | 'portMappingsEnable' | 'portMappings' | 'virtualMachineInterfaces'>, current: FloatingIp | undefined) {
  const direction = spec.direction === undefined ? (current?.direction ?? 'both') : check.oneOf(spec.direction, TRAFFIC_DIRECTIONS, 'direction');
  const portMappingsEnable = spec.portMappingsEnable === undefined ? (current?.portMappingsEnable ?? false) : check.boolean(spec.portMappingsEnable, 'portMappingsEnable');
  let portMappings: PortMapping[] = current ? [...current.portMappings] : [];
  if (spec.portMappings !== undefined) {
    if (!Array.isArray(spec.portMappings)) check.fail('portMappings', 'must be a list of {protocol, srcPort, dstPort}');
    portMappings = spec.portMappings.map((mapping, index) => {
      const field = `portMappings[${index}]`;
      if (typeof mapping !== 'object' || mapping === null) check.fail(field, 'must be {protocol, srcPort, dstPort}');
      const protocol = typeof mapping.protocol === 'string' ? mapping.protocol.toUpperCase() : mapping.protocol;
      return {
        protocol: check.oneOf(protocol, ['TCP', 'UDP', 'SCTP', 'ICMP', 'ICMP6'], `${field}.protocol`),
        srcPort: check.port(mapping.srcPort, `${field}.srcPort`),
        dstPort: check.port(mapping.dstPort, `${field}.dstPort`),
      };
    });
    const seen = new Set<string>();
    portMappings.forEach((mapping, index) => {
      const key = `${mapping.protocol}/${mapping.srcPort}`;
      if (seen.has(key)) check.fail(`portMappings[${index}]`, `${mapping.protocol} port ${mapping.srcPort} is mapped twice`);
      seen.add(key);
    });
  }
  let refs = current ? [...(context.side(USER_FIP_REFS).get(current.name) ?? [])] : [];
  if (spec.virtualMachineInterfaces !== undefined) {
    refs = check.names(spec.virtualMachineInterfaces, 'virtualMachineInterfaces');
    refs.forEach((vmi, index) => {
      if (!context.get('virtual-machine-interface', vmi)) check.fail(`virtualMachineInterfaces[${index}]`, `virtual-machine-interface ${vmi} does not exist`);
    });
  }
  return { direction, portMappingsEnable, portMappings, refs };
}

function checkedAssociation(context: KindContext, check: FieldChecks, name: string, value: unknown): string {
  const iipName = check.name(value, 'fixedInstanceIp');
  context.mustExist('floating-ip', name, 'fixedInstanceIp', 'instance-ip', iipName);
  return iipName;
}

function createPoolFloatingIp(context: KindContext, check: FieldChecks, name: string, spec: FloatingIpSpec): FloatingIp {
  if (spec.instanceIp !== undefined) check.fail('pool', 'give instanceIp or pool, not both');
  const poolName = check.name(spec.pool, 'pool');
  const pool = context.mustExist('floating-ip', name, 'pool', 'floating-ip-pool', poolName);
  const ipam = ipamOf(context, pool.virtualNetwork) as Ipam;
  let address: string;
  if (spec.address === undefined) {
    address = ipam.nextFree() ?? check.fail('address', `no free address left in pool ${poolName} (${ipam.subnets.join(', ')})`);
  } else {
    address = check.address(spec.address, 'address');
    const problem = ipam.problemWith(address);
    if (problem) check.fail('address', problem);
  }
  const fixedInstanceIp = spec.fixedInstanceIp === undefined ? undefined : checkedAssociation(context, check, name, spec.fixedInstanceIp);
  const fields = floatingIpFields(context, check, spec, undefined);
  ipam.reserve(address, `floating-ip ${name}`);
  context.onUndo(() => ipam.release(address));
  const origin = { address, virtualNetwork: pool.virtualNetwork, pool: poolName, ...(fixedInstanceIp === undefined ? {} : { fixedInstanceIp }) };
  return putUserFloatingIp(context, name, origin, fields);
}

export function createFloatingIp(context: KindContext, spec: FloatingIpSpec): FloatingIp {
  const check = new FieldChecks('floating-ip', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('floating-ip', name);
  if (spec.pool !== undefined) return createPoolFloatingIp(context, check, name, spec);
  if (spec.address !== undefined || spec.fixedInstanceIp !== undefined) check.fail(spec.address !== undefined ? 'address' : 'fixedInstanceIp', 'needs pool (a FIP made on an instance-ip takes its address)');
  const parentName = check.name(spec.instanceIp, 'instanceIp');
  const parent = context.mustExist('floating-ip', name, 'instanceIp', 'instance-ip', parentName);
  const fields = floatingIpFields(context, check, spec, undefined);
  return putUserFloatingIp(context, name, { address: parent.address, virtualNetwork: parent.virtualNetwork, parentInstanceIp: parentName }, fields);
}

/** Stores a FIP the user made (on an instance-ip or from a pool) with its checked fields and attachments. */
function putUserFloatingIp(
  context: KindContext,
  name: string,
  origin: Pick<FloatingIp, 'address' | 'virtualNetwork' | 'parentInstanceIp' | 'pool' | 'fixedInstanceIp'>,
  fields: ReturnType<typeof floatingIpFields>,
): FloatingIp {
  const fip: FloatingIp = {
    kind: 'floating-ip',
    uuid: randomUUID(),
    name,
    ...origin,
    direction: fields.direction,
    portMappingsEnable: fields.portMappingsEnable,
    portMappings: fields.portMappings,
    virtualMachineInterfaces: fields.refs,
    userCreated: true,
  };
  context.side(USER_FIP_REFS).set(name, fields.refs);
  context.put(fip);
  return fip;
}

export interface FloatingIpPatch extends Partial<Omit<FloatingIpSpec, 'name' | 'instanceIp' | 'pool' | 'address' | 'fixedInstanceIp'>> {
  /** pool FIPs: associate with an instance-ip, or `null` to dissociate */
  fixedInstanceIp?: string | null;
}

export function updateFloatingIp(context: KindContext, name: string, patch: FloatingIpPatch): FloatingIp {
  const fip = context.existing('floating-ip', name);
  const check = new FieldChecks('floating-ip', name);
  if (!fip.userCreated) check.fail(undefined, `is managed by the native driver of loadbalancer ${fip.loadBalancer}; change the load balancer instead`);
  if (patch.fixedInstanceIp !== undefined && fip.pool === undefined) check.fail('fixedInstanceIp', 'only a floating-ip allocated from a pool can be associated');
  const fields = floatingIpFields(context, check, patch, fip);
  const { fixedInstanceIp: current, ...rest } = fip;
  const fixedInstanceIp = patch.fixedInstanceIp === undefined ? current : patch.fixedInstanceIp === null ? undefined : checkedAssociation(context, check, name, patch.fixedInstanceIp);
  context.side(USER_FIP_REFS).set(name, fields.refs);
  context.put({
    ...rest,
    ...(fixedInstanceIp === undefined ? {} : { fixedInstanceIp }),
    direction: fields.direction,
    portMappingsEnable: fields.portMappingsEnable,
    portMappings: fields.portMappings,
    virtualMachineInterfaces: fields.refs,
  });
  return context.get('floating-ip', name) as FloatingIp;
}

export function deleteFloatingIp(context: KindContext, name: string): void {
  const fip = context.existing('floating-ip', name);
  if (!fip.userCreated) throw new ConfigError('floating-ip', name, `is managed by the native driver of loadbalancer ${fip.loadBalancer}; delete the load balancer instead`, undefined, 'conflict');
  context.side(USER_FIP_REFS).delete(name);
  context.remove('floating-ip', name);
  const ipam = fip.pool === undefined ? undefined : ipamOf(context, fip.virtualNetwork);
  const owner = ipam?.ownerOf(fip.address);
  if (ipam && owner !== undefined) {
    ipam.release(fip.address);
    context.onUndo(() => ipam.reserve(fip.address, owner));
  }
}
