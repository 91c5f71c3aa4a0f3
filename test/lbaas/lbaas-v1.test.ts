// The haproxy LBaaS v1 workflow (pool, members, health monitor, VIP, pool↔VIP association) mapped onto
// the v2 objects, on the seed's vipnet/poolnet example.
import { expect } from 'chai';
import { haproxyConfig } from '../../src/lbaas/haproxy-config.ts';
import { LbaasV1 } from '../../src/lbaas/lbaas-v1.ts';
import { lbaasHook } from '../../src/lbaas/provider-hook.ts';
import { ConfigError } from '../../src/model/config-error.ts';
import { ConfigStore } from '../../src/model/config-store.ts';

const VIPNET = 'default-domain:demo:vipnet';
const POOLNET = 'default-domain:demo:poolnet';

function seedExample(): { store: ConfigStore; v1: LbaasV1 } {
  const store = new ConfigStore({ asn: 64512, reconcile: lbaasHook({ computes: ['compute-1', 'compute-2', 'compute-3'] }) });
  store.createVirtualNetwork({ name: VIPNET, subnets: ['20.1.1.0/24'] });
  store.createVirtualNetwork({ name: POOLNET, subnets: ['10.1.1.0/24'] });
  for (const [name, compute, address] of [['web-1', 'compute-2', '10.1.1.2'], ['web-2', 'compute-3', '10.1.1.3']]) {
    store.createVirtualMachineInterface({ name, virtualNetwork: POOLNET, compute });
    store.createInstanceIp({ name, virtualMachineInterface: name, address });
  }
  return { store, v1: new LbaasV1(store) };
}

describe('LBaaS v1 workflow (haproxy)', () => {
  it('pool and members wait for the VIP, which makes the load balancer, listener, pool and members at once', () => {
    const { store, v1 } = seedExample();
    v1.createPool({ name: 'mypool', method: 'ROUND_ROBIN', protocol: 'HTTP', subnet: '10.1.1.0/24' });
    v1.createMember({ pool: 'mypool', address: '10.1.1.2', port: 80 });
    v1.createMember({ pool: 'mypool', address: '10.1.1.3', port: 80 });
    store.createHealthMonitor({ name: 'hm', type: 'HTTP', delay: 20, timeout: 10, maxRetries: 3 });
    v1.associateHealthMonitor('mypool', 'hm');
    expect(store.list('loadbalancer-pool'), 'nothing in the store before the VIP').to.deep.equal([]);
    expect(v1.state().pools.map((p) => [p.name, p.members.length, p.healthMonitor])).to.deep.equal([['mypool', 2, 'hm']]);

    v1.createVip({ name: 'myvip', pool: 'mypool', protocol: 'HTTP', port: 80, subnet: '20.1.1.0/24' });
    expect(store.get('loadbalancer', 'myvip')).to.include({ provider: 'opencontrail', virtualNetwork: VIPNET, vipAddress: '20.1.1.2' });
    expect(store.get('loadbalancer-listener', 'myvip-listener')).to.include({ loadBalancer: 'myvip', protocol: 'HTTP', port: 80 });
    expect(store.get('loadbalancer-pool', 'mypool')).to.include({ listener: 'myvip-listener', method: 'ROUND_ROBIN', healthMonitor: 'hm' });
    expect(store.list('loadbalancer-member').map((m) => [m.address, m.port, m.subnet])).to.deep.equal([['10.1.1.2', 80, '10.1.1.0/24'], ['10.1.1.3', 80, '10.1.1.0/24']]);
    expect(v1.state()).to.deep.equal({ pools: [], vips: { myvip: 'mypool' } });

    const [si] = store.serviceInstances();
    expect(si.poolNetwork).to.equal(POOLNET);
    expect(si.instances.every((p) => p.poolInterface !== undefined)).to.equal(true);
    const cfg = haproxyConfig(si);
    expect(cfg).to.contain('frontend myvip-listener\n   bind 20.1.1.2:80\n   mode http\n   default_backend mypool');
    expect(cfg).to.contain('   server mypool:10.1.1.2:80 10.1.1.2:80 weight 1 check inter 20s fall 3 rise 1');

    // after the VIP, v1 calls reach the v2 objects
    v1.createMember({ pool: 'mypool', address: '10.1.1.4', port: 80, weight: 2 });
    expect(store.list('loadbalancer-member')).to.have.length(3);
    v1.associateHealthMonitor('mypool', null);
    expect(store.get('loadbalancer-pool', 'mypool')).to.not.have.property('healthMonitor');
  });

  it('deleting the VIP puts pool and members back; the pool goes only without VIP', () => {
    const { store, v1 } = seedExample();
    v1.createPool({ name: 'mypool', subnet: POOLNET });
    v1.createMember({ pool: 'mypool', address: '10.1.1.2', port: 80 });
    v1.createMember({ pool: 'mypool', address: '10.1.1.3', port: 80 });
    v1.createVip({ name: 'myvip', pool: 'mypool', protocol: 'HTTP', port: 80, subnet: VIPNET });
    expect(() => v1.deletePool('mypool')).to.throw(ConfigError, 'loadbalancer-pool mypool: is in use by VIP myvip; delete the VIP first');
    v1.deleteVip('myvip');
    expect(store.list('loadbalancer')).to.deep.equal([]);
    expect(store.serviceInstances()).to.deep.equal([]);
    expect(v1.state().pools[0].members.map((m) => m.address)).to.deep.equal(['10.1.1.2', '10.1.1.3']);
    v1.deletePool('mypool');
    expect(v1.state().pools).to.deep.equal([]);
  });

  it('answers bad input precisely', () => {
    const { v1 } = seedExample();
    expect(() => v1.createVip({ name: 'v', pool: 'nope', protocol: 'HTTP', port: 80, subnet: VIPNET })).to.throw(ConfigError, 'loadbalancer v: pool: pool nope does not exist (create it with lb-pool-create)');
    expect(() => v1.createPool({ name: 'p', subnet: '99.0.0.0/8' })).to.throw(ConfigError, 'loadbalancer-pool p: subnet: 99.0.0.0/8 is neither a network nor inside a subnet of one');
    expect(() => v1.createPool({ name: 'p', method: 'RANDOM' })).to.throw(ConfigError, 'loadbalancer-pool p: method: "RANDOM" is not one of ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP');
    v1.createPool({ name: 'p' });
    expect(() => v1.createMember({ pool: 'p', address: '10.1.1', port: 80 })).to.throw(ConfigError, 'address: "10.1.1" is not an IPv4 address');
  });
});
