/**
 * virtual-machine-interface: network membership, compute binding, MAC (derived from the name unless
 * given; unique per network), per-interface hash fields. Does not own its addresses (instance-ip.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { HASH_FIELDS, type HashField, type VirtualMachineInterface } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';
import { VIP_OWNER } from './vip-interface.ts';

export interface VirtualMachineInterfaceSpec {
  name: string;
  virtualNetwork: string;
  compute?: string;
  /** default: derived from the name, locally administered (02:…) */
  mac?: string;
  hashFields?: HashField[];
}

export const virtualMachineInterfaceRules: KindRules<'virtual-machine-interface'> = {
  kind: 'virtual-machine-interface',
  refsOf: (vmi) => [{ kind: 'virtual-network', name: vmi.virtualNetwork }],
};

function macFromName(name: string): string {
  const bytes = createHash('sha1').update(name).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

export function createVirtualMachineInterface(context: KindContext, spec: VirtualMachineInterfaceSpec): VirtualMachineInterface {
  const check = new FieldChecks('virtual-machine-interface', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('virtual-machine-interface', name);
  const network = check.name(spec.virtualNetwork, 'virtualNetwork');
  context.mustExist('virtual-machine-interface', name, 'virtualNetwork', 'virtual-network', network);
  const compute = spec.compute === undefined ? undefined : check.name(spec.compute, 'compute');
  const mac = spec.mac === undefined ? macFromName(name) : check.mac(spec.mac, 'mac');
  const clash = context.list('virtual-machine-interface').find((vmi) => vmi.virtualNetwork === network && vmi.mac === mac);
  if (clash) check.fail('mac', `${mac} is already used by ${clash.name} in ${network}`);
  const hashFields = spec.hashFields === undefined ? undefined : check.listOf(spec.hashFields, HASH_FIELDS, 'hashFields');
  const vmi: VirtualMachineInterface = {
    kind: 'virtual-machine-interface',
    uuid: randomUUID(),
    name,
    mac,
    virtualNetwork: network,
    ...(compute ? { compute } : {}),
    ...(hashFields ? { hashFields } : {}),
  };
  context.put(vmi);
  return vmi;
}

/** `compute: null` unbinds the VMI (e.g. while its VM migrates). */
export function updateVirtualMachineInterface(
  context: KindContext,
  name: string,
  patch: { compute?: string | null; hashFields?: HashField[] | null },
): VirtualMachineInterface {
  const vmi = context.existing('virtual-machine-interface', name);
  const check = new FieldChecks('virtual-machine-interface', name);
  const { compute: _c, hashFields: _h, ...rest } = vmi;
  const compute = patch.compute === undefined ? vmi.compute : patch.compute === null ? undefined : check.name(patch.compute, 'compute');
  const owner = context.side(VIP_OWNER).get(name);
  if (compute !== undefined && owner !== undefined) check.fail('compute', `is the VIP interface of ${owner} and is bound to no compute`);
  const hashFields = patch.hashFields === undefined ? vmi.hashFields : patch.hashFields === null ? undefined : check.listOf(patch.hashFields, HASH_FIELDS, 'hashFields');
  const updated: VirtualMachineInterface = { ...rest, ...(compute ? { compute } : {}), ...(hashFields ? { hashFields } : {}) };
  context.put(updated);
  return updated;
}

export function deleteVirtualMachineInterface(context: KindContext, name: string): void {
  context.removeUnused('virtual-machine-interface', name);
}
