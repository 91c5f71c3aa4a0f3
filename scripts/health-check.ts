// A member stops answering its health check (a pod whose readiness fails behind a Kubernetes service):
// the pool's health monitor became a service-health-check on every member VMI (docs/protocol.md §8.2 step 5); after
// max-retries failed probes its agent makes the VMI L3-inactive and withdraws its routes, the VIP/32
// included (docs/protocol.md §7.2), so it leaves every compute's ECMP set and only its flows move. One good probe later it
// is active again, re-publishes, fills its old hole (docs/protocol.md §7.3), and the flows that moved stay where they went (docs/protocol.md §7.5).
// The sick member is a spare workload of the topology it runs on, added first.
import { defineScenario, describeShares } from '../src/index.ts';

const FLOWS = 6_000;
/** Seconds, as in Contrail: a probe every second, two failures in a row take the member out. */
const MONITOR = { name: 'web-monitor', type: 'HTTP', delay: 1, timeout: 1, maxRetries: 2, urlPath: '/healthz' } as const;

export default defineScenario({
  name: 'health-check',
  description: 'a member fails its health monitor under traffic and recovers: withdrawn everywhere, hole, re-hash, refill, stickiness',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 1, spares: 1 });
    const VIP = lb.vip;
    const spare = lb.spares[0];
    const SICK = { compute: spare.compute, workload: spare.name, address: spare.address, router: spare.computeAddress, member: spare.id };
    const total = lb.members.length + 1;
    const target = `${VIP}:${lb.listener.port}`;
    const client = lb.client;

    sim.step(`${total} members, each probed by the pool’s health monitor`);
    await sim.addMember(lb.pool, { address: SICK.address, port: lb.memberPort });
    await sim.addHealthMonitor(lb.pool, MONITOR);
    await sim.expectVipMembers(VIP, total);
    await sim.eventually(`${SICK.workload} is probed and answers`, () => sim.workloadHealth(SICK.compute, SICK.workload),
      (h) => h.l3Active && h.failuresInRow === 0 && h.probesSent > 0 && h.checks.some((c) => c.monitorType === 'HTTP' && c.urlPath === MONITOR.urlPath));
    const slot = (await sim.slots(client.compute, VIP)).find((s) => s.address === SICK.router)?.index;
    sim.check(`${SICK.workload} has a slot`, slot !== undefined, `slot ${slot}`);
    const flows = await sim.openFlows({ from: client.name, to: target, count: FLOWS });
    const onSick = flows.opened.members.find((m) => m.member === SICK.member)?.flows ?? 0;
    sim.check(`flows reach all ${total} members`, flows.opened.members.length === total, describeShares(flows.opened));

    sim.step(`${SICK.workload} stops answering`);
    await sim.setWorkloadHealth(SICK.compute, SICK.workload, false);
    const down = await sim.eventually(`${SICK.workload} is L3-inactive after ${MONITOR.maxRetries} failed probes`,
      () => sim.workloadHealth(SICK.compute, SICK.workload), (h) => !h.l3Active);
    sim.check('it took max-retries failures in a row', down.failuresInRow >= MONITOR.maxRetries, `${down.failuresInRow} failures in a row`);
    await sim.expectVipMembers(VIP, total - 1);
    const exports = await sim.request<{ exports: { prefix: string }[] }>('GET', `/api/nodes/${SICK.compute}/status`);
    const withdrawn = [`${VIP}/32`, `${SICK.address}/32`].filter((prefix) => exports.exports.some((e) => e.prefix === prefix));
    sim.check(`${SICK.compute} withdrew the VIP and ${SICK.workload}'s own /32`, withdrawn.length === 0, withdrawn.length ? `still exported: ${withdrawn.join(', ')}` : undefined);
    const hole = (await sim.slots(client.compute, VIP))[slot!];
    sim.check('its slot is a hole', hole?.empty === true);
    const away = await flows.resend();
    sim.check(`only ${SICK.workload}'s flows moved`, away.moved === onSick && onSick > 0 && Object.keys(away.movedFrom ?? {}).join() === SICK.member,
      `${away.moved} moved (from ${Object.keys(away.movedFrom ?? {}).join(', ') || 'nowhere'}), ${onSick} were on ${SICK.workload}`);

    sim.step(`${SICK.workload} answers again`);
    await sim.setWorkloadHealth(SICK.compute, SICK.workload, true);
    await sim.eventually(`${SICK.workload} is L3-active after one good probe`, () => sim.workloadHealth(SICK.compute, SICK.workload), (h) => h.l3Active);
    await sim.expectVipMembers(VIP, total);
    const refilled = (await sim.slots(client.compute, VIP))[slot!];
    sim.check('it fills its old hole', refilled?.address === SICK.router, `slot ${slot}: ${refilled?.address ?? 'hole'}`);
    const back = await flows.resend();
    sim.check('no flow moved back (stickiness to the active slot)', back.moved === 0, `${back.moved} moved`);
    const fresh = await sim.openFlows({ from: client.name, to: target, count: FLOWS, firstSourcePort: 40_000 });
    sim.check(`new flows reach ${SICK.workload} again`, fresh.opened.members.some((m) => m.member === SICK.member), describeShares(fresh.opened));
  },
});
