/**
 * instance-ip: an address of one VMI, or in mode active-active of several (a shared VIP, as Avi's
 * scale-out places it on each service engine's port), allocated from (or reserved in) their network's
 * IPAM, and its mode. The IPAM reservations are undone with the transaction. Does not own the IPAM itself
 * (virtual-network.ts) nor floating-ips made on top of an instance-ip (floating-ip.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config-error.ts';
import { FieldChecks } from '../field-checks.ts';
import type { Ipam } from '../ipam.ts';
import { INSTANCE_IP_MODES, type InstanceIp, type InstanceIpMode } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';
import { ipamOf } from './virtual-network.ts';
import { VIP_OWNER } from './vip-interface.ts';

export interface InstanceIpSpec {
  name: string;
  /** the VMI holding the address; or give `virtualMachineInterfaces` */
  virtualMachineInterface?: string;
  /** several VMIs sharing the address (needs mode active-active) */
  virtualMachineInterfaces?: string[];
  /** default: the lowest free address of the VMI's network */
  address?: string;
  mode?: InstanceIpMode;
}

export const instanceIpRules: KindRules<'instance-ip'> = {
  kind: 'instance-ip',
  refsOf: (iip) => [
    { kind: 'virtual-network', name: iip.virtualNetwork },
    ...instanceIpInterfaces(iip).map((name) => ({ kind: 'virtual-machine-interface' as const, name })),
  ],
};

/** Every VMI holding the address (one, or several for a shared active-active address). */
export function instanceIpInterfaces(iip: InstanceIp): readonly string[] {
  return iip.virtualMachineInterfaces ?? [iip.virtualMachineInterface];
}

/** The VMIs of a spec or patch, checked: they exist, share one network, and more than one needs active-active. */
function checkedInterfaces(context: KindContext, check: FieldChecks, name: string, names: string[], mode: InstanceIpMode, network?: string): { vmis: string[]; network: string } {
  if (names.length === 0) check.fail('virtualMachineInterfaces', 'needs at least one virtual-machine-interface');
  if (new Set(names).size !== names.length) check.fail('virtualMachineInterfaces', 'names a virtual-machine-interface twice');
  if (names.length > 1 && mode !== 'active-active') check.fail('mode', `is ${mode}: an address on several interfaces needs mode active-active`);
  let vn = network;
  names.forEach((vmiName, index) => {
    const field = names.length === 1 ? 'virtualMachineInterface' : `virtualMachineInterfaces[${index}]`;
    const vmi = context.mustExist('instance-ip', name, field, 'virtual-machine-interface', vmiName);
    const owner = context.side(VIP_OWNER).get(vmiName);
    if (owner !== undefined && names.length > 1) check.fail(field, `${vmiName} is the VIP interface of loadbalancer ${owner}; a VIP is shared through the load balancer's members, not its interface`);
    vn ??= vmi.virtualNetwork;
    if (vmi.virtualNetwork !== vn) check.fail(field, `${vmiName} is in ${vmi.virtualNetwork}, not in ${vn} where the address is`);
  });
  return { vmis: names, network: vn as string };
}

function withInterfaces(iip: Omit<InstanceIp, 'virtualMachineInterface' | 'virtualMachineInterfaces'>, vmis: readonly string[]): InstanceIp {
  return { ...iip, virtualMachineInterface: vmis[0], ...(vmis.length > 1 ? { virtualMachineInterfaces: [...vmis] } : {}) };
}

export function createInstanceIp(context: KindContext, spec: InstanceIpSpec): InstanceIp {
  const check = new FieldChecks('instance-ip', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('instance-ip', name);
  const mode = spec.mode === undefined ? 'active-standby' : check.oneOf(spec.mode, INSTANCE_IP_MODES, 'mode');
  const names =
    spec.virtualMachineInterfaces !== undefined
      ? check.names(spec.virtualMachineInterfaces, 'virtualMachineInterfaces')
      : [check.name(spec.virtualMachineInterface, 'virtualMachineInterface')];
  if (spec.virtualMachineInterfaces !== undefined && spec.virtualMachineInterface !== undefined) {
    check.fail('virtualMachineInterface', 'give virtualMachineInterface or virtualMachineInterfaces, not both');
  }
  const { vmis, network } = checkedInterfaces(context, check, name, names, mode);
  const ipam = ipamOf(context, network) as Ipam;
  let address: string;
  if (spec.address === undefined) {
    address = ipam.nextFree() ?? check.fail('address', `no free address left in ${network} (${ipam.subnets.join(', ')})`);
  } else {
    address = check.address(spec.address, 'address');
    const problem = ipam.problemWith(address);
    if (problem) check.fail('address', problem);
  }
  ipam.reserve(address, `instance-ip ${name}`);
  context.onUndo(() => ipam.release(address));
  const iip = withInterfaces({ kind: 'instance-ip', uuid: randomUUID(), name, address, mode, virtualNetwork: network }, vmis);
  context.put(iip);
  return iip;
}

export interface InstanceIpPatch {
  mode?: InstanceIpMode;
  /** the new set of VMIs sharing the address: scale-out adds one, scale-in removes one */
  virtualMachineInterfaces?: string[];
}

export function updateInstanceIp(context: KindContext, name: string, patch: InstanceIpPatch): InstanceIp {
  const iip = context.existing('instance-ip', name);
  const check = new FieldChecks('instance-ip', name);
  const mode = patch.mode === undefined ? iip.mode : check.oneOf(patch.mode, INSTANCE_IP_MODES, 'mode');
  const names = patch.virtualMachineInterfaces === undefined ? [...instanceIpInterfaces(iip)] : check.names(patch.virtualMachineInterfaces, 'virtualMachineInterfaces');
  const { vmis } = checkedInterfaces(context, check, name, names, mode, iip.virtualNetwork);
  const { virtualMachineInterface: _first, virtualMachineInterfaces: _all, ...rest } = iip;
  const updated = withInterfaces({ ...rest, mode }, vmis);
  context.put(updated);
  return updated;
}

export function deleteInstanceIp(context: KindContext, name: string): void {
  const iip = context.existing('instance-ip', name);
  const child = context.list('floating-ip').find((fip) => fip.userCreated && fip.parentInstanceIp === name);
  if (child) throw new ConfigError('instance-ip', name, `floating-ip ${child.name} is its child; delete it first`, undefined, 'conflict');
  const associated = context.list('floating-ip').find((fip) => fip.fixedInstanceIp === name);
  if (associated) throw new ConfigError('instance-ip', name, `floating-ip ${associated.name} is associated with it; dissociate it first`, undefined, 'conflict');
  context.refuseIfUsed('instance-ip', name);
  const ipam = ipamOf(context, iip.virtualNetwork);
  const owner = ipam?.ownerOf(iip.address);
  if (ipam && owner !== undefined) {
    ipam.release(iip.address);
    context.onUndo(() => ipam.reserve(iip.address, owner));
  }
  context.remove('instance-ip', name);
}
