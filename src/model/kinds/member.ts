/**
 * loadbalancer-member: address and port in a pool (unique per pool), weight, admin state, optional
 * subnet restricting the VMI lookup. Does not own that lookup (the reconcile hook).
 */
import { randomUUID } from 'node:crypto';
import type { IPv4, IPv4CidrRange } from 'ip-num';
import { FieldChecks } from '../field-checks.ts';
import { parseIPv4, parseSubnet } from '../ipv4.ts';
import type { Member } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';

export interface MemberSpec {
  /** default: `<pool>:<address>:<port>` */
  name?: string;
  pool: string;
  address: string;
  port: number;
  weight?: number;
  adminState?: boolean;
  subnet?: string;
}

export const memberRules: KindRules<'loadbalancer-member'> = {
  kind: 'loadbalancer-member',
  refsOf: (member) => [{ kind: 'loadbalancer-pool', name: member.pool }],
};

export function createMember(context: KindContext, spec: MemberSpec): Member {
  const provisional = spec?.name ?? `${String(spec?.pool)}:${String(spec?.address)}:${String(spec?.port)}`;
  const check = new FieldChecks('loadbalancer-member', provisional);
  const poolName = check.name(spec.pool, 'pool');
  const address = check.address(spec.address, 'address');
  const port = check.port(spec.port, 'port');
  const name = spec.name === undefined ? `${poolName}:${address}:${port}` : check.name(spec.name);
  context.mustBeNew('loadbalancer-member', name);
  context.mustExist('loadbalancer-member', name, 'pool', 'loadbalancer-pool', poolName);
  const twin = context.list('loadbalancer-member').find((member) => member.pool === poolName && member.address === address && member.port === port);
  if (twin) check.fail('address', `${address} port ${port} is already member ${twin.name} of pool ${poolName}`);
  const weight = spec.weight === undefined ? 1 : check.integer(spec.weight, 'weight', 0, 256);
  const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
  let subnet: string | undefined;
  if (spec.subnet !== undefined) {
    subnet = check.subnet(spec.subnet, 'subnet');
    if (!(parseSubnet(subnet) as IPv4CidrRange).contains(parseIPv4(address) as IPv4)) check.fail('subnet', `${address} is not inside ${subnet}`);
  }
  const member: Member = { kind: 'loadbalancer-member', uuid: randomUUID(), name, pool: poolName, address, port, weight, adminState, ...(subnet ? { subnet } : {}) };
  context.put(member);
  return member;
}

export function updateMember(context: KindContext, name: string, patch: { port?: number; weight?: number; adminState?: boolean }): Member {
  const member = context.existing('loadbalancer-member', name);
  const check = new FieldChecks('loadbalancer-member', name);
  const updated: Member = {
    ...member,
    port: patch.port === undefined ? member.port : check.port(patch.port, 'port'),
    weight: patch.weight === undefined ? member.weight : check.integer(patch.weight, 'weight', 0, 256),
    adminState: patch.adminState === undefined ? member.adminState : check.boolean(patch.adminState, 'adminState'),
  };
  context.put(updated);
  return updated;
}

export function deleteMember(context: KindContext, name: string): void {
  context.existing('loadbalancer-member', name);
  context.remove('loadbalancer-member', name);
}
