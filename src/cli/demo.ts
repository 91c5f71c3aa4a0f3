// `ecmpsim demo`: the main job on the default topology. It runs as a scenario (its checks are real)
// and shows what a network engineer wants to see: the VIP's XMPP item, every compute's ECMP next-hop
// with slots and labels, how flows spread, and how many move when the pool scales out and in.
import path from 'node:path';
import { prettyXml } from '../inspect/xml-pretty.ts';
import { TOPOLOGIES_DIR, runScenario } from '../scenario/runner.ts';
import { defineScenario, type ScenarioContext, type TrafficReport } from '../scenario/scenario.ts';
import type { LaunchMode } from '../topology/launcher.ts';
import { bold, dim, fibView, reportSummary, timelineLine, trafficView, type FibVrfJson, type StanzaJson } from './views.ts';

const VIP = '30.30.30.100';
const VIP_PREFIX = `${VIP}/32`;
const POOL = 'pool1';
const NETWORK = 'default-domain:demo:svc-vn';
const COMPUTES = ['compute-1', 'compute-2', 'compute-3'];
// The three new members start on compute-1, next to the client. compute-1 publishes the VIP once,
// with a local-composite label (docs/protocol.md §7.2), and expands that composite in its own ECMP next-hop (docs/protocol.md §7.3): the
// client's compute sees five members, the others see three next hops, one per member compute.
const NEW_MEMBERS = [
  { name: 'web-c', compute: 'compute-1', address: '30.30.30.12' },
  { name: 'web-d', compute: 'compute-1', address: '30.30.30.13' },
  { name: 'web-e', compute: 'compute-1', address: '30.30.30.14' },
];

interface StepResult {
  step: string;
  members: number;
  moved: number | null;
  expected: string;
  distribution: TrafficReport;
}

/** The message as sent, with the items of other prefixes that travelled in the same batch left out. */
function onlyItem(raw: string, prefix: string): string {
  const first = raw.indexOf('<item ');
  const last = raw.lastIndexOf('</item>');
  const start = raw.indexOf(`<item id="${prefix}">`);
  if (first < 0 || last < 0 || start < 0) return raw;
  const end = raw.indexOf('</item>', start) + '</item>'.length;
  return raw.slice(0, first) + raw.slice(start, end) + raw.slice(last + '</item>'.length);
}

function section(title: string): void {
  process.stdout.write(`\n${bold(`━━ ${title}`)}\n`);
}

