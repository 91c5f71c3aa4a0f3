import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigError } from '../../src/model/config-error.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore, type ConfigChange } from '../../src/model/config-store.ts';

const VN = 'default-domain:demo:svc-vn';

function storeWithNetwork(asn = 64512): ConfigStore {
  const store = new ConfigStore({ asn, reconcile: nativeDriverHook });
  store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
  return store;
}

function workload(store: ConfigStore, name: string, address?: string, compute = 'compute-1'): void {
  store.batch(() => {
    store.createVirtualMachineInterface({ name, virtualNetwork: VN, compute });
    store.createInstanceIp({ name, virtualMachineInterface: name, ...(address ? { address } : {}) });
  });
}

function lbWithPool(store: ConfigStore): void {
  store.batch(() => {
    store.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '30.30.30.100' });
    store.createListener({ name: 'l1', loadBalancer: 'lb1', protocol: 'TCP', port: 80 });
    store.createPool({ name: 'p1', listener: 'l1' });
  });
}

/** Runs `work`, expects a ConfigError with these fields, and that nothing in the store changed. */
function refused(store: ConfigStore, work: () => unknown, expected: Partial<Pick<ConfigError, 'kind' | 'objectName' | 'field' | 'reason'>>): void {
  const before = JSON.stringify(store.snapshot());
  let events = 0;
  const off = store.onChange(() => events++);
  try {
    work();
    expect.fail('expected a ConfigError');
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect(error).to.include(expected);
  } finally {
    off();
  }
  expect(JSON.stringify(store.snapshot())).to.equal(before);
  expect(events).to.equal(0);
}

