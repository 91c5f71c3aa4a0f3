// The control node restarts. Agents keep the routes learned from it (docs/protocol.md §7.3) so forwarding goes on; when it
// is back they reconnect, re-subscribe with the same instance-ids, re-publish and send End-of-RIB; the
// control node rebuilds the ECMP set and reflects it; stale routes are swept after its End-of-RIB.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 4_000;

export default defineScenario({
  name: 'control-node-restart',
  description: 'control-1 goes down and comes back while flows to the VIP keep going',
  topology: 'six-compute.json',
  async run(sim) {
    await sim.expectVipMembers(VIP, 2);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check('flows reach both members', flows.opened.members.length === 2, describeShares(flows.opened));

    sim.step('control-1 goes down');
    await sim.kill('control-1');
    await sim.eventually(
      'every agent has lost its session',
      () => sim.request<{ name: string; kind: string; status: { sessions?: { established: boolean }[] } | null }[]>('GET', '/api/nodes'),
      (nodes) => nodes.filter((n) => n.kind === 'compute').every((n) => n.status?.sessions?.every((s) => !s.established) === true),
    );
    await sim.expectVipMembers(VIP, 2);
    const during = await flows.resend();
    sim.check('forwarding goes on without the control node', during.delivered === FLOWS && during.moved === 0, `${during.delivered} delivered, ${during.moved} moved`);

    sim.step('control-1 comes back');
    await sim.restart('control-1');
    await sim.eventually(
      'control-1 has every agent back, subscribed',
      () => sim.request<{ agents: { subscriptions: unknown[] }[] }>('GET', '/api/nodes/control-1/status'),
      (s) => s.agents.length === 6 && s.agents.every((a) => a.subscriptions.length === 1),
      { timeoutMs: 20_000 },
    );
    await sim.eventually(
      'control-1 has both VIP paths again',
      () => sim.controlRoutes('control-1', { vrf: 'default-domain:demo:svc-vn', prefix: `${VIP}/32` }) as Promise<{ paths: unknown[] }[]>,
      (routes) => routes[0]?.paths.length === 2,
    );
    await sim.eventually(
      'agents have swept nothing they still need (no stale routes left, VIP still 2-way)',
      () => sim.request<{ sessions: { stale: number }[] }>('GET', '/api/nodes/compute-1/status'),
      (s) => s.sessions.every((x) => x.stale === 0),
      { timeoutMs: 20_000 },
    );
    await sim.expectVipMembers(VIP, 2);
    const after = await flows.resend();
    sim.check('no flow moved across the restart', after.delivered === FLOWS && after.moved === 0, `${after.delivered} delivered, ${after.moved} moved`);
  },
});
