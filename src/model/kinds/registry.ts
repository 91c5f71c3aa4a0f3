/**
 * The kinds the store knows and their reference rules. The mapped type makes a kind added to
 * model/objects.ts fail to compile until its module is registered here; adding a kind is a module
 * in this folder + one line here + its store methods. Does not own any kind's rules.
 */
import type { ConfigKind, ConfigObject } from '../objects.ts';
import type { HeldRef } from '../store/reference-graph.ts';
import { floatingIpRules } from './floating-ip.ts';
import { floatingIpPoolRules } from './floating-ip-pool.ts';
import { healthMonitorRules } from './health-monitor.ts';
import { instanceIpRules } from './instance-ip.ts';
import type { ConfigRef, KindContext, KindRules } from './kind-context.ts';
import { listenerRules } from './listener.ts';
import { loadBalancerRules } from './load-balancer.ts';
import { memberRules } from './member.ts';
import { poolRules } from './pool.ts';
import { networkPolicyRules } from './network-policy.ts';
import { virtualMachineInterfaceRules } from './virtual-machine-interface.ts';
import { virtualNetworkRules } from './virtual-network.ts';

export const KIND_RULES: { readonly [K in ConfigKind]: KindRules<K> } = {
  'virtual-network': virtualNetworkRules,
  'virtual-machine-interface': virtualMachineInterfaceRules,
  'instance-ip': instanceIpRules,
  'floating-ip-pool': floatingIpPoolRules,
  'floating-ip': floatingIpRules,
  loadbalancer: loadBalancerRules,
  'loadbalancer-listener': listenerRules,
  'loadbalancer-pool': poolRules,
  'loadbalancer-member': memberRules,
  'loadbalancer-healthmonitor': healthMonitorRules,
  'network-policy': networkPolicyRules,
};

export function refsOf(object: ConfigObject): readonly ConfigRef[] {
  return (KIND_RULES[object.kind] as KindRules<ConfigKind>).refsOf(object as never);
}

export function* heldRefs(context: KindContext): Iterable<HeldRef<ConfigKind>> {
  for (const rules of Object.values(KIND_RULES) as KindRules<ConfigKind>[]) if (rules.heldRefs) yield* rules.heldRefs(context);
}
