// The bench's figures as the README's tables: one markdown block from one run's JSON (bench-results/latest.json),
// with the machine, date, commit and load it was measured at, every BGP figure side by side with BIRD, FRR
// and gobgpd as ratios, and the scale figures per size (scale.ts). `run.ts` prints it after each run; alone:
//   node --import tsx scripts/bench/summary.ts [bench-results/latest.json]
// It reads only the JSON: what a figure means is the module's (xmpp-fanout.ts, bgp.ts, dataplane.ts).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BenchFigure, BenchSection } from './bench-section.ts';

/** The part of run.ts's report this reads. */
export interface BenchReport {
  readonly date: string;
  readonly mode: string;
  readonly machine: { cpuModel: string; cores: number; memoryBytes: number; loadAverage: number[] };
  readonly loadAverageAtEnd?: number[];
  readonly node: string;
  readonly git: { commit: string | null; dirty: boolean | null };
  readonly sections: readonly BenchSection[];
}

function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(digits)));
}

function ratio(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${fmt(value)}×`;
}

function met(f: BenchFigure | undefined): string {
  if (f?.target === undefined) return '';
  const want = `${f.target.op === '<=' ? '≤' : '≥'} ${fmt(f.target.value)}`;
  return f.met === undefined ? want : `${want} — ${f.met ? 'met' : '**missed**'}`;
}

class Figures {
  constructor(private readonly figures: readonly BenchFigure[]) {}

  get(name: string, c: string): BenchFigure | undefined {
    return this.figures.find((f) => f.name === name && f.case === c);
  }

  value(name: string, c: string): number | null | undefined {
    return this.get(name, c)?.value;
  }

  cases(prefix: string): string[] {
    return [...new Set(this.figures.filter((f) => f.name.startsWith(prefix)).map((f) => f.case))];
  }
}

function header(r: BenchReport): string {
  const m = r.machine;
  const load = `${m.loadAverage[0] ?? '?'}${r.loadAverageAtEnd ? ` → ${r.loadAverageAtEnd[0]}` : ''}`;
  return `Measured ${r.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} at commit ${r.git.commit?.slice(0, 7) ?? 'unknown'}${r.git.dirty ? ' (+ working tree)' : ''} ` +
    `(${r.mode} run): ${m.cores} × ${m.cpuModel}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB, Node ${r.node.replace(/^v/, '')}, 1-minute load average ${load}.`;
}

function xmppTable(s: BenchSection): string[] {
  const f = new Figures(s.figures);
  const sizes = f.cases('ingest.').filter((c) => c.endsWith('agents'));
  if (sizes.length === 0) return [];
  const row = (label: string, cell: (c: string) => string, target = ''): string => `| ${label} | ${sizes.map(cell).join(' | ')} | ${target} |`;
  const last = sizes[sizes.length - 1]!;
  const first = sizes[0]!;
  return [
    '**XMPP** (the real control node; peers on real TCP, each from its own 127.x address)',
    '',
    `| figure | ${sizes.join(' | ')} | target |`,
    `|---|${sizes.map(() => '---:').join('|')}|---|`,
    row('ingest, route items per CPU-second (cold: a fresh control node)', (c) => fmt(f.value('ingest.ratePerCore', c)), met(f.get('ingest.ratePerCore', last))),
    ...(f.cases('ingest.ratePerCoreWarm').length > 0
      ? [row('ingest, after a declared JIT warm-up (not counted)', (c) => fmt(f.value('ingest.ratePerCoreWarm', c)), met(f.get('ingest.ratePerCoreWarm', last)))]
      : []),
    row('fan-out: items delivered', (c) => fmt(f.value('fanout.itemsDelivered', c))),
    row('fan-out: publish → every subscriber has every item', (c) => `${fmt((f.value('fanout.allDeliveredMs', c) ?? NaN) / 1000)} s`),
    row('fan-out: control-node CPU', (c) => `${fmt(f.value('fanout.cpuSeconds', c))} s`, met(f.get('fanout.cpuSeconds', first))),
    row('fan-out: control-node peak RSS', (c) => `${fmt(f.value('fanout.peakRssMiB', c))} MiB`, met(f.get('fanout.peakRssMiB', first))),
    row('scale-out convergence p50 / p99', (c) => `${fmt(f.value('scaleOut.p50Ms', c))} / ${fmt(f.value('scaleOut.p99Ms', c))} ms`, met(f.get('scaleOut.p99Ms', last))),
    '',
  ];
}

const DAEMONS = ['bird', 'frr', 'gobgpd'] as const;
const NAMES: Record<string, string> = { ours: '**ecmpsim control node**', bird: 'BIRD', frr: 'FRR bgpd', gobgpd: 'gobgpd', harness: 'harness alone (floor)' };

function bgpTables(s: BenchSection): string[] {
  const f = new Figures(s.figures);
  const versions = (s.params.versions ?? {}) as Record<string, string>;
  const sizes = [...new Set(f.cases('bgp.seconds').map((c) => c.split(' ')[1]!))];
  const out: string[] = [];
  for (const size of sizes) {
    const targets = f.cases('bgp.seconds').filter((c) => c.endsWith(` ${size}`)).map((c) => c.split(' ')[0]!);
    out.push(
      `**BGP**, ${size} VPNv4 routes: feeder → target (route reflector) → monitor, the same feeder and monitor for every target in the same run`,
      '',
      '| target | announce: until the monitor has all | withdraw: until the monitor has none | bytes per route (peak RSS) | CPU s announce / withdraw |',
      '|---|---:|---:|---:|---:|',
    );
    for (const t of targets) {
      const c = `${t} ${size}`;
      const name = t === 'ours' || t === 'harness' || versions[t] === undefined ? (NAMES[t] ?? t) : `${NAMES[t] ?? t} (${versions[t]})`;
      out.push(`| ${name} | ${fmt(f.value('bgp.seconds', c))} s | ${fmt(f.value('bgp.withdrawSeconds', c))} s | ${t === 'harness' ? '—' : fmt(f.value('bgp.rssBytesPerRoute', c))} | ` +
        `${t === 'harness' ? '—' : `${fmt(f.value('bgp.cpuSeconds', c))} / ${fmt(f.value('bgp.withdrawCpuSeconds', c))}`} |`);
    }
    const present = DAEMONS.filter((d) => targets.includes(d));
    if (targets.includes('ours') && present.length > 0) {
      const r = (name: string): string => present.map((d) => ratio(f.value(name, `ours/${d} ${size}`))).join(' · ');
      out.push(`| ratio ours / ${present.map((d) => NAMES[d]).join(' · ')} | ${r('bgp.ratio.seconds')} | ${r('bgp.ratio.withdrawSeconds')} | ${r('bgp.ratio.bytesPerRoute')} | ${r('bgp.ratio.cpuSeconds')} / ${r('bgp.ratio.withdrawCpuSeconds')} |`);
      if (present.includes('bird')) {
        const c = `ours/bird ${size}`;
        out.push('', `Targets against BIRD (< 1.0): announce ${met(f.get('bgp.ratio.seconds', c))}, withdraw ${met(f.get('bgp.ratio.withdrawSeconds', c))}, bytes per route ${met(f.get('bgp.ratio.bytesPerRoute', c))}.`);
      }
    }
    out.push('');
  }
  return out;
}

function dataplaneTable(s: BenchSection): string[] {
  const f = new Figures(s.figures);
  const out: string[] = [];
  const flows = f.cases('flowTable.newFlowsPerSecond')[0];
  if (flows !== undefined) {
    out.push(
      `**Data plane** (the flow table as the vRouter keeps it; ${flows})`,
      '',
      '| figure | value | target |',
      '|---|---:|---|',
      `| new flows per second | ${fmt(f.value('flowTable.newFlowsPerSecond', flows))} | ${met(f.get('flowTable.newFlowsPerSecond', flows))} |`,
      `| established-flow lookups per second | ${fmt(f.value('flowTable.establishedLookupsPerSecond', flows))} | ${met(f.get('flowTable.establishedLookupsPerSecond', flows))} |`,
      `| bytes per flow entry | ${fmt(f.value('flowTable.bytesPerFlowEntry', flows))} | ${met(f.get('flowTable.bytesPerFlowEntry', flows))} |`,
      '',
    );
  }
  const cases = f.cases('disruption.');
  if (cases.length === 0) return out;
  out.push(
    '**Disruption** (share of placements that change member when one member is added)',
    '',
    '| members | Contrail rule, with the flow table | Contrail rule, as new flows | Maglev, as new flows | Maglev target ≤ 1/N + 1 % |',
    '|---|---:|---:|---:|---|',
  );
  for (const c of cases) {
    const target = f.get('disruption.maglevNewFlows', c);
    out.push(`| ${c.split(',')[0]!.replace('N=', '').replace('->', ' → ')} | ${fmt(f.value('disruption.contrailWithFlowTable', c))} | ${fmt(f.value('disruption.contrailNewFlows', c))} | ${fmt(target?.value)} | ${met(target)} |`);
  }
  out.push('');
  return out;
}

function mib(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${fmt(value)} MiB`;
}

