/**
 * loadbalancer-listener: protocol and port of a load balancer (one listener per port). Cascading
 * delete goes down through pool.ts. Does not own the port mappings made from it (the reconcile hook).
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { LISTENER_PROTOCOLS, type Listener, type ListenerProtocol } from '../objects.ts';
import type { DeleteOptions, KindContext, KindRules } from './kind-context.ts';
import { deletePool } from './pool.ts';

export interface ListenerSpec {
  name: string;
  loadBalancer: string;
  protocol: ListenerProtocol;
  port: number;
  adminState?: boolean;
}

export const listenerRules: KindRules<'loadbalancer-listener'> = {
  kind: 'loadbalancer-listener',
  refsOf: (listener) => [{ kind: 'loadbalancer', name: listener.loadBalancer }],
};

function refusePortClash(context: KindContext, check: FieldChecks, lbName: string, port: number, self: string): void {
  const clash = context.list('loadbalancer-listener').find((listener) => listener.loadBalancer === lbName && listener.port === port && listener.name !== self);
  if (clash) check.fail('port', `${port} is already used by listener ${clash.name} of loadbalancer ${lbName}`);
}

export function createListener(context: KindContext, spec: ListenerSpec): Listener {
  const check = new FieldChecks('loadbalancer-listener', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('loadbalancer-listener', name);
  const lbName = check.name(spec.loadBalancer, 'loadBalancer');
  context.mustExist('loadbalancer-listener', name, 'loadBalancer', 'loadbalancer', lbName);
  const protocol = check.oneOf(spec.protocol, LISTENER_PROTOCOLS, 'protocol');
  const port = check.port(spec.port, 'port');
  refusePortClash(context, check, lbName, port, name);
  const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
  const listener: Listener = { kind: 'loadbalancer-listener', uuid: randomUUID(), name, loadBalancer: lbName, protocol, port, adminState };
  context.put(listener);
  return listener;
}

export function updateListener(context: KindContext, name: string, patch: { protocol?: ListenerProtocol; port?: number; adminState?: boolean }): Listener {
  const listener = context.existing('loadbalancer-listener', name);
  const check = new FieldChecks('loadbalancer-listener', name);
  const port = patch.port === undefined ? listener.port : check.port(patch.port, 'port');
  refusePortClash(context, check, listener.loadBalancer, port, name);
  const updated: Listener = {
    ...listener,
    protocol: patch.protocol === undefined ? listener.protocol : check.oneOf(patch.protocol, LISTENER_PROTOCOLS, 'protocol'),
    port,
    adminState: patch.adminState === undefined ? listener.adminState : check.boolean(patch.adminState, 'adminState'),
  };
  context.put(updated);
  return updated;
}

export function deleteListener(context: KindContext, name: string, options: DeleteOptions = {}): void {
  context.existing('loadbalancer-listener', name);
  if (options.cascade) {
    for (const pool of context.list('loadbalancer-pool').filter((candidate) => candidate.listener === name)) deletePool(context, pool.name, options);
  }
  context.removeUnused('loadbalancer-listener', name);
}
