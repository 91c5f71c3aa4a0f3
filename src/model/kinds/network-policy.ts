/**
 * network-policy: the networks a policy is attached to and its rules, as far as routing goes (which
 * routing instances import which route targets: ../network-policy.ts). A network is not deleted while a
 * policy is attached to it. Does not own the import computation nor flow-level enforcement.
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { networkPolicyProblems, type NetworkPolicy, type NetworkPolicySpec } from '../network-policy.ts';
import type { KindContext, KindRules } from './kind-context.ts';

export type { NetworkPolicySpec };

export const networkPolicyRules: KindRules<'network-policy'> = {
  kind: 'network-policy',
  refsOf: (policy) => policy.networks.map((name) => ({ kind: 'virtual-network' as const, name })),
};

function checked(context: KindContext, spec: NetworkPolicySpec, name: string): NetworkPolicy {
  const problems = networkPolicyProblems(spec, context.list('virtual-network').map((vn) => vn.name));
  if (problems.length > 0) new FieldChecks('network-policy', name).fail(problems[0].field, problems[0].reason);
  return {
    kind: 'network-policy',
    uuid: context.get('network-policy', name)?.uuid ?? randomUUID(),
    name,
    networks: [...spec.networks],
    rules: spec.rules.map((r) => ({ action: r.action, direction: r.direction, sourceNetwork: r.sourceNetwork, destinationNetwork: r.destinationNetwork })),
  };
}

export function createNetworkPolicy(context: KindContext, spec: NetworkPolicySpec): NetworkPolicy {
  const name = new FieldChecks('network-policy', String(spec?.name)).name(spec?.name);
  context.mustBeNew('network-policy', name);
  const policy = checked(context, spec, name);
  context.put(policy);
  return policy;
}

export function updateNetworkPolicy(context: KindContext, name: string, patch: Partial<Omit<NetworkPolicySpec, 'name'>>): NetworkPolicy {
  const current = context.existing('network-policy', name);
  const policy = checked(context, { name, networks: patch.networks ?? [...current.networks], rules: patch.rules ?? [...current.rules] }, name);
  context.put(policy);
  return policy;
}

export function deleteNetworkPolicy(context: KindContext, name: string): void {
  context.removeUnused('network-policy', name);
}