describe('model/config store', () => {
  describe('virtual networks', () => {
    it('numbers VNs from 1 with auto route targets and default routing instances', () => {
      const store = storeWithNetwork();
      const second = store.createVirtualNetwork({ name: 'default-domain:demo:db-vn', subnets: ['40.0.0.0/24'] });
      expect([store.get('virtual-network', VN)?.vnIndex, second.vnIndex]).to.deep.equal([1, 2]);
      expect(second.routeTarget).to.equal('target:64512:8000002');
      expect(second.routingInstance).to.equal('default-domain:demo:db-vn:db-vn');
    });

    it('uses the 4-byte ASN base 8000', () => {
      expect(storeWithNetwork(4200000000).get('virtual-network', VN)?.routeTarget).to.equal('target:4200000000:8001');
    });

    it('reuses the lowest free vn-index after a delete', () => {
      const store = storeWithNetwork();
      store.createVirtualNetwork({ name: 'b', subnets: ['40.0.0.0/24'] });
      store.deleteVirtualNetwork(VN);
      expect(store.createVirtualNetwork({ name: 'c', subnets: ['50.0.0.0/24'] }).vnIndex).to.equal(1);
    });

    it('refuses bad subnets and duplicate names', () => {
      const store = storeWithNetwork();
      refused(store, () => store.createVirtualNetwork({ name: VN, subnets: ['1.0.0.0/24'] }), { field: 'name', reason: 'already exists' });
      refused(store, () => store.createVirtualNetwork({ name: 'x', subnets: ['1.0.0.0/24', '1.0.0.0/25'] }), { field: 'subnets', reason: '1.0.0.0/25 overlaps 1.0.0.0/24' });
      refused(store, () => store.createVirtualNetwork({ name: 'x', subnets: ['1.0.0.7/24'] }), { field: 'subnets[0]' });
      refused(store, () => store.createVirtualNetwork({ name: 'x', subnets: 'nope' as never }), { field: 'subnets' });
      refused(store, () => store.createVirtualNetwork({ name: 'x', subnets: ['1.0.0.0/24'], hashFields: ['source-ip', 'colour' as never] }), { field: 'hashFields[1]' });
    });
  });

  describe('refs and parents', () => {
    it('refuses refs to missing objects, naming the field', () => {
      const store = storeWithNetwork();
      refused(store, () => store.createVirtualMachineInterface({ name: 'v', virtualNetwork: 'nope' }), {
        kind: 'virtual-machine-interface',
        field: 'virtualNetwork',
        reason: 'virtual-network nope does not exist',
      });
      refused(store, () => store.createListener({ name: 'l', loadBalancer: 'lb9', protocol: 'TCP', port: 80 }), { field: 'loadBalancer', reason: 'loadbalancer lb9 does not exist' });
    });

    it('refuses deleting what others depend on, with the reason', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      lbWithPool(store);
      store.createHealthMonitor({ name: 'hm', type: 'TCP' });
      store.updatePool('p1', { healthMonitor: 'hm' });
      refused(store, () => store.deleteVirtualNetwork(VN), {
        reason: 'is still used by virtual-machine-interface web-a, virtual-machine-interface lb1-vip, instance-ip web-a, instance-ip lb1-vip, loadbalancer lb1',
      });
      refused(store, () => store.deleteVirtualMachineInterface('web-a'), { reason: 'is still used by instance-ip web-a' });
      refused(store, () => store.deleteLoadBalancer('lb1'), { reason: 'is still used by loadbalancer-listener l1' });
      refused(store, () => store.deleteListener('l1'), { reason: 'is still used by loadbalancer-pool p1' });
      refused(store, () => store.deleteHealthMonitor('hm'), { reason: 'is still used by loadbalancer-pool p1' });
      refused(store, () => store.deleteMember('nope'), { reason: 'does not exist' });
      store.createFloatingIp({ name: 'f', instanceIp: 'web-a', virtualMachineInterfaces: ['web-a'] });
      refused(store, () => store.deleteInstanceIp('web-a'), { reason: 'floating-ip f is its child; delete it first' });
    });

    it('cascade deletes an LB with its listeners, pools, members, VIP VMI and instance-ip in one change', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      lbWithPool(store);
      store.createMember({ pool: 'p1', address: '30.30.30.10', port: 8080 });
      const seen: ConfigChange[][] = [];
      store.onChange((changes) => seen.push([...changes]));
      store.deleteLoadBalancer('lb1', { cascade: true });
      expect(seen).to.have.length(1);
      expect(seen[0].map((c) => `${c.op} ${c.kind} ${c.name}`).sort()).to.deep.equal(
        [
          'delete floating-ip lb1-vip:native-lb-lb1',
          'delete instance-ip lb1-vip',
          'delete loadbalancer lb1',
          'delete loadbalancer-listener l1',
          'delete loadbalancer-member p1:30.30.30.10:8080',
          'delete loadbalancer-pool p1',
          'delete virtual-machine-interface lb1-vip',
        ].sort(),
      );
      expect(store.nextFreeAddress(VN)).to.equal('30.30.30.2');
      expect(store.instanceIpsOf('lb1-vip')).to.deep.equal([]);
    });
  });

  describe('load balancer objects', () => {
    it('refuses other providers with a clear message', () => {
      const store = storeWithNetwork();
      refused(store, () => store.createLoadBalancer({ name: 'lb', provider: 'octavia', virtualNetwork: VN }), {
        field: 'provider',
        reason: '"octavia" is not supported: use "native" (ECMP, docs/protocol.md §8.2) or "opencontrail" (haproxy service instance, docs/protocol.md §8.4)',
      });
    });

    it('checks listener, pool and member fields', () => {
      const store = storeWithNetwork();
      lbWithPool(store);
      refused(store, () => store.createListener({ name: 'l2', loadBalancer: 'lb1', protocol: 'SCTP' as never, port: 81 }), { field: 'protocol' });
      refused(store, () => store.createListener({ name: 'l2', loadBalancer: 'lb1', protocol: 'TCP', port: 0 }), { field: 'port' });
      refused(store, () => store.createListener({ name: 'l2', loadBalancer: 'lb1', protocol: 'UDP', port: 80 }), { field: 'port', reason: '80 is already used by listener l1 of loadbalancer lb1' });
      refused(store, () => store.createPool({ name: 'p2', listener: 'l1' }), { field: 'listener', reason: 'l1 already has pool p1 (one pool per listener)' });
      refused(store, () => store.createMember({ pool: 'p1', address: '30.30.30.300', port: 80 }), { field: 'address' });
      refused(store, () => store.createMember({ pool: 'p1', address: '30.30.30.10', port: 80, subnet: '40.0.0.0/24' }), { field: 'subnet', reason: '30.30.30.10 is not inside 40.0.0.0/24' });
      store.createMember({ pool: 'p1', address: '30.30.30.10', port: 80 });
      refused(store, () => store.createMember({ name: 'again', pool: 'p1', address: '30.30.30.10', port: 80 }), { field: 'address' });
      refused(store, () => store.updateMember('p1:30.30.30.10:80', { weight: -1 }), { field: 'weight' });
      refused(store, () => store.createHealthMonitor({ name: 'hm', type: 'PING', urlPath: '/x' }), { field: 'urlPath' });
    });

    it('allocates the VIP when none is given and refuses a taken one', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      refused(store, () => store.createLoadBalancer({ name: 'lb', virtualNetwork: VN, vipAddress: '30.30.30.10' }), {
        field: 'vipAddress',
        reason: '30.30.30.10 is already used by instance-ip web-a',
      });
      expect(store.createLoadBalancer({ name: 'lb', virtualNetwork: VN }).vipAddress).to.equal('30.30.30.2');
    });
  });

  describe('IPAM through the store', () => {
    it('allocates, refuses duplicates and reserved addresses, releases on delete, reports a full subnet', () => {
      const store = new ConfigStore({ reconcile: nativeDriverHook });
      store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/29'] });
      workload(store, 'a');
      expect(store.get('instance-ip', 'a')?.address).to.equal('10.0.0.2');
      store.createVirtualMachineInterface({ name: 'b', virtualNetwork: VN });
      refused(store, () => store.createInstanceIp({ name: 'b', virtualMachineInterface: 'b', address: '10.0.0.2' }), { field: 'address', reason: '10.0.0.2 is already used by instance-ip a' });
      refused(store, () => store.createInstanceIp({ name: 'b', virtualMachineInterface: 'b', address: '10.0.0.7' }), { field: 'address', reason: '10.0.0.7 is the broadcast address of 10.0.0.0/29' });
      refused(store, () => store.createInstanceIp({ name: 'b', virtualMachineInterface: 'b', address: '10.0.1.2' }), { field: 'address', reason: '10.0.1.2 is outside the subnets 10.0.0.0/29' });
      for (const name of ['c', 'd', 'e']) workload(store, name);
      store.createInstanceIp({ name: 'b', virtualMachineInterface: 'b' });
      refused(store, () => workload(store, 'g'), { field: 'address', reason: `no free address left in ${VN} (10.0.0.0/29)` });
      store.deleteInstanceIp('c');
      expect(store.nextFreeAddress(VN)).to.equal('10.0.0.3');
    });
  });

  describe('transactions', () => {
    it('a failing batch changes nothing: objects, IPAM, driver output, events', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      lbWithPool(store);
      refused(
        store,
        () =>
          store.batch(() => {
            store.createMember({ pool: 'p1', address: '30.30.30.10', port: 8080 });
            workload(store, 'web-b', '30.30.30.11');
            store.deleteVirtualMachineInterface('web-a');
          }),
        { kind: 'virtual-machine-interface', objectName: 'web-a' },
      );
      expect(store.nextFreeAddress(VN)).to.equal('30.30.30.2');
      workload(store, 'web-b', '30.30.30.11');
    });

    it('emits one coalesced event per transaction, derived floating-ips included', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      lbWithPool(store);
      const seen: string[][] = [];
      store.onChange((changes) => seen.push(changes.map((c) => `${c.op} ${c.kind} ${c.name}`)));
      store.createMember({ name: 'm', pool: 'p1', address: '30.30.30.10', port: 8080 });
      store.updateMember('m', { weight: 1 });
      expect(seen).to.deep.equal([['create loadbalancer-member m', 'update floating-ip lb1-vip:native-lb-lb1']]);
    });

    it('keeps the first member first after a refused delete (order decides the mapping port)', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      workload(store, 'web-b', '30.30.30.11');
      lbWithPool(store);
      store.createMember({ name: 'm1', pool: 'p1', address: '30.30.30.10', port: 8080 });
      store.createMember({ name: 'm2', pool: 'p1', address: '30.30.30.11', port: 9090 });
      expect(() => store.batch(() => (store.deleteMember('m1'), store.deleteVirtualNetwork(VN)))).to.throw(ConfigError);
      expect(store.list('loadbalancer-member').map((m) => m.name)).to.deep.equal(['m1', 'm2']);
      expect(store.list('floating-ip')[0].portMappings).to.deep.equal([{ protocol: 'TCP', srcPort: 80, dstPort: 8080 }]);
    });

    it('property: random member changes, valid or not, keep FIP refs equal to the VMIs of the current members', () => {
      const addresses = ['30.30.30.10', '30.30.30.11', '30.30.30.12', '30.30.30.99', 'bogus'];
      const op = fc.oneof(
        fc.record({ kind: fc.constant('add' as const), address: fc.constantFrom(...addresses), port: fc.integer({ min: -1, max: 3 }) }),
        fc.record({ kind: fc.constant('remove' as const), index: fc.nat(5) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
          const store = storeWithNetwork();
          workload(store, 'a', '30.30.30.10');
          workload(store, 'b', '30.30.30.11');
          workload(store, 'c', '30.30.30.12');
          lbWithPool(store);
          for (const step of ops) {
            const before = JSON.stringify(store.snapshot());
            try {
              if (step.kind === 'add') store.createMember({ pool: 'p1', address: step.address, port: step.port });
              else {
                const member = store.list('loadbalancer-member')[step.index];
                store.deleteMember(member ? member.name : 'missing');
              }
            } catch (error) {
              expect(error).to.be.instanceOf(ConfigError);
              expect(JSON.stringify(store.snapshot())).to.equal(before);
            }
            const byAddress: Record<string, string> = { '30.30.30.10': 'a', '30.30.30.11': 'b', '30.30.30.12': 'c' };
            const members = store.list('loadbalancer-member');
            const expectedRefs = [...new Set(members.map((m) => byAddress[m.address]).filter(Boolean))];
            const fip = store.list('floating-ip')[0];
            expect(fip.virtualMachineInterfaces).to.deep.equal(expectedRefs);
            const first = members.find((m) => byAddress[m.address]);
            expect(fip.portMappings).to.deep.equal(first ? [{ protocol: 'TCP', srcPort: 80, dstPort: first.port }] : []);
          }
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('reading', () => {
    it('snapshot is plain JSON and holds every kind', () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10');
      lbWithPool(store);
      const snapshot = store.snapshot();
      expect(JSON.parse(JSON.stringify(snapshot))).to.deep.equal(snapshot);
      expect(Object.keys(snapshot.objects)).to.have.length(11);
      expect(snapshot.objects['virtual-machine-interface'].map((v) => v.name)).to.deep.equal(['web-a', 'lb1-vip']);
    });

    it("gives a compute its VMIs, their instance-ips and the FIPs attached to them", () => {
      const store = storeWithNetwork();
      workload(store, 'web-a', '30.30.30.10', 'compute-2');
      workload(store, 'client', '30.30.30.2', 'compute-1');
      lbWithPool(store);
      store.createMember({ pool: 'p1', address: '30.30.30.10', port: 8080 });
      const config = store.configForCompute('compute-2');
      expect(config.virtualMachineInterfaces.map((v) => [v.name, v.mac, v.virtualNetwork])).to.deep.equal([['web-a', store.get('virtual-machine-interface', 'web-a')?.mac, VN]]);
      expect(config.instanceIps.map((i) => i.address)).to.deep.equal(['30.30.30.10']);
      expect(config.floatingIps.map((f) => [f.address, f.virtualNetwork, f.direction])).to.deep.equal([['30.30.30.100', VN, 'ingress']]);
      expect(store.configForCompute('compute-1').floatingIps).to.deep.equal([]);
      const uuid = store.get('loadbalancer', 'lb1')!.uuid;
      expect(store.getByUuid(uuid)?.name).to.equal('lb1');
    });

    it('refuses a MAC already used in the same network', () => {
      const store = storeWithNetwork();
      store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN, mac: '02:00:00:00:00:01' });
      refused(store, () => store.createVirtualMachineInterface({ name: 'b', virtualNetwork: VN, mac: '02:00:00:00:00:01' }), { field: 'mac', reason: `02:00:00:00:00:01 is already used by a in ${VN}` });
      refused(store, () => store.createVirtualMachineInterface({ name: 'b', virtualNetwork: VN, mac: '02:00:00:00:00:0G' }), { field: 'mac' });
    });
  });
});
