// Scale a native load balancer in while flows are open: the pool first grows by every spare workload,
// then shrinks to two members, then one, then none. Only the removed members' flows move (they re-hash
// onto the survivors), survivors keep their slots and the removed ones leave holes (docs/protocol.md
// §7.3); at one member the route is a plain tunnel (not ECMP); the last member's removal withdraws the
// VIP everywhere (docs/protocol.md §4.2). Everything is taken from the topology it runs on.
import { defineScenario, describeShares, type MemberView, type ScenarioContext, type TrafficReport, type WorkloadView } from '../src/index.ts';

const FLOWS = 10_000;

function flowsOn(report: TrafficReport, members: string[]): number {
  return report.members.filter((m) => members.includes(m.member)).reduce((n, m) => n + m.flows, 0);
}

async function slotText(sim: ScenarioContext, compute: string, vip: string): Promise<string> {
  return (await sim.slots(compute, vip)).map((s) => (s.empty ? `[${s.index}] hole` : `[${s.index}] ${s.address}`)).join(' ');
}

const names = (ws: readonly WorkloadView[]): string => ws.map((w) => w.name).join(', ');

export default defineScenario({
  name: 'scale-in',
  description: 'the pool grows to every spare workload, then shrinks to 2 and 1 under traffic: only the removed members’ flows move; then the VIP is withdrawn',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 1, spares: 2 });
    const { vip, client } = lb;
    const target = `${vip}:${lb.listener.port}`;
    const all: (MemberView | WorkloadView)[] = [...lb.members, ...lb.spares];
    const first = all[0];
    const last = all[all.length - 1];
    const removedFirst = all.slice(1, -1);
    const control = await sim.controlNodeOf(client.compute);

    sim.step(`${all.length} members`);
    for (const w of lb.spares) await sim.addMember(lb.pool, { address: w.address, port: lb.memberPort });
    await sim.expectVipMembers(vip, all.length);
    const before = await sim.slots(client.compute, vip);

    sim.step(`open ${FLOWS} flows from ${client.name} to ${target}`);
    const flows = await sim.openFlows({ from: client.name, to: target, count: FLOWS });
    sim.check(`all ${FLOWS} delivered over ${all.length} members`, flows.opened.delivered === FLOWS && flows.opened.members.length === all.length, describeShares(flows.opened));

    sim.step(`scale in ${all.length} → 2: remove ${names(removedFirst)}`);
    for (const w of removedFirst) await sim.removeMember(lb.pool, w.address);
    await sim.expectVipMembers(vip, 2);
    const after = await sim.slots(client.compute, vip);
    const survivors = before.filter((s) => s.address === first.computeAddress || s.address === last.computeAddress);
    sim.checkAll('survivors keep their slots', survivors, (s) => after[s.index]?.address === s.address, await slotText(sim, client.compute, vip));
    sim.check('removed members leave holes', after.length === before.length && after.filter((s) => s.empty).length === removedFirst.length, await slotText(sim, client.compute, vip));
    const removedIds = removedFirst.map((w) => w.id);
    const toTwo = await flows.resend();
    sim.check('all flows still delivered', toTwo.delivered === FLOWS);
    sim.check('exactly the removed members’ flows moved', toTwo.moved === flowsOn(flows.opened, removedIds), `${toTwo.moved} moved, ${flowsOn(flows.opened, removedIds)} were on ${names(removedFirst)}`);
    sim.checkAll('no survivor’s flow moved', Object.keys(toTwo.movedFrom ?? {}), (m) => removedIds.includes(m), JSON.stringify(toTwo.movedFrom));

    sim.step(`scale in 2 → 1: remove ${last.name}`);
    await sim.removeMember(lb.pool, last.address);
    await sim.expectVipMembers(vip, 1);
    const toOne = await flows.resend();
    const onLast = toTwo.members.find((m) => m.member === last.id)?.flows ?? 0;
    sim.check(`only ${last.name}’s flows moved`, toOne.moved === onLast && toOne.members.length === 1, `${toOne.moved} moved, ${onLast} were on ${last.name}`);

    sim.step('remove the last member: the VIP is withdrawn');
    await sim.removeMember(lb.pool, first.address);
    await sim.expectVipMembers(vip, 0);
    const retracts = await sim.request<{ summary: string }[]>('GET', `/api/stanzas?node=${encodeURIComponent(control)}&peer=${encodeURIComponent(client.compute)}&direction=out&prefix=${encodeURIComponent(`${vip}/32`)}`);
    sim.check(`${control} sent ${client.compute} a <retract> for the VIP`, retracts.some((r) => r.summary.startsWith('retract')));
    const dropped = await flows.resend();
    sim.check('flows to the VIP are now dropped with a reason', dropped.delivered === 0 && Object.keys(dropped.dropped).length > 0, JSON.stringify(dropped.dropped));
  },
});
