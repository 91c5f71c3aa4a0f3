// A whole simulation with XMPP over TLS (docs/protocol.md §2.3), files named in the topology relative to it:
// every agent authenticates with its own certificate, and the client's compute receives the VIP's ECMP
// item over TLS. Certificates are made by openssl into a temp dir (test/xmpp/test-certificates.ts).
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTopologyFile, validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { TestPki } from '../xmpp/test-certificates.ts';

const VIP = '30.30.30.100';
const NET = 'default-domain:demo:svc-vn';

function topology(withAuth: Record<string, unknown>): Record<string, unknown> {
  const node = (name: string) => ({ certFile: `${name}.pem`, keyFile: `${name}.key` });
  return {
    name: 'xmpp-tls',
    controlNodes: [{ name: 'control-1', address: '127.6.40.1', xmppPort: 5269, bgpPort: 1179, xmppAuth: node('control-1') }],
    computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.6.41.${i}`, xmppAuth: node(`compute-${i}`) })),
    networks: [{ name: NET, subnets: ['30.30.30.0/24'] }],
    workloads: [
      { name: 'client', compute: 'compute-1', network: NET, address: '30.30.30.2' },
      { name: 'web-a', compute: 'compute-2', network: NET, address: '30.30.30.10' },
      { name: 'web-b', compute: 'compute-3', network: NET, address: '30.30.30.11' },
    ],
    loadBalancers: [{ name: 'lb1', provider: 'native', network: NET, vip: VIP,
      listeners: [{ name: 'listener1', protocol: 'TCP', port: 80, pool: { name: 'pool1', algorithm: 'ROUND_ROBIN',
        members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.11', port: 8080 }] } }] }],
    xmppAuth: withAuth,
  };
}

describe('simulation with XMPP over TLS (xmppAuth)', function () {
  this.timeout(60_000);
  let pki: TestPki;

  before(() => {
    pki = TestPki.create();
    pki.issue('control-1', { addresses: ['127.6.40.1'] });
    for (const i of [1, 2, 3]) pki.issue(`compute-${i}`);
  });

  after(() => pki.remove());

  for (const mode of ['in-process', 'processes'] as const) {
    it(`every agent authenticates over TLS and receives the VIP’s ECMP item (${mode})`, async () => {
      const file = path.join(pki.dir, 'topology.json');
      writeFileSync(file, JSON.stringify(topology({ enable: true, caFile: 'ca.pem' }), null, 2));
      const loaded = await loadTopologyFile(file);
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      expect(loaded.topology.computes[0].xmppAuth?.certFile, 'relative to the topology file').to.equal(pki.file('compute-1.pem'));
      const sim = await Simulation.start(loaded.topology, { mode, topologyFile: file, endOfRibQuietMs: 200 });
      try {
        const ctx = new ScenarioContext(sim.api);
        await ctx.expectVipMembers(VIP, { 'compute-1': 2 }, { timeoutMs: 30_000 });
        expect(await ctx.nextHops('compute-1', VIP)).to.have.members(['127.6.41.2', '127.6.41.3']);
        const status = await ctx.request<{ agents: { name: string; stats: { tls: boolean } }[] }>('GET', '/api/nodes/control-1/status');
        expect(status.agents.map((a) => `${a.name} ${a.stats.tls}`).sort()).to.deep.equal(['compute-1 true', 'compute-2 true', 'compute-3 true']);
      } finally {
        await sim.stop();
      }
    });
  }

  it('refuses a topology that enables xmppAuth without a CA or a node certificate, naming the field', () => {
    const noCa = validateTopology(topology({ enable: true }));
    expect(noCa.ok).to.equal(false);
    if (!noCa.ok) expect(noCa.errors.map((e) => `${e.path}: ${e.message}`)).to.include('xmppAuth.caFile: required when xmppAuth is enabled');
    const t = topology({ enable: true, caFile: 'ca.pem' }) as { computes: { xmppAuth?: unknown }[] };
    delete t.computes[2].xmppAuth;
    const noCert = validateTopology(t);
    expect(noCert.ok).to.equal(false);
    if (!noCert.ok) expect(noCert.errors.map((e) => e.path)).to.include.members(['computes[2].xmppAuth.certFile', 'computes[2].xmppAuth.keyFile']);
  });
});
