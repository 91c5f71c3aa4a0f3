// Through the real stack (control node and agents over XMPP on loopback): when a second member of the VIP
// lands on compute-1, its agent programs a local composite, publishes the VIP once with the composite's
// label (docs/protocol.md §7.2), expands it in its own ECMP next-hop (docs/protocol.md §7.3), while the other computes keep one next-hop for
// compute-1; traffic from another compute is spread inside compute-1 and no flow moves. When the pool
// drops back to one local member, the agent publishes that member's label again and retires the composite.
import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext, type FlowRun, type SlotView } from '../../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const VIP_PREFIX = `${VIP}/32`;
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const NETWORK = 'default-domain:demo:svc-vn';
const C1 = '127.0.120.1';
const C3 = '127.0.120.3';

// addresses of their own, so that this test never meets another simulation on the same machine
const TOPOLOGY = {
  name: 'local-composite',
  asn: 64512,
  controlNodes: [{ name: 'control-1', address: '127.0.110.1', xmppPort: 5269, bgpPort: 1179 }],
  computes: [
    { name: 'compute-1', address: C1 },
    { name: 'compute-2', address: '127.0.120.2' },
    { name: 'compute-3', address: C3 },
  ],
  networks: [{ name: NETWORK, subnets: ['30.30.30.0/24'] }],
  workloads: [
    { name: 'client', compute: 'compute-2', network: NETWORK, address: '30.30.30.2' },
    { name: 'client-1', compute: 'compute-1', network: NETWORK, address: '30.30.30.3' },
    { name: 'web-a', compute: 'compute-3', network: NETWORK, address: '30.30.30.10' },
    { name: 'web-c', compute: 'compute-1', network: NETWORK, address: '30.30.30.12' },
    { name: 'web-d', compute: 'compute-1', network: NETWORK, address: '30.30.30.13' },
  ],
  loadBalancers: [{
    name: 'lb1', provider: 'native', network: NETWORK, vip: VIP,
    listeners: [{ name: 'listener1', protocol: 'TCP', port: 80, pool: { name: 'pool1', algorithm: 'ROUND_ROBIN',
      members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.12', port: 8080 }] } }],
  }],
};

interface Status {
  labels: { interface: string; label: number }[];
  exports: { prefix: string; label: number }[];
  localComposites: { floatingIp: string; prefix: string; label: number; interfaces: string[]; retiring: boolean }[];
}
interface ReceivedRoute { prefix: string; nextHops: { address: string; label: number }[] }
interface FibVrf { vrf: string; localComposites?: { label: number; prefix: string; slots: { interface?: string }[] }[] }

describe('agent: local-ECMP composite for several members of one VIP on a compute (docs/protocol.md §7.2, §7.3)', function () {
  this.timeout(30_000);
  let sim: Simulation;
  let ctx: ScenarioContext;

  before(async () => {
    const checked = validateTopology(TOPOLOGY, 'local-composite test');
    if (!checked.ok) throw new Error(`topology invalid: ${JSON.stringify(checked)}`);
    sim = await Simulation.start(checked.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });
  after(async () => sim?.stop());

  const status = (compute: string): Promise<Status> => ctx.request<Status>('GET', `/api/nodes/${compute}/status`);
  const vipExport = async (compute: string): Promise<number | undefined> => (await status(compute)).exports.find((e) => e.prefix === VIP_PREFIX)?.label;
  const labelOf = async (compute: string, vmi: string): Promise<number> => (await status(compute)).labels.find((l) => l.interface === vmi)!.label;
  const received = async (compute: string): Promise<{ address: string; label: number }[]> => {
    const routes = await ctx.request<ReceivedRoute[]>('GET', `/api/nodes/${compute}/routes?vrf=${VRF}`);
    return (routes.find((r) => r.prefix === VIP_PREFIX)?.nextHops ?? []).map((nh) => ({ address: nh.address, label: nh.label }));
  };
  const active = (slots: SlotView[]): SlotView[] => slots.filter((s) => !s.empty && s.active !== false);
  const share = (run: { members: { member: string; flows: number }[] }, member: string): number => run.members.find((m) => m.member === member)?.flows ?? 0;

  let first: FlowRun;
  let second: FlowRun;
  let local: FlowRun;

  it('with one local member, compute-1 advertises that member\'s label and has no composite', async () => {
    await ctx.eventually('compute-2 holds the VIP from compute-1 and compute-3', () => received('compute-2'), (nhs) => nhs.length === 2);
    const webC = await labelOf('compute-1', 'web-c');
    expect(await vipExport('compute-1')).to.equal(webC);
    expect((await status('compute-1')).localComposites).to.deep.equal([]);
    expect(await received('compute-2')).to.deep.include({ address: C1, label: webC });
    first = await ctx.openFlows({ from: 'client', to: `${VIP}:80`, count: 2000 });
    expect(first.opened.delivered).to.equal(2000);
    expect(first.opened.members.map((m) => m.member).sort()).to.deep.equal(['compute-1/web-c', 'compute-3/web-a']);
  });

  it('a second local member: one composite label for compute-1, expanded there, one next-hop elsewhere', async () => {
    await ctx.addMember('pool1', { address: '30.30.30.13', port: 8080 });
    const composite = await ctx.eventually('compute-1 programs a local composite', () => status('compute-1'), (s) => s.localComposites.length === 1);
    const { label } = composite.localComposites[0];
    expect(composite.localComposites[0]).to.deep.include({ prefix: VIP_PREFIX, interfaces: ['web-c', 'web-d'], retiring: false });
    expect(composite.labels.map((l) => l.label)).to.not.include(label);
    expect(label).to.be.at.least(16);
    expect(await vipExport('compute-1')).to.equal(label);
    // every compute receives compute-1 once, with the composite's label
    for (const compute of ['compute-1', 'compute-2', 'compute-3']) {
      await ctx.eventually(`${compute} receives compute-1's composite label`, () => received(compute),
        (nhs) => nhs.length === 2 && nhs.some((nh) => nh.address === C1 && nh.label === label));
    }
    const own = await ctx.eventually('compute-1 expands its composite', () => ctx.slots('compute-1', VIP), (slots) => active(slots).length === 3);
    expect(active(own).filter((s) => s.local).map((s) => s.interface).sort()).to.deep.equal(['web-c', 'web-d']);
    expect(active(own).map((s) => (s as { localComposite?: number }).localComposite ?? null).filter((l) => l !== null)).to.deep.equal([label, label]);
    expect(active(await ctx.slots('compute-2', VIP)).map((s) => [s.address, s.label])).to.have.deep.members([[C1, label], [C3, await labelOf('compute-3', 'web-a')]]);
    const fib = await ctx.request<FibVrf[]>('GET', `/api/nodes/compute-1/fib?vrf=${VRF}`);
    expect(fib[0].localComposites?.map((c) => [c.label, c.prefix, c.slots.map((s) => s.interface)])).to.deep.equal([[label, VIP_PREFIX, ['web-c', 'web-d']]]);

    // the flows already on web-c stay there, although compute-2 now reaches compute-1 with another label
    const again = await first.resend();
    expect(again.moved).to.equal(0);
    second = await ctx.openFlows({ from: 'client', to: `${VIP}:80`, count: 4000, firstSourcePort: 30_000 });
    const atC1 = share(second.opened, 'compute-1/web-c') + share(second.opened, 'compute-1/web-d');
    expect(second.opened.delivered).to.equal(4000);
    // half the new flows reach compute-1, and compute-1 spreads them over its two members
    expect(Math.abs(atC1 - 2000)).to.be.at.most(5 * Math.sqrt(4000 * 0.25));
    expect(Math.abs(share(second.opened, 'compute-1/web-d') - atC1 / 2)).to.be.at.most(5 * Math.sqrt(atC1 * 0.25));
    // a client next to the members reaches them through the expanded slots
    local = await ctx.openFlows({ from: 'client-1', to: `${VIP}:80`, count: 3000 });
    expect(local.opened.members.map((m) => m.member).sort()).to.deep.equal(['compute-1/web-c', 'compute-1/web-d', 'compute-3/web-a']);
  });

  it('back to one local member: that member\'s label again, the composite retired, only web-d\'s flows move', async () => {
    const onWebD = share(await second.resend(), 'compute-1/web-d');
    const localOnWebD = share(await local.resend(), 'compute-1/web-d');
    const { label } = (await status('compute-1')).localComposites[0];
    await ctx.removeMember('pool1', '30.30.30.13');
    const webC = await labelOf('compute-1', 'web-c');
    await ctx.eventually('compute-1 retires its composite', () => status('compute-1'), (s) => s.localComposites.length === 0);
    expect(await vipExport('compute-1')).to.equal(webC);
    for (const compute of ['compute-1', 'compute-2', 'compute-3']) {
      await ctx.eventually(`${compute} receives compute-1 with web-c's label`, () => received(compute),
        (nhs) => nhs.length === 2 && nhs.some((nh) => nh.address === C1 && nh.label === webC) && !nhs.some((nh) => nh.label === label && nh.address === C1));
    }
    const fib = await ctx.request<FibVrf[]>('GET', `/api/nodes/compute-1/fib?vrf=${VRF}`);
    expect(fib[0].localComposites).to.equal(undefined);
    expect((await first.resend()).moved).to.equal(0);
    const after = await second.resend();
    expect(after.moved).to.equal(onWebD);
    expect(Object.keys(after.movedFrom ?? {})).to.deep.equal(['compute-1/web-d']);
    // compute-1's own slot for web-c survived the switch back to web-c's label (the composite was kept
    // until the control node reflected the new label), so its local client's flows on web-c did not move
    const localAfter = await local.resend();
    expect(localAfter.moved).to.equal(localOnWebD);
    expect(Object.keys(localAfter.movedFrom ?? {})).to.deep.equal(['compute-1/web-d']);
  });
});
