/**
 * loadbalancer-pool: one per listener, its method, protocol (default: the listener's) and optional
 * health monitor. Cascading delete removes its members. Does not own member rules (member.ts).
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { LISTENER_PROTOCOLS, POOL_METHODS, type ListenerProtocol, type Pool, type PoolMethod } from '../objects.ts';
import type { ConfigRef, DeleteOptions, KindContext, KindRules } from './kind-context.ts';
import { deleteMember } from './member.ts';

export interface PoolSpec {
  name: string;
  listener: string;
  /** default: the listener's protocol */
  protocol?: ListenerProtocol;
  method?: PoolMethod;
  healthMonitor?: string;
  adminState?: boolean;
}

export const poolRules: KindRules<'loadbalancer-pool'> = {
  kind: 'loadbalancer-pool',
  refsOf: (pool): ConfigRef[] => [
    { kind: 'loadbalancer-listener', name: pool.listener },
    ...(pool.healthMonitor ? [{ kind: 'loadbalancer-healthmonitor' as const, name: pool.healthMonitor }] : []),
  ],
};

function optionalMonitor(context: KindContext, check: FieldChecks, name: string, monitor: unknown): string | undefined {
  if (monitor === undefined) return undefined;
  const monitorName = check.name(monitor, 'healthMonitor');
  context.mustExist('loadbalancer-pool', name, 'healthMonitor', 'loadbalancer-healthmonitor', monitorName);
  return monitorName;
}

export function createPool(context: KindContext, spec: PoolSpec): Pool {
  const check = new FieldChecks('loadbalancer-pool', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('loadbalancer-pool', name);
  const listenerName = check.name(spec.listener, 'listener');
  const listener = context.mustExist('loadbalancer-pool', name, 'listener', 'loadbalancer-listener', listenerName);
  const other = context.list('loadbalancer-pool').find((pool) => pool.listener === listenerName);
  if (other) check.fail('listener', `${listenerName} already has pool ${other.name} (one pool per listener)`);
  const protocol = spec.protocol === undefined ? listener.protocol : check.oneOf(spec.protocol, LISTENER_PROTOCOLS, 'protocol');
  const method = spec.method === undefined ? 'ROUND_ROBIN' : check.oneOf(spec.method, POOL_METHODS, 'method');
  const healthMonitor = optionalMonitor(context, check, name, spec.healthMonitor);
  const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
  const pool: Pool = { kind: 'loadbalancer-pool', uuid: randomUUID(), name, listener: listenerName, protocol, method, adminState, ...(healthMonitor ? { healthMonitor } : {}) };
  context.put(pool);
  return pool;
}

/** `healthMonitor: null` detaches the monitor. */
export function updatePool(context: KindContext, name: string, patch: { method?: PoolMethod; healthMonitor?: string | null; adminState?: boolean }): Pool {
  const pool = context.existing('loadbalancer-pool', name);
  const check = new FieldChecks('loadbalancer-pool', name);
  const { healthMonitor: _old, ...rest } = pool;
  const healthMonitor = patch.healthMonitor === undefined ? pool.healthMonitor : patch.healthMonitor === null ? undefined : optionalMonitor(context, check, name, patch.healthMonitor);
  const updated: Pool = {
    ...rest,
    method: patch.method === undefined ? pool.method : check.oneOf(patch.method, POOL_METHODS, 'method'),
    adminState: patch.adminState === undefined ? pool.adminState : check.boolean(patch.adminState, 'adminState'),
    ...(healthMonitor ? { healthMonitor } : {}),
  };
  context.put(updated);
  return updated;
}

export function deletePool(context: KindContext, name: string, options: DeleteOptions = {}): void {
  context.existing('loadbalancer-pool', name);
  if (options.cascade) {
    for (const member of context.list('loadbalancer-member').filter((candidate) => candidate.pool === name)) deleteMember(context, member.name);
  }
  context.removeUnused('loadbalancer-pool', name);
}
