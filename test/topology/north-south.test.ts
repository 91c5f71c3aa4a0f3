// The north-south sections of a topology file: the shipped north-south.json, its config, the gateway
// peering, and every bad input named by its JSON path.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadTopologyFile, validateTopology } from '../../src/topology/loader.ts';
import { buildConfigStore } from '../../src/topology/config-from-topology.ts';
import { bgpPeerConfigs } from '../../src/topology/control-bgp-config.ts';

const FILE = new URL('../../topologies/north-south.json', import.meta.url);
const raw = (): Record<string, any> => JSON.parse(readFileSync(FILE, 'utf8'));

function errors(mutate: (t: Record<string, any>) => void): string[] {
  const t = raw();
  mutate(t);
  const result = validateTopology(t);
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('topology/north-south sections', () => {
  it('loads north-south.json with its defaults and builds its config', async () => {
    const result = await loadTopologyFile(FILE.pathname);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const t = result.topology;
    expect(t.gateways).to.deep.equal([{
      name: 'gw-1', address: '127.4.30.1', asn: 64512, networks: ['default-domain:admin:public', 'default-domain:avi:data-vn'],
      maxPaths: 16, hash: 'stateless', buckets: 1024, controlNodes: ['control-1'],
    }]);
    const store = buildConfigStore(t);
    const vip = store.get('instance-ip', 'vs2-vip');
    expect(vip).to.include({ address: '19.1.1.7', mode: 'active-active', virtualMachineInterface: 'avi-se-czpey' });
    expect(store.get('floating-ip', 'vs2-fip')).to.include({ address: '10.1.11.4', fixedInstanceIp: 'vs2-vip', pool: 'public-pool' });
    expect(store.get('floating-ip', 'lb1-fip')).to.include({ address: '10.1.11.9', loadBalancer: 'lb1' });
    // the control node waits for the gateway to dial
    const peers = bgpPeerConfigs(t, t.controlNodes[0]);
    expect(peers.find((p) => p.name === 'gw-1')).to.include({ address: '127.4.30.1', passive: true, asn: 64512 });
  });

  it('names every bad north-south entry by its path', () => {
    expect(errors((t) => { t.sharedVips[0].workloads = ['nobody']; })).to.deep.equal(['sharedVips[0].workloads[0]: nobody is not a workload']);
    expect(errors((t) => { t.sharedVips[0].address = '19.1.1.6'; })).to.deep.equal(['sharedVips[0].address: 19.1.1.6 is already used by avi-se-czpey']);
    expect(errors((t) => { t.floatingIps[0].pool = 'nope'; })).to.deep.equal(['floatingIps[0].pool: nope is not a floating-ip pool (known: public-pool)']);
    expect(errors((t) => { t.floatingIps[1].sharedVip = 'vs2-vip'; })).to.deep.equal(['floatingIps[1]: associate with loadBalancer or sharedVip, not both']);
    expect(errors((t) => { t.gateways[0].controlNodes = ['control-9']; })).to.deep.equal(['gateways[0].controlNodes[0]: control-9 is not a control node (known: control-1)']);
    expect(errors((t) => { t.gateways[0].address = '10.0.0.1'; })).to.deep.equal(['gateways[0].address: 10.0.0.1 is outside 127.0.0.0/8 (nodes run on loopback addresses only)']);
    expect(errors((t) => { t.gateways[0].hash = 'random'; })[0]).to.match(/^gateways\[0\]\.hash/);
  });

  it('reports what the store refuses with the path of the floating IP', () => {
    const found = errors((t) => { t.floatingIps[0].address = '10.1.11.9'; });
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^floatingIps\[1\]\.address: .*10\.1\.11\.9/);
  });
});
