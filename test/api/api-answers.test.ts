// The API-side bugs of issue #11, each as it was seen: filters that passed silently, adj-rib-in 404
// without peers, `fib` of a control node, store-wide create warnings, names with `/`, writes that did not
// answer the resource, and an Established BGP peer still showing its last connect error.
import { expect } from 'chai';
import { Simulation } from '../../src/topology/launcher.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import type { ApiResponse } from '../../src/api/api-router.ts';
import { apiTopology, NET } from './api-fixture.ts';

interface ErrorBody { error: { code: string; message: string; path: string } }
interface WriteBody { object: Record<string, unknown>; lbaas: { warnings: { message: string }[]; problems: { message: string }[] }; deleted?: unknown }

describe('api answers (issue #11 list)', function () {
  this.timeout(30_000);
  let sim: Simulation;
  const call = async (method: string, target: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const url = new URL(target, 'http://sim');
    const response: ApiResponse = await sim.api({ method, path: url.pathname, query: url.searchParams, body, params: {} });
    if (!('body' in response)) throw new Error(`${target} streamed`);
    return response;
  };
  const refused = async (method: string, target: string, body?: unknown): Promise<{ status: number; error: ErrorBody['error'] }> => {
    const r = await call(method, target, body);
    expect(r.status, `${method} ${target}`).to.be.at.least(400);
    return { status: r.status, error: (r.body as ErrorBody).error };
  };

  before(async () => {
    sim = await Simulation.start(apiTopology('answers', 2), { endOfRibQuietMs: 200 });
  });
  after(async () => sim?.stop());

  it('refuses an unknown stanza direction and an unknown node filter, naming the valid values', async () => {
    const direction = await refused('GET', '/api/stanzas?direction=sideways');
    expect(direction).to.deep.equal({ status: 400, error: { code: 'invalid-query', message: 'query.direction: "sideways" is not one of "in", "out"', path: 'query.direction' } });
    const node = await refused('GET', '/api/stanzas?node=nosuch');
    expect(node.status).to.equal(400);
    expect(node.error.message).to.equal('query.node: no node named nosuch; nodes: control-1, compute-1, compute-2, compute-3');
    expect((await call('GET', '/api/stanzas?node=compute-1&direction=out&limit=2')).status).to.equal(200);
  });

  it('honours a prefix filter on a compute, and refuses one that is not a prefix', async () => {
    const ctx = new ScenarioContext(sim.api);
    await ctx.eventually('compute-1 has the VIP', () => ctx.slots('compute-1', '30.30.30.100'), (s) => s.filter((x) => !x.empty).length === 2, { timeoutMs: 10_000 });
    const fib = (await call('GET', '/api/nodes/compute-1/fib?prefix=30.30.30.100/32')).body as { routes: { prefix: string }[] }[];
    expect(fib.flatMap((v) => v.routes.map((r) => r.prefix))).to.deep.equal(['30.30.30.100/32']);
    const routes = (await call('GET', '/api/nodes/compute-1/routes?prefix=30.30.30.100')).body as { prefix: string }[];
    expect([...new Set(routes.map((r) => r.prefix))]).to.deep.equal(['30.30.30.100/32']);
    const banana = await refused('GET', '/api/nodes/control-1/routes?prefix=banana');
    expect(banana).to.deep.equal({
      status: 400,
      error: { code: 'invalid-query', message: 'query.prefix: "banana" is not an IPv4 address (a.b.c.d) nor an IPv4 subnet (a.b.c.d/len)', path: 'query.prefix' },
    });
    expect((await refused('GET', '/api/nodes/compute-1/flows?direction=sideways')).error.path).to.equal('query.direction');
  });

  it('answers [] for adj-rib-in and adj-rib-out of a control node without peers', async () => {
    expect(await call('GET', '/api/nodes/control-1/bgp/adj-rib-in')).to.deep.equal({ status: 200, body: [] });
    expect(await call('GET', '/api/nodes/control-1/bgp/adj-rib-out')).to.deep.equal({ status: 200, body: [] });
  });

  it('says a control node has no FIB (and a compute no routing instances) instead of "no such resource"', async () => {
    expect(await refused('GET', '/api/nodes/control-1/fib')).to.deep.equal({
      status: 400,
      error: { code: 'wrong-node-kind', message: 'control-1 is a control node: it has no FIB; try routes', path: '/fib' },
    });
    expect((await refused('GET', '/api/nodes/compute-1/instances')).error.code).to.equal('wrong-node-kind');
  });

  it('answers a create with the object (an LB with the VIP it allocated) and only the notices this change caused', async () => {
    const lb = await call('POST', '/api/config/lb', { name: 'lb2', virtualNetwork: NET });
    expect(lb.status).to.equal(201);
    expect((lb.body as WriteBody).object).to.include({ kind: 'loadbalancer', name: 'lb2', vipAddress: '30.30.30.2' });
    // An orphan member: the driver reports a problem for this create ...
    const orphan = await call('POST', '/api/config/member', { pool: 'pool1', address: '30.30.30.77', port: 8080 });
    expect(orphan.status).to.equal(201);
    expect((orphan.body as WriteBody).lbaas.problems.map((p) => p.message).join(' ')).to.contain('30.30.30.77');
    // ... and an unrelated create does not repeat it.
    const other = await call('POST', '/api/config/vmi', { name: 'spare', virtualNetwork: NET, compute: 'compute-1' });
    expect(other.status).to.equal(201);
    expect((other.body as WriteBody).lbaas).to.deep.equal({ warnings: [], problems: [] });
    const down = await call('PATCH', '/api/config/member/pool1:30.30.30.10:8080', { adminState: false });
    expect((down.body as WriteBody).object).to.include({ adminState: false });
    expect((down.body as WriteBody).lbaas.warnings.map((w) => w.message).join(' ')).to.contain('admin-state down is ignored');
    const again = await call('PATCH', '/api/config/member/pool1:30.30.30.10:8080', { weight: 2 });
    expect((again.body as WriteBody).lbaas.warnings, 'the old admin-state warning is not repeated').to.deep.equal([]);
    const deleted = await call('DELETE', '/api/config/vmi/spare');
    expect(deleted.status).to.equal(200);
    expect(deleted.body).to.deep.include({ deleted: { kind: 'virtual-machine-interface', name: 'spare' } });
    expect((deleted.body as WriteBody).object).to.include({ name: 'spare', compute: 'compute-1' });
  });

  it('holds every name to one rule: a name with / is refused by the schema and by the store', async () => {
    const viaApi = await refused('POST', '/api/config/lb', { name: 'a/b', virtualNetwork: NET });
    expect(viaApi.status).to.equal(400);
    expect(viaApi.error).to.include({ code: 'invalid-body', path: 'body.name' });
    // The member's name is made from pool, address and port (`:` and `.` are in the rule).
    const member = await call('GET', '/api/config/member/pool1:30.30.30.11:8080');
    expect(member.status).to.equal(200);
    const unknown = await refused('POST', '/api/config/listener', { name: 'l2', loadBalancer: 'lb1', protocol: 'TCP', port: 81, colour: 'red' });
    expect(unknown.error).to.deep.equal({ code: 'invalid-body', message: 'body: unknown field colour', path: 'body.colour' });
    const missing = await refused('POST', '/api/config/listener', { name: 'l2', loadBalancer: 'nosuch', protocol: 'TCP', port: 81 });
    expect(missing.error).to.include({ code: 'invalid-config', path: 'body.loadBalancer' });
  });
});

