/**
 * floating-ip-pool: names a (public) virtual network whose IPAM hands out floating IPs. The addresses
 * themselves are allocated by the floating-ips made from it (floating-ip.ts); this module owns only the
 * pool object and refuses to delete a pool that still has floating-ips.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config-error.ts';
import { FieldChecks } from '../field-checks.ts';
import type { FloatingIpPool } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';

export interface FloatingIpPoolSpec {
  name: string;
  /** the public network the addresses come from */
  virtualNetwork: string;
}

export const floatingIpPoolRules: KindRules<'floating-ip-pool'> = {
  kind: 'floating-ip-pool',
  refsOf: (pool) => [{ kind: 'virtual-network', name: pool.virtualNetwork }],
};

export function createFloatingIpPool(context: KindContext, spec: FloatingIpPoolSpec): FloatingIpPool {
  const check = new FieldChecks('floating-ip-pool', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('floating-ip-pool', name);
  const network = check.name(spec.virtualNetwork, 'virtualNetwork');
  context.mustExist('floating-ip-pool', name, 'virtualNetwork', 'virtual-network', network);
  const pool: FloatingIpPool = { kind: 'floating-ip-pool', uuid: randomUUID(), name, virtualNetwork: network };
  context.put(pool);
  return pool;
}

export function deleteFloatingIpPool(context: KindContext, name: string): void {
  context.existing('floating-ip-pool', name);
  const used = context.list('floating-ip').find((fip) => fip.pool === name);
  if (used) throw new ConfigError('floating-ip-pool', name, `floating-ip ${used.name} was allocated from it; delete it first`, undefined, 'conflict');
  context.remove('floating-ip-pool', name);
}
