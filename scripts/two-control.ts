// Two control nodes joined by iBGP (docs/protocol.md §6.6 full mesh), agents split between them: each control node learns
// part of the VIP's members over XMPP and the rest over BGP as VPNv4 routes with the members' own RDs and
// labels, imports them by route target, and hands its agents the whole ECMP set (docs/protocol.md §6.5). Flows spread over
// all members; a member leaving on one side shrinks the set on the other. Runs on any topology whose
// computes are split between two control nodes, with members on both sides.
import { defineScenario, describeShares, ScenarioRefused } from '../src/index.ts';

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
    const topology = await sim.topology();
    const lb = await sim.loadBalancer({ members: 2 });
    const { vip, client } = lb;
    const control = await sim.controlNodeOf(client.compute);
    const servedBy = new Map(topology.computes.map((c) => [c.name, c.xmppServers]));
    const local = lb.members.filter((m) => servedBy.get(m.compute)?.includes(control));
    const remote = lb.members.filter((m) => !servedBy.get(m.compute)?.includes(control));
    if (topology.controlNodes.length < 2) throw new ScenarioRefused(`topology ${topology.name} has ${topology.controlNodes.length} control node; the scenario needs two joined by iBGP`);
    if (remote.length === 0) throw new ScenarioRefused(`every member of ${lb.pool} talks XMPP to ${control}, the client’s control node; the scenario needs members behind another control node`);
    const controlNodes = topology.controlNodes.map((c) => c.name);
    const leaving = remote[remote.length - 1];

    sim.step('the control nodes peer over iBGP');
    for (const node of controlNodes) {
      await sim.eventually(
        `${node}: BGP session to another control node is established`,
        () => sim.request<{ bgp?: { peers: { state: string }[] } }>('GET', `/api/nodes/${encodeURIComponent(node)}/status`),
        (s) => (s.bgp?.peers ?? []).some((p) => p.state === 'Established'),
        { timeoutMs: 15_000 },
      );
    }

    sim.step(`every compute gets all ${lb.members.length} members, whichever control node it talks to`);
    await sim.expectVipMembers(vip, lb.members.length, { timeoutMs: 15_000 });

    const vrf = (await sim.controlRoutes(control, { vrf: lb.network, prefix: `${vip}/32` })) as RouteJson[];
    const paths = vrf[0]?.paths ?? [];
    sim.check(
      `${control} holds ${lb.members.length} ECMP paths for the VIP: ${local.length} over XMPP, ${remote.length} over BGP`,
      paths.length === lb.members.length && paths.filter((p) => p.peerKind === 'bgp').length === remote.length && paths.every((p) => p.multipath),
      paths.map((p) => `${p.peer}/${p.rd}/${p.label}`).join(' '),
    );
    const vpn = (await sim.controlRoutes(control, { vrf: 'bgp.l3vpn.0', prefix: `${vip}/32` })) as RouteJson[];
    sim.check(`${control}’s bgp.l3vpn.0 has the VIP under ${lb.members.length} distinct RDs`, new Set(vpn.map((r) => r.rd)).size === lb.members.length, vpn.map((r) => r.rd).join(' '));

    const flows = await sim.openFlows({ from: client.name, to: `${vip}:${lb.listener.port}`, count: FLOWS });
    sim.check(`flows from ${client.compute} (${control} only) reach all ${lb.members.length} members`, flows.opened.members.length === lb.members.length && flows.opened.delivered === FLOWS, describeShares(flows.opened));
    const onLeaving = flows.opened.members.find((m) => m.member === leaving.id)?.flows ?? 0;

    sim.step(`${leaving.name} (behind another control node) leaves the pool`);
    await sim.removeMember(lb.pool, leaving.address);
    await sim.expectVipMembers(vip, lb.members.length - 1);
    const after = await flows.resend();
    sim.check(`only ${leaving.name}’s flows moved`, after.moved === onLeaving && onLeaving > 0, `${after.moved} moved, ${onLeaving} were on ${leaving.name}`);
  },
});
