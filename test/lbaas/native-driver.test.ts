import { expect } from 'chai';
import { nativeDriverHook, nativeHealthCheckName, reconcileNativeLoadBalancers, type NativeDriverInput } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import type { PortMapping } from '../../src/model/objects.ts';

const VN = 'default-domain:demo:svc-vn';

/** client + web-a/b/c on their computes, lb1 (VIP .100) TCP 80 → pool1 with web-a and web-b on 8080. */
function demoStore(): ConfigStore {
  const store = new ConfigStore({ asn: 64512, reconcile: nativeDriverHook });
  store.batch(() => {
    store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
    const workloads: [string, string, string][] = [
      ['client', 'compute-1', '30.30.30.2'],
      ['web-a', 'compute-2', '30.30.30.10'],
      ['web-b', 'compute-3', '30.30.30.11'],
      ['web-c', 'compute-4', '30.30.30.12'],
    ];
    for (const [name, compute, address] of workloads) {
      store.createVirtualMachineInterface({ name, virtualNetwork: VN, compute });
      store.createInstanceIp({ name, virtualMachineInterface: name, address });
    }
    store.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '30.30.30.100' });
    store.createListener({ name: 'listener1', loadBalancer: 'lb1', protocol: 'TCP', port: 80 });
    store.createPool({ name: 'pool1', listener: 'listener1' });
    store.createMember({ name: 'm-a', pool: 'pool1', address: '30.30.30.10', port: 8080 });
    store.createMember({ name: 'm-b', pool: 'pool1', address: '30.30.30.11', port: 8080 });
  });
  return store;
}

interface FipView {
  name: string;
  address: string;
  parent: string | undefined;
  direction: string;
  enable: boolean;
  mappings: string[];
  vmis: string[];
  user: boolean;
}

const mapping = (m: PortMapping) => `${m.protocol} ${m.srcPort}->${m.dstPort}`;

function fips(store: ConfigStore): FipView[] {
  return store.list('floating-ip').map((fip) => ({
    name: fip.name,
    address: fip.address,
    parent: fip.parentInstanceIp,
    direction: fip.direction,
    enable: fip.portMappingsEnable,
    mappings: fip.portMappings.map(mapping),
    vmis: [...fip.virtualMachineInterfaces],
    user: fip.userCreated,
  }));
}

const LB_FIP = 'lb1-vip:native-lb-lb1';
const lbFip = (mappings: string[], vmis: string[]): FipView => ({
  name: LB_FIP,
  address: '30.30.30.100',
  parent: 'lb1-vip',
  direction: 'ingress',
  enable: mappings.length > 0,
  mappings,
  vmis,
  user: false,
});

interface DriverCase {
  name: string;
  change: (store: ConfigStore) => void;
  fips: FipView[];
  warnings?: string[];
  problems?: string[];
}

