// The agent plan for shared (active-active) addresses: published with the VMI's own label, once per
// compute; several local VMIs holding one address share a local composite (docs/protocol.md §7.2).
import { expect } from 'chai';
import { planAgent, routeKey } from '../../src/vrouter/agent-plan.ts';
import type { AgentConfig } from '../../src/xmpp/config-stanza.ts';

const VN = 'default-domain:avi:data-vn';
const VRF = `${VN}:data-vn`;

function config(interfaces: AgentConfig['interfaces']): AgentConfig {
  return {
    generation: 1, hashFields: ['source-ip'], encapsulationPriorities: ['MPLSoUDP'],
    networks: [{ name: VN, routingInstance: VRF, vnIndex: 1, routeTarget: 'target:64512:8000001' }],
    interfaces, floatingIps: [], healthChecks: [],
  };
}

describe('vrouter/agent plan: shared addresses', () => {
  it('publishes a shared address with the label of the one local VMI holding it, and hands the vRouter the prefix', () => {
    const plan = planAgent(config([{ name: 'se-1', network: VN, address: '19.1.1.6', mac: '02:00:00:00:00:01', sharedAddresses: ['19.1.1.7/32', '19.1.1.64/28'] }]));
    expect(plan.exports.get(routeKey(VRF, '19.1.1.7/32'))).to.include({ labelKey: 'vmi:se-1', virtualNetwork: VN });
    expect(plan.exports.get(routeKey(VRF, '19.1.1.64/28'))).to.include({ labelKey: 'vmi:se-1' });
    expect(plan.interfaces[0].sharedAddresses).to.deep.equal(['19.1.1.7/32', '19.1.1.64/28']);
    expect(plan.composites.size).to.equal(0);
  });

  it('gives several local VMIs with the same shared address one local composite and one route', () => {
    const plan = planAgent(config([
      { name: 'se-2', network: VN, address: '19.1.1.4', mac: '02:00:00:00:00:02', sharedAddresses: ['19.1.1.7/32'] },
      { name: 'se-1', network: VN, address: '19.1.1.6', mac: '02:00:00:00:00:01', sharedAddresses: ['19.1.1.7/32'] },
    ]));
    const key = `shared:${VRF}:19.1.1.7/32`;
    expect(plan.exports.get(routeKey(VRF, '19.1.1.7/32'))?.labelKey).to.equal(key);
    expect(plan.composites.get(key)).to.deep.equal({ instance: VRF, prefix: '19.1.1.7/32', interfaces: ['se-1', 'se-2'] });
    expect(plan.labelKeys).to.include(key);
  });

  it('leaves out the shared address of an L3-inactive VMI', () => {
    const plan = planAgent(config([{ name: 'se-1', network: VN, address: '19.1.1.6', mac: '02:00:00:00:00:01', sharedAddresses: ['19.1.1.7/32'] }]), new Set(['se-1']));
    expect(plan.exports.has(routeKey(VRF, '19.1.1.7/32'))).to.equal(false);
  });
});
