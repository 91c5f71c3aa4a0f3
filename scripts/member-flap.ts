// A member leaves and comes back (a pod restart behind a Kubernetes service): its slot becomes a hole
// and its flows re-hash onto the others; when it returns it fills that same hole (docs/protocol.md §7.3), the flows that
// moved away stay where they went (their new slot is still active, docs/protocol.md §7.5), and new flows reach it again.
// The flapping member is a spare workload of the topology it runs on, added first.
import { defineScenario, describeShares } from '../src/index.ts';

const FLOWS = 6_000;

export default defineScenario({
  name: 'member-flap',
  description: 'a spare workload joins the pool, leaves and comes back under traffic: hole, re-hash, refill, stickiness',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 1, spares: 1 });
    const { vip, client } = lb;
    const target = `${vip}:${lb.listener.port}`;
    const flapping = lb.spares[0];
    const total = lb.members.length + 1;

    sim.step(`${total} members`);
    await sim.addMember(lb.pool, { address: flapping.address, port: lb.memberPort });
    await sim.expectVipMembers(vip, total);
    const slots = await sim.slots(client.compute, vip);
    const slot = slots.find((s) => s.address === flapping.computeAddress)?.index;
    sim.check(`${flapping.name} has a slot`, slot !== undefined, `slot ${slot}`);
    const flows = await sim.openFlows({ from: client.name, to: target, count: FLOWS });
    const onFlapping = flows.opened.members.find((m) => m.member === flapping.id)?.flows ?? 0;
    sim.check(`flows reach all ${total} members`, flows.opened.members.length === total, describeShares(flows.opened));

    sim.step(`${flapping.name} leaves the pool`);
    await sim.removeMember(lb.pool, flapping.address);
    await sim.expectVipMembers(vip, total - 1);
    const hole = (await sim.slots(client.compute, vip))[slot!];
    sim.check('its slot is a hole', hole?.empty === true);
    const away = await flows.resend();
    sim.check(`only ${flapping.name}’s flows moved`, away.moved === onFlapping && onFlapping > 0, `${away.moved} moved, ${onFlapping} were on ${flapping.name}`);

    sim.step(`${flapping.name} comes back`);
    await sim.addMember(lb.pool, { address: flapping.address, port: lb.memberPort });
    await sim.expectVipMembers(vip, total);
    const refilled = (await sim.slots(client.compute, vip))[slot!];
    sim.check('it fills its old hole', refilled?.address === flapping.computeAddress, `slot ${slot}: ${refilled?.address ?? 'hole'}`);
    const back = await flows.resend();
    sim.check('no flow moved back (stickiness to the active slot)', back.moved === 0, `${back.moved} moved`);
    const fresh = await sim.openFlows({ from: client.name, to: target, count: FLOWS, firstSourcePort: 40_000 });
    sim.check(`new flows reach ${flapping.name} again`, fresh.opened.members.some((m) => m.member === flapping.id), describeShares(fresh.opened));
  },
});
