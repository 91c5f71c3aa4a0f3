// Scale a native load balancer out from 2 to 5 members while 10,000 flows are open (seed 000: "a flow
// will never move" when the ECMP group grows). Members are on distinct computes.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 10_000;
/** With 10,000 flows over 5 members a member's count has σ = 40 (binomial); 10 % is 5σ. */
const FAIRNESS_BOUND = 0.1;

export default defineScenario({
  name: 'scale-out',
  description: 'lb1 grows from 2 to 5 members under traffic: no existing flow moves, new flows use all five',
  topology: 'six-compute.json',
  async run(sim) {
    sim.step('two members: every compute has a 2-way ECMP next-hop for the VIP');
    await sim.expectVipMembers(VIP, 2);
    const before = await sim.slots('compute-1', VIP);

    sim.step(`open ${FLOWS} flows from client to ${VIP}:80`);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check(`all ${FLOWS} delivered`, flows.opened.delivered === FLOWS, `${flows.opened.delivered} delivered`);
    sim.check('replies come back from VIP:80 (un-NAT on the member compute)', flows.opened.repliesFromVip === FLOWS);
    sim.note(describeShares(flows.opened));

    sim.step('scale out: web-c, web-d and web-e join pool1');
    for (const address of ['30.30.30.12', '30.30.30.13', '30.30.30.14']) await sim.addMember('pool1', { address, port: 8080 });
    await sim.expectVipMembers(VIP, 5);

    const routes = (await sim.controlRoutes('control-1', { vrf: 'default-domain:demo:svc-vn', prefix: `${VIP}/32` })) as { paths: { rd: string; multipath: boolean }[] }[];
    const paths = routes[0]?.paths ?? [];
    sim.check('control-1 keeps 5 paths for the VIP, all ECMP', paths.length === 5 && paths.every((p) => p.multipath), `${paths.length} paths`);
    sim.check('each path has its own RD (<compute-ip>:<instance-id>)', new Set(paths.map((p) => p.rd)).size === 5, paths.map((p) => p.rd).join(' '));

    const after = await sim.slots('compute-1', VIP);
    sim.check(
      'the two original members keep their slots on compute-1',
      before.every((s) => after[s.index]?.address === s.address && after[s.index]?.label === s.label),
      after.map((s) => `[${s.index}] ${s.address}`).join(' '),
    );

    const resent = await flows.resend();
    sim.check('no existing flow moved', resent.moved === 0, `${resent.moved} moved`);
    sim.check('existing flows still only on the two original members', resent.members.length === 2, describeShares(resent));

    sim.step(`open ${FLOWS} new flows`);
    const fresh = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS, firstSourcePort: 40_000 });
    sim.check('new flows reach all five members', fresh.opened.members.length === 5, describeShares(fresh.opened));
    sim.check(`each member within ${FAIRNESS_BOUND * 100}% of a fair share`, fresh.opened.maxDeviation <= FAIRNESS_BOUND, `largest deviation ${(fresh.opened.maxDeviation * 100).toFixed(1)}%`);
  },
});