const CASES: DriverCase[] = [
  {
    name: 'create: one ingress FIP, child of the VIP instance-ip, TCP 80 → 8080 on both member VMIs',
    change: () => {},
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b'])],
  },
  {
    name: 'member add attaches its VMI',
    change: (s) => s.createMember({ pool: 'pool1', address: '30.30.30.12', port: 8080 }),
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b', 'web-c'])],
  },
  {
    name: 'member remove detaches its VMI and keeps the mapping',
    change: (s) => s.deleteMember('m-a'),
    fips: [lbFip(['TCP 80->8080'], ['web-b'])],
  },
  {
    name: "the last member's removal drops the mapping",
    change: (s) => s.batch(() => (s.deleteMember('m-a'), s.deleteMember('m-b'))),
    fips: [lbFip([], [])],
  },
  {
    name: 'listener port change rewrites the mapping, keeping the target port',
    change: (s) => s.updateListener('listener1', { port: 8000 }),
    fips: [lbFip(['TCP 8000->8080'], ['web-a', 'web-b'])],
  },
  {
    name: 'listener protocol change to UDP',
    change: (s) => s.updateListener('listener1', { protocol: 'UDP' }),
    fips: [lbFip(['UDP 80->8080'], ['web-a', 'web-b'])],
  },
  {
    name: 'HTTP listener maps as TCP',
    change: (s) => s.updateListener('listener1', { protocol: 'HTTP' }),
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b'])],
  },
  {
    name: 'several listeners: one mapping each, member VMIs of all pools',
    change: (s) =>
      s.batch(() => {
        s.createListener({ name: 'dns', loadBalancer: 'lb1', protocol: 'UDP', port: 53 });
        s.createPool({ name: 'dns-pool', listener: 'dns' });
        s.createMember({ pool: 'dns-pool', address: '30.30.30.12', port: 5353 });
      }),
    fips: [lbFip(['TCP 80->8080', 'UDP 53->5353'], ['web-a', 'web-b', 'web-c'])],
  },
  {
    name: 'LB delete removes its FIP',
    change: (s) => s.deleteLoadBalancer('lb1', { cascade: true }),
    fips: [],
  },
  {
    name: 'LB suspended (admin-state down) drops its FIP',
    change: (s) => s.updateLoadBalancer('lb1', { adminState: false }),
    fips: [],
  },
  {
    name: 'a member address that matches no VMI is reported, not fatal',
    change: (s) => s.createMember({ name: 'm-ghost', pool: 'pool1', address: '30.30.30.77', port: 8080 }),
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b'])],
    problems: ['lb1 loadbalancer-member m-ghost: address 30.30.30.77 matches no virtual-machine-interface; the member is left out'],
  },
  {
    name: "differing target ports: the first member's wins, with a warning",
    change: (s) => s.createMember({ name: 'm-c', pool: 'pool1', address: '30.30.30.12', port: 9090 }),
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b', 'web-c'])],
    warnings: [
      'lb1 loadbalancer-member m-c: target port 9090 differs from 8080 of the first member m-a; all members of listener listener1 receive port 8080 (Contrail keys mappings by protocol and listener port)',
    ],
  },
  {
    name: "the first member's port wins even after it changes",
    change: (s) => s.updateMember('m-a', { port: 7070 }),
    fips: [lbFip(['TCP 80->7070'], ['web-a', 'web-b'])],
    warnings: [
      'lb1 loadbalancer-member m-b: target port 8080 differs from 7070 of the first member m-a; all members of listener listener1 receive port 7070 (Contrail keys mappings by protocol and listener port)',
    ],
  },
  {
    name: 'admin-down member stays (the native driver ignores admin-state) and is flagged',
    change: (s) => s.updateMember('m-b', { adminState: false }),
    fips: [lbFip(['TCP 80->8080'], ['web-a', 'web-b'])],
    warnings: ['lb1 loadbalancer-member m-b: admin-state down is ignored by the native driver: the member stays in the ECMP set (as in Contrail)'],
  },
  {
    name: "a member whose workload goes away is dropped and reported",
    change: (s) => s.batch(() => (s.deleteInstanceIp('web-b'), s.deleteVirtualMachineInterface('web-b'))),
    fips: [lbFip(['TCP 80->8080'], ['web-a'])],
    problems: ['lb1 loadbalancer-member m-b: address 30.30.30.11 matches no virtual-machine-interface; the member is left out'],
  },
  {
    name: 'a user FIP on the VIP VMI is taken over: ingress, mappings, members',
    change: (s) => s.createFloatingIp({ name: 'user-fip', instanceIp: 'lb1-vip', direction: 'both', virtualMachineInterfaces: ['lb1-vip'] }),
    fips: [
      lbFip(['TCP 80->8080'], ['web-a', 'web-b']),
      { name: 'user-fip', address: '30.30.30.100', parent: 'lb1-vip', direction: 'ingress', enable: true, mappings: ['TCP 80->8080'], vmis: ['lb1-vip', 'web-a', 'web-b'], user: true },
    ],
  },
  {
    name: 'LB delete returns user FIPs to direction both, no mappings, on the VIP VMI only',
    change: (s) => {
      s.createFloatingIp({ name: 'user-fip', instanceIp: 'lb1-vip', direction: 'egress', virtualMachineInterfaces: ['lb1-vip'] });
      s.deleteLoadBalancer('lb1', { cascade: true });
    },
    fips: [{ name: 'user-fip', address: '30.30.30.100', parent: 'lb1-vip', direction: 'both', enable: false, mappings: [], vmis: ['lb1-vip'], user: true }],
  },
];

const notice = (n: { loadBalancer: string; object: string; message: string }) => `${n.loadBalancer} ${n.object}: ${n.message}`;

