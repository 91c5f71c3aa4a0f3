import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildConfigStore } from '../../src/topology/config-from-topology.ts';
import { formatTopologyError, loadTopologyFile, parseTopologyText, validateTopology } from '../../src/topology/loader.ts';
import type { Topology, TopologyResult } from '../../src/topology/topology.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}.json`, import.meta.url).pathname;
const shipped = (name: string) => new URL(`../../topologies/${name}.json`, import.meta.url).pathname;

function messages(result: TopologyResult): string[] {
  expect(result.ok, 'expected the topology to be refused').to.equal(false);
  return result.ok ? [] : result.errors.map(formatTopologyError);
}

function accepted(result: TopologyResult): Topology {
  if (!result.ok) expect.fail(result.errors.map(formatTopologyError).join('\n'));
  return result.topology;
}

// one fixture per kind of error: each is the default topology with one thing broken
const ERROR_CASES: { fixture: string; errors: string[] }[] = [
  { fixture: 'duplicate-compute-address', errors: ['computes[3].address: 127.0.20.1 is already used by compute-1'] },
  { fixture: 'duplicate-node-name', errors: ['computes[3].name: control-1 is already used by controlNodes[0]'] },
  { fixture: 'address-outside-loopback', errors: ['computes[1].address: 10.0.0.2 is outside 127.0.0.0/8 (nodes run on loopback addresses only)'] },
  { fixture: 'workload-on-unknown-compute', errors: ['workloads[2].compute: compute-9 is not a compute (known: compute-1, compute-2, compute-3)'] },
  { fixture: 'workload-unknown-network', errors: ['workloads[0].network: default-domain:demo:other-vn is not a network (known: default-domain:demo:svc-vn)'] },
  { fixture: 'duplicate-workload-name', errors: ['workloads[2].name: web-a is already used by workloads[1]'] },
  { fixture: 'duplicate-workload-address', errors: ['workloads[2].address: 30.30.30.10 is already used by web-a'] },
  { fixture: 'workload-address-outside-subnet', errors: ['workloads[1].address: 30.30.31.10 is outside the subnets 30.30.30.0/24'] },
  { fixture: 'workload-broadcast-address', errors: ['workloads[1].address: 30.30.30.255 is the broadcast address of 30.30.30.0/24'] },
  { fixture: 'vip-outside-subnet', errors: ['loadBalancers[0].vip: 40.0.0.1 is outside the subnets 30.30.30.0/24'] },
  {
    fixture: 'vip-clashes-with-workload',
    errors: ['loadBalancers[0].vip: 30.30.30.11 is already used by web-b', 'loadBalancers[0].listeners[0].pool.members[1].address: 30.30.30.11 is the VIP of lb1'],
  },
  {
    fixture: 'member-outside-subnet',
    errors: ['loadBalancers[0].listeners[0].pool.members[1].address: 30.30.99.11 is outside the subnets of default-domain:demo:svc-vn (30.30.30.0/24)'],
  },
  {
    fixture: 'duplicate-member',
    errors: ['loadBalancers[0].listeners[0].pool.members[1].address: 30.30.30.10 port 8080 is already a member (loadBalancers[0].listeners[0].pool.members[0])'],
  },
  {
    fixture: 'unsupported-provider',
    errors: ['loadBalancers[0].provider: must be one of "native", "opencontrail", got "octavia" (native: ECMP, proxy-less (docs/protocol.md §8.2); opencontrail: an active/standby haproxy service instance (docs/protocol.md §8.4))'],
  },
  { fixture: 'unknown-property', errors: ['computes[0].adress: is not a known property (did you mean "address"?)'] },
  { fixture: 'missing-required', errors: ['networks[0].subnets: is required'] },
  { fixture: 'bad-port-type', errors: ['loadBalancers[0].listeners[0].port: must be an integer, got "80"'] },
  { fixture: 'bad-subnet-host-bits', errors: ['networks[0].subnets[0]: 30.30.30.5/24 has host bits set (the network is 30.30.30.0/24)'] },
  { fixture: 'overlapping-subnets', errors: ['networks[0].subnets: 30.30.30.128/25 overlaps 30.30.30.0/24'] },
  { fixture: 'duplicate-listener-port', errors: ['loadBalancers[0].listeners[1].port: 80 is already used by listener listener1'] },
  { fixture: 'unknown-xmpp-server', errors: ['computes[0].xmppServers[0]: control-7 is not a control node (known: control-1)'] },
  {
    fixture: 'full-subnet',
    errors: [
      'workloads[0]: no free address left in default-domain:demo:svc-vn (30.30.30.0/30) for client',
      'workloads[1]: no free address left in default-domain:demo:svc-vn (30.30.30.0/30) for web-a',
      'workloads[2]: no free address left in default-domain:demo:svc-vn (30.30.30.0/30) for web-b',
    ],
  },
  {
    fixture: 'several-errors',
    errors: [
      'computes[2].address: 127.0.20.1 is already used by compute-1',
      'workloads[0].compute: compute-9 is not a compute (known: compute-1, compute-2, compute-3)',
      'loadBalancers[0].vip: 40.0.0.1 is outside the subnets 30.30.30.0/24',
    ],
  },
];

