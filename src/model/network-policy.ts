/**
 * Network policies that connect virtual networks, as far as routing goes: a policy attached to two VNs
 * with a `pass` rule between them makes each VN's routing instance import the other's route target, so
 * routes of one (a service VIP's ECMP route) appear in the other's VRF (docs/protocol.md §6: import by
 * route target; the control node replicates VPN routes into every VRF that imports one of their
 * targets). Owns the policy's shape, its checks and the pure "which VRF imports which targets"
 * function. Not yet a config kind: the store, the control node's instance sync, the topology and the
 * CLI are wired by the lead (see the k8s report); flow-level rule enforcement is out of scope.
 *
 * Our simplification of Contrail's schema transformer: a connection needs the policy attached to both
 * networks (kube-manager attaches one policy to the pod and the service network); `<>` connects both
 * ways, `>` makes the source import the destination's target; `deny` rules add no connection; `any`
 * stands for every network the policy is attached to.
 */

export const POLICY_ACTIONS = ['pass', 'deny'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];
export const POLICY_DIRECTIONS = ['<>', '>'] as const;
export type PolicyDirection = (typeof POLICY_DIRECTIONS)[number];

export interface PolicyRule {
  readonly action: PolicyAction;
  readonly direction: PolicyDirection;
  /** A VN fq-name or `any`. */
  readonly sourceNetwork: string;
  readonly destinationNetwork: string;
}

export interface NetworkPolicySpec {
  name: string;
  rules: PolicyRule[];
  /** The VNs the policy is attached to (Contrail: each VN's `network-policy` refs). */
  networks: string[];
}

export interface NetworkPolicy {
  readonly kind: 'network-policy';
  readonly uuid: string;
  readonly name: string;
  readonly rules: readonly PolicyRule[];
  readonly networks: readonly string[];
}

export interface PolicyProblem {
  readonly field: string;
  readonly reason: string;
}

/** Every problem of a spec (field + reason), so the store can refuse it with a ConfigError per field. */
export function networkPolicyProblems(spec: unknown, knownNetworks: readonly string[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const fail = (field: string, reason: string): void => void problems.push({ field, reason });
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [{ field: '(spec)', reason: 'must be an object' }];
  const s = spec as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name.trim() === '' || s.name !== s.name.trim()) fail('name', `must be a non-empty string without surrounding spaces, got ${JSON.stringify(s.name)}`);
  const attached = Array.isArray(s.networks) ? s.networks : [];
  if (!Array.isArray(s.networks)) fail('networks', 'must be a list of virtual-network names');
  attached.forEach((vn, i) => {
    if (typeof vn !== 'string' || !knownNetworks.includes(vn)) fail(`networks[${i}]`, `no virtual-network named ${JSON.stringify(vn)}`);
    else if (attached.indexOf(vn) !== i) fail(`networks[${i}]`, `${vn} is listed twice`);
  });
  if (!Array.isArray(s.rules)) {
    fail('rules', 'must be a list of rules');
    return problems;
  }
  s.rules.forEach((rule: unknown, i) => {
    const at = `rules[${i}]`;
    if (rule === null || typeof rule !== 'object') return fail(at, 'must be an object');
    const r = rule as Record<string, unknown>;
    if (!(POLICY_ACTIONS as readonly unknown[]).includes(r.action)) fail(`${at}.action`, `must be one of ${POLICY_ACTIONS.join(', ')}, got ${JSON.stringify(r.action)}`);
    if (!(POLICY_DIRECTIONS as readonly unknown[]).includes(r.direction)) fail(`${at}.direction`, `must be one of ${POLICY_DIRECTIONS.join(', ')}, got ${JSON.stringify(r.direction)}`);
    for (const end of ['sourceNetwork', 'destinationNetwork'] as const) {
      const vn = r[end];
      if (vn !== 'any' && (typeof vn !== 'string' || !attached.includes(vn))) fail(`${at}.${end}`, `must be any or one of the networks the policy is attached to, got ${JSON.stringify(vn)}`);
    }
  });
  return problems;
}

/**
 * For each VN, the route targets its routing instance imports besides its own: the targets of the
 * VNs its policies connect it to, in a stable order (network list order).
 */
export function policyImportTargets(networks: readonly { name: string; routeTarget: string }[], policies: readonly NetworkPolicy[]): Map<string, string[]> {
  const targetOf = new Map(networks.map((vn) => [vn.name, vn.routeTarget]));
  const imports = new Map<string, Set<string>>();
  const connect = (from: string, to: string): void => {
    if (from === to || !targetOf.has(from) || !targetOf.has(to)) return;
    let set = imports.get(from);
    if (!set) imports.set(from, (set = new Set()));
    set.add(to);
  };
  for (const policy of policies) {
    const ends = (vn: string): readonly string[] => (vn === 'any' ? policy.networks : policy.networks.includes(vn) ? [vn] : []);
    for (const rule of policy.rules) {
      if (rule.action !== 'pass') continue;
      for (const source of ends(rule.sourceNetwork)) {
        for (const destination of ends(rule.destinationNetwork)) {
          connect(source, destination);
          if (rule.direction === '<>') connect(destination, source);
        }
      }
    }
  }
  const out = new Map<string, string[]>();
  for (const vn of networks) {
    const connected = imports.get(vn.name);
    if (connected) out.set(vn.name, networks.filter((other) => connected.has(other.name)).map((other) => other.routeTarget));
  }
  return out;
}