describe('lbaas/native driver (docs/protocol.md §8.2)', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const store = demoStore();
      testCase.change(store);
      expect(fips(store)).to.deep.equal(testCase.fips);
      expect(store.lbaasReport.warnings.map(notice)).to.deep.equal(testCase.warnings ?? []);
      expect(store.lbaasReport.problems.map(notice)).to.deep.equal(testCase.problems ?? []);
    });
  }

  it('is pure: same input, same output, input untouched, stable uuids', () => {
    const store = demoStore();
    const input: NativeDriverInput = {
      virtualNetworks: store.list('virtual-network'),
      virtualMachineInterfaces: store.list('virtual-machine-interface'),
      instanceIps: store.list('instance-ip'),
      floatingIps: [],
      userFloatingIpRefs: new Map(),
      loadBalancers: store.list('loadbalancer'),
      listeners: store.list('loadbalancer-listener'),
      pools: store.list('loadbalancer-pool'),
      members: store.list('loadbalancer-member'),
      healthMonitors: store.list('loadbalancer-healthmonitor'),
    };
    const before = JSON.stringify(input, (_key, value) => (value instanceof Map ? [...value] : value));
    const first = reconcileNativeLoadBalancers(input);
    const second = reconcileNativeLoadBalancers(input);
    expect(second).to.deep.equal(first);
    expect(JSON.stringify(input, (_key, value) => (value instanceof Map ? [...value] : value))).to.equal(before);
    expect(first.floatingIps[0].uuid).to.equal(store.list('floating-ip')[0].uuid);
    expect(first.floatingIps[0].uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('prefers the VIP network when a member address exists in two networks, and says so', () => {
    const store = demoStore();
    store.createVirtualNetwork({ name: 'default-domain:demo:other-vn', subnets: ['30.30.30.0/24'] });
    store.createVirtualMachineInterface({ name: 'twin', virtualNetwork: 'default-domain:demo:other-vn', compute: 'compute-9' });
    store.createInstanceIp({ name: 'twin', virtualMachineInterface: 'twin', address: '30.30.30.10' });
    expect(fips(store)[0].vmis).to.deep.equal(['web-a', 'web-b']);
    expect(store.lbaasReport.warnings.map(notice)).to.deep.equal([
      'lb1 loadbalancer-member m-a: address 30.30.30.10 belongs to several interfaces (web-a, twin); using web-a (give the member a subnet to choose)',
    ]);
  });
});

interface CheckView {
  name: string;
  type: string;
  monitor: string;
  delay: number;
  timeout: number;
  retries: number;
  urlPath?: string;
  vmis: string[];
}

function checks(store: ConfigStore): CheckView[] {
  return store.serviceHealthChecks().map((c) => ({
    name: c.name,
    type: `${c.healthCheckType}/${c.monitorType}`,
    monitor: c.healthMonitor,
    delay: c.delay,
    timeout: c.timeout,
    retries: c.maxRetries,
    ...(c.urlPath === undefined ? {} : { urlPath: c.urlPath }),
    vmis: [...c.virtualMachineInterfaces],
  }));
}

const HM = nativeHealthCheckName('hm');
const hmCheck = (vmis: string[], type = 'link-local/PING', extra: Partial<CheckView> = {}): CheckView => ({
  name: HM, type, monitor: 'hm', delay: 2, timeout: 1, retries: 3, vmis, ...extra,
});

interface HealthCase {
  name: string;
  change: (store: ConfigStore) => void;
  checks: CheckView[];
  problems?: string[];
}

/** Every case starts from the demo store plus a TCP monitor `hm` (delay 2, timeout 1, retries 3) not yet on a pool. */
const HEALTH_CASES: HealthCase[] = [
  { name: 'a monitor no pool uses makes no service-health-check', change: () => {}, checks: [] },
  {
    name: 'monitor on the pool: one link-local check (TCP → PING) referenced by every member VMI',
    change: (s) => s.updatePool('pool1', { healthMonitor: 'hm' }),
    checks: [hmCheck(['web-a', 'web-b'])],
  },
  {
    name: 'HTTP monitor → HTTP check with its url-path',
    change: (s) => {
      s.updateHealthMonitor('hm', { type: 'HTTP', urlPath: '/healthz' });
      s.updatePool('pool1', { healthMonitor: 'hm' });
    },
    checks: [hmCheck(['web-a', 'web-b'], 'link-local/HTTP', { urlPath: '/healthz' })],
  },
  {
    name: 'HTTPS monitor → HTTP check, url-path defaults to /',
    change: (s) => {
      s.updateHealthMonitor('hm', { type: 'HTTPS' });
      s.updatePool('pool1', { healthMonitor: 'hm' });
    },
    checks: [hmCheck(['web-a', 'web-b'], 'link-local/HTTP', { urlPath: '/' })],
  },
  {
    name: 'PING monitor → PING check; monitor updates follow',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.updateHealthMonitor('hm', { type: 'PING', delay: 7, maxRetries: 5 });
    },
    checks: [hmCheck(['web-a', 'web-b'], 'link-local/PING', { delay: 7, retries: 5 })],
  },
  {
    name: 'a new member VMI joins the check, a deleted one leaves it',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.createMember({ name: 'm-c', pool: 'pool1', address: '30.30.30.12', port: 8080 });
      s.deleteMember('m-a');
    },
    checks: [hmCheck(['web-b', 'web-c'])],
  },
  {
    name: 'the last member gone: no check until a member comes back',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.deleteMember('m-a');
      s.deleteMember('m-b');
    },
    checks: [],
  },
  {
    name: 'a member whose address matches no VMI adds no reference',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.createMember({ name: 'm-x', pool: 'pool1', address: '30.30.30.99', port: 8080 });
    },
    checks: [hmCheck(['web-a', 'web-b'])],
    problems: ['lb1 loadbalancer-member m-x: address 30.30.30.99 matches no virtual-machine-interface; the member is left out'],
  },
  {
    name: 'monitor detached from the pool: the check goes',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.updatePool('pool1', { healthMonitor: null });
    },
    checks: [],
  },
  {
    name: 'LB suspended (admin down) or deleted: the check goes with its FIPs',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.updateLoadBalancer('lb1', { adminState: false });
    },
    checks: [],
  },
  {
    name: 'one monitor on two pools: one check, members of both',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.createListener({ name: 'listener2', loadBalancer: 'lb1', protocol: 'TCP', port: 443 });
      s.createPool({ name: 'pool2', listener: 'listener2', healthMonitor: 'hm' });
      s.createMember({ name: 'm2-b', pool: 'pool2', address: '30.30.30.11', port: 8443 });
      s.createMember({ name: 'm2-c', pool: 'pool2', address: '30.30.30.12', port: 8443 });
    },
    checks: [hmCheck(['web-a', 'web-b', 'web-c'])],
  },
  {
    name: 'two monitors on two pools: a check each, a VMI in both pools references both',
    change: (s) => {
      s.updatePool('pool1', { healthMonitor: 'hm' });
      s.createHealthMonitor({ name: 'hm2', type: 'HTTP', delay: 1, timeout: 1, maxRetries: 1, urlPath: '/up' });
      s.createListener({ name: 'listener2', loadBalancer: 'lb1', protocol: 'TCP', port: 443 });
      s.createPool({ name: 'pool2', listener: 'listener2', healthMonitor: 'hm2' });
      s.createMember({ name: 'm2-b', pool: 'pool2', address: '30.30.30.11', port: 8443 });
    },
    checks: [
      hmCheck(['web-a', 'web-b']),
      { name: nativeHealthCheckName('hm2'), type: 'link-local/HTTP', monitor: 'hm2', delay: 1, timeout: 1, retries: 1, urlPath: '/up', vmis: ['web-b'] },
    ],
  },
];