function kib(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value >= 1024 ? `${fmt(value / 1024)} MiB` : `${fmt(value)} KiB`;
}

function scaleTable(s: BenchSection): string[] {
  const f = new Figures(s.figures);
  const sizes = f.cases('converge');
  if (sizes.length === 0) return [];
  const threads = [...s.notes].reverse().find((n) => n.includes('main thread'));
  const out = [
    `**Scale** (\`--only scale\`, issue 18: N computes with one workload each in one network, a ${String(s.params.members ?? 64)}-member VIP, ` +
      `in-process${threads === undefined ? '' : `; at the largest size ${threads.replace(/^[^:]*: /, '')}`})`,
    '',
    '| computes | converge | peak RSS | per compute | CPU-s | member added → every compute, p50 / p99 |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of sizes) {
    const converge = f.value('converge', c);
    out.push(`| ${c.replace(' computes', '')} | ${converge === null || converge === undefined ? 'not converged' : `${fmt(converge / 1000)} s`} | ` +
      `${mib(f.value('peakRss', c))} | ${kib(f.value('peakRssPerCompute', c))} | ${fmt(f.value('cpuToConverge', c))} | ` +
      `${fmt(f.value('memberAdd.p50', c))} / ${fmt(f.value('memberAdd.p99', c))} ms |`);
  }
  const targeted = sizes.filter((c) => f.get('converge', c)?.target !== undefined);
  for (const c of targeted) {
    const target = (name: string, unit: string, scale = 1): string => {
      const g = f.get(name, c);
      if (g?.target === undefined) return '—';
      const want = `${g.target.op === '<=' ? '≤' : '≥'} ${fmt(g.target.value / scale)} ${unit}`;
      return g.met === undefined ? want : `${want} — ${g.met ? 'met' : '**missed**'}`;
    };
    out.push('', `Targets at ${c}: converge ${target('converge', 's', 1000)}, peak RSS ${target('peakRss', 'MiB')}, per compute ${target('peakRssPerCompute', 'KiB')}.`);
  }
  out.push('');
  return out;
}

/** The markdown block for the README's "Benchmarks" section. */
export function summaryMarkdown(r: BenchReport): string {
  const lines = [header(r), ''];
  for (const s of r.sections) {
    if (s.name === 'xmpp') lines.push(...xmppTable(s));
    if (s.name === 'bgp') lines.push(...bgpTables(s));
    if (s.name === 'dataplane') lines.push(...dataplaneTable(s));
    if (s.name === 'scale') lines.push(...scaleTable(s));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? 'bench-results/latest.json';
  try {
    process.stdout.write(summaryMarkdown(JSON.parse(readFileSync(file, 'utf8')) as BenchReport));
  } catch (e) {
    process.stderr.write(`bench summary: cannot read ${file}: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
