// Two control nodes joined by iBGP (docs/protocol.md §6.6 full mesh), agents split between them: each control node learns
// part of the VIP's members over XMPP and the rest over BGP as VPNv4 routes with the members' own RDs and
// labels, imports them by route target, and hands its agents the whole ECMP set (docs/protocol.md §6.5). Flows spread over
// all members; a member leaving on one side shrinks the set on the other.
import { defineScenario, describeShares } from '../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const FLOWS = 6_000;

interface RouteJson {
  table: string;
  rd?: string;
  paths: { peer: string; peerKind: string; rd: string; label: number; nextHop: string; multipath: boolean }[];
}

export default defineScenario({
  name: 'two-control',
  description: 'VIP members learned by one control node reach the other control node’s agents over iBGP, ECMP set intact',
  topology: 'two-control-split.json',
  async run(sim) {
    sim.step('the control nodes peer over iBGP');
    for (const node of ['control-1', 'control-2']) {
      await sim.eventually(
        `${node}: BGP session to the other control node is established`,
        () => sim.request<{ bgp?: { peers: { state: string }[] } }>('GET', `/api/nodes/${node}/status`),
        (s) => (s.bgp?.peers ?? []).some((p) => p.state === 'Established'),
        { timeoutMs: 15_000 },
      );
    }

    sim.step('every compute gets all three members, whichever control node it talks to');
    await sim.expectVipMembers(VIP, 3, { timeoutMs: 15_000 });

    const vrf = (await sim.controlRoutes('control-1', { vrf: 'default-domain:demo:svc-vn', prefix: `${VIP}/32` })) as RouteJson[];
    const paths = vrf[0]?.paths ?? [];
    sim.check('control-1 holds 3 ECMP paths for the VIP: 1 over XMPP, 2 over BGP', paths.length === 3 && paths.filter((p) => p.peerKind === 'bgp').length === 2 && paths.every((p) => p.multipath), paths.map((p) => `${p.peer}/${p.rd}/${p.label}`).join(' '));
    const vpn = (await sim.controlRoutes('control-1', { vrf: 'bgp.l3vpn.0', prefix: `${VIP}/32` })) as RouteJson[];
    sim.check('control-1’s bgp.l3vpn.0 has the VIP under 3 distinct RDs', new Set(vpn.map((r) => r.rd)).size === 3, vpn.map((r) => r.rd).join(' '));

    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check('flows from compute-1 (control-1 only) reach all three members', flows.opened.members.length === 3 && flows.opened.delivered === FLOWS, describeShares(flows.opened));
    const onC = flows.opened.members.find((m) => m.member === 'compute-4/web-c')?.flows ?? 0;

    sim.step('web-c (behind control-2) leaves the pool');
    await sim.removeMember('pool1', '30.30.30.12');
    await sim.expectVipMembers(VIP, 2);
    const after = await flows.resend();
    sim.check('only web-c’s flows moved', after.moved === onC, `${after.moved} moved, ${onC} were on web-c`);
  },
});
