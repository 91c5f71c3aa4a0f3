// Two control nodes with graceful restart, agents split between them (docs/protocol.md §6.6, §6.7): when
// control-1 dies (no NOTIFICATION), control-2 keeps the paths it learned from it, stale, so control-2's agents
// keep every member of the VIP; control-1 returns, its agents re-publish, and only then does its End-of-RIB
// let control-2 sweep — nothing, since every path came back. Without GR the same death shrinks them.
import { expect } from 'chai';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { validateTopology } from '../../src/topology/loader.ts';

const VIP = '30.30.30.100';
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const block = 240 + (process.pid % 8);
const ip = (host: number) => `127.5.${block}.${host}`;

interface BgpPeerJson { name: string; state: string; restart?: { phase: string; stalePaths: number } }
interface PathJson { peer: string; peerKind: string }

function topology(gracefulRestart: boolean) {
  const loaded = validateTopology({
    name: 'bgp-two-control-gr', asn: 64512,
    controlNodes: [
      { name: 'control-1', address: ip(1), xmppPort: 5269, bgpPort: 1179 },
      { name: 'control-2', address: ip(2), xmppPort: 5269, bgpPort: 1179 },
    ],
    computes: [1, 2, 3, 4].map((n) => ({ name: `compute-${n}`, address: ip(10 + n), xmppServers: [n <= 2 ? 'control-1' : 'control-2'] })),
    networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] }],
    workloads: [
      { name: 'client', compute: 'compute-1', network: 'default-domain:demo:svc-vn', address: '30.30.30.2' },
      { name: 'web-a', compute: 'compute-2', network: 'default-domain:demo:svc-vn', address: '30.30.30.10' },
      { name: 'web-b', compute: 'compute-3', network: 'default-domain:demo:svc-vn', address: '30.30.30.11' },
      { name: 'web-c', compute: 'compute-4', network: 'default-domain:demo:svc-vn', address: '30.30.30.12' },
    ],
    loadBalancers: [{
      name: 'lb1', provider: 'native', network: 'default-domain:demo:svc-vn', vip: VIP,
      listeners: [{ name: 'listener1', protocol: 'TCP', port: 80, pool: { name: 'pool1', algorithm: 'ROUND_ROBIN',
        members: ['30.30.30.10', '30.30.30.11', '30.30.30.12'].map((address) => ({ address, port: 8080 })) } }],
    }],
    ...(gracefulRestart && { gracefulRestart: { enable: true, bgpHelperEnable: true, restartTime: 60, longLivedRestartTime: 0, endOfRibTimeout: 30 } }),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.topology;
}

describe('two control nodes with BGP graceful restart (agents split between them)', function () {
  this.timeout(60_000);
  let sim: Simulation | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function run(gracefulRestart: boolean): Promise<{ ctx: ScenarioContext; fewest: Record<string, number> }> {
    sim = await Simulation.start(topology(gracefulRestart), { endOfRibQuietMs: 200 });
    const ctx = new ScenarioContext(sim.api);
    await ctx.expectVipMembers(VIP, 3, { timeoutMs: 20_000 });
    // Watch control-2's agents the whole time: the fewest active members each one ever had.
    const fewest: Record<string, number> = { 'compute-3': 3, 'compute-4': 3 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const compute of Object.keys(fewest)) {
          const active = (await ctx.slots(compute, VIP)).filter((s) => !s.empty).length;
          fewest[compute] = Math.min(fewest[compute]!, active);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await sim.kill('control-1');
    const peer = () => ctx.request<BgpPeerJson[]>('GET', '/api/nodes/control-2/bgp/peers').then((list) => list.find((p) => p.name === 'control-1')!);
    await ctx.eventually('control-2 saw control-1 go', peer, (p) => p.state !== 'Established');
    if (gracefulRestart) {
      const held = await ctx.eventually('control-2 keeps control-1’s paths', peer, (p) => p.restart?.phase === 'restarting');
      expect(held.restart!.stalePaths).to.be.greaterThan(0);
    } else {
      await ctx.eventually('compute-3 lost web-a', () => ctx.slots('compute-3', VIP), (slots) => slots.filter((s) => !s.empty).length === 2);
    }
    await sim.restart('control-1');
    await ctx.eventually('iBGP back', peer, (p) => p.state === 'Established' && p.restart === undefined, { timeoutMs: 30_000 });
    await ctx.expectVipMembers(VIP, { 'compute-3': 3, 'compute-4': 3 }, { timeoutMs: 20_000 });
    watching = false;
    await watcher;
    return { ctx, fewest };
  }

  it('GR on: control-2’s agents keep all three members through control-1’s death and return', async () => {
    const { ctx, fewest } = await run(true);
    expect(fewest).to.deep.equal({ 'compute-3': 3, 'compute-4': 3 });
    const paths = (await ctx.controlRoutes('control-2', { vrf: VRF, prefix: `${VIP}/32` }) as { paths: PathJson[] }[])[0]!.paths;
    expect(paths.filter((p) => p.peer === 'control-1')).to.have.length(1);
  });

  it('GR off: the same death takes web-a out of control-2’s agents until control-1 is back', async () => {
    const { fewest } = await run(false);
    expect(fewest).to.deep.equal({ 'compute-3': 2, 'compute-4': 2 });
  });
});