describe('topology loader', () => {
  describe('refuses each broken fixture with path and reason', () => {
    for (const { fixture: name, errors } of ERROR_CASES) {
      it(name, async () => {
        expect(messages(await loadTopologyFile(fixture(name)))).to.deep.equal(errors);
      });
    }
  });

  it('reports malformed JSON with line and column', () => {
    const result = parseTopologyText('{\n  "name": "x",\n  "asn" 1\n}', 'broken.json');
    expect(messages(result)).to.deep.equal(["broken.json:3:9: malformed JSON: Unexpected number"]);
  });

  it('reports truncated JSON at its end', () => {
    expect(messages(parseTopologyText('{\n "name": ', 't.json'))[0]).to.match(/^t\.json:2:10: malformed JSON: Unexpected end of JSON input/);
  });

  it('reports an unreadable file without throwing', async () => {
    expect(messages(await loadTopologyFile('/nonexistent/ecmpsim/topology.json'))[0]).to.contain('cannot read /nonexistent/ecmpsim/topology.json: ENOENT');
  });

  it('refuses non-objects at the document level', () => {
    expect(messages(validateTopology(42))).to.deep.equal(['must be an object, got 42']);
  });

  it('accepts default.json, fills defaults and allocates the client address', async () => {
    const topology = accepted(await loadTopologyFile(shipped('default')));
    expect(topology.asn).to.equal(64512);
    expect(topology.holdTimeSeconds).to.equal(90);
    expect(topology.hashFields).to.deep.equal(['source-ip', 'destination-ip', 'ip-protocol', 'source-port', 'destination-port']);
    expect(topology.encapsulationPriorities).to.deep.equal(['MPLSoGRE', 'MPLSoUDP', 'VXLAN']);
    expect(topology.controlNodes).to.deep.equal([{ name: 'control-1', address: '127.0.10.1', xmppPort: 5269, bgpPort: 1179, routerId: '127.0.10.1' }]);
    expect(topology.computes.map((c) => [c.name, c.address, c.external, c.xmppServers])).to.deep.equal([
      ['compute-1', '127.0.20.1', false, ['control-1']],
      ['compute-2', '127.0.20.2', false, ['control-1']],
      ['compute-3', '127.0.20.3', false, ['control-1']],
    ]);
    // .1 is the gateway, so the first allocation is .2
    expect(topology.workloads.map((w) => [w.name, w.address, w.mac])).to.deep.equal([
      ['client', '30.30.30.2', '02:00:1e:1e:1e:02'],
      ['web-a', '30.30.30.10', '02:00:1e:1e:1e:0a'],
      ['web-b', '30.30.30.11', '02:00:1e:1e:1e:0b'],
    ]);
    const lb = topology.loadBalancers[0];
    expect([lb.vip, lb.maglev, lb.listeners[0].port, lb.listeners[0].pool.members.map((m) => [m.address, m.port, m.weight, m.adminState])]).to.deep.equal([
      '30.30.30.100',
      false,
      80,
      [['30.30.30.10', 8080, 1, true], ['30.30.30.11', 8080, 1, true]],
    ]);
    expect(topology.bgpPeers).to.deep.equal([]);
  });

  it('default.json is the documented example topology (docs/architecture.md) without bgpPeers', () => {
    const { bgpPeers: _dropped, ...expected } = JSON.parse(readFileSync(fixture('documented-example'), 'utf8')) as Record<string, unknown>;
    expect(_dropped).to.have.length(1);
    expect(JSON.parse(readFileSync(shipped('default'), 'utf8'))).to.deep.equal(expected);
  });

  it('accepts two-control.json: 2 control nodes, 4 computes, members behind both', async () => {
    const topology = accepted(await loadTopologyFile(shipped('two-control')));
    expect(topology.controlNodes).to.have.length(2);
    expect(topology.computes).to.have.length(4);
    const memberComputes = topology.loadBalancers[0].listeners[0].pool.members.map(
      (member) => topology.computes.find((c) => c.name === topology.workloads.find((w) => w.address === member.address)?.compute)!.xmppServers[0],
    );
    expect(new Set(memberComputes)).to.deep.equal(new Set(['control-1', 'control-2']));
  });

  it('accepts sixteen-compute.json', async () => {
    const topology = accepted(await loadTopologyFile(shipped('sixteen-compute')));
    expect(topology.computes).to.have.length(16);
    expect(topology.loadBalancers[0].listeners[0].pool.members).to.have.length(15);
  });

  it('warns, without refusing, about a member that matches no workload and about differing target ports', async () => {
    const json = JSON.parse(readFileSync(shipped('default'), 'utf8'));
    json.loadBalancers[0].listeners[0].pool.members.push({ address: '30.30.30.50', port: 8080 }, { address: '30.30.30.11', port: 9090 });
    const result = validateTopology(json);
    if (!result.ok) return expect.fail(result.errors.map(formatTopologyError).join('\n'));
    expect(result.warnings.map(formatTopologyError)).to.deep.equal([
      'loadBalancers[0].listeners[0].pool.members[2].address: 30.30.30.50 is not the address of any workload: the native driver will leave this member out',
      'loadBalancers[0].listeners[0].pool.members[3]: target port 9090 differs from 8080 of the first member pool1:30.30.30.10:8080; all members of listener listener1 receive port 8080 (Contrail keys mappings by protocol and listener port)',
    ]);
  });

  it('applies optional runtime fields and refuses a third XMPP server', () => {
    const json = JSON.parse(readFileSync(shipped('two-control'), 'utf8'));
    json.holdTimeSeconds = 9;
    json.controlNodes[0].clusterId = '1.1.1.1';
    json.computes[0].external = true;
    const ok = accepted(validateTopology(structuredClone(json)));
    expect([ok.holdTimeSeconds, ok.controlNodes[0].clusterId, ok.computes[0].external, ok.computes[0].xmppServers]).to.deep.equal([9, '1.1.1.1', true, ['control-1', 'control-2']]);
    json.computes[1].xmppServers = ['control-1', 'control-2', 'control-1'];
    expect(messages(validateTopology(json))).to.deep.equal([
      'computes[1].xmppServers: must NOT have more than 2 items, got ["control-1","control-2","control-1"]',
      'computes[1].xmppServers[2]: repeats item 0',
    ]);
  });

  it('the resolved topology builds the same config store every time', async () => {
    const topology = accepted(await loadTopologyFile(shipped('default')));
    const strip = (snapshot: unknown) => JSON.parse(JSON.stringify(snapshot, (key, value) => (key === 'uuid' ? undefined : value)));
    expect(strip(buildConfigStore(topology).snapshot())).to.deep.equal(strip(buildConfigStore(topology).snapshot()));
  });
});
