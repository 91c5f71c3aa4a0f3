// Networks connected by a policy import each other's route targets: a VIP of one network is a route of
// the other's VRF on every compute, and goes away with the policy.
import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';

const CLIENTS = 'default-domain:demo:clients';
const SERVICES = 'default-domain:demo:services';
const VIP = '30.30.30.100';

describe('network-policy config kind', () => {
  it('checks its networks and rules, and keeps an attached network from being deleted', () => {
    const store = new ConfigStore({ reconcile: nativeDriverHook });
    store.createVirtualNetwork({ name: CLIENTS, subnets: ['20.20.20.0/24'] });
    store.createVirtualNetwork({ name: SERVICES, subnets: ['30.30.30.0/24'] });
    expect(() => store.createNetworkPolicy({ name: 'p', networks: [CLIENTS, 'default-domain:demo:nope'], rules: [] })).to.throw('network-policy p: networks[1]: no virtual-network named "default-domain:demo:nope"');
    store.createNetworkPolicy({ name: 'p', networks: [CLIENTS, SERVICES], rules: [{ action: 'pass', direction: '<>', sourceNetwork: 'any', destinationNetwork: 'any' }] });
    expect(() => store.deleteVirtualNetwork(SERVICES)).to.throw(/network-policy p/);
    expect(store.updateNetworkPolicy('p', { rules: [] }).rules).to.deep.equal([]);
    store.deleteNetworkPolicy('p');
    store.deleteVirtualNetwork(SERVICES);
  });
});

describe('routing between networks connected by a policy', function () {
  this.timeout(60_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => {
    const result = validateTopology({
      name: 'policy',
      controlNodes: [{ name: 'control-1', address: '127.0.14.4', xmppPort: 5269, bgpPort: 1179 }],
      computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.27.${i}` })),
      networks: [
        { name: CLIENTS, subnets: ['20.20.20.0/24'] },
        { name: SERVICES, subnets: ['30.30.30.0/24'] },
      ],
      networkPolicies: [{ name: 'default-domain:demo:clients-services', networks: [CLIENTS, SERVICES] }],
      workloads: [
        { name: 'client', compute: 'compute-1', network: CLIENTS, address: '20.20.20.10' },
        { name: 'web-a', compute: 'compute-2', network: SERVICES, address: '30.30.30.10' },
        { name: 'web-b', compute: 'compute-3', network: SERVICES, address: '30.30.30.11' },
      ],
      loadBalancers: [
        {
          name: 'lb1',
          network: SERVICES,
          vip: VIP,
          listeners: [{ name: 'l1', protocol: 'TCP', port: 80, pool: { name: 'p1', members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.11', port: 8080 }] } }],
        },
      ],
    });
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    sim = await Simulation.start(result.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });
  after(async () => sim?.stop());

  it("gives the client network's VRF the service VIP with both next-hops, and clients get replies", async () => {
    const slots = await ctx.eventually('compute-1 has the VIP in the clients VRF', () => ctx.slots('compute-1', VIP), (s) => s.filter((x) => !x.empty).length === 2, { timeoutMs: 10_000 });
    expect(slots.map((s) => s.address).sort()).to.deep.equal(['127.0.27.2', '127.0.27.3']);
    const flows = await ctx.openFlows({ from: 'client', to: `${VIP}:80`, count: 200 });
    expect(flows.opened.delivered).to.equal(200);
    expect(flows.opened.members).to.have.length(2);
  });

  it('withdraws the VIP from the client VRF when the policy goes, and brings it back with a new one', async () => {
    await ctx.request('DELETE', `/api/config/network-policy/${encodeURIComponent('default-domain:demo:clients-services')}`);
    await ctx.eventually('compute-1 lost the VIP', () => ctx.slots('compute-1', VIP), (s) => s.length === 0, { timeoutMs: 10_000 });
    await ctx.request('POST', '/api/config/policy', { name: 'again', networks: [CLIENTS, SERVICES], rules: [{ action: 'pass', direction: '>', sourceNetwork: CLIENTS, destinationNetwork: SERVICES }] });
    await ctx.eventually('compute-1 has the VIP again', () => ctx.slots('compute-1', VIP), (s) => s.filter((x) => !x.empty).length === 2, { timeoutMs: 10_000 });
  });
});
