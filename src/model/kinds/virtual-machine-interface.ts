/**
 * virtual-machine-interface: network membership, compute binding, MAC (derived from the name unless
 * given; unique per network), per-interface hash fields, allowed-address-pairs (further prefixes the VM
 * uses; active-active ones are advertised by the compute like its own address, docs/protocol.md §7.2).
 * Does not own its addresses (instance-ip.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { INSTANCE_IP_MODES, type AllowedAddressPair, type VirtualMachineInterface } from '../objects.ts';
import { HASH_FIELDS, type HashField } from '../../net/hash-fields.ts';
import type { KindContext, KindRules } from './kind-context.ts';
import { VIP_OWNER } from './vip-interface.ts';

export interface VirtualMachineInterfaceSpec {
  name: string;
  virtualNetwork: string;
  compute?: string;
  /** default: derived from the name, locally administered (02:…) */
  mac?: string;
  hashFields?: HashField[];
  /** `{prefix, mode}`; mode active-standby by default, as in Contrail */
  allowedAddressPairs?: { prefix: string; mode?: AllowedAddressPair['mode'] }[];
}

function checkedPairs(check: FieldChecks, pairs: unknown): AllowedAddressPair[] {
  if (!Array.isArray(pairs)) check.fail('allowedAddressPairs', 'must be a list of {prefix, mode}');
  return pairs.map((pair: { prefix?: unknown; mode?: unknown } | null, index) => {
    const field = `allowedAddressPairs[${index}]`;
    if (typeof pair !== 'object' || pair === null) check.fail(field, 'must be {prefix, mode}');
    const text = typeof pair.prefix === 'string' && !pair.prefix.includes('/') ? `${pair.prefix}/32` : pair.prefix;
    return {
      prefix: check.subnet(text, `${field}.prefix`),
      mode: pair.mode === undefined ? 'active-standby' : check.oneOf(pair.mode, INSTANCE_IP_MODES, `${field}.mode`),
    };
  });
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
  const pairs = spec.allowedAddressPairs === undefined ? [] : checkedPairs(check, spec.allowedAddressPairs);
  const vmi: VirtualMachineInterface = {
    kind: 'virtual-machine-interface',
    uuid: randomUUID(),
    name,
    mac,
    virtualNetwork: network,
    ...(compute ? { compute } : {}),
    ...(hashFields ? { hashFields } : {}),
    ...(pairs.length > 0 ? { allowedAddressPairs: pairs } : {}),
  };
  context.put(vmi);
  return vmi;
}

export interface VirtualMachineInterfacePatch {
  compute?: string | null;
  hashFields?: HashField[] | null;
  allowedAddressPairs?: { prefix: string; mode?: AllowedAddressPair['mode'] }[] | null;
}

/** `compute: null` unbinds the VMI (e.g. while its VM migrates). */
export function updateVirtualMachineInterface(
  context: KindContext,
  name: string,
  patch: VirtualMachineInterfacePatch,
): VirtualMachineInterface {
  const vmi = context.existing('virtual-machine-interface', name);
  const check = new FieldChecks('virtual-machine-interface', name);
  const { compute: _c, hashFields: _h, allowedAddressPairs: _p, ...rest } = vmi;
  const compute = patch.compute === undefined ? vmi.compute : patch.compute === null ? undefined : check.name(patch.compute, 'compute');
  const owner = context.side(VIP_OWNER).get(name);
  if (compute !== undefined && owner !== undefined) check.fail('compute', `is the VIP interface of ${owner} and is bound to no compute`);
  const hashFields = patch.hashFields === undefined ? vmi.hashFields : patch.hashFields === null ? undefined : check.listOf(patch.hashFields, HASH_FIELDS, 'hashFields');
  const pairs = patch.allowedAddressPairs === undefined ? (vmi.allowedAddressPairs ?? []) : patch.allowedAddressPairs === null ? [] : checkedPairs(check, patch.allowedAddressPairs);
  const updated: VirtualMachineInterface = {
    ...rest,
    ...(compute ? { compute } : {}),
    ...(hashFields ? { hashFields } : {}),
    ...(pairs.length > 0 ? { allowedAddressPairs: pairs } : {}),
  };
  context.put(updated);
  return updated;
}

export function deleteVirtualMachineInterface(context: KindContext, name: string): void {
  context.removeUnused('virtual-machine-interface', name);
}
