import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { DEFAULT_POD_NETWORK, DEFAULT_SERVICE_NETWORK, k8sSettings, sharedNetwork } from '../../src/k8s/k8s-settings.ts';
import { computeOfNode } from '../../src/k8s/desired-config.ts';

const base = {
  name: 't',
  controlNodes: [{ name: 'control-1', address: '127.0.14.1' }],
  computes: [
    { name: 'compute-1', address: '127.0.24.1' },
    { name: 'compute-2', address: '127.0.24.2' },
  ],
  networks: [{ name: 'default-domain:k8s:pods', subnets: ['10.32.0.0/12'] }],
};

describe('k8s settings in the topology', () => {
  it("defaults to kube-manager's networks", () => {
    const settings = k8sSettings(undefined);
    expect(settings.podNetwork).to.deep.equal({ name: 'default-domain:k8s-default:k8s-default-pod-network', subnets: ['10.32.0.0/12'] });
    expect(settings.serviceNetwork).to.deep.equal({ name: 'default-domain:k8s-default:k8s-default-service-network', subnets: ['10.96.0.0/12'] });
    expect(sharedNetwork(settings)).to.equal(false);
    const result = validateTopology(base);
    expect(result.ok && result.topology.k8s).to.equal(undefined);
  });

  it('takes a k8s section: names, subnets and the node map', () => {
    const result = validateTopology({ ...base, k8s: { podNetwork: { name: 'default-domain:k8s:pods' }, serviceNetwork: { subnets: ['10.100.0.0/16'] }, nodes: { 'worker-1': 'compute-2' } } });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.topology.k8s).to.deep.equal({
      podNetwork: { name: 'default-domain:k8s:pods', subnets: DEFAULT_POD_NETWORK.subnets },
      serviceNetwork: { name: DEFAULT_SERVICE_NETWORK.name, subnets: ['10.100.0.0/16'] },
      nodes: { 'worker-1': 'compute-2' },
    });
  });

  it('refuses a node mapped to no compute and a bad subnet, each with its path', () => {
    const result = validateTopology({
      ...base,
      k8s: { podNetwork: { name: 'default-domain:k8s:pods', subnets: ['10.40.0.0/16'] }, serviceNetwork: { subnets: ['10.96.0.1/12'] }, nodes: { 'worker-9': 'compute-9' } },
    });
    expect(result.ok).to.equal(false);
    const errors = result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
    expect(errors).to.deep.equal([
      'k8s.nodes.worker-9: no compute named compute-9; computes: compute-1, compute-2',
      'k8s.serviceNetwork.subnets[0]: 10.96.0.1/12 has host bits set (the network is 10.96.0.0/12)',
    ]);
  });

  it('reads its own resolved form again (what --processes writes for each node)', () => {
    const first = validateTopology({ ...base, k8s: { podNetwork: { name: 'default-domain:k8s:pods' }, serviceNetwork: { name: 'default-domain:k8s:pods' } } });
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const again = validateTopology(JSON.parse(JSON.stringify(first.topology)));
    expect(again.ok, again.ok ? '' : JSON.stringify(again.errors)).to.equal(true);
  });

  it('refuses unknown keys through the schema', () => {
    const result = validateTopology({ ...base, k8s: { podNetwrok: {} } });
    expect(result.ok).to.equal(false);
    expect(result.ok ? '' : result.errors[0].path).to.match(/^k8s/);
  });

  it('maps a node to its compute: the map first, then the same name, then the InternalIP', () => {
    const settings = k8sSettings({ nodes: { 'worker-1': 'compute-2' } });
    const computes = base.computes;
    const node = { apiVersion: 'v1' as const, kind: 'Node' as const, metadata: { name: 'worker-3' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.24.1' }] } };
    expect(computeOfNode('worker-1', settings, computes, [])).to.equal('compute-2');
    expect(computeOfNode('compute-1', settings, computes, [])).to.equal('compute-1');
    expect(computeOfNode('worker-3', settings, computes, [node])).to.equal('compute-1');
    expect(computeOfNode('worker-4', settings, computes, [node])).to.equal(undefined);
  });
});