describe('api answers: BGP peers', function () {
  this.timeout(30_000);
  let sim: Simulation;

  before(async () => {
    const result = validateTopology({
      name: 'answers-bgp',
      holdTimeSeconds: 3,
      controlNodes: [1, 2].map((i) => ({ name: `control-${i}`, address: `127.1.3.${i}`, xmppPort: 5269, bgpPort: 1179 })),
      computes: [{ name: 'compute-1', address: '127.1.3.11' }],
      networks: [{ name: NET, subnets: ['30.30.30.0/24'] }],
    });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
    sim = await Simulation.start(result.topology, { endOfRibQuietMs: 200 });
  });
  after(async () => sim?.stop());

  it('shows no connect error from before an Established session came up', async () => {
    const ctx = new ScenarioContext(sim.api);
    // control-1 starts first: its first connect to control-2 is refused, then the session comes up.
    const peers = await ctx.eventually('control-1 ↔ control-2 Established',
      () => ctx.request<{ name: string; state: string; lastError?: string }[]>('GET', '/api/nodes/control-1/bgp/peers'),
      (p) => p.length === 1 && p[0].state === 'Established', { timeoutMs: 15_000 });
    expect(peers[0]).to.not.have.property('lastError');
    expect(peers[0]).to.not.have.property('lastReason');
  });
});
