// Graceful restart with the XMPP helper on (docs/protocol.md §6.7). A member's agent restarts within the
// restart time: the control node keeps its paths as stale, every composite keeps all four members, the new
// session takes the paths over and no flow moves anywhere. Another member's agent stays away past the
// restart time: its paths are swept, it leaves every composite and only its own flows move.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 4_000;
const RESTART_TIME_MS = 15_000; // topologies/graceful-restart.json gracefulRestart.restartTime
const CLIENTS = ['compute-1', 'compute-6'];

interface GrStatus {
  gracefulRestart: { helper: boolean; agents?: { agent: string; phase: string; stale: number }[]; counters?: { resurrected: number; swept: number } };
}

export default defineScenario({
  name: 'graceful-restart',
  description: 'a member agent restarts within restart-time (nothing moves); another stays away past it (swept)',
  topology: 'graceful-restart.json',
  async run(sim) {
    await sim.expectVipMembers(VIP, 4);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check('flows reach all four members', flows.opened.members.length === 4, describeShares(flows.opened));
    const onC = flows.opened.members.find((m) => m.member === 'compute-4/web-c')?.flows ?? 0;

    sim.step('compute-3 (web-b) restarts within the restart time');
    await sim.kill('compute-3');
    await sim.eventually(
      'control-1 keeps compute-3’s paths as stale',
      () => sim.request<GrStatus>('GET', '/api/nodes/control-1/status'),
      (s) => s.gracefulRestart.agents?.some((a) => a.agent === 'compute-3' && a.phase === 'restarting' && a.stale > 0) === true,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await sim.expectVipMembers(VIP, Object.fromEntries(CLIENTS.map((c) => [c, 4])));
    // No resend here: across processes, packets to a compute that is down wait out the underlay's timeout.
    await sim.restart('compute-3');
    await sim.eventually(
      'compute-3 is back and has taken its paths over (nothing left stale)',
      () => sim.request<GrStatus>('GET', '/api/nodes/control-1/status'),
      (s) => (s.gracefulRestart.agents ?? []).length === 0 && (s.gracefulRestart.counters?.resurrected ?? 0) === 1,
    );
    await sim.expectVipMembers(VIP, 4);
    const back = await flows.resend();
    sim.check('no flow moved anywhere', back.moved === 0 && back.delivered === FLOWS, `${back.moved} moved, ${back.delivered} delivered`);

    sim.step('compute-4 (web-c) goes down and stays away past the restart time');
    await sim.kill('compute-4');
    await sim.expectVipMembers(VIP, Object.fromEntries(CLIENTS.map((c) => [c, 4])));
    sim.note(`within the restart time (${RESTART_TIME_MS} ms) web-c stays in every composite; its flows go to a compute that is down`);
    await sim.expectVipMembers(VIP, Object.fromEntries(CLIENTS.map((c) => [c, 3])), { timeoutMs: RESTART_TIME_MS + 10_000 });
    const routes = (await sim.controlRoutes('control-1', { vrf: 'default-domain:demo:svc-vn', prefix: `${VIP}/32` })) as { paths: { peer: string }[] }[];
    sim.check('control-1 swept compute-4’s paths', routes.every((r) => r.paths.every((p) => p.peer !== 'compute-4')));
    const after = await flows.resend();
    sim.check('every flow delivered again', after.delivered === FLOWS, `${after.delivered}`);
    sim.check('only web-c’s flows moved', after.moved === onC && Object.keys(after.movedFrom ?? {}).join() === 'compute-4/web-c', `${after.moved} moved, ${onC} were on web-c`);
  },
});
