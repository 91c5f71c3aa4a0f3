// A simulated gateway in a running simulation: it peers with the control node over BGP, holds a native
// LB's floating IP as one path per member compute, forwards outside clients through the underlay with
// each path's label (the member compute translates the public address and port), and gets the replies
// back over its default route. Loopback 127.4.40.0/24, under the shared test lock.
import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import type { ApiResponse } from '../../src/api/api-router.ts';

const PUBLIC = 'default-domain:admin:public';
const VN = 'default-domain:demo:svc-vn';

const TOPOLOGY = {
  name: 'gateway-node-test',
  encapsulationPriorities: ['MPLSoUDP', 'MPLSoGRE'],
  controlNodes: [{ name: 'control-1', address: '127.4.40.1', bgpPort: 1179 }],
  computes: [
    { name: 'compute-1', address: '127.4.40.11' },
    { name: 'compute-2', address: '127.4.40.12' },
  ],
  networks: [
    { name: VN, subnets: ['30.30.30.0/24'] },
    { name: PUBLIC, subnets: ['10.1.11.0/24'] },
  ],
  workloads: [
    { name: 'web-a', compute: 'compute-1', network: VN, address: '30.30.30.10' },
    { name: 'web-b', compute: 'compute-2', network: VN, address: '30.30.30.11' },
  ],
  loadBalancers: [{
    name: 'lb1', network: VN, vip: '30.30.30.100',
    listeners: [{ name: 'l1', protocol: 'TCP', port: 80, pool: { name: 'p1', members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.11', port: 8080 }] } }],
  }],
  floatingIpPools: [{ name: 'public-pool', network: PUBLIC }],
  floatingIps: [{ name: 'lb1-fip', pool: 'public-pool', address: '10.1.11.9', loadBalancer: 'lb1' }],
  gateways: [{ name: 'gw-1', address: '127.4.40.30', networks: [PUBLIC], hash: 'resilient', buckets: 64 }],
};

interface GatewayRoute { prefix: string; paths: { nextHop: string; label: number; rd: string }[]; buckets?: Record<string, number> }

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const value = await probe();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('gateway/node in a simulation', function () {
  this.timeout(30_000);
  let sim: Simulation;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const url = new URL(path, 'http://simulation');
    const response: ApiResponse = await sim.api({ method, path: url.pathname, query: url.searchParams, body, params: {} });
    return { status: response.status, body: 'body' in response ? response.body : undefined };
  };
  const routes = async () => (await call('GET', '/api/nodes/gw-1/routes')).body as GatewayRoute[];

  before(async () => {
    const result = validateTopology(TOPOLOGY);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    sim = await Simulation.start(result.topology);
  });
  after(async () => sim?.stop());

  it('lists the gateway among the nodes, with its BGP session up', async () => {
    const nodes = (await call('GET', '/api/nodes')).body as { name: string; kind: string; status: { peers: { state: string }[] } }[];
    const gw = nodes.find((n) => n.name === 'gw-1');
    expect(gw?.kind).to.equal('gateway');
    await until(async () => ((await call('GET', '/api/nodes/gw-1/status')).body as { peers: { state: string }[] }).peers[0]?.state, (s) => s === 'established', 'the BGP session');
  });

  it('holds the floating IP as one VPN path per member compute, each with its own RD and label', async () => {
    const all = await until(routes, (r) => (r.find((x) => x.prefix === '10.1.11.9/32')?.paths.length ?? 0) === 2, 'two paths for 10.1.11.9');
    const fip = all.find((x) => x.prefix === '10.1.11.9/32')!;
    expect(fip.paths.map((p) => p.nextHop)).to.deep.equal(['127.4.40.11', '127.4.40.12']);
    expect(new Set(fip.paths.map((p) => p.rd)).size).to.equal(2);
    expect(fip.buckets).to.deep.equal({ '127.4.40.11': 32, '127.4.40.12': 32 });
    // the private VIP is not imported: the gateway only takes the public network's target
    expect(all.some((x) => x.prefix === '30.30.30.100/32')).to.equal(false);
  });

  it('forwards outside clients to both members, translated to member:8080, and gets the replies back', async () => {
    const run = await call('POST', '/api/traffic', { from: 'gw-1', to: '10.1.11.9:80', count: 400, sources: 40 });
    expect(run.status).to.equal(201);
    const report = run.body.report;
    expect(report.delivered).to.equal(400);
    expect(report.members.map((m: { member: string }) => m.member).sort()).to.deep.equal(['compute-1/web-a', 'compute-2/web-b']);
    expect(report.repliesFromVip).to.equal(400);
    const flows = (await call('GET', '/api/nodes/compute-1/flows?limit=5')).body as { dst?: string; nat?: unknown }[];
    expect(flows.length).to.be.greaterThan(0);
    const again = (await call('POST', `/api/nodes/gw-1/traffic/${run.body.id}/resend`)).body.report;
    expect(again).to.include({ moved: 0, broken: 0 });
  });

  it('answers bad requests with one clear line', async () => {
    const badMode = await call('PATCH', '/api/nodes/gw-1/hash', { mode: 'random' });
    expect(badMode.status).to.equal(400);
    expect(badMode.body.error).to.deep.include({ code: 'bad-request', message: 'mode must be one of stateless, resilient' });
    const noPort = await call('POST', '/api/traffic', { from: 'gw-1', to: '10.1.11.9' });
    expect(noPort.status).to.equal(400);
    expect(noPort.body.error.message).to.match(/give the destination port/);
    const dropped = (await call('POST', '/api/traffic', { from: 'gw-1', to: '10.9.9.9:80', count: 3 })).body.report;
    expect(dropped.dropped).to.deep.equal({ 'no-route': 3 });
  });

  it('drops a member compute\'s path when the member leaves, the other keeps its buckets', async () => {
    const members = (await call('GET', '/api/config/loadbalancer-member')).body as { name: string; address: string }[];
    const gone = members.find((m) => m.address === '30.30.30.10')!;
    expect((await call('DELETE', `/api/config/loadbalancer-member/${gone.name}`)).status).to.equal(200);
    const all = await until(routes, (r) => (r.find((x) => x.prefix === '10.1.11.9/32')?.paths.length ?? 0) === 1, 'one path left');
    expect(all.find((x) => x.prefix === '10.1.11.9/32')!.buckets).to.deep.equal({ '127.4.40.12': 64 });
  });
});
