import { expect } from 'chai';
import { lbaasHook } from '../../src/lbaas/provider-hook.ts';
import { ACTIVE_LOCAL_PREF, rankComputes, STANDBY_LOCAL_PREF } from '../../src/lbaas/proxy-driver.ts';
import { ConfigError } from '../../src/model/config-error.ts';
import { ConfigStore } from '../../src/model/config-store.ts';

const VN = 'default-domain:demo:svc-vn';
const POOL_VN = 'default-domain:demo:pool-vn';
const COMPUTES = ['compute-1', 'compute-2', 'compute-3', 'compute-4'];

/** client + web-a/b/c on their computes; an opencontrail lb1 (VIP .100) TCP 80 → pool1 with web-a and web-b. */
function proxyStore(seed = 1, workloads: [string, string, string, string?][] = [
  ['client', 'compute-1', '30.30.30.2'],
  ['web-a', 'compute-2', '30.30.30.10'],
  ['web-b', 'compute-3', '30.30.30.11'],
  ['web-c', 'compute-4', '30.30.30.12'],
]): ConfigStore {
  const store = new ConfigStore({ asn: 64512, reconcile: lbaasHook({ computes: COMPUTES, seed }) });
  store.batch(() => {
    store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
    store.createVirtualNetwork({ name: POOL_VN, subnets: ['40.40.40.0/24'] });
    for (const [name, compute, address, network] of workloads) {
      store.createVirtualMachineInterface({ name, virtualNetwork: network ?? VN, compute });
      store.createInstanceIp({ name, virtualMachineInterface: name, address });
    }
    store.createLoadBalancer({ name: 'lb1', provider: 'opencontrail', virtualNetwork: VN, vipAddress: '30.30.30.100' });
    store.createListener({ name: 'listener1', loadBalancer: 'lb1', protocol: 'HTTP', port: 80 });
    store.createPool({ name: 'pool1', listener: 'listener1', method: 'LEAST_CONNECTIONS' });
    store.createMember({ name: 'm-a', pool: 'pool1', address: workloads[1][2], port: 8080, weight: 3 });
    store.createMember({ name: 'm-b', pool: 'pool1', address: workloads[2][2], port: 8080 });
  });
  return store;
}

function refusal(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a refusal');
}

