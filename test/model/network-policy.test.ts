import { expect } from 'chai';
import { networkPolicyProblems, policyImportTargets, type NetworkPolicy } from '../../src/model/network-policy.ts';
import { k8sSettings, podServicePolicy } from '../../src/k8s/k8s-settings.ts';

const POD = 'default-domain:k8s-default:k8s-default-pod-network';
const SVC = 'default-domain:k8s-default:k8s-default-service-network';
const OTHER = 'default-domain:demo:other';
const NETWORKS = [
  { name: POD, routeTarget: 'target:64512:8000001' },
  { name: SVC, routeTarget: 'target:64512:8000002' },
  { name: OTHER, routeTarget: 'target:64512:8000003' },
];

const policy = (rules: NetworkPolicy['rules'], networks: string[] = [POD, SVC]): NetworkPolicy => ({ kind: 'network-policy', uuid: 'u', name: 'p', rules, networks });

describe('network policy route-target import', () => {
  it("kube-manager's pod/service policy makes each network import the other's target, and nothing else", () => {
    const spec = podServicePolicy(k8sSettings(undefined));
    expect(spec?.name).to.equal('default-domain:k8s-default:k8s-default-pod-service-np');
    expect(networkPolicyProblems(spec, NETWORKS.map((n) => n.name))).to.deep.equal([]);
    const imports = policyImportTargets(NETWORKS, [{ kind: 'network-policy', uuid: 'u', ...spec! }]);
    expect([...imports]).to.deep.equal([
      [POD, ['target:64512:8000002']],
      [SVC, ['target:64512:8000001']],
    ]);
  });

  it('needs no policy when pods and services share a network', () => {
    expect(podServicePolicy(k8sSettings({ podNetwork: { name: POD }, serviceNetwork: { name: POD } }))).to.equal(undefined);
  });

  it('connects one way for >, not at all for deny, and any means every attached network', () => {
    expect([...policyImportTargets(NETWORKS, [policy([{ action: 'pass', direction: '>', sourceNetwork: POD, destinationNetwork: SVC }])])]).to.deep.equal([[POD, ['target:64512:8000002']]]);
    expect(policyImportTargets(NETWORKS, [policy([{ action: 'deny', direction: '<>', sourceNetwork: POD, destinationNetwork: SVC }])]).size).to.equal(0);
    const mesh = policyImportTargets(NETWORKS, [policy([{ action: 'pass', direction: '<>', sourceNetwork: 'any', destinationNetwork: 'any' }], [POD, SVC, OTHER])]);
    expect(mesh.get(OTHER)).to.deep.equal(['target:64512:8000001', 'target:64512:8000002']);
  });

  it('does not connect a network the policy is not attached to, even when a rule names it', () => {
    expect(policyImportTargets(NETWORKS, [policy([{ action: 'pass', direction: '<>', sourceNetwork: POD, destinationNetwork: OTHER }])]).size).to.equal(0);
  });

  it('reports every bad field of a spec', () => {
    const problems = networkPolicyProblems(
      { name: ' p', networks: [POD, 'nope', POD], rules: [{ action: 'allow', direction: '<', sourceNetwork: OTHER, destinationNetwork: 'any' }] },
      NETWORKS.map((n) => n.name),
    );
    expect(problems.map((p) => p.field)).to.deep.equal(['name', 'networks[1]', 'networks[2]', 'rules[0].action', 'rules[0].direction', 'rules[0].sourceNetwork']);
  });
});
