// Scale a native load balancer out while 10,000 flows are open (seed 000: "a flow will never move" when
// the ECMP group grows): every spare workload of the VIP network, each on a compute of its own, joins the
// pool. Names, addresses and ports come from the topology it runs on (docs/extending.md "Scenario API").
import { defineScenario, describeShares } from '../src/index.ts';

const FLOWS = 10_000;

/** Largest relative deviation from a fair share we accept: 5σ of a binomial share, at least 10 %. */
function fairnessBound(members: number): number {
  return Math.max(0.1, 5 * Math.sqrt((members - 1) / FLOWS));
}

export default defineScenario({
  name: 'scale-out',
  description: 'the pool grows by every spare workload under traffic: no existing flow moves, new flows use every member',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 1, spares: 1 });
    const vip = lb.vip;
    const target = `${vip}:${lb.listener.port}`;
    const total = lb.members.length + lb.spares.length;
    const control = await sim.controlNodeOf(lb.client.compute);

    sim.step(`${lb.members.length} member(s): every compute has an ECMP next-hop for the VIP`);
    await sim.expectVipMembers(vip, lb.members.length);
    const before = await sim.slots(lb.client.compute, vip);

    sim.step(`open ${FLOWS} flows from ${lb.client.name} to ${target}`);
    const flows = await sim.openFlows({ from: lb.client.name, to: target, count: FLOWS });
    sim.check(`all ${FLOWS} delivered`, flows.opened.delivered === FLOWS, `${flows.opened.delivered} delivered`);
    sim.check(`replies come back from ${target} (un-NAT on the member compute)`, flows.opened.repliesFromVip === FLOWS);
    sim.note(describeShares(flows.opened));

    sim.step(`scale out: ${lb.spares.map((w) => w.name).join(', ')} join ${lb.pool}`);
    for (const w of lb.spares) await sim.addMember(lb.pool, { address: w.address, port: lb.memberPort });
    await sim.expectVipMembers(vip, total);

    const routes = (await sim.controlRoutes(control, { vrf: lb.network, prefix: `${vip}/32` })) as { paths: { rd: string; multipath: boolean }[] }[];
    const paths = routes[0]?.paths ?? [];
    sim.check(`${control} keeps ${total} paths for the VIP, all ECMP`, paths.length === total && paths.every((p) => p.multipath), `${paths.length} paths`);
    sim.check('each path has its own RD (<compute-ip>:<instance-id>)', new Set(paths.map((p) => p.rd)).size === total, paths.map((p) => p.rd).join(' '));

    const after = await sim.slots(lb.client.compute, vip);
    sim.checkAll(
      `the original members keep their slots on ${lb.client.compute}`,
      before.filter((s) => !s.empty),
      (s) => after[s.index]?.address === s.address && after[s.index]?.label === s.label,
      after.map((s) => `[${s.index}] ${s.address}`).join(' '),
    );

    const resent = await flows.resend();
    sim.check('no existing flow moved', resent.moved === 0, `${resent.moved} moved`);
    sim.check('existing flows still only on the original members', resent.members.length === lb.members.length, describeShares(resent));

    sim.step(`open ${FLOWS} new flows`);
    const fresh = await sim.openFlows({ from: lb.client.name, to: target, count: FLOWS, firstSourcePort: 40_000 });
    const bound = fairnessBound(total);
    sim.check(`new flows reach all ${total} members`, fresh.opened.members.length === total, describeShares(fresh.opened));
    sim.check(`each member within ${(bound * 100).toFixed(0)}% of a fair share`, fresh.opened.maxDeviation <= bound, `largest deviation ${(fresh.opened.maxDeviation * 100).toFixed(1)}%`);
  },
});
