// What an agent makes of a haproxy in its config (docs/protocol.md §8.4): the document's round trip,
// the proxy's interfaces and the VIP published with the role's local preference.
import { expect } from 'chai';
import { planAgent, routeKey } from '../../src/vrouter/agent-plan.ts';
import { exportEntry } from '../../src/vrouter/route-export.ts';
import { decodeAgentConfig, encodeAgentConfig, ConfigDecodeError, type AgentConfig, type ConfigServiceInstance } from '../../src/xmpp/config-stanza.ts';

const SVC = 'default-domain:demo:svc-vn';
const SVC_VRF = `${SVC}:svc-vn`;
const POOL = 'default-domain:demo:pool-vn';
const POOL_VRF = `${POOL}:pool-vn`;

const STANDBY: ConfigServiceInstance = {
  name: 'lb1-haproxy', role: 'standby', localPreference: 100, vip: '30.30.30.100', vipNetwork: SVC, vipInterface: 'lb1-haproxy-standby-vip',
  poolNetwork: POOL, poolAddress: '40.40.40.253', poolInterface: 'lb1-haproxy-standby-pool',
  frontends: [{
    listener: 'listener1', protocol: 'HTTP', port: 80, pool: 'pool1', method: 'SOURCE_IP',
    monitor: { type: 'HTTP', delay: 5, timeout: 2, maxRetries: 3, urlPath: '/h' },
    servers: [{ member: 'm-a', address: '40.40.40.10', port: 8080, weight: 2, adminState: true }],
  }],
};

function config(serviceInstances: ConfigServiceInstance[]): AgentConfig {
  return {
    generation: 3,
    hashFields: ['source-ip', 'destination-ip', 'ip-protocol', 'source-port', 'destination-port'],
    encapsulationPriorities: ['MPLSoUDP'],
    networks: [
      { name: SVC, routingInstance: SVC_VRF, vnIndex: 1, routeTarget: 'target:64512:8000001' },
      { name: POOL, routingInstance: POOL_VRF, vnIndex: 2, routeTarget: 'target:64512:8000002' },
    ],
    interfaces: [],
    floatingIps: [],
    healthChecks: [],
    serviceInstances,
  };
}

describe('a haproxy in the agent’s config', () => {
  it('round-trips through the config document', () => {
    const original = config([STANDBY]);
    const xml = encodeAgentConfig('compute-4', original);
    expect(xml).to.contain('<service-instance name="lb1-haproxy" role="standby" local-preference="100" vip="30.30.30.100"');
    expect(xml).to.contain('<server member="m-a" address="40.40.40.10" port="8080" weight="2" admin-state="true"/>');
    expect(decodeAgentConfig(xml).serviceInstances).to.deep.equal(original.serviceInstances);
  });

  it('refuses a malformed service-instance with the reason', () => {
    const xml = encodeAgentConfig('compute-4', config([STANDBY])).replace('role="standby"', 'role="spare"');
    expect(() => decodeAgentConfig(xml)).to.throw(ConfigDecodeError, '<service-instance> role="spare" is not one of active, standby');
  });

  it('plans both interfaces and publishes each /32 with the role’s local preference', () => {
    const plan = planAgent(config([STANDBY]));
    expect(plan.interfaces.map((i) => [i.name, i.vrf, i.ip])).to.deep.equal([
      ['lb1-haproxy-standby-vip', SVC_VRF, '30.30.30.100'],
      ['lb1-haproxy-standby-pool', POOL_VRF, '40.40.40.253'],
    ]);
    const vip = plan.exports.get(routeKey(SVC_VRF, '30.30.30.100/32'))!;
    expect(vip).to.include({ labelKey: 'vmi:lb1-haproxy-standby-vip', localPreference: 100 });
    expect(plan.exports.get(routeKey(POOL_VRF, '40.40.40.253/32'))).to.include({ localPreference: 100 });
    expect(plan.liveInterfaces.has('lb1-haproxy-standby-pool')).to.equal(true);
    expect(plan.serviceInstances).to.deep.equal([STANDBY]);
    const entry = exportEntry({ ...vip, label: 18 }, '127.3.20.4', '02:00:7f:03:14:04');
    expect(entry.localPreference).to.equal(100);
  });

  it('skips a haproxy whose network the config lacks, naming it', () => {
    const plan = planAgent({ ...config([STANDBY]), networks: config([]).networks.slice(0, 1) });
    expect(plan.skipped).to.deep.equal([{ interface: 'lb1-haproxy-standby-pool', network: POOL }]);
    expect(plan.serviceInstances).to.deep.equal([]);
  });
});
