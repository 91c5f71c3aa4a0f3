// The config channel tells each agent the service-health-checks of its own VMIs (§8.2 step 5): what
// agentConfigFor selects, how the /config document carries it, and what the decoder refuses.
import { expect } from 'chai';
import { agentConfigFor, type ConfigView } from '../../src/control/agent-config.ts';
import { configSource } from '../../src/control/config-source.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { ConfigDecodeError, decodeAgentConfig, encodeAgentConfig, type AgentConfig } from '../../src/xmpp/config-stanza.ts';

const VN = 'default-domain:demo:svc-vn';
const GLOBALS = { hashFields: [], encapsulationPriorities: ['MPLSoUDP'] };

function store(): ConfigStore {
  const s = new ConfigStore({ reconcile: nativeDriverHook });
  s.batch(() => {
    s.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
    for (const [name, compute, address] of [['client', 'compute-1', '30.30.30.2'], ['web-a', 'compute-2', '30.30.30.10'], ['web-b', 'compute-3', '30.30.30.11'], ['web-c', 'compute-3', '30.30.30.12']]) {
      s.createVirtualMachineInterface({ name, virtualNetwork: VN, compute });
      s.createInstanceIp({ name, virtualMachineInterface: name, address });
    }
    s.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '30.30.30.100' });
    s.createListener({ name: 'l1', loadBalancer: 'lb1', protocol: 'HTTP', port: 80 });
    s.createHealthMonitor({ name: 'hm', type: 'HTTPS', delay: 3, timeout: 2, maxRetries: 4, urlPath: '/ready' });
    s.createPool({ name: 'p1', listener: 'l1', healthMonitor: 'hm' });
    s.createMember({ pool: 'p1', address: '30.30.30.10', port: 8080 });
    s.createMember({ pool: 'p1', address: '30.30.30.11', port: 8080 });
  });
  return s;
}

function view(s: ConfigStore): ConfigView {
  return configSource(s).view();
}

const CHECK = { name: 'hm:service-health-check', type: 'link-local', monitorType: 'HTTP', delay: 3, timeout: 2, maxRetries: 4, urlPath: '/ready' };

describe('config channel: service-health-checks of local VMIs (§8.2 step 5)', () => {
  it('a member compute learns the check and which of its VMIs it probes; others learn nothing', () => {
    const s = store();
    const c3 = agentConfigFor('compute-3', view(s), GLOBALS, 1);
    expect(c3.healthChecks).to.deep.equal([CHECK]);
    expect(c3.interfaces.map((i) => [i.name, i.healthChecks ?? []])).to.deep.equal([['web-b', ['hm:service-health-check']], ['web-c', []]]);
    expect(agentConfigFor('compute-1', view(s), GLOBALS, 1).healthChecks).to.deep.equal([]);
    s.updatePool('p1', { healthMonitor: null });
    expect(agentConfigFor('compute-3', view(s), GLOBALS, 2).healthChecks).to.deep.equal([]);
  });

  it('survives the /config document: encode then decode gives the same config', () => {
    const config = agentConfigFor('compute-3', view(store()), GLOBALS, 7);
    const xml = encodeAgentConfig('compute-3', config);
    expect(xml).to.contain('<service-health-check name="hm:service-health-check" type="link-local" monitor-type="HTTP" delay="3" timeout="2" max-retries="4" url-path="/ready"/>');
    expect(xml).to.contain('<service-health-check-ref name="hm:service-health-check"/>');
    const decoded = decodeAgentConfig(xml);
    expect(decoded.healthChecks).to.deep.equal(config.healthChecks);
    expect(decoded.interfaces.map((i) => i.healthChecks)).to.deep.equal(config.interfaces.map((i) => i.healthChecks));
  });

  it('a PING check (from a TCP monitor) has no url-path; a VMI without checks stays a self-closed element', () => {
    const s = store();
    s.createHealthMonitor({ name: 'tcp', type: 'TCP', delay: 1, timeout: 1, maxRetries: 1 });
    s.updatePool('p1', { healthMonitor: 'tcp' });
    const config = agentConfigFor('compute-3', view(s), GLOBALS, 1);
    const xml = encodeAgentConfig('compute-3', config);
    expect(xml).to.contain('<service-health-check name="tcp:service-health-check" type="link-local" monitor-type="PING" delay="1" timeout="1" max-retries="1"/>');
    expect(xml).to.match(/<virtual-machine-interface name="web-c"[^>]*\/>/);
    expect(decodeAgentConfig(xml).healthChecks).to.deep.equal([{ name: 'tcp:service-health-check', type: 'link-local', monitorType: 'PING', delay: 1, timeout: 1, maxRetries: 1 }]);
  });

  const base = (): AgentConfig => agentConfigFor('compute-3', view(store()), GLOBALS, 1);
  const BAD: [string, (xml: string) => string, string][] = [
    ['a ref to a check the document does not define', (x) => x.replace('<service-health-check-ref name="hm:service-health-check"/>', '<service-health-check-ref name="nope"/>'), 'refers to service-health-check nope'],
    ['an unknown monitor type', (x) => x.replace('monitor-type="HTTP"', 'monitor-type="BFD"'), 'monitor-type="BFD"'],
    ['a type other than link-local', (x) => x.replace('type="link-local"', 'type="end-to-end"'), 'type="end-to-end"'],
    ['a delay that is not a positive integer', (x) => x.replace('delay="3"', 'delay="0.5"'), 'delay="0.5"'],
    ['max-retries out of range', (x) => x.replace('max-retries="4"', 'max-retries="0"'), 'max-retries="0"'],
    ['an unknown child of a VMI', (x) => x.replace('<service-health-check-ref ', '<health '), 'unknown child <health>'],
    ['a check defined twice', (x) => x.replace('</config>', `${x.slice(x.indexOf('<service-health-check '), x.indexOf('/>', x.indexOf('<service-health-check ')) + 2)}</config>`), 'defined twice'],
  ];
  for (const [name, corrupt, reason] of BAD) {
    it(`refuses ${name}`, () => {
      const xml = corrupt(encodeAgentConfig('compute-3', base()));
      expect(() => decodeAgentConfig(xml)).to.throw(ConfigDecodeError, reason);
    });
  }
});
