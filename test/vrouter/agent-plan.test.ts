import { expect } from 'chai';
import { planAgent, routeKey, splitRouteKey } from '../../src/vrouter/agent-plan.ts';
import type { AgentConfig, ConfigFloatingIp } from '../../src/xmpp/config-stanza.ts';

const ALL_FIELDS = ['source-ip', 'destination-ip', 'ip-protocol', 'source-port', 'destination-port'] as const;
const RED = 'default-domain:admin:red';
const RED_VRF = `${RED}:red`;
const BLUE = 'default-domain:admin:blue';
const BLUE_VRF = `${BLUE}:blue`;

function config(overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    generation: 1,
    hashFields: [...ALL_FIELDS],
    encapsulationPriorities: ['MPLSoUDP', 'MPLSoGRE'],
    networks: [
      { name: RED, routingInstance: RED_VRF, vnIndex: 1, routeTarget: 'target:64512:1' },
      { name: BLUE, routingInstance: BLUE_VRF, vnIndex: 2, routeTarget: 'target:64512:2', hashFields: ['source-ip', 'destination-ip'] },
    ],
    interfaces: [
      { name: 'vmi-a', network: RED, address: '10.0.0.3', mac: '02:00:00:00:00:03' },
      { name: 'vmi-b', network: RED, address: '10.0.0.4', mac: '02:00:00:00:00:04' },
    ],
    floatingIps: [],
    healthChecks: [],
    ...overrides,
  };
}

function vip(interfaces: string[], extra: Partial<ConfigFloatingIp> = {}): ConfigFloatingIp {
  return {
    name: 'vip-fip',
    address: '192.0.2.10',
    network: BLUE,
    direction: 'ingress',
    portMappingsEnable: true,
    portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }],
    interfaces,
    maglev: false,
    ...extra,
  };
}

