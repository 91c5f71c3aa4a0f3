// The control node restarts. Agents keep the routes learned from it (docs/protocol.md §7.3) so forwarding goes on; when it
// is back they reconnect, re-subscribe with the same instance-ids, re-publish and send End-of-RIB; the
// control node rebuilds the ECMP set and reflects it; stale routes are swept after its End-of-RIB.
// The control node that restarts is the client's; its agents are those the topology points at it.
import { defineScenario, describeShares } from '../src/index.ts';

const FLOWS = 4_000;

interface AgentSessions {
  name: string;
  kind: string;
  status: { sessions?: { controlNode: string; established: boolean }[] } | null;
}

export default defineScenario({
  name: 'control-node-restart',
  description: 'the client’s control node goes down and comes back while flows to the VIP keep going',
  topology: 'six-compute.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 1 });
    const { vip, client } = lb;
    const target = `${vip}:${lb.listener.port}`;
    const control = await sim.controlNodeOf(client.compute);
    const topology = await sim.topology();
    const itsAgents = topology.computes.filter((c) => !c.external && c.xmppServers.includes(control)).map((c) => c.name);
    const sessionTo = (n: AgentSessions) => n.status?.sessions?.find((s) => s.controlNode === control);

    await sim.expectVipMembers(vip, lb.members.length);
    const flows = await sim.openFlows({ from: client.name, to: target, count: FLOWS });
    sim.check(`flows reach all ${lb.members.length} members`, flows.opened.members.length === lb.members.length, describeShares(flows.opened));

    sim.step(`${control} goes down`);
    await sim.kill(control);
    await sim.eventually(
      `every agent of ${control} has lost its session to it`,
      () => sim.request<AgentSessions[]>('GET', '/api/nodes'),
      (nodes) => {
        const agents = nodes.filter((n) => itsAgents.includes(n.name));
        return agents.length === itsAgents.length && agents.length > 0 && agents.every((n) => sessionTo(n)?.established === false);
      },
    );
    // Its agents keep what it taught them; agents of another control node may lose members learned
    // only through it (BGP without graceful restart), which is not what this scenario is about.
    await sim.expectVipMembers(vip, Object.fromEntries(itsAgents.map((c) => [c, lb.members.length])));
    const during = await flows.resend();
    sim.check(`forwarding goes on without ${control}`, during.delivered === FLOWS && during.moved === 0, `${during.delivered} delivered, ${during.moved} moved`);

    sim.step(`${control} comes back`);
    await sim.restart(control);
    await sim.eventually(
      `${control} has every agent back, subscribed`,
      () => sim.request<{ agents: { subscriptions: unknown[] }[] }>('GET', `/api/nodes/${encodeURIComponent(control)}/status`),
      (s) => s.agents.length === itsAgents.length && s.agents.every((a) => a.subscriptions.length === 1),
      { timeoutMs: 20_000 },
    );
    await sim.eventually(
      `${control} has all ${lb.members.length} VIP paths again`,
      () => sim.controlRoutes(control, { vrf: lb.network, prefix: `${vip}/32` }) as Promise<{ paths: unknown[] }[]>,
      (routes) => routes[0]?.paths.length === lb.members.length,
      { timeoutMs: 20_000 },
    );
    await sim.eventually(
      `agents have swept nothing they still need (no stale routes left, VIP still ${lb.members.length}-way)`,
      () => sim.request<{ sessions: { stale: number }[] }>('GET', `/api/nodes/${encodeURIComponent(client.compute)}/status`),
      (s) => s.sessions.every((x) => x.stale === 0),
      { timeoutMs: 20_000 },
    );
    await sim.expectVipMembers(vip, lb.members.length);
    const after = await flows.resend();
    sim.check('no flow moved across the restart', after.delivered === FLOWS && after.moved === 0, `${after.delivered} delivered, ${after.moved} moved`);
  },
});
