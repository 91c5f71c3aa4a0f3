// What moves when the ECMP group of a public address changes under traffic (seed 002: "a flow will
// never move"). Outside clients reach the floating IP 10.1.11.4 through gw-1, which holds no flow
// table: it hashes every packet again over the current paths, `stateless` (hash mod n) or `resilient`
// (a fixed bucket table). A connection that lands on another compute than before finds no flow entry
// there: broken (a real service engine answers it with a reset). East-west connections from a client
// inside the network to the VIP go through the client's vRouter, whose flow table pins them: none
// moves except those whose member left. Events: scale out 2 → 3 service engines, scale in 3 → 2.
import { defineScenario, describeShares } from '../src/index.ts';
import { seed002Places } from './lib/seed-002.ts';

const VIP = '19.1.1.7';
const FIP = '10.1.11.4';
const SES = ['avi-se-czpey', 'avi-se-pnjbb', 'avi-se-third'];
const FLOWS = 3_000;

interface GatewayRound { delivered: number; moved?: number; broken?: number; movedBetweenSurvivors?: number; members: { member: string; flows: number }[] }
interface GatewayRoute { prefix: string; paths: { nextHop: string }[] }

export default defineScenario({
  name: 'north-south',
  description: 'scale-out and scale-in under north-south traffic through a gateway (stateless vs resilient hash) next to east-west traffic',
  topology: 'north-south.json',
  async run(sim) {
    // seed 002's names, placed where the topology puts them
    const { addressOf, computeOf } = await seed002Places(sim);
    const clientCompute = computeOf('client');
    const table: string[] = [];
    const setSes = async (ses: string[]) => {
      await sim.request('PATCH', '/api/config/instance-ip/vs2-vip', { virtualMachineInterfaces: ses });
      const wanted = ses.map((se) => addressOf(computeOf(se))).sort().join(' ');
      await sim.eventually(`${clientCompute} reaches ${VIP} through ${wanted}`, async () => (await sim.nextHops(clientCompute, VIP)).filter((a) => a !== null).sort().join(' '), wanted);
      await sim.eventually(`gw-1 reaches ${FIP} through ${wanted}`, async () => ((await sim.request<GatewayRoute[]>('GET', '/api/nodes/gw-1/routes')).find((r) => r.prefix === `${FIP}/32`)?.paths ?? []).map((p) => p.nextHop).sort().join(' '), wanted, { timeoutMs: 15_000 });
    };

    for (const [index, mode] of (['stateless', 'resilient'] as const).entries()) {
      sim.step(`gw-1 hash ${mode}: vs2 on 2 service engines, ${FLOWS} outside and ${FLOWS} east-west connections`);
      await sim.request('PATCH', '/api/nodes/gw-1/hash', { mode });
      await setSes(SES.slice(0, 2));
      // each mode opens connections of its own, so no flow entry of the other run is found
      const outside = await sim.request<{ id: string; report: GatewayRound }>('POST', '/api/traffic', { from: 'gw-1', to: `${FIP}:80`, count: FLOWS, firstSource: `198.51.${100 + index}.1` });
      const inside = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS, firstSourcePort: 10_000 + index * 20_000 });
      sim.check('all connections delivered on both SEs', outside.report.delivered === FLOWS && inside.opened.delivered === FLOWS && outside.report.members.length === 2, describeShares(inside.opened));

      for (const [event, ses] of [['scale out 2 → 3', SES], ['scale in 3 → 2 (czpey leaves)', SES.slice(1)]] as const) {
        await setSes([...ses]);
        const ns = (await sim.request<{ report: GatewayRound }>('POST', `/api/nodes/gw-1/traffic/${outside.id}/resend`)).report;
        const ew = await inside.resend();
        const survivors = new Set(ses);
        const ewFromSurvivors = Object.entries(ew.movedFrom ?? {}).filter(([member]) => survivors.has(member.split('/')[1])).reduce((sum, [, n]) => sum + n, 0);
        const pct = (n: number) => `${((100 * n) / FLOWS).toFixed(1)}%`;
        sim.note(`${mode}, ${event}: north-south moved ${ns.moved} (${pct(ns.moved ?? 0)}), broken ${ns.broken}, moved between surviving SEs ${ns.movedBetweenSurvivors}; east-west moved ${ew.moved} (${ewFromSurvivors} from surviving SEs)`);
        table.push(`| ${mode} | ${event} | ${ns.moved} (${pct(ns.moved ?? 0)}) | ${ns.broken} | ${ns.movedBetweenSurvivors} | ${ew.moved} | ${ewFromSurvivors} |`);
        sim.check(`${mode}, ${event}: east-west connections on surviving SEs never move`, ewFromSurvivors === 0, `${ew.moved} moved`);
        sim.check(`${mode}, ${event}: a moved north-south connection finds no flow entry on its new compute (broken)`, (ns.broken ?? 0) === (ns.moved ?? 0) && (ns.moved ?? 0) > 0, `${ns.broken} of ${ns.moved}`);
        if (mode === 'resilient') sim.check(`resilient, ${event}: no connection moves between surviving SEs`, ns.movedBetweenSurvivors === 0, `${ns.movedBetweenSurvivors}`);
        else sim.check(`stateless, ${event}: connections also move between SEs that stayed`, (ns.movedBetweenSurvivors ?? 0) > 0, `${ns.movedBetweenSurvivors}`);
      }
    }
    sim.note(['', `| gateway hash | event | N-S moved of ${FLOWS} | N-S broken | N-S moved between surviving SEs | E-W moved | E-W moved from surviving SEs |`, '|---|---|---|---|---|---|---|', ...table].join('\n'));
  },
});
