/**
 * virtual-network: subnets, vn-index allocation, auto route target and routing instance, and the
 * network's IPAM (one per VN, kept in a side table). Does not own address allocation for instance-ips
 * (instance-ip.ts asks this IPAM) nor the store's transactions.
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { Ipam } from '../ipam.ts';
import { routeTargetFor, routingInstanceFor } from '../network-identity.ts';
import { HASH_FIELDS, type HashField, type VirtualNetwork } from '../objects.ts';
import { sideTable } from '../store/transaction.ts';
import type { KindContext, KindRules } from './kind-context.ts';

export interface VirtualNetworkSpec {
  name: string;
  subnets: string[];
  hashFields?: HashField[];
}

/** The IPAM of each network, by VN name. */
export const NETWORK_IPAMS = sideTable<string, Ipam>('IPAM per virtual-network');

export const virtualNetworkRules: KindRules<'virtual-network'> = {
  kind: 'virtual-network',
  refsOf: () => [],
};

export function ipamOf(context: KindContext, network: string): Ipam | undefined {
  return context.side(NETWORK_IPAMS).get(network);
}

export function createVirtualNetwork(context: KindContext, spec: VirtualNetworkSpec): VirtualNetwork {
  const check = new FieldChecks('virtual-network', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('virtual-network', name);
  if (!Array.isArray(spec.subnets)) check.fail('subnets', 'must be a list of CIDR subnets');
  spec.subnets.forEach((subnet, index) => check.subnet(subnet, `subnets[${index}]`));
  const problems = Ipam.subnetProblems(spec.subnets);
  if (problems.length > 0) check.fail('subnets', problems.join('; '));
  const hashFields = spec.hashFields === undefined ? undefined : check.listOf(spec.hashFields, HASH_FIELDS, 'hashFields');
  const used = new Set(context.list('virtual-network').map((vn) => vn.vnIndex));
  let vnIndex = 1;
  while (used.has(vnIndex)) vnIndex++;
  const vn: VirtualNetwork = {
    kind: 'virtual-network',
    uuid: randomUUID(),
    name,
    subnets: [...spec.subnets],
    vnIndex,
    routeTarget: routeTargetFor(context.asn, vnIndex),
    routingInstance: routingInstanceFor(name),
    ...(hashFields ? { hashFields } : {}),
  };
  context.put(vn);
  context.side(NETWORK_IPAMS).set(name, new Ipam(vn.subnets));
  return vn;
}

export function updateVirtualNetwork(context: KindContext, name: string, patch: { hashFields?: HashField[] | null }): VirtualNetwork {
  const vn = context.existing('virtual-network', name);
  const check = new FieldChecks('virtual-network', name);
  const { hashFields: _old, ...rest } = vn;
  const hashFields = patch.hashFields === undefined ? vn.hashFields : patch.hashFields === null ? undefined : check.listOf(patch.hashFields, HASH_FIELDS, 'hashFields');
  const updated: VirtualNetwork = { ...rest, ...(hashFields ? { hashFields } : {}) };
  context.put(updated);
  return updated;
}

export function deleteVirtualNetwork(context: KindContext, name: string): void {
  context.existing('virtual-network', name);
  context.refuseIfUsed('virtual-network', name);
  context.side(NETWORK_IPAMS).delete(name);
  context.remove('virtual-network', name);
}
