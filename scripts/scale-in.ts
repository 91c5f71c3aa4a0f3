// Scale a native load balancer in from 5 members to 1 while flows are open: only the removed members'
// flows move (they re-hash onto the survivors), survivors keep their slots and the removed ones leave
// holes (docs/protocol.md §7.3); at one member the route is a plain tunnel (docs/protocol.md §7.3: not ECMP); the last member's removal
// withdraws the VIP everywhere (docs/protocol.md §4.2).
import { defineScenario, describeShares, type ScenarioContext, type TrafficReport } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 10_000;

function flowsOn(report: TrafficReport, members: string[]): number {
  return report.members.filter((m) => members.includes(m.member)).reduce((n, m) => n + m.flows, 0);
}

async function slotText(sim: ScenarioContext): Promise<string> {
  return (await sim.slots('compute-1', VIP)).map((s) => (s.empty ? `[${s.index}] hole` : `[${s.index}] ${s.address}`)).join(' ');
}

export default defineScenario({
  name: 'scale-in',
  description: 'lb1 shrinks from 5 members to 1 under traffic: only the removed members’ flows move; then the VIP is withdrawn',
  topology: 'six-compute.json',
  async run(sim) {
    sim.step('five members');
    for (const address of ['30.30.30.12', '30.30.30.13', '30.30.30.14']) await sim.addMember('pool1', { address, port: 8080 });
    await sim.expectVipMembers(VIP, 5);
    const before = await sim.slots('compute-1', VIP);

    sim.step(`open ${FLOWS} flows from client to ${VIP}:80`);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check(`all ${FLOWS} delivered over 5 members`, flows.opened.delivered === FLOWS && flows.opened.members.length === 5, describeShares(flows.opened));

    sim.step('scale in 5 → 2: remove web-b, web-c and web-d');
    for (const address of ['30.30.30.11', '30.30.30.12', '30.30.30.13']) await sim.removeMember('pool1', address);
    await sim.expectVipMembers(VIP, 2);
    const after = await sim.slots('compute-1', VIP);
    const survivors = before.filter((s) => s.address === '127.0.21.2' || s.address === '127.0.21.6');
    sim.check('survivors keep their slots', survivors.every((s) => after[s.index]?.address === s.address), await slotText(sim));
    sim.check('removed members leave holes', after.length === before.length && after.filter((s) => s.empty).length === 3, await slotText(sim));
    const removedFirst = ['compute-3/web-b', 'compute-4/web-c', 'compute-5/web-d'];
    const toFive = await flows.resend();
    sim.check('all flows still delivered', toFive.delivered === FLOWS);
    sim.check('exactly the removed members’ flows moved', toFive.moved === flowsOn(flows.opened, removedFirst), `${toFive.moved} moved, ${flowsOn(flows.opened, removedFirst)} were on web-b/c/d`);
    sim.check('no survivor’s flow moved', Object.keys(toFive.movedFrom ?? {}).every((m) => removedFirst.includes(m)), JSON.stringify(toFive.movedFrom));

    sim.step('scale in 2 → 1: remove web-e');
    await sim.removeMember('pool1', '30.30.30.14');
    await sim.expectVipMembers(VIP, 1);
    const toOne = await flows.resend();
    const onE = toFive.members.find((m) => m.member === 'compute-6/web-e')?.flows ?? 0;
    sim.check('only web-e’s flows moved', toOne.moved === onE && toOne.members.length === 1, `${toOne.moved} moved, ${onE} were on web-e`);

    sim.step('remove the last member: the VIP is withdrawn');
    await sim.removeMember('pool1', '30.30.30.10');
    await sim.expectVipMembers(VIP, 0);
    const retracts = await sim.request<{ summary: string }[]>('GET', `/api/stanzas?node=control-1&peer=compute-1&direction=out&prefix=${encodeURIComponent(`${VIP}/32`)}`);
    sim.check('control-1 sent compute-1 a <retract> for the VIP', retracts.some((r) => r.summary.startsWith('retract')));
    const dropped = await flows.resend();
    sim.check('flows to the VIP are now dropped with a reason', dropped.delivered === 0 && Object.keys(dropped.dropped).length > 0, JSON.stringify(dropped.dropped));
  },
});