describe('proxy driver (provider opencontrail)', () => {
  it('makes one service instance: active LP 200 and standby LP 100 on two distinct computes, the VIP as their address', () => {
    const store = proxyStore();
    const [si] = store.serviceInstances();
    expect(si).to.include({ name: 'lb1-haproxy', loadBalancer: 'lb1', vip: '30.30.30.100', vipNetwork: VN, poolNetwork: VN });
    const [active, standby] = si.instances;
    expect(active).to.include({ role: 'active', localPreference: ACTIVE_LOCAL_PREF, poolAddress: '30.30.30.100', vipInterface: 'lb1-haproxy-active-vip' });
    expect(standby).to.include({ role: 'standby', localPreference: STANDBY_LOCAL_PREF, poolAddress: '30.30.30.100' });
    expect(active.compute).to.not.equal(standby.compute);
    expect(active).to.not.have.property('poolInterface');
    expect(si.frontends).to.deep.equal([{
      listener: 'listener1', protocol: 'HTTP', port: 80, pool: 'pool1', method: 'LEAST_CONNECTIONS',
      backends: [
        { member: 'm-a', address: '30.30.30.10', port: 8080, weight: 3, adminState: true },
        { member: 'm-b', address: '30.30.30.11', port: 8080, weight: 1, adminState: true },
      ],
    }]);
    // the proxy provider makes no floating-ip: clients reach the haproxy, not the members
    expect(store.list('floating-ip')).to.deep.equal([]);
  });

  it('places reproducibly: the same seed gives the same pair, the placement is the seeded ranking', () => {
    const first = proxyStore(7).serviceInstances()[0].instances.map((p) => p.compute);
    const again = proxyStore(7).serviceInstances()[0].instances.map((p) => p.compute);
    expect(again).to.deep.equal(first);
    expect(first).to.deep.equal(rankComputes(7, 'lb1', COMPUTES).slice(0, 2));
    const seeds = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => proxyStore(seed).serviceInstances()[0].instances[0].compute));
    expect(seeds.size, 'different seeds spread the active haproxy').to.be.greaterThan(1);
  });

  it('gives each haproxy a pool-side interface and address when the pool lives in another network', () => {
    const store = proxyStore(1, [
      ['client', 'compute-1', '30.30.30.2'],
      ['web-a', 'compute-2', '40.40.40.10', POOL_VN],
      ['web-b', 'compute-3', '40.40.40.11', POOL_VN],
      ['front', 'compute-4', '30.30.30.3'],
    ]);
    const [si] = store.serviceInstances();
    expect(si.poolNetwork).to.equal(POOL_VN);
    expect(si.instances.map((p) => [p.poolInterface, p.poolAddress])).to.deep.equal([
      ['lb1-haproxy-active-pool', '40.40.40.254'],
      ['lb1-haproxy-standby-pool', '40.40.40.253'],
    ]);
  });

  it('refuses a proxy LB with fewer than two computes that reach its networks, naming the one there is', () => {
    const error = refusal(() => proxyStore(1, [
      ['client', 'compute-1', '30.30.30.2'],
      ['web-a', 'compute-1', '30.30.30.10'],
      ['web-b', 'compute-1', '30.30.30.11'],
    ]));
    expect(error.message).to.equal(`loadbalancer lb1: provider: a proxy load balancer needs two computes (active and standby haproxy) that reach ${VN}; only compute-1 does`);
  });

  it('counts the computes of the pool network too (members elsewhere than the VIP)', () => {
    const store = proxyStore(1, [
      ['client', 'compute-1', '30.30.30.2'],
      ['web-a', 'compute-2', '40.40.40.10', POOL_VN],
      ['web-b', 'compute-3', '40.40.40.11', POOL_VN],
    ]);
    expect(store.serviceInstances()[0].instances.map((p) => p.compute)).to.have.members(rankComputes(1, 'lb1', ['compute-1', 'compute-2', 'compute-3']).slice(0, 2));
  });

  it('refuses a VIP in a network no compute reaches', () => {
    const store = new ConfigStore({ asn: 64512, reconcile: lbaasHook({ computes: COMPUTES }) });
    store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
    const error = refusal(() => store.createLoadBalancer({ name: 'lb1', provider: 'opencontrail', virtualNetwork: VN }));
    expect(error.message).to.equal(`loadbalancer lb1: virtualNetwork: no compute reaches its VIP network ${VN} (no compute hosts an interface in ${VN}), so its haproxy service instance has nowhere to run`);
    expect(store.list('loadbalancer')).to.deep.equal([]);
  });

  it('warns that a weight-0 member is drained and refuses SOURCE_IP when no member has a weight', () => {
    const store = proxyStore();
    store.updateMember('m-b', { weight: 0 });
    expect(store.lbaasReport.warnings).to.deep.equal([
      { loadBalancer: 'lb1', object: 'loadbalancer-member m-b', message: 'weight 0: haproxy sends it no new connections (drained); existing ones stay' },
    ]);
    store.updatePool('pool1', { method: 'SOURCE_IP' });
    const error = refusal(() => store.updateMember('m-a', { weight: 0 }));
    expect(error.message).to.equal('loadbalancer lb1: pool pool1 balances by SOURCE_IP but every member has weight 0: the source hash has no server to map onto; give at least one member a weight from 1 to 256');
    expect(store.get('loadbalancer-member', 'm-a')?.weight, 'the refused change left the store as it was').to.equal(3);
  });

  it('refuses an unknown provider with the two it knows', () => {
    const store = proxyStore();
    const error = refusal(() => store.createLoadBalancer({ name: 'lb2', provider: 'octavia', virtualNetwork: VN }));
    expect(error.message).to.equal('loadbalancer lb2: provider: "octavia" is not supported: use "native" (ECMP, docs/protocol.md §8.2) or "opencontrail" (haproxy service instance, docs/protocol.md §8.4)');
  });

  it('tells the native user that SOURCE_IP and weight 0 are not applied by ECMP', () => {
    const store = proxyStore();
    store.createLoadBalancer({ name: 'lb2', virtualNetwork: VN, vipAddress: '30.30.30.200' });
    store.createListener({ name: 'l2', loadBalancer: 'lb2', protocol: 'TCP', port: 80 });
    store.createPool({ name: 'p2', listener: 'l2', method: 'SOURCE_IP' });
    store.createMember({ name: 'm2', pool: 'p2', address: '30.30.30.12', port: 80, weight: 0 });
    expect(store.lbaasReport.warnings.filter((w) => w.loadBalancer === 'lb2')).to.deep.equal([
      { loadBalancer: 'lb2', object: 'loadbalancer-pool p2', message: "SOURCE_IP is not applied by the native driver: ECMP hashes the network's hash fields (set them to source-ip alone for per-client affinity)" },
      { loadBalancer: 'lb2', object: 'loadbalancer-member m2', message: 'weight 0 is ignored by the native driver: ECMP has no weights, so the member keeps receiving new flows (use the proxy provider, or remove the member)' },
    ]);
  });

  it('leaves native load balancers to the native driver', () => {
    const store = proxyStore();
    store.createLoadBalancer({ name: 'lb2', virtualNetwork: VN, vipAddress: '30.30.30.200' });
    store.createListener({ name: 'l2', loadBalancer: 'lb2', protocol: 'TCP', port: 80 });
    store.createPool({ name: 'p2', listener: 'l2' });
    store.createMember({ name: 'm2', pool: 'p2', address: '30.30.30.12', port: 80 });
    expect(store.list('floating-ip').map((f) => [f.address, f.loadBalancer])).to.deep.equal([['30.30.30.200', 'lb2']]);
    expect(store.serviceInstances().map((si) => si.loadBalancer)).to.deep.equal(['lb1']);
  });
});