describe('lbaas/native driver: health monitors → service-health-checks (docs/protocol.md §8.2 step 5)', () => {
  for (const testCase of HEALTH_CASES) {
    it(testCase.name, () => {
      const store = demoStore();
      store.createHealthMonitor({ name: 'hm', type: 'TCP', delay: 2, timeout: 1, maxRetries: 3 });
      testCase.change(store);
      expect(checks(store)).to.deep.equal(testCase.checks);
      expect(store.lbaasReport.problems.map(notice)).to.deep.equal(testCase.problems ?? []);
      expect(store.snapshot().serviceHealthChecks.map((c) => c.name)).to.deep.equal(testCase.checks.map((c) => c.name));
    });
  }

  it('a refused transaction leaves the previous checks in place', () => {
    const store = demoStore();
    store.createHealthMonitor({ name: 'hm', type: 'TCP', delay: 2, timeout: 1, maxRetries: 3 });
    store.updatePool('pool1', { healthMonitor: 'hm' });
    expect(() =>
      store.batch(() => {
        store.deleteMember('m-a');
        store.createMember({ name: 'bad', pool: 'pool1', address: 'not-an-address', port: 8080 });
      }),
    ).to.throw();
    expect(checks(store)).to.deep.equal([hmCheck(['web-a', 'web-b'])]);
  });

  it('names and uuids are deterministic and tell the checks apart', () => {
    const build = () => {
      const store = demoStore();
      store.createHealthMonitor({ name: 'hm', type: 'TCP' });
      store.updatePool('pool1', { healthMonitor: 'hm' });
      return store.serviceHealthChecks()[0];
    };
    const first = build();
    expect(first.name).to.equal('hm:service-health-check');
    expect(build().uuid).to.equal(first.uuid);
    expect(first.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.uuid).to.not.equal(buildFipUuid());
    function buildFipUuid(): string {
      const store = demoStore();
      return store.list('floating-ip')[0].uuid;
    }
  });

  it('configForCompute gives a compute only the checks of its own VMIs', () => {
    const store = demoStore();
    store.createHealthMonitor({ name: 'hm', type: 'TCP' });
    store.updatePool('pool1', { healthMonitor: 'hm' });
    expect(store.configForCompute('compute-2').serviceHealthChecks.map((c) => c.name)).to.deep.equal([HM]);
    expect(store.configForCompute('compute-1').serviceHealthChecks).to.deep.equal([]);
  });
});
