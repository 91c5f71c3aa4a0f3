import { expect } from 'chai';
import { ConfigError } from '../../src/model/config-error.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { agentConfigFor } from '../../src/control/agent-config.ts';
import { configSource } from '../../src/control/config-source.ts';

const VN = 'default-domain:demo:svc-vn';
const PUBLIC = 'default-domain:admin:public';

function store(): ConfigStore {
  const s = new ConfigStore({ asn: 64512, reconcile: nativeDriverHook });
  s.createVirtualNetwork({ name: VN, subnets: ['19.1.1.0/24'] });
  s.createVirtualNetwork({ name: PUBLIC, subnets: ['10.1.11.0/24'] });
  for (const [name, address, compute] of [['se-1', '19.1.1.6', 'compute-1'], ['se-2', '19.1.1.4', 'compute-2']]) {
    s.createVirtualMachineInterface({ name, virtualNetwork: VN, compute });
    s.createInstanceIp({ name, virtualMachineInterface: name, address });
  }
  return s;
}

function refusal(work: () => unknown): ConfigError {
  try {
    work();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}

const globals = { hashFields: [], encapsulationPriorities: ['MPLSoUDP'] };

describe('model/north-south: shared VIPs, allowed-address-pairs, floating-ip pools', () => {
  it('puts one active-active address on several VMIs and scales it out and in', () => {
    const s = store();
    const vip = s.createInstanceIp({ name: 'vs2-vip', virtualMachineInterface: 'se-1', address: '19.1.1.7', mode: 'active-active' });
    expect(vip.virtualMachineInterfaces).to.equal(undefined);
    const out = s.updateInstanceIp('vs2-vip', { virtualMachineInterfaces: ['se-1', 'se-2'] });
    expect(out.virtualMachineInterfaces).to.deep.equal(['se-1', 'se-2']);
    expect(s.instanceIpsOf('se-2').map((i) => i.name)).to.deep.equal(['se-2', 'vs2-vip']);
    const back = s.updateInstanceIp('vs2-vip', { virtualMachineInterfaces: ['se-1'] });
    expect(back.virtualMachineInterfaces).to.equal(undefined);
    expect(back.virtualMachineInterface).to.equal('se-1');
  });

  it('refuses an address on several VMIs unless active-active, and VMIs of another network', () => {
    const s = store();
    expect(refusal(() => s.createInstanceIp({ name: 'v', virtualMachineInterfaces: ['se-1', 'se-2'], address: '19.1.1.7' })).field).to.equal('mode');
    s.createVirtualMachineInterface({ name: 'other', virtualNetwork: PUBLIC, compute: 'compute-3' });
    const e = refusal(() => s.createInstanceIp({ name: 'v', virtualMachineInterfaces: ['se-1', 'other'], mode: 'active-active' }));
    expect(e.field).to.equal('virtualMachineInterfaces[1]');
    expect(e.reason).to.match(/is in .*public/);
    s.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '19.1.1.100' });
    const vip = s.get('loadbalancer', 'lb1')!.virtualMachineInterface;
    const vipIp = s.instanceIpsOf(vip)[0].name;
    expect(refusal(() => s.updateInstanceIp(vipIp, { mode: 'active-active', virtualMachineInterfaces: [vip, 'se-1'] })).reason).to.match(/is the VIP interface of loadbalancer lb1/);
  });

  it('tells each compute its shared addresses and active-active allowed-address-pairs', () => {
    const s = store();
    s.createInstanceIp({ name: 'vs2-vip', virtualMachineInterfaces: ['se-1', 'se-2'], address: '19.1.1.7', mode: 'active-active' });
    s.updateVirtualMachineInterface('se-2', { allowedAddressPairs: [{ prefix: '19.1.1.50', mode: 'active-active' }, { prefix: '19.1.1.51/32' }] });
    const view = configSource(s).view();
    const one = agentConfigFor('compute-1', view, globals, 1).interfaces;
    const two = agentConfigFor('compute-2', view, globals, 1).interfaces;
    expect(one).to.have.length(1);
    expect(one[0]).to.include({ address: '19.1.1.6' });
    expect(one[0].sharedAddresses).to.deep.equal(['19.1.1.7/32']);
    expect(two[0].sharedAddresses).to.deep.equal(['19.1.1.7/32', '19.1.1.50/32']);
  });

  it('allocates a pool FIP in the public network that follows a shared address to every VMI', () => {
    const s = store();
    s.createInstanceIp({ name: 'vs2-vip', virtualMachineInterface: 'se-1', address: '19.1.1.7', mode: 'active-active' });
    s.createFloatingIpPool({ name: 'public-pool', virtualNetwork: PUBLIC });
    const fip = s.createFloatingIp({ name: 'vs2-fip', pool: 'public-pool', fixedInstanceIp: 'vs2-vip' });
    expect(fip).to.include({ address: '10.1.11.2', virtualNetwork: PUBLIC, pool: 'public-pool' });
    expect(s.get('floating-ip', 'vs2-fip')?.virtualMachineInterfaces).to.deep.equal(['se-1']);
    s.updateInstanceIp('vs2-vip', { virtualMachineInterfaces: ['se-1', 'se-2'] });
    expect(s.get('floating-ip', 'vs2-fip')?.virtualMachineInterfaces).to.deep.equal(['se-1', 'se-2']);
    const two = agentConfigFor('compute-2', configSource(s).view(), globals, 1);
    expect(two.floatingIps).to.have.length(1);
    expect(two.floatingIps[0]).to.include({ address: '10.1.11.2', network: PUBLIC, fixedIp: '19.1.1.7' });
    expect(two.networks.map((n) => n.name)).to.include(PUBLIC);
    expect(refusal(() => s.deleteInstanceIp('vs2-vip')).reason).to.match(/associated/);
    expect(refusal(() => s.deleteFloatingIpPool('public-pool')).reason).to.match(/vs2-fip/);
    s.deleteFloatingIp('vs2-fip');
    expect(s.createFloatingIp({ name: 'again', pool: 'public-pool' }).address).to.equal('10.1.11.2');
  });

  it('carries a pool FIP on a native LB VIP to the members with the listener port mapping', () => {
    const s = store();
    s.batch(() => {
      s.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '19.1.1.100' });
      s.createListener({ name: 'l1', loadBalancer: 'lb1', protocol: 'TCP', port: 80 });
      s.createPool({ name: 'p1', listener: 'l1' });
      s.createMember({ name: 'm1', pool: 'p1', address: '19.1.1.6', port: 8080 });
      s.createMember({ name: 'm2', pool: 'p1', address: '19.1.1.4', port: 8080 });
    });
    s.createFloatingIpPool({ name: 'public-pool', virtualNetwork: PUBLIC });
    const vipIp = s.list('instance-ip').find((i) => i.address === '19.1.1.100')!;
    s.createFloatingIp({ name: 'lb1-fip', pool: 'public-pool', address: '10.1.11.9', fixedInstanceIp: vipIp.name });
    const fip = s.get('floating-ip', 'lb1-fip')!;
    expect(fip.loadBalancer).to.equal('lb1');
    expect(fip.virtualMachineInterfaces).to.include.members(['se-1', 'se-2']);
    expect(fip.portMappings).to.deep.equal([{ protocol: 'TCP', srcPort: 80, dstPort: 8080 }]);
    const one = agentConfigFor('compute-1', configSource(s).view(), globals, 1).floatingIps.find((f) => f.name === 'lb1-fip')!;
    expect(one.fixedIp).to.equal(undefined);
    expect(one.network).to.equal(PUBLIC);
  });

  it('refuses a pool FIP field on an instance-ip FIP, and a missing pool, with the field named', () => {
    const s = store();
    expect(refusal(() => s.createFloatingIp({ name: 'f', instanceIp: 'se-1', address: '10.1.11.3' })).field).to.equal('address');
    expect(refusal(() => s.createFloatingIp({ name: 'f', pool: 'nope' })).field).to.equal('pool');
    expect(refusal(() => s.updateFloatingIp('x', {})).reason).to.match(/does not exist|no floating-ip/);
  });
});
