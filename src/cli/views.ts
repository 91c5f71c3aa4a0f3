// How the CLI shows API documents to people: tables and pretty XML. `--json` bypasses all of this.
import Table from 'cli-table3';
import { prettyXml } from '../inspect/xml-pretty.ts';
import type { TimelineEntry, TrafficReport, ScenarioReport } from '../scenario/scenario.ts';
import type { SlotView, VrfView } from '../vrouter/vrouter.ts';

const useColor = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const green = paint(32);
export const red = paint(31);
export const cyan = paint(36);

function table(head: string[]): Table.Table {
  return new Table({ head: head.map((h) => bold(h)), style: { head: [], border: [] } });
}

function render(head: string[], rows: (string | number)[][]): string {
  const t = table(head);
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

export interface NodeSummary {
  name: string;
  kind: string;
  address: string;
  alive: boolean;
  status: { sessions?: { controlNode: string; established: boolean }[]; agents?: unknown[] } | null;
}

export function nodesView(nodes: NodeSummary[]): string {
  return render(
    ['node', 'kind', 'address', 'state', 'sessions'],
    nodes.map((n) => [
      n.name,
      n.kind,
      n.address,
      n.alive ? green('up') : red('down'),
      n.kind === 'control-node'
        ? `${n.status?.agents?.length ?? 0} agents`
        : (n.status?.sessions ?? []).map((s) => `${s.controlNode}:${s.established ? 'up' : 'down'}`).join(' '),
    ]),
  );
}

interface RoutePathJson {
  peer: string;
  rd: string;
  label: number;
  nextHop: string;
  best: boolean;
  multipath: boolean;
  localPref: number;
  med?: number;
  replicatedFrom?: string;
  /** Absent from servers older than the best-path reasons. */
  reason?: { step: string; detail: string };
}
interface RouteJson {
  table: string;
  prefix: string;
  paths?: RoutePathJson[];
}

/** 'best', 'ECMP: tie up to MED', or the deciding step and the best path's value first: 'local-pref 200 > 100'. */
export function pathReasonText(reason: RoutePathJson['reason']): string {
  if (reason === undefined) return '';
  if (reason.step === 'best' || reason.step === 'ecmp') return reason.detail;
  return `${reason.step} ${reason.detail}`;
}

export function routesView(routes: RouteJson[]): string {
  const rows: (string | number)[][] = [];
  for (const r of routes) {
    for (const [i, p] of (r.paths ?? []).entries()) {
      const flag = p.best ? '*>' : p.multipath ? '*=' : '  ';
      const row = [i === 0 ? r.table : '', i === 0 ? r.prefix : '', flag, p.rd, p.nextHop, p.label, p.localPref, p.med ?? '', p.peer + (p.replicatedFrom ? dim(' (replicated)') : '')];
      rows.push([...row, pathReasonText(p.reason)]);
    }
  }
  return `${render(['table', 'prefix', '', 'RD', 'next hop', 'label', 'LP', 'MED', 'peer', 'reason'], rows)}\n${dim('*> best   *= ECMP (multipath)   reason: the step a path lost on against the best')}`;
}

export type FibVrfJson = VrfView;

export function slotsText(slots: SlotView[]): string {
  return slots
    .map((s) => {
      if (s.empty) return dim(`[${s.index}] (hole)`);
      const member = s.local ? `local ${s.interface ?? ''}`.trim() : s.address;
      // docs/protocol.md §7.3: a member of this compute's own local composite, expanded into its ECMP next-hop.
      const from = s.localComposite !== undefined ? dim(` (composite ${s.localComposite})`) : '';
      return `[${s.index}] ${member} label ${s.label}${from}${s.active === false ? red(' inactive') : ''}`;
    })
    .join('\n');
}

export function fibView(vrfs: FibVrfJson[], prefix?: string): string {
  const rows: (string | number)[][] = [];
  for (const v of vrfs) {
    for (const r of v.routes) {
      if (prefix && r.prefix !== prefix && r.prefix !== `${prefix}/32`) continue;
      rows.push([v.vrf, r.prefix, `${r.kind}${r.maglev ? ' (maglev)' : ''}`, r.source, slotsText(r.slots)]);
    }
  }
  for (const v of vrfs) {
    for (const c of v.localComposites ?? []) {
      if (prefix && c.prefix !== prefix && c.prefix !== `${prefix}/32`) continue;
      rows.push([v.vrf, c.prefix, `local composite`, `label ${c.label}`, c.slots.map((x) => (x.empty ? dim(`[${x.index}] (hole)`) : `[${x.index}] ${x.interface}`)).join('\n')]);
    }
  }
  return render(['vrf', 'prefix', 'next hop', 'from', 'slots (index, member, label)'], rows);
}

interface FlowJson {
  [key: string]: unknown;
}

export function flowsView(flows: FlowJson[]): string {
  if (flows.length === 0) return dim('no flows');
  const keys = Object.keys(flows[0]).filter((k) => typeof flows[0][k] !== 'object');
  return render(keys, flows.map((f) => keys.map((k) => String(f[k] ?? ''))));
}

export function trafficView(report: TrafficReport): string {
  const rows = report.members.map((m) => [m.member, m.flows, `${(m.share * 100).toFixed(1)}%`, bar(m.share)]);
  let text = render(['member', 'flows', 'share', ''], rows);
  const drops = Object.entries(report.dropped);
  text += `\n${report.delivered}/${report.flows} delivered, largest deviation from fair ${(report.maxDeviation * 100).toFixed(1)}%, ${report.repliesFromVip} replies from the VIP`;
  if (report.moved !== undefined) text += `, ${report.moved} flows changed member`;
  if (drops.length > 0) text += `\n${red('dropped:')} ${drops.map(([r, n]) => `${r} ${n}`).join(', ')}`;
  return text;
}

function bar(share: number): string {
  return '█'.repeat(Math.round(share * 40));
}

export function traceView(steps: { node: string; step: string; detail: string }[]): string {
  return steps.map((s, i) => `${String(i + 1).padStart(2)}. ${cyan(s.node.padEnd(10))} ${bold(s.step.padEnd(9))} ${s.detail}`).join('\n');
}

export interface StanzaJson {
  seq: number;
  time: string;
  node: string;
  peer: string;
  direction: 'in' | 'out';
  summary: string;
  raw: string;
}

export function stanzaView(s: StanzaJson, raw: boolean): string {
  const arrow = s.direction === 'out' ? '→' : '←';
  const head = `${dim(s.time)} ${bold(s.node)} ${arrow} ${s.peer}  ${cyan(s.summary)}`;
  return raw ? `${head}\n${prettyXml(s.raw)}\n` : head;
}

export function timelineLine(entry: TimelineEntry): string {
  const at = dim(`${(entry.atMs / 1000).toFixed(2).padStart(6)}s`);
  switch (entry.kind) {
    case 'step':
      return `${at} ${bold(`▶ ${entry.text}`)}`;
    case 'note':
      return `${at}   ${entry.text}`;
    case 'check':
      return `${at}   ${entry.ok ? green('✓') : red('✗')} ${entry.text}${entry.detail ? dim(` (${entry.detail})`) : ''}`;
  }
}

export function reportSummary(report: ScenarioReport): string {
  const verdict = report.ok ? green('PASS') : red(report.refused ? 'REFUSED' : 'FAIL');
  const lines = [`${verdict} ${report.scenario} on ${report.topology} (${report.mode}) in ${(report.durationMs / 1000).toFixed(1)} s`];
  if (report.error) lines.push(red(report.error));
  if (report.refused) lines.push(red(report.refused));
  // The plain closing line CI counts.
  lines.push(`${report.checks.passed} passed, ${report.checks.failed} failed`);
  return lines.join('\n');
}

export function configListView(kind: string, objects: Record<string, unknown>[]): string {
  if (objects.length === 0) return dim(`no ${kind}`);
  const keys = Object.keys(objects[0]).filter((k) => k !== 'kind' && k !== 'uuid');
  return render(keys, objects.map((o) => keys.map((k) => (Array.isArray(o[k]) ? JSON.stringify(o[k]) : String(o[k] ?? '')))));
}

/** One object as `field  value` lines (`*-show` without --json). */
export function objectView(object: Record<string, unknown>): string {
  const keys = Object.keys(object).filter((k) => k !== 'kind');
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${bold(k.padEnd(width))}  ${typeof object[k] === 'object' && object[k] !== null ? JSON.stringify(object[k]) : String(object[k] ?? '')}`).join('\n');
}