function demoScenario(flows: number, results: StepResult[], show: boolean) {
  const out = (text: string): void => {
    if (show) process.stdout.write(`${text}\n`);
  };
  const vipSlotsEverywhere = async (sim: ScenarioContext, members: Record<string, number>): Promise<void> => {
    for (const compute of COMPUTES) {
      const n = members[compute];
      await sim.eventually(`${compute}: VIP composite has ${n} active member(s)`, () => sim.slots(compute, VIP), (slots) => slots.filter((s) => !s.empty).length === n);
    }
  };
  const showFib = async (sim: ScenarioContext): Promise<void> => {
    for (const compute of COMPUTES) {
      const fib = await sim.request<FibVrfJson[]>('GET', `/api/nodes/${compute}/fib`);
      out(`${bold(compute)}\n${fibView(fib, VIP_PREFIX)}`);
    }
  };

  return defineScenario({
    name: 'demo',
    description: 'native LB lb1: 2 members, scale out to 5, scale in to 1, under traffic',
    async run(sim) {
      sim.step(`bring up the default topology; wait for the VIP ${VIP} on every compute`);
      await vipSlotsEverywhere(sim, { 'compute-1': 2, 'compute-2': 2, 'compute-3': 2 });

      if (show) section(`The VIP's XMPP item, as control-1 sends it to compute-1 (docs/protocol.md §4.1)`);
      const items = await sim.request<StanzaJson[]>('GET', `/api/stanzas?node=control-1&peer=compute-1&direction=out&prefix=${encodeURIComponent(VIP_PREFIX)}&limit=1`);
      sim.check('control-1 sent compute-1 an item for the VIP', items.length === 1);
      if (items[0]) out(prettyXml(onlyItem(items[0].raw, VIP_PREFIX)));

      if (show) section(`ECMP next-hop for ${VIP_PREFIX} on each compute (slot, member, label)`);
      await showFib(sim);

      sim.step(`open ${flows} flows from client to ${VIP}:80`);
      const run = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: flows });
      sim.check(`all ${flows} flows delivered`, run.opened.delivered === flows, `${run.opened.delivered} delivered`);
      sim.check('every reply comes back from the VIP (member-side NAT 8080 → 80)', run.opened.repliesFromVip === run.opened.delivered);
      results.push({ step: '2 members', members: 2, moved: null, expected: '-', distribution: run.opened });
      if (show) section(`${flows} flows over 2 members`);
      out(trafficView(run.opened));

      sim.step('scale out 2 → 5: three new workloads on compute-1 join pool1');
      for (const m of NEW_MEMBERS) {
        await sim.addWorkload({ name: m.name, compute: m.compute, network: NETWORK, address: m.address });
        await sim.addMember(POOL, { address: m.address, port: 8080 });
      }
      await vipSlotsEverywhere(sim, { 'compute-1': 5, 'compute-2': 3, 'compute-3': 3 });
      const afterOut = await run.resend();
      sim.check('scale-out moved no existing flow', afterOut.moved === 0, `${afterOut.moved} moved`);
      results.push({ step: 'scale out to 5', members: 5, moved: afterOut.moved ?? 0, expected: '0 (stored slots survive)', distribution: afterOut });
      if (show) section('After scale-out: existing flows stay where they were');
      out(trafficView(afterOut));
      if (show) section(`ECMP next-hop for ${VIP_PREFIX} after scale-out`);
      await showFib(sim);

      const fresh = await sim.openFlows({ from: 'client', to: `${VIP}:80`, count: flows, firstSourcePort: 40_000 });
      sim.check('new flows spread over all 5 members', fresh.opened.members.length === 5, `${fresh.opened.members.length} members`);
      results.push({ step: 'new flows after scale-out', members: 5, moved: null, expected: '-', distribution: fresh.opened });
      if (show) section(`${flows} new flows over 5 members`);
      out(trafficView(fresh.opened));

      sim.step('scale in 5 → 1: remove every member but web-a');
      const before = await run.resend();
      const onWebA = before.members.find((m) => m.member.endsWith('/web-a'))?.flows ?? 0;
      for (const address of ['30.30.30.11', ...NEW_MEMBERS.map((m) => m.address)]) await sim.removeMember(POOL, address);
      await vipSlotsEverywhere(sim, { 'compute-1': 1, 'compute-2': 1, 'compute-3': 1 });
      const afterIn = await run.resend();
      const expectedMoves = flows - onWebA;
      sim.check('scale-in moved exactly the removed members’ flows', afterIn.moved === expectedMoves, `${afterIn.moved} moved, ${expectedMoves} were on removed members`);
      results.push({ step: 'scale in to 1', members: 1, moved: afterIn.moved ?? 0, expected: `${expectedMoves} (flows of removed members)`, distribution: afterIn });
      if (show) section('After scale-in: only the removed members’ flows moved');
      out(trafficView(afterIn));
      if (show) section(`ECMP next-hop for ${VIP_PREFIX} after scale-in (holes keep the survivors' slots)`);
      await showFib(sim);
    },
  });
}

export async function runDemo(o: { mode: LaunchMode; flows: number; json: boolean }): Promise<boolean> {
  const results: StepResult[] = [];
  const scenario = demoScenario(o.flows, results, !o.json);
  if (!o.json) process.stdout.write(`${bold('ecmpsim demo')} ${dim(`— native load balancer lb1, VIP ${VIP}:80 → members :8080, topology default (${o.mode})`)}\n`);
  const report = await runScenario(scenario, {
    mode: o.mode,
    topologyFile: path.join(TOPOLOGIES_DIR, 'default.json'),
    onEntry: o.json ? undefined : (entry) => {
      if (entry.kind !== 'note') process.stdout.write(`${timelineLine(entry)}\n`);
    },
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ report, results }, null, 2)}\n`);
  } else {
    section('Summary');
    for (const r of results) {
      process.stdout.write(`  ${r.step.padEnd(28)} members ${String(r.members).padEnd(3)} moved ${String(r.moved ?? '-').padEnd(6)} expected ${r.expected}\n`);
    }
    process.stdout.write(`\n${reportSummary(report)}\n`);
  }
  return report.ok;
}
