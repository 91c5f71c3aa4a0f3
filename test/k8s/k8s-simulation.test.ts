// The "done when", on a running simulation: kubectl JSON of a two-port service with three
// endpoints on three nodes → an LB `<ns>-<svc>` (VIP = clusterIP, two listeners) and the VIP with three
// next-hops in every compute's pod-network FIB; a watch event that drops an endpoint removes its member
// and moves no surviving flow.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import type { ApplyResponse } from '../../src/k8s/k8s-api.ts';

const POD_NETWORK = 'default-domain:k8s-default:k8s-default-pod-network';
const LB = 'ns-user-1-service-web-clusterip-mp';
const VIP = '10.96.0.89';
const cluster = readFileSync(new URL('../../topologies/k8s/three-node-cluster.json', import.meta.url), 'utf8');

describe('kube-manager in a running simulation', function () {
  this.timeout(60_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => {
    // No node map: the Nodes' InternalIPs (127.0.24.x) name the computes.
    const result = validateTopology({
      name: 'k8s-done-when',
      controlNodes: [{ name: 'control-1', address: '127.0.14.1', xmppPort: 5269, bgpPort: 1179 }],
      computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.24.${i}` })),
      networks: [{ name: POD_NETWORK, subnets: ['10.32.0.0/12', '10.96.0.0/12'] }],
      workloads: [{ name: 'client', compute: 'compute-1', network: POD_NETWORK, address: '10.47.255.250' }],
      k8s: { podNetwork: { name: POD_NETWORK }, serviceNetwork: { name: POD_NETWORK } },
    });
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    sim = await Simulation.start(result.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });
  after(async () => sim?.stop());

  it('turns a kubectl List into a two-listener LB whose VIP has three next-hops on every compute', async () => {
    const applied = await ctx.request<ApplyResponse>('POST', '/api/k8s/apply', { text: cluster });
    expect(applied.summary).to.deep.include({ error: 0 });
    const lbs = await ctx.request<{ name: string; vipAddress: string; provider: string }[]>('GET', '/api/config/loadbalancer');
    expect(lbs.find((lb) => lb.name === LB)).to.include({ vipAddress: VIP, provider: 'native' });
    const listeners = await ctx.request<{ loadBalancer: string; port: number }[]>('GET', '/api/config/loadbalancer-listener');
    expect(listeners.filter((l) => l.loadBalancer === LB).map((l) => l.port)).to.deep.equal([8888, 9999]);
    for (const compute of ['compute-1', 'compute-2', 'compute-3']) {
      const slots = await ctx.eventually(`${compute}: ${VIP} has 3 next-hops`, () => ctx.slots(compute, VIP), (s) => s.filter((x) => !x.empty).length === 3, { timeoutMs: 10_000 });
      expect(slots.filter((s) => !s.empty).map((s) => s.address).sort()).to.deep.equal(['127.0.24.1', '127.0.24.2', '127.0.24.3']);
    }
    const fib = await ctx.request<{ vrf: string; routes: { prefix: string }[] }[]>('GET', '/api/nodes/compute-2/fib');
    expect(fib.find((v) => v.routes.some((r) => r.prefix === `${VIP}/32`))?.vrf).to.match(/^default-domain:k8s-default:k8s-default-pod-network:/);
  });

  it('removes the member of an endpoint a watch event drops, and moves no surviving flow', async () => {
    const flows = await ctx.openFlows({ from: 'client', to: `${VIP}:9999`, count: 900 });
    expect(flows.opened.delivered).to.equal(900);
    expect(flows.opened.members).to.have.length(3);
    const endpoints = JSON.parse(cluster).items.find((o: { kind: string; metadata: { name: string } }) => o.kind === 'Endpoints' && o.metadata.name === 'service-web-clusterip-mp');
    const dropped = endpoints.subsets[0].addresses.pop() as { ip: string; nodeName: string };
    endpoints.metadata.resourceVersion = '2000';
    const watch = `${JSON.stringify({ type: 'MODIFIED', object: endpoints }, null, 2)}\n`;
    const applied = await ctx.request<ApplyResponse>('POST', '/api/k8s/apply', { text: watch });
    expect(applied.results[0].config).to.deep.equal([
      `delete loadbalancer-member ${LB}-TCP-8888-pool:${dropped.ip}:80`,
      `delete loadbalancer-member ${LB}-TCP-9999-pool:${dropped.ip}:90`,
    ]);
    await ctx.eventually('compute-1: 2 next-hops', () => ctx.slots('compute-1', VIP), (s) => s.filter((x) => !x.empty).length === 2, { timeoutMs: 10_000 });
    const resent = await flows.resend();
    const gone = flows.opened.members.filter((m) => m.member.endsWith(`webserver-7c7c458cc5-kzq5r`));
    expect(resent.delivered).to.equal(900);
    expect(resent.moved).to.equal(gone.reduce((n, m) => n + m.flows, 0));
    expect(Object.keys(resent.movedFrom ?? {})).to.deep.equal(gone.map((m) => m.member));
  });
});

describe('kube-manager with separate pod and service networks (connected by its policy)', function () {
  this.timeout(60_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => {
    const result = validateTopology({
      name: 'k8s-separate',
      controlNodes: [{ name: 'control-1', address: '127.0.14.1', xmppPort: 5269, bgpPort: 1179 }],
      computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.24.${i}` })),
      networks: [{ name: POD_NETWORK, subnets: ['10.32.0.0/12'] }],
      workloads: [{ name: 'client', compute: 'compute-1', network: POD_NETWORK, address: '10.47.255.250' }],
    });
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    sim = await Simulation.start(result.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });
  after(async () => sim?.stop());

  it("puts the service network's VIP into the pod VRF with its ECMP next-hops, and replies find the client", async () => {
    const applied = await ctx.request<ApplyResponse>('POST', '/api/k8s/apply', { text: cluster });
    expect(applied.summary).to.deep.include({ error: 0 });
    const lb = (await ctx.request<{ name: string; virtualNetwork: string }[]>('GET', '/api/config/loadbalancer')).find((l) => l.name === LB);
    expect(lb?.virtualNetwork).to.equal('default-domain:k8s-default:k8s-default-service-network');
    await ctx.eventually('compute-1: the VIP in the pod VRF with 3 next-hops', () => ctx.slots('compute-1', VIP), (s) => s.filter((x) => !x.empty).length === 3, { timeoutMs: 10_000 });
    const fib = await ctx.request<{ vrf: string; routes: { prefix: string }[] }[]>('GET', `/api/nodes/compute-1/fib?vrf=${encodeURIComponent(POD_NETWORK)}`);
    expect(fib[0].routes.map((r) => r.prefix)).to.include(`${VIP}/32`);
    const flows = await ctx.openFlows({ from: 'client', to: `${VIP}:8888`, count: 300 });
    expect(flows.opened.delivered).to.equal(300);
    expect(flows.opened.members).to.have.length(3);
  });

  it('serves the streaming POST /api/k8s/sync on the simulation HTTP server: a watch DELETED removes the LB', async () => {
    const url = await sim.serve('127.0.0.1', 0);
    const service = JSON.parse(cluster).items.find((o: { kind: string; metadata: { name: string } }) => o.kind === 'Service' && o.metadata.name === 'service-web-clusterip-mp');
    service.metadata.resourceVersion = '9000';
    const response = await fetch(`${url}/api/k8s/sync`, { method: 'POST', body: `${JSON.stringify({ type: 'DELETED', object: service })}\n` });
    expect(response.status).to.equal(200);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { action?: string });
    expect(lines.map((l) => l.action ?? 'summary')).to.deep.equal(['deleted', 'summary']);
    const lbs = await ctx.request<{ name: string }[]>('GET', '/api/config/loadbalancer');
    expect(lbs.map((l) => l.name)).to.not.include(LB);
  });
});
