// The config channel's north-south additions: a VMI's shared addresses and a floating IP's fixed ip.
import { expect } from 'chai';
import { decodeAgentConfig, encodeAgentConfig, type AgentConfig } from '../../src/xmpp/config-stanza.ts';

describe('xmpp/config channel: shared addresses and fixed-ip floating IPs', () => {
  it('round-trips <shared-address> and fixed-ip', () => {
    const config: AgentConfig = {
      generation: 3, hashFields: ['source-ip', 'destination-ip'], encapsulationPriorities: ['MPLSoUDP'],
      networks: [{ name: 'public', routingInstance: 'public:public', vnIndex: 2, routeTarget: 'target:64512:8000002' }],
      interfaces: [{ name: 'se-1', network: 'public', address: '19.1.1.6', mac: '02:00:00:00:00:01', sharedAddresses: ['19.1.1.7/32', '19.1.1.64/28'] }],
      floatingIps: [{ name: 'vs2-fip', address: '10.1.11.4', network: 'public', direction: 'both', portMappingsEnable: false, portMappings: [], interfaces: ['se-1'], maglev: false, fixedIp: '19.1.1.7' }],
      healthChecks: [],
    };
    const text = encodeAgentConfig('compute-1', config);
    expect(text).to.include('<shared-address prefix="19.1.1.7/32"/><shared-address prefix="19.1.1.64/28"/>');
    expect(text).to.include('fixed-ip="19.1.1.7"');
    const decoded = decodeAgentConfig(text);
    expect(decoded.interfaces[0]).to.deep.include({ sharedAddresses: ['19.1.1.7/32', '19.1.1.64/28'] });
    expect(decoded.floatingIps[0]).to.deep.include({ fixedIp: '19.1.1.7' });
  });
});
