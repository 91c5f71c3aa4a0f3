import { expect } from 'chai';
import { ConfigError } from '../../src/model/config-error.ts';
import { ConfigStore, type ConfigChange } from '../../src/model/config-store.ts';
import { NO_RECONCILE, type ReconcileHook, type ReconcileInput } from '../../src/model/reconcile-hook.ts';

const VN = 'default-domain:demo:vn';

describe('model/config store: the reconcile hook and change events', () => {
  it('needs a hook: a store without one is a programming error', () => {
    expect(() => new ConfigStore({} as never)).to.throw(TypeError, 'reconcile hook');
  });

  it('runs the hook once per transaction, at its end, with the objects and the user FIP refs', () => {
    const inputs: ReconcileInput[] = [];
    const store = new ConfigStore({ reconcile: (input) => (inputs.push(input), NO_RECONCILE(input)) });
    store.batch(() => {
      store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/24'] });
      store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN });
      store.createInstanceIp({ name: 'a', virtualMachineInterface: 'a' });
      store.createFloatingIp({ name: 'f', instanceIp: 'a', virtualMachineInterfaces: ['a'] });
    });
    expect(inputs).to.have.length(1);
    expect(inputs[0].virtualMachineInterfaces.map((vmi) => vmi.name)).to.deep.equal(['a']);
    expect([...inputs[0].userFloatingIpRefs]).to.deep.equal([['f', ['a']]]);
    // NO_RECONCILE keeps the user's floating-ip
    expect(store.get('floating-ip', 'f')?.virtualMachineInterfaces).to.deep.equal(['a']);
  });

  it('writes the floating-ips the hook wants and removes the others, in the same change event', () => {
    const wantFip: ReconcileHook = (input) => ({
      floatingIps: input.instanceIps.map((iip) => ({
        kind: 'floating-ip' as const,
        uuid: `fip-${iip.name}`,
        name: `${iip.name}:derived`,
        address: iip.address,
        virtualNetwork: iip.virtualNetwork,
        parentInstanceIp: iip.name,
        direction: 'ingress' as const,
        portMappingsEnable: false,
        portMappings: [],
        virtualMachineInterfaces: [iip.virtualMachineInterface],
        userCreated: false,
      })),
      serviceHealthChecks: [],
      warnings: [{ loadBalancer: 'x', object: 'y', message: 'z' }],
      problems: [],
    });
    const store = new ConfigStore({ reconcile: wantFip });
    const events: string[][] = [];
    store.onChange((changes) => events.push(changes.map((c) => `${c.op} ${c.kind} ${c.name}`)));
    store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/24'] });
    store.batch(() => {
      store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN });
      store.createInstanceIp({ name: 'a', virtualMachineInterface: 'a' });
    });
    expect(events[1]).to.deep.equal(['create virtual-machine-interface a', 'create instance-ip a', 'create floating-ip a:derived']);
    expect(store.lbaasReport.warnings).to.have.length(1);
    store.deleteInstanceIp('a');
    expect(events[2]).to.deep.equal(['delete instance-ip a', 'delete floating-ip a:derived']);
  });

  it('a hook that throws refuses the change: nothing changed, nothing announced, the report kept', () => {
    let fail = false;
    const store = new ConfigStore({
      reconcile: (input) => {
        if (fail) throw new ConfigError('loadbalancer', 'lb', 'the driver refuses');
        return { ...NO_RECONCILE(input), warnings: [{ loadBalancer: 'lb', object: 'o', message: 'kept' }] };
      },
    });
    store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/24'] });
    const before = JSON.stringify(store.snapshot());
    const events: ConfigChange[][] = [];
    store.onChange((changes) => events.push([...changes]));
    fail = true;
    expect(() => store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN })).to.throw(ConfigError, 'the driver refuses');
    expect(JSON.stringify(store.snapshot())).to.equal(before);
    expect(store.lbaasReport.warnings.map((w) => w.message)).to.deep.equal(['kept']);
    expect(events).to.deep.equal([]);
    fail = false;
    store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN });
    expect(events).to.have.length(1);
  });

  it('listeners see the committed store; a throwing listener does not undo the commit or starve the others', () => {
    const store = new ConfigStore({ reconcile: NO_RECONCILE });
    const seen: (string | undefined)[] = [];
    store.onChange(() => {
      throw new Error('listener bug');
    });
    store.onChange(() => seen.push(store.get('virtual-network', VN)?.name));
    expect(() => store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/24'] })).to.throw('listener bug');
    expect(seen).to.deep.equal([VN]);
    expect(store.get('virtual-network', VN)).to.not.equal(undefined);
  });

  it('a refused IPAM allocation inside a batch releases the addresses reserved earlier in it', () => {
    const store = new ConfigStore({ reconcile: NO_RECONCILE });
    store.createVirtualNetwork({ name: VN, subnets: ['10.0.0.0/30'] });
    store.createVirtualMachineInterface({ name: 'a', virtualNetwork: VN });
    const next = store.nextFreeAddress(VN);
    expect(() =>
      store.batch(() => {
        store.createInstanceIp({ name: 'a1', virtualMachineInterface: 'a' });
        store.createInstanceIp({ name: 'a2', virtualMachineInterface: 'a' });
      }),
    ).to.throw(ConfigError, 'no free address');
    expect(store.nextFreeAddress(VN)).to.equal(next);
    expect(store.list('instance-ip')).to.deep.equal([]);
  });
});
