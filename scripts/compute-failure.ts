// A member's compute dies: its XMPP session drops, the control node deletes that agent's paths at once
// (docs/protocol.md §6.7, graceful restart off) and sends every subscriber the smaller next-hop list; the dead member's
// next-hop leaves every FIB, its flows re-hash, the others keep theirs. The compute then comes back.
// The pool first gets a spare workload so that two members survive; the one that dies is a member on a
// compute of its own, taken from the topology it runs on.
import { defineScenario, describeShares } from '../src/index.ts';

const FLOWS = 6_000;

export default defineScenario({
  name: 'compute-failure',
  description: 'a member’s compute dies under traffic and comes back',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 2, spares: 1 });
    const { vip, client } = lb;
    const target = `${vip}:${lb.listener.port}`;
    const total = lb.members.length + 1;
    const victim = lb.members[lb.members.length - 1];
    const control = await sim.controlNodeOf(client.compute);

    sim.step(`${total} members, each on its own compute`);
    await sim.addMember(lb.pool, { address: lb.spares[0].address, port: lb.memberPort });
    await sim.expectVipMembers(vip, total);
    const flows = await sim.openFlows({ from: client.name, to: target, count: FLOWS });
    const onVictim = flows.opened.members.find((m) => m.member === victim.id)?.flows ?? 0;
    sim.check(`flows reach all ${total} members`, flows.opened.members.length === total, describeShares(flows.opened));

    sim.step(`${victim.compute} dies`);
    await sim.kill(victim.compute);
    const alive = (await sim.computes()).filter((c) => c !== victim.compute);
    await sim.expectVipMembers(vip, Object.fromEntries(alive.map((c) => [c, total - 1])));
    for (const compute of alive) {
      const hops = await sim.nextHops(compute, vip);
      sim.check(`${compute}: ${victim.computeAddress} left the ECMP next-hop`, !hops.includes(victim.computeAddress), hops.join(' '));
    }
    const routes = (await sim.controlRoutes(control, { vrf: lb.network, prefix: `${vip}/32` })) as { paths: { peer: string; nextHop?: string }[] }[];
    sim.checkAll(`${control} holds no path from ${victim.compute}`, routes, (r) => r.paths.every((p) => p.peer !== victim.compute && p.nextHop !== victim.computeAddress));
    const after = await flows.resend();
    sim.check('every flow still delivered', after.delivered === FLOWS, `${after.delivered}`);
    sim.check('only the dead member’s flows moved', after.moved === onVictim && onVictim > 0 && Object.keys(after.movedFrom ?? {}).join() === victim.id, `${after.moved} moved, ${onVictim} were on ${victim.name}`);

    sim.step(`${victim.compute} comes back`);
    await sim.restart(victim.compute);
    await sim.expectVipMembers(vip, total);
    const back = await flows.resend();
    sim.check('flows stay where they are (their slots are active)', back.moved === 0, `${back.moved} moved`);
  },
});
