// A control node and three agents over real TCP on loopback, with the default load balancer: the VIP is
// reflected to every agent with exactly the member computes' next-hops and labels; scaling 2 → 3 → 1
// re-sends whole items (removing a member is not a retract, docs/protocol.md §4.2); killing a member's agent removes its
// next-hop everywhere; the stanza log shows each step.
import { expect } from 'chai';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { TOPOLOGIES_DIR } from '../../src/scenario/runner.ts';

const VIP = '30.30.30.100/32';
const VRF = 'default-domain:demo:svc-vn:svc-vn';

interface ReceivedRoute {
  controlNode: string;
  instance: string;
  prefix: string;
  nextHops: { address: string; label: number }[];
}
interface AgentStatus {
  address: string;
  exports: { prefix: string; label: number }[];
}

describe('control node ↔ agents: ECMP route reflection over real XMPP sessions', function () {
  this.timeout(30_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => {
    const loaded = await loadTopologyFile(`${TOPOLOGIES_DIR}default.json`);
    if (!loaded.ok) throw new Error('default topology invalid');
    sim = await Simulation.start(loaded.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });
  after(async () => sim?.stop());

  /** What each member compute advertises for the VIP: (its address, the label of its member VMI). */
  async function advertised(computes: string[]): Promise<{ address: string; label: number }[]> {
    return ctx.eventually(`${computes.join(', ')} advertise the VIP`, () => advertisedNow(computes), (a) => a.length === computes.length, { timeoutMs: 5000 });
  }

  async function advertisedNow(computes: string[]): Promise<{ address: string; label: number }[]> {
    const out = [];
    for (const compute of computes) {
      const status = await ctx.request<AgentStatus>('GET', `/api/nodes/${compute}/status`);
      const vip = status.exports.find((e) => e.prefix === VIP);
      if (vip) out.push({ address: status.address, label: vip.label });
    }
    return out;
  }

  async function vipAt(compute: string): Promise<{ address: string; label: number }[]> {
    const routes = await ctx.request<ReceivedRoute[]>('GET', `/api/nodes/${compute}/routes?vrf=${VRF}`);
    const vip = routes.find((r) => r.prefix === VIP);
    return (vip?.nextHops ?? []).map((nh) => ({ address: nh.address, label: nh.label })).sort((a, b) => a.address.localeCompare(b.address));
  }

  async function expectEverywhere(expected: { address: string; label: number }[], computes = ['compute-1', 'compute-2', 'compute-3']): Promise<void> {
    const sorted = [...expected].sort((a, b) => a.address.localeCompare(b.address));
    for (const compute of computes) {
      await ctx.eventually(`${compute} holds the VIP with ${expected.length} next-hop(s)`, () => vipAt(compute), (nhs) => JSON.stringify(nhs) === JSON.stringify(sorted), { timeoutMs: 5000 });
    }
  }

  function lastVipStanzaTo(agent: string): { summary: string; raw: string } | undefined {
    return sim.tap.list({ node: 'control-1', peer: agent, direction: 'out', prefix: VIP }).at(-1);
  }

  /** Next-hops in the VIP's own <item> of a message that may carry other prefixes' items too. */
  function vipNextHops(raw: string | undefined): number {
    const start = raw?.indexOf(`<item id="${VIP}">`) ?? -1;
    if (start < 0) return -1;
    const item = raw!.slice(start, raw!.indexOf('</item>', start));
    return item.split('<next-hop>').length - 1;
  }

  it('reflects the VIP to every agent with exactly the members’ next-hops and labels', async () => {
    const members = await advertised(['compute-2', 'compute-3']);
    expect(members).to.have.length(2);
    await expectEverywhere(members);
    const item = lastVipStanzaTo('compute-1');
    expect(item?.summary).to.match(/^items /);
    expect(vipNextHops(item?.raw)).to.equal(2);
  });

  it('2 → 3 members: every agent gets the whole item again with three next-hops', async () => {
    await ctx.addWorkload({ name: 'web-c', compute: 'compute-1', network: 'default-domain:demo:svc-vn', address: '30.30.30.12' });
    await ctx.addMember('pool1', { address: '30.30.30.12', port: 8080 });
    const members = await advertised(['compute-1', 'compute-2', 'compute-3']);
    expect(members).to.have.length(3);
    await expectEverywhere(members);
    expect(vipNextHops(lastVipStanzaTo('compute-2')?.raw)).to.equal(3);
  });

  it('3 → 1 members: a new item with one next-hop, not a retract', async () => {
    await ctx.removeMember('pool1', '30.30.30.11');
    await ctx.removeMember('pool1', '30.30.30.12');
    const members = await advertised(['compute-2']);
    await expectEverywhere(members);
    for (const agent of ['compute-1', 'compute-2', 'compute-3']) {
      const last = lastVipStanzaTo(agent);
      expect(last?.summary, agent).to.match(/^items /);
      expect(vipNextHops(last?.raw), agent).to.equal(1);
    }
  });

  it('killing the member’s agent removes its next-hop everywhere: the VIP is retracted', async () => {
    await sim.kill('compute-2');
    await expectEverywhere([], ['compute-1', 'compute-3']);
    for (const agent of ['compute-1', 'compute-3']) expect(lastVipStanzaTo(agent)?.summary, agent).to.match(/^retract /);
    const routes = (await ctx.controlRoutes('control-1', { vrf: VRF })) as { paths: { peer: string }[] }[];
    expect(routes.flatMap((r) => r.paths.map((p) => p.peer))).to.not.include('compute-2');
  });

  it('the stanza log shows each step in order: subscribe, publish, items, retract', () => {
    const summaries = sim.tap.list({}).map((r) => r.summary);
    const first = (pattern: RegExp): number => summaries.findIndex((s) => pattern.test(s));
    const subscribe = first(/^subscribe /);
    const publish = first(/^publish .*30\.30\.30\.100\/32/);
    const items = first(/^items .*30\.30\.30\.100\/32/);
    const retract = first(/^retract .*30\.30\.30\.100\/32/);
    expect(subscribe).to.be.greaterThan(-1);
    expect(publish).to.be.greaterThan(subscribe);
    expect(items).to.be.greaterThan(publish);
    expect(retract).to.be.greaterThan(items);
  });
});
