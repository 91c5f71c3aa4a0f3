// Graceful restart with the XMPP helper on (docs/protocol.md §6.7). A member's agent restarts within the
// restart time: the control node keeps its paths as stale, every composite keeps all members, the new
// session takes the paths over and no flow moves anywhere. Another member's agent stays away past the
// restart time: its paths are swept, it leaves every composite and only its own flows move.
// Members, computes and the restart time come from the topology it runs on, which must turn graceful
// restart and the XMPP helper on.
import { defineScenario, describeShares, ScenarioRefused } from '../src/index.ts';

const FLOWS = 4_000;

interface GrStatus {
  gracefulRestart: { helper: boolean; agents?: { agent: string; phase: string; stale: number }[]; counters?: { resurrected: number; swept: number } };
}

export default defineScenario({
  name: 'graceful-restart',
  description: 'a member agent restarts within restart-time (nothing moves); another stays away past it (swept)',
  topology: 'graceful-restart.json',
  async run(sim) {
    const topology = await sim.topology();
    const gr = topology.gracefulRestart;
    if (!gr?.enable || !gr.xmppHelperEnable) throw new ScenarioRefused(`topology ${topology.name} does not turn graceful restart and the XMPP helper on (gracefulRestart.enable, gracefulRestart.xmppHelperEnable)`);
    if (gr.longLivedRestartTime > 0) throw new ScenarioRefused(`topology ${topology.name} has a long-lived restart stage; this scenario expects the sweep right after restartTime`);
    const lb = await sim.loadBalancer({ members: 3 });
    const { vip, client } = lb;
    const n = lb.members.length;
    const restarting = lb.members[n - 2];
    const away = lb.members[n - 1];
    if (restarting.compute === away.compute || lb.members.some((m) => m !== away && m.compute === away.compute)) {
      throw new ScenarioRefused(`${restarting.name} and ${away.name} must be the only members on their computes`);
    }
    const restartTimeMs = gr.restartTime * 1000;
    const control = await sim.controlNodeOf(restarting.compute);
    // computes without a member: their composites are what the clients use
    const memberComputes = new Set(lb.members.map((m) => m.compute));
    const clients = (await sim.computes()).filter((c) => !memberComputes.has(c));

    await sim.expectVipMembers(vip, n);
    const flows = await sim.openFlows({ from: client.name, to: `${vip}:${lb.listener.port}`, count: FLOWS });
    sim.check(`flows reach all ${n} members`, flows.opened.members.length === n, describeShares(flows.opened));
    const onAway = flows.opened.members.find((m) => m.member === away.id)?.flows ?? 0;

    sim.step(`${restarting.compute} (${restarting.name}) restarts within the restart time`);
    await sim.kill(restarting.compute);
    await sim.eventually(
      `${control} keeps ${restarting.compute}’s paths as stale`,
      () => sim.request<GrStatus>('GET', `/api/nodes/${encodeURIComponent(control)}/status`),
      (s) => s.gracefulRestart.agents?.some((a) => a.agent === restarting.compute && a.phase === 'restarting' && a.stale > 0) === true,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await sim.expectVipMembers(vip, Object.fromEntries(clients.map((c) => [c, n])));
    // No resend here: across processes, packets to a compute that is down wait out the underlay's timeout.
    await sim.restart(restarting.compute);
    await sim.eventually(
      `${restarting.compute} is back and has taken its paths over (nothing left stale)`,
      () => sim.request<GrStatus>('GET', `/api/nodes/${encodeURIComponent(control)}/status`),
      (s) => (s.gracefulRestart.agents ?? []).length === 0 && (s.gracefulRestart.counters?.resurrected ?? 0) === 1,
    );
    await sim.expectVipMembers(vip, n);
    const back = await flows.resend();
    sim.check('no flow moved anywhere', back.moved === 0 && back.delivered === FLOWS, `${back.moved} moved, ${back.delivered} delivered`);

    sim.step(`${away.compute} (${away.name}) goes down and stays away past the restart time`);
    await sim.kill(away.compute);
    await sim.expectVipMembers(vip, Object.fromEntries(clients.map((c) => [c, n])));
    sim.note(`within the restart time (${restartTimeMs} ms) ${away.name} stays in every composite; its flows go to a compute that is down`);
    await sim.expectVipMembers(vip, Object.fromEntries(clients.map((c) => [c, n - 1])), { timeoutMs: restartTimeMs + 10_000 });
    const routes = (await sim.controlRoutes(control, { vrf: lb.network, prefix: `${vip}/32` })) as { paths: { peer: string }[] }[];
    sim.checkAll(`${control} swept ${away.compute}’s paths`, routes, (r) => r.paths.every((p) => p.peer !== away.compute));
    const after = await flows.resend();
    sim.check('every flow delivered again', after.delivered === FLOWS, `${after.delivered}`);
    sim.check(`only ${away.name}’s flows moved`, after.moved === onAway && onAway > 0 && Object.keys(after.movedFrom ?? {}).join() === away.id, `${after.moved} moved, ${onAway} were on ${away.name}`);
  },
});
