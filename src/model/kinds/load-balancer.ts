/**
 * loadbalancer: provider check, VIP network, and the VIP interface: either an existing VMI with an
 * instance-ip, or one the store makes (`<name>-vip`, VMI + instance-ip from the network's IPAM) and
 * removes with the load balancer unless a user floating-ip still holds it. Cascading delete goes down
 * through listener.ts. Does not own what the provider does with it (the reconcile hook, e.g. the
 * native driver of docs/protocol.md §8.2).
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { SUPPORTED_PROVIDERS, type LoadBalancer } from '../objects.ts';
import { createInstanceIp, deleteInstanceIp } from './instance-ip.ts';
import type { DeleteOptions, KindContext, KindRules } from './kind-context.ts';
import { deleteListener } from './listener.ts';
import { VIP_OWNER } from './vip-interface.ts';
import { createVirtualMachineInterface, deleteVirtualMachineInterface } from './virtual-machine-interface.ts';

export interface LoadBalancerSpec {
  name: string;
  provider?: string;
  virtualNetwork: string;
  /** default: allocated by the network's IPAM (ignored when an existing VIP VMI is given) */
  vipAddress?: string;
  /** An existing VIP VMI; default: the store creates `<name>-vip` with an instance-ip for the VIP. */
  virtualMachineInterface?: string;
  adminState?: boolean;
  maglev?: boolean;
}

export const loadBalancerRules: KindRules<'loadbalancer'> = {
  kind: 'loadbalancer',
  refsOf: (lb) => [
    { kind: 'virtual-network', name: lb.virtualNetwork },
    { kind: 'virtual-machine-interface', name: lb.virtualMachineInterface },
  ],
};

export function createLoadBalancer(context: KindContext, spec: LoadBalancerSpec): LoadBalancer {
  const check = new FieldChecks('loadbalancer', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('loadbalancer', name);
  const provider = spec.provider ?? 'native';
  if (!(SUPPORTED_PROVIDERS as readonly unknown[]).includes(provider)) {
    check.fail('provider', `${JSON.stringify(provider)} is not supported: use "native" (ECMP, docs/protocol.md §8.2) or "opencontrail" (haproxy service instance, docs/protocol.md §8.4)`);
  }
  const network = check.name(spec.virtualNetwork, 'virtualNetwork');
  context.mustExist('loadbalancer', name, 'virtualNetwork', 'virtual-network', network);
  const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
  const maglev = spec.maglev === undefined ? false : check.boolean(spec.maglev, 'maglev');
  let vmiName: string;
  let vipAddress: string;
  if (spec.virtualMachineInterface !== undefined) {
    vmiName = check.name(spec.virtualMachineInterface, 'virtualMachineInterface');
    const vmi = context.mustExist('loadbalancer', name, 'virtualMachineInterface', 'virtual-machine-interface', vmiName);
    if (vmi.virtualNetwork !== network) check.fail('virtualMachineInterface', `${vmiName} is in ${vmi.virtualNetwork}, not in ${network}`);
    const other = context.list('loadbalancer').find((lb) => lb.virtualMachineInterface === vmiName);
    if (other) check.fail('virtualMachineInterface', `${vmiName} is already the VIP interface of loadbalancer ${other.name}`);
    const iip = context.instanceIpsOf(vmiName)[0] ?? check.fail('virtualMachineInterface', `${vmiName} has no instance-ip to serve as the VIP`);
    if (spec.vipAddress !== undefined && spec.vipAddress !== iip.address) {
      check.fail('vipAddress', `${String(spec.vipAddress)} differs from ${iip.address}, the address of ${vmiName}`);
    }
    vipAddress = iip.address;
  } else {
    vmiName = `${name}-vip`;
    if (context.get('virtual-machine-interface', vmiName)) check.fail('name', `the VIP interface name ${vmiName} is already taken by another virtual-machine-interface`);
    if (context.get('instance-ip', vmiName)) check.fail('name', `the VIP instance-ip name ${vmiName} is already taken`);
    if (spec.vipAddress !== undefined) check.address(spec.vipAddress, 'vipAddress');
    context.attributed('loadbalancer', name, 'vipAddress', () => {
      createVirtualMachineInterface(context, { name: vmiName, virtualNetwork: network });
      createInstanceIp(context, { name: vmiName, virtualMachineInterface: vmiName, ...(spec.vipAddress === undefined ? {} : { address: spec.vipAddress }) });
    });
    context.side(VIP_OWNER).set(vmiName, name);
    vipAddress = context.instanceIpsOf(vmiName)[0].address;
  }
  const lb: LoadBalancer = { kind: 'loadbalancer', uuid: randomUUID(), name, provider: provider as LoadBalancer['provider'], vipAddress, virtualNetwork: network, virtualMachineInterface: vmiName, adminState, maglev };
  context.put(lb);
  return lb;
}

/** adminState false suspends the LB: the driver drops its FIPs until it is enabled again (docs/protocol.md §8.2 step 4). */
export function updateLoadBalancer(context: KindContext, name: string, patch: { adminState?: boolean; maglev?: boolean }): LoadBalancer {
  const lb = context.existing('loadbalancer', name);
  const check = new FieldChecks('loadbalancer', name);
  const updated: LoadBalancer = {
    ...lb,
    adminState: patch.adminState === undefined ? lb.adminState : check.boolean(patch.adminState, 'adminState'),
    maglev: patch.maglev === undefined ? lb.maglev : check.boolean(patch.maglev, 'maglev'),
  };
  context.put(updated);
  return updated;
}

export function deleteLoadBalancer(context: KindContext, name: string, options: DeleteOptions = {}): void {
  const lb = context.existing('loadbalancer', name);
  if (options.cascade) {
    for (const listener of context.list('loadbalancer-listener').filter((candidate) => candidate.loadBalancer === name)) {
      deleteListener(context, listener.name, options);
    }
  }
  context.refuseIfUsed('loadbalancer', name);
  context.remove('loadbalancer', name);
  const vmiName = lb.virtualMachineInterface;
  const owners = context.side(VIP_OWNER);
  if (owners.get(vmiName) === name) {
    owners.delete(vmiName);
    // user FIPs attached to the VIP interface keep it (and its instance-ip) alive
    const attached = context.usersOf('virtual-machine-interface', vmiName).some((user) => user.kind === 'floating-ip');
    if (!attached) {
      for (const iip of context.instanceIpsOf(vmiName)) deleteInstanceIp(context, iip.name);
      deleteVirtualMachineInterface(context, vmiName);
    }
  }
}
