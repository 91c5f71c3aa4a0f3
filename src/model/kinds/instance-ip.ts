/**
 * instance-ip: an address of a VMI, allocated from (or reserved in) its network's IPAM, and its mode.
 * The IPAM reservations are undone with the transaction. Does not own the IPAM itself
 * (virtual-network.ts) nor floating-ips made on top of an instance-ip (floating-ip.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config-error.ts';
import { FieldChecks } from '../field-checks.ts';
import type { Ipam } from '../ipam.ts';
import { INSTANCE_IP_MODES, type InstanceIp, type InstanceIpMode } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';
import { ipamOf } from './virtual-network.ts';

export interface InstanceIpSpec {
  name: string;
  virtualMachineInterface: string;
  /** default: the lowest free address of the VMI's network */
  address?: string;
  mode?: InstanceIpMode;
}

export const instanceIpRules: KindRules<'instance-ip'> = {
  kind: 'instance-ip',
  refsOf: (iip) => [
    { kind: 'virtual-network', name: iip.virtualNetwork },
    { kind: 'virtual-machine-interface', name: iip.virtualMachineInterface },
  ],
};

export function createInstanceIp(context: KindContext, spec: InstanceIpSpec): InstanceIp {
  const check = new FieldChecks('instance-ip', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('instance-ip', name);
  const vmiName = check.name(spec.virtualMachineInterface, 'virtualMachineInterface');
  const vmi = context.mustExist('instance-ip', name, 'virtualMachineInterface', 'virtual-machine-interface', vmiName);
  const mode = spec.mode === undefined ? 'active-standby' : check.oneOf(spec.mode, INSTANCE_IP_MODES, 'mode');
  const ipam = ipamOf(context, vmi.virtualNetwork) as Ipam;
  let address: string;
  if (spec.address === undefined) {
    address = ipam.nextFree() ?? check.fail('address', `no free address left in ${vmi.virtualNetwork} (${ipam.subnets.join(', ')})`);
  } else {
    address = check.address(spec.address, 'address');
    const problem = ipam.problemWith(address);
    if (problem) check.fail('address', problem);
  }
  ipam.reserve(address, `instance-ip ${name}`);
  context.onUndo(() => ipam.release(address));
  const iip: InstanceIp = { kind: 'instance-ip', uuid: randomUUID(), name, address, mode, virtualNetwork: vmi.virtualNetwork, virtualMachineInterface: vmiName };
  context.put(iip);
  return iip;
}

export function updateInstanceIp(context: KindContext, name: string, patch: { mode?: InstanceIpMode }): InstanceIp {
  const iip = context.existing('instance-ip', name);
  const check = new FieldChecks('instance-ip', name);
  const updated: InstanceIp = { ...iip, mode: patch.mode === undefined ? iip.mode : check.oneOf(patch.mode, INSTANCE_IP_MODES, 'mode') };
  context.put(updated);
  return updated;
}

export function deleteInstanceIp(context: KindContext, name: string): void {
  const iip = context.existing('instance-ip', name);
  const child = context.list('floating-ip').find((fip) => fip.userCreated && fip.parentInstanceIp === name);
  if (child) throw new ConfigError('instance-ip', name, `floating-ip ${child.name} is its child; delete it first`, undefined, 'conflict');
  context.refuseIfUsed('instance-ip', name);
  const ipam = ipamOf(context, iip.virtualNetwork);
  const owner = ipam?.ownerOf(iip.address);
  if (ipam && owner !== undefined) {
    ipam.release(iip.address);
    context.onUndo(() => ipam.reserve(iip.address, owner));
  }
  context.remove('instance-ip', name);
}
