// Seed 002, replayed: Avi's virtual service vs2 has its VIP 19.1.1.7 on the port of one service engine
// (Avi-se-czpey); `scaleout_ecmp` places the same address on a second SE's port (Avi-se-pnjbb): an
// active-active instance-ip on two VMIs, so each SE's compute advertises the /32 with its own RD and
// label and every other compute builds the ECMP composite — no floating-ip, no port translation
// (docs/protocol.md §7.2). Then scale in. The floating IP 10.1.11.4 from the public pool follows the VIP
// to both SEs, and the gateway sees one path per SE compute.
import { defineScenario, describeShares } from '../src/index.ts';
import { seed002Places } from './lib/seed-002.ts';

const VIP = '19.1.1.7';
const FIP = '10.1.11.4';
const SE1 = 'avi-se-czpey';
const SE2 = 'avi-se-pnjbb';
const FLOWS = 1_500;

interface GatewayRoute { prefix: string; paths: { nextHop: string; label: number; rd: string }[] }
interface ControlRoute { paths: { rd: string; label: number; nextHop: string; multipath: boolean }[] }

export default defineScenario({
  name: 'avi-scaleout',
  description: 'seed 002: vs2 on one service engine, scaled out to two by a shared active-active VIP, then scaled in: 1, 2, 1 next hops',
  topology: 'north-south.json',
  async run(sim) {
    // seed 002's names, placed where the topology puts them
    const { addressOf, computeOf } = await seed002Places(sim);
    const [se1Compute, spareCompute, clientCompute] = [computeOf(SE1), computeOf('avi-se-third'), computeOf('client')];
    const gatewayPaths = async (prefix: string): Promise<GatewayRoute['paths']> =>
      (await sim.request<GatewayRoute[]>('GET', '/api/nodes/gw-1/routes')).find((r) => r.prefix === prefix)?.paths ?? [];
    const scale = async (ses: string[]) => {
      await sim.request('PATCH', '/api/config/instance-ip/vs2-vip', { virtualMachineInterfaces: ses });
      sim.note(`vs2-vip is on ${ses.join(' and ')}`);
    };

    sim.step(`vs2: VIP ${VIP} on ${SE1} only`);
    await sim.expectVipMembers(VIP, { [clientCompute]: 1 });
    sim.check(`the client compute reaches the VIP through ${se1Compute}`, (await sim.nextHops(clientCompute, VIP)).join() === addressOf(se1Compute));
    await sim.eventually('gw-1 holds the floating IP with 1 path', () => gatewayPaths(`${FIP}/32`), (p) => p.length === 1, { timeoutMs: 15_000 });

    sim.step(`scaleout virtualservice vs2: the VIP goes on ${SE2}'s port as well (active-active)`);
    await scale([SE1, SE2]);
    await sim.expectVipMembers(VIP, { [clientCompute]: 2, [spareCompute]: 2 });
    const routes = (await sim.controlRoutes('control-1', { vrf: 'default-domain:avi:data-vn', prefix: `${VIP}/32` })) as ControlRoute[];
    const paths = routes[0]?.paths ?? [];
    sim.check('control-1 has 2 ECMP paths for the VIP', paths.length === 2 && paths.every((p) => p.multipath), `${paths.length} paths`);
    sim.check('distinct RDs, next hops and labels identify the SEs', new Set(paths.map((p) => p.rd)).size === 2 && new Set(paths.map((p) => p.nextHop)).size === 2, paths.map((p) => `${p.rd} ${p.nextHop} label ${p.label}`).join('; '));
    const fipPaths = await sim.eventually('gw-1 holds the floating IP with 2 paths (floating-IP ECMP)', () => gatewayPaths(`${FIP}/32`), (p) => p.length === 2, { timeoutMs: 15_000 });
    sim.note(fipPaths.map((p) => `${p.rd} -> ${p.nextHop} label ${p.label}`).join('; '));

    sim.step(`${FLOWS} connections from the client to ${VIP}:80 (east-west)`);
    const flows = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    sim.check(`all ${FLOWS} delivered, on both SEs`, flows.opened.delivered === FLOWS && flows.opened.members.length === 2, describeShares(flows.opened));
    sim.check('no NAT: the SEs answer from the VIP itself', flows.opened.repliesFromVip === FLOWS, `${flows.opened.repliesFromVip} replies from ${VIP}:80`);

    sim.step(`${FLOWS} connections from outside clients through gw-1 to the floating IP ${FIP}:80`);
    const outside = await sim.request<{ report: { delivered: number; replies: number; members: { member: string; flows: number }[] } }>('POST', '/api/traffic', { from: 'gw-1', to: `${FIP}:80`, count: FLOWS });
    sim.check('delivered to both SEs, translated to the VIP, replies back at the gateway', outside.report.delivered === FLOWS && outside.report.members.length === 2 && outside.report.replies === FLOWS, outside.report.members.map((m) => `${m.member} ${m.flows}`).join(', '));

    sim.step('scale in: the VIP leaves the second SE');
    await scale([SE1]);
    await sim.expectVipMembers(VIP, { [clientCompute]: 1 });
    await sim.eventually('gw-1 is back to 1 path for the floating IP', () => gatewayPaths(`${FIP}/32`), (p) => p.length === 1, { timeoutMs: 15_000 });
    const resent = await flows.resend();
    const fromSurvivor = resent.movedFrom?.[`${se1Compute}/${SE1}`] ?? 0;
    sim.check(`no connection on ${SE1} moved (flow table)`, fromSurvivor === 0, `${resent.moved ?? 0} moved, of them ${fromSurvivor} from ${SE1}`);
    sim.check('every connection now lands on the remaining SE', resent.members.length === 1 && resent.delivered === FLOWS, describeShares(resent));
  },
});
