// Two control nodes joined by iBGP, through the Simulation launcher over real sockets (docs/protocol.md §6.6, §7.3): a VIP
// member learned by one control node reaches the other's agents as a VPN path with its own RD and label;
// iBGP-learned paths are not re-advertised; a path an agent sends both control nodes collapses into one
// next hop (docs/protocol.md §6.5); losing a control node loses no forwarding state.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';

const VIP = '30.30.30.100/32';
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const RT = 'target:64512:8000001';

interface PathJson { peer: string; peerKind: string; rd: string; label: number; nextHop: string; multipath: boolean; routeTargets: string[] }
interface RouteJson { table: string; rd?: string; prefix: string; paths: PathJson[] }
interface AgentStatus { address: string; exports: { prefix: string; label: number }[] }
interface AgentSessions { sessions: { controlNode: string; established: boolean }[] }
interface BgpStatus { bgp: { listen: string | null; peers: { name: string; state: string; families: string[]; prefixesOut: number }[] } }
interface AdjRibOut {
  vpn: { rd: string; prefix: string; label: number; nextHop: string }[];
  routeTargets: { originAs: number; routeTarget: string; prefixLength: number; nextHop: string }[];
}

async function start(file: string): Promise<{ sim: Simulation; ctx: ScenarioContext }> {
  const loaded = await loadTopologyFile(fileURLToPath(new URL(file, import.meta.url)));
  if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.errors)}`);
  const sim = await Simulation.start(loaded.topology, { endOfRibQuietMs: 200 });
  return { sim, ctx: new ScenarioContext(sim.api) };
}

async function establishedBoth(ctx: ScenarioContext): Promise<void> {
  for (const node of ['control-1', 'control-2']) {
    await ctx.eventually(`${node} iBGP established`, () => ctx.request<BgpStatus>('GET', `/api/nodes/${node}/status`),
      (s) => s.bgp.peers.length === 1 && s.bgp.peers[0]!.state === 'Established', { timeoutMs: 10_000 });
  }
}

/** (address, label) of the VIP as each member compute exports it. */
async function memberExports(ctx: ScenarioContext, computes: string[]): Promise<Map<string, { address: string; label: number }>> {
  const out = new Map<string, { address: string; label: number }>();
  for (const compute of computes) {
    const status = await ctx.eventually(`${compute} exports the VIP`, () => ctx.request<AgentStatus>('GET', `/api/nodes/${compute}/status`),
      (s) => s.exports.some((e) => e.prefix === VIP));
    out.set(compute, { address: status.address, label: status.exports.find((e) => e.prefix === VIP)!.label });
  }
  return out;
}

describe('control nodes over iBGP (two-control-split on its own addresses)', function () {
  this.timeout(30_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => ({ sim, ctx } = await start('./bgp-two-control-split.json')));
  after(async () => sim?.stop());

  it('establishes the iBGP session with inet-vpn and route-target on both sides', async () => {
    await establishedBoth(ctx);
    const s = await ctx.request<BgpStatus>('GET', '/api/nodes/control-1/status');
    expect(s.bgp.listen).to.equal('127.0.17.1:1189');
    expect(s.bgp.peers[0]).to.deep.include({ name: 'control-2', state: 'Established', families: ['inet-vpn', 'route-target'] });
  });

  it('a member learned by control-1 reaches control-2 as a VPN path with its own RD, label and the VN route target', async () => {
    const members = await memberExports(ctx, ['compute-2', 'compute-3', 'compute-4']);
    const webA = members.get('compute-2')!;
    const vpn = await ctx.eventually('control-2 has 3 VPN routes for the VIP',
      async () => (await ctx.controlRoutes('control-2', { vrf: 'bgp.l3vpn.0', prefix: VIP })) as RouteJson[], (r) => r.length === 3);
    const fromControl1 = vpn.filter((r) => r.paths[0]!.peerKind === 'bgp');
    expect(fromControl1).to.have.length(1);
    const path = fromControl1[0]!.paths[0]!;
    expect(path).to.deep.include({ peer: 'control-1', nextHop: webA.address, label: webA.label });
    expect(path.rd).to.match(new RegExp(`^${webA.address.replaceAll('.', '\\.')}:\\d+$`));
    expect(path.routeTargets).to.deep.equal([RT]);
    expect(new Set(vpn.map((r) => r.rd)).size).to.equal(3);
  });

  it('control-2’s agents get every member in one ECMP item, each with its own label', async () => {
    const members = await memberExports(ctx, ['compute-2', 'compute-3', 'compute-4']);
    const expected = [...members.values()].sort((a, b) => a.address.localeCompare(b.address));
    for (const compute of ['compute-3', 'compute-4', 'compute-1']) {
      await ctx.eventually(`${compute} receives the VIP with 3 next hops`, async () => {
        const routes = await ctx.request<{ prefix: string; nextHops: { address: string; label: number }[] }[]>('GET', `/api/nodes/${compute}/routes?vrf=${VRF}`);
        return (routes.find((r) => r.prefix === VIP)?.nextHops ?? []).map(({ address, label }) => ({ address, label })).sort((a, b) => a.address.localeCompare(b.address));
      }, (nhs) => JSON.stringify(nhs) === JSON.stringify(expected));
    }
    await ctx.expectVipMembers(VIP.split('/')[0]!, 3);
  });

  it('does not re-advertise iBGP-learned paths to the iBGP peer (split horizon) and originates the VN’s RTarget route', async () => {
    const members = await memberExports(ctx, ['compute-2', 'compute-3']);
    const out = await ctx.request<AdjRibOut>('GET', '/api/nodes/control-1/bgp/adj-rib-out?peer=control-2');
    const vip = out.vpn.filter((r) => r.prefix === VIP);
    expect(vip.map((r) => r.nextHop)).to.deep.equal([members.get('compute-2')!.address]);
    expect(out.routeTargets.map(({ originAs, routeTarget, prefixLength, nextHop }) => ({ originAs, routeTarget, prefixLength, nextHop })))
      .to.deep.equal([{ originAs: 64512, routeTarget: RT, prefixLength: 96, nextHop: '127.0.17.1' }]);
    const unknown = await ctx.request('GET', '/api/nodes/control-1/bgp/adj-rib-out?peer=nobody').then(() => 'answered', (e: Error) => e.message);
    expect(unknown).to.match(/no BGP peer nobody/);
  });

  it('a member leaving behind control-2 is withdrawn over BGP and leaves control-1’s agents', async () => {
    await ctx.removeMember('pool1', '30.30.30.12');
    await ctx.expectVipMembers(VIP.split('/')[0]!, 2);
    const vpn = (await ctx.controlRoutes('control-1', { vrf: 'bgp.l3vpn.0', prefix: VIP })) as RouteJson[];
    expect(vpn).to.have.length(2);
  });
});

describe('control nodes over iBGP with every agent on both (two-control on its own addresses)', function () {
  this.timeout(30_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => ({ sim, ctx } = await start('./bgp-two-control-both.json')));
  after(async () => sim?.stop());

  it('the duplicate rule collapses a member’s XMPP path and its copy learned over iBGP into one next hop', async () => {
    await establishedBoth(ctx);
    await ctx.expectVipMembers(VIP.split('/')[0]!, 3);
    const vrf = await ctx.eventually('control-1 has each member twice (XMPP + iBGP)',
      async () => ((await ctx.controlRoutes('control-1', { vrf: VRF, prefix: VIP })) as RouteJson[])[0]?.paths ?? [],
      (paths) => paths.length === 6);
    expect(vrf.filter((p) => p.peerKind === 'xmpp')).to.have.length(3);
    expect(vrf.filter((p) => p.peerKind === 'bgp')).to.have.length(3);
    expect(vrf.every((p) => p.multipath)).to.equal(true);
    const item = await ctx.request<{ nextHops: { address: string; label: number }[] }>('GET', `/api/nodes/control-1/item?vrf=${VRF}&prefix=${VIP}`);
    expect(item.nextHops).to.have.length(3);
    expect(new Set(item.nextHops.map((nh) => nh.address)).size).to.equal(3);
  });

  it('losing one control node loses no forwarding state; it comes back and peers again', async () => {
    const before = await Promise.all(['compute-1', 'compute-2', 'compute-3', 'compute-4'].map((c) => ctx.nextHops(c, VIP)));
    await sim.kill('control-1');
    // The agents keep control-2's copy: every compute still forwards to all three members, in the same slots.
    for (const [i, compute] of ['compute-1', 'compute-2', 'compute-3', 'compute-4'].entries()) {
      await ctx.eventually(`${compute} noticed control-1 is gone`, () => ctx.request<AgentSessions>('GET', `/api/nodes/${compute}/status`),
        (s) => s.sessions.find((x) => x.controlNode === 'control-1')?.established === false);
      expect(await ctx.nextHops(compute, VIP), compute).to.deep.equal(before[i]);
    }
    const vrf = await ctx.eventually('control-2 dropped the paths learned from control-1',
      async () => ((await ctx.controlRoutes('control-2', { vrf: VRF, prefix: VIP })) as RouteJson[])[0]?.paths ?? [],
      (paths) => paths.length === 3 && paths.every((p) => p.peerKind === 'xmpp'));
    expect(vrf).to.have.length(3);
    await ctx.expectVipMembers(VIP.split('/')[0]!, 3);

    await sim.restart('control-1');
    await establishedBoth(ctx);
    await ctx.eventually('control-1 has each member twice again',
      async () => ((await ctx.controlRoutes('control-1', { vrf: VRF, prefix: VIP })) as RouteJson[])[0]?.paths ?? [],
      (paths) => paths.length === 6);
    await ctx.expectVipMembers(VIP.split('/')[0]!, 3);
  });
});
