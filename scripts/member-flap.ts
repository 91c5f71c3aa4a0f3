// A member leaves and comes back (a pod restart behind a Kubernetes service): its slot becomes a hole
// and its flows re-hash onto the others; when it returns it fills that same hole (docs/protocol.md §7.3), the flows that
// moved away stay where they went (their new slot is still active, docs/protocol.md §7.5), and new flows reach it again.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 6_000;
const FLAPPING = { address: '30.30.30.12', compute: '127.0.21.4', member: 'compute-4/web-c' };

export default defineScenario({
  name: 'member-flap',
  description: 'one of three members is removed and re-added under traffic: hole, re-hash, refill, stickiness',
  topology: 'six-compute.json',
  async run(sim) {
    sim.step('three members');
    await sim.addMember('pool1', { address: FLAPPING.address, port: 8080 });
    await sim.expectVipMembers(VIP, 3);
    const slots = await sim.slots('compute-1', VIP);
    const slot = slots.find((s) => s.address === FLAPPING.compute)?.index;
    sim.check('web-c has a slot', slot !== undefined, `slot ${slot}`);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    const onFlapping = flows.opened.members.find((m) => m.member === FLAPPING.member)?.flows ?? 0;
    sim.check('flows reach all three members', flows.opened.members.length === 3, describeShares(flows.opened));

    sim.step('web-c leaves the pool');
    await sim.removeMember('pool1', FLAPPING.address);
    await sim.expectVipMembers(VIP, 2);
    const hole = (await sim.slots('compute-1', VIP))[slot!];
    sim.check('its slot is a hole', hole?.empty === true);
    const away = await flows.resend();
    sim.check('only web-c’s flows moved', away.moved === onFlapping, `${away.moved} moved, ${onFlapping} were on web-c`);

    sim.step('web-c comes back');
    await sim.addMember('pool1', { address: FLAPPING.address, port: 8080 });
    await sim.expectVipMembers(VIP, 3);
    const refilled = (await sim.slots('compute-1', VIP))[slot!];
    sim.check('it fills its old hole', refilled?.address === FLAPPING.compute, `slot ${slot}: ${refilled?.address ?? 'hole'}`);
    const back = await flows.resend();
    sim.check('no flow moved back (stickiness to the active slot)', back.moved === 0, `${back.moved} moved`);
    const fresh = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS, firstSourcePort: 40_000 });
    sim.check('new flows reach web-c again', fresh.opened.members.some((m) => m.member === FLAPPING.member), describeShares(fresh.opened));
  },
});
