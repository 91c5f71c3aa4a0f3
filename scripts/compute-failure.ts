// A member's compute dies: its XMPP session drops, the control node deletes that agent's paths at once
// (docs/protocol.md §6.7, graceful restart off) and sends every subscriber the smaller next-hop list; the dead member's
// next-hop leaves every FIB, its flows re-hash, the others keep theirs. The compute then comes back.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 6_000;

export default defineScenario({
  name: 'compute-failure',
  description: 'compute-3 (web-b) dies under traffic and comes back',
  topology: 'six-compute.json',
  async run(sim) {
    sim.step('three members on compute-2, -3 and -4');
    await sim.addMember('pool1', { address: '30.30.30.12', port: 8080 });
    await sim.expectVipMembers(VIP, 3);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    const onB = flows.opened.members.find((m) => m.member === 'compute-3/web-b')?.flows ?? 0;
    sim.check('flows reach all three members', flows.opened.members.length === 3, describeShares(flows.opened));

    sim.step('compute-3 dies');
    await sim.kill('compute-3');
    const alive = ['compute-1', 'compute-2', 'compute-4', 'compute-5', 'compute-6'];
    await sim.expectVipMembers(VIP, Object.fromEntries(alive.map((c) => [c, 2])));
    for (const compute of alive) {
      const hops = await sim.nextHops(compute, VIP);
      sim.check(`${compute}: 127.0.21.3 left the ECMP next-hop`, !hops.includes('127.0.21.3'), hops.join(' '));
    }
    const routes = (await sim.controlRoutes('control-1', { vrf: 'default-domain:demo:svc-vn', prefix: `${VIP}/32` })) as { paths: { peer: string }[] }[];
    sim.check('control-1 holds no path from compute-3', routes.every((r) => r.paths.every((p) => p.peer !== 'compute-3')));
    const after = await flows.resend();
    sim.check('every flow still delivered', after.delivered === FLOWS, `${after.delivered}`);
    sim.check('only the dead member’s flows moved', after.moved === onB && Object.keys(after.movedFrom ?? {}).join() === 'compute-3/web-b', `${after.moved} moved, ${onB} were on web-b`);

    sim.step('compute-3 comes back');
    await sim.restart('compute-3');
    await sim.expectVipMembers(VIP, 3);
    const back = await flows.resend();
    sim.check('flows stay where they are (their slots are active)', back.moved === 0, `${back.moved} moved`);
  },
});