describe('vrouter/agent-plan', () => {
  it('plans one route, one VRF and one label per local interface', () => {
    const plan = planAgent(config());
    expect(plan.labelKeys).to.deep.equal(['vmi:vmi-a', 'vmi:vmi-b']);
    expect([...plan.instances]).to.deep.equal([[RED_VRF, RED]]);
    expect(plan.interfaces.map((i) => [i.name, i.vrf, i.ip, i.labelKey, i.virtualNetwork])).to.deep.equal([
      ['vmi-a', RED_VRF, '10.0.0.3', 'vmi:vmi-a', RED],
      ['vmi-b', RED_VRF, '10.0.0.4', 'vmi:vmi-b', RED],
    ]);
    expect(plan.exports.get(routeKey(RED_VRF, '10.0.0.3/32'))).to.deep.equal({
      instance: RED_VRF, prefix: '10.0.0.3/32', labelKey: 'vmi:vmi-a', virtualNetwork: RED, loadBalanceFields: [],
    });
    expect(plan.exports.size).to.equal(2);
    expect(plan.composites.size).to.equal(0);
    expect(plan.skipped).to.deep.equal([]);
  });

  it('publishes a floating-ip shared by two local VMIs once, through a local composite', () => {
    const plan = planAgent(config({ floatingIps: [vip(['vmi-b', 'vmi-a'], { maglev: true })] }));
    expect(plan.labelKeys).to.deep.equal(['vmi:vmi-a', 'vmi:vmi-b', 'fip:vip-fip']);
    expect([...plan.instances.keys()]).to.deep.equal([RED_VRF, BLUE_VRF]);
    expect([...plan.composites]).to.deep.equal([['fip:vip-fip', { instance: BLUE_VRF, prefix: '192.0.2.10/32', interfaces: ['vmi-a', 'vmi-b'] }]]);
    expect(plan.localMembers.get('fip:vip-fip')).to.deep.equal(['vmi-a', 'vmi-b']);
    // the FIP's network hashes on two fields: the route says so (docs/protocol.md §5)
    expect(plan.exports.get(routeKey(BLUE_VRF, '192.0.2.10/32'))).to.deep.equal({
      instance: BLUE_VRF, prefix: '192.0.2.10/32', labelKey: 'fip:vip-fip', virtualNetwork: BLUE,
      loadBalanceFields: ['l3-source-address', 'l3-destination-address'],
    });
    expect([...plan.maglevPrefixes]).to.deep.equal(['192.0.2.10/32']);
    expect(plan.interfaces[0].floatingIps).to.deep.equal([{
      address: '192.0.2.10', vrf: BLUE_VRF, virtualNetwork: BLUE, portMappingsEnable: true,
      portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }], direction: 'ingress',
    }]);
  });

  it('leaves out the routes of an L3-inactive VMI and shrinks the composite to the one left', () => {
    const plan = planAgent(config({ floatingIps: [vip(['vmi-a', 'vmi-b'])] }), new Set(['vmi-a']));
    expect(plan.exports.has(routeKey(RED_VRF, '10.0.0.3/32'))).to.equal(false);
    expect(plan.exports.get(routeKey(RED_VRF, '10.0.0.4/32'))?.labelKey).to.equal('vmi:vmi-b');
    expect(plan.composites.size).to.equal(0);
    expect(plan.localMembers.get('fip:vip-fip')).to.deep.equal(['vmi-b']);
    expect(plan.exports.get(routeKey(BLUE_VRF, '192.0.2.10/32'))?.labelKey).to.equal('vmi:vmi-b');
    // the inactive VMI keeps its interface and label: only its routes go
    expect(plan.interfaces.map((i) => i.name)).to.deep.equal(['vmi-a', 'vmi-b']);
    expect(plan.labelKeys).to.deep.equal(['vmi:vmi-a', 'vmi:vmi-b']);
  });

  it('publishes no VIP when none of its VMIs is local and active, and skips interfaces of unknown networks', () => {
    const plan = planAgent(config({
      interfaces: [
        { name: 'vmi-a', network: RED, address: '10.0.0.3', mac: '02:00:00:00:00:03', hashFields: ['destination-ip'] },
        { name: 'vmi-x', network: 'default-domain:admin:gone', address: '10.9.0.3', mac: '02:00:00:00:09:03' },
      ],
      floatingIps: [vip(['vmi-a'])],
    }), new Set(['vmi-a']));
    expect(plan.skipped).to.deep.equal([{ interface: 'vmi-x', network: 'default-domain:admin:gone' }]);
    expect(plan.liveInterfaces).to.deep.equal(new Set(['vmi-a', 'vmi-x']));
    expect(plan.exports.size).to.equal(0);
    expect([...plan.instances.keys()]).to.deep.equal([RED_VRF]);
    expect(plan.interfaces[0].hashFields).to.deep.equal(['destination-ip']);
  });

  it('a VMI’s own hash fields win over its network’s; all five fields send no list', () => {
    const plan = planAgent(config({
      interfaces: [{ name: 'vmi-a', network: BLUE, address: '10.1.0.3', mac: '02:00:00:01:00:03', hashFields: [...ALL_FIELDS] }],
    }));
    expect(plan.exports.get(routeKey(BLUE_VRF, '10.1.0.3/32'))?.loadBalanceFields).to.deep.equal([]);
  });

  it('is pure: the same snapshot gives the same plan and is left as it was', () => {
    const snapshot = config({ floatingIps: [vip(['vmi-a', 'vmi-b'])] });
    const copy = structuredClone(snapshot);
    expect(planAgent(snapshot)).to.deep.equal(planAgent(snapshot));
    expect(snapshot).to.deep.equal(copy);
  });

  it('route keys split back into VRF and prefix', () => {
    expect(splitRouteKey(routeKey(RED_VRF, '10.0.0.3/32'))).to.deep.equal([RED_VRF, '10.0.0.3/32']);
  });
});
