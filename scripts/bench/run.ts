// `npm run bench` — node --import tsx scripts/bench/run.ts [--quick] [--only xmpp,bgp,dataplane] [--out FILE]
//
// Runs benchmark modules one after the other, prints one table per module (cli-table3) and writes one
// JSON file (default bench-results/latest.json) with the machine, Node version, date, git commit and
// every figure with its unit and, where one exists, its target and whether it was met.
//
// Adding a benchmark module:
//   1. Create scripts/bench/<file>.ts exporting `run` of type BenchRun (./bench-section.ts):
//        export async function run(o: { quick: boolean; log(line: string): void }): Promise<BenchSection>
//      `quick` selects the CI smoke size (the whole `--quick` run must stay well under a minute);
//      `log` prints progress to stderr. Return figures built with `figure(name, case, value, unit,
//      { target, note })`; put sizes in `params` and method/bounds in `notes`.
//   2. Add its key and file to MODULES below. A listed module whose file does not exist yet is
//      reported as skipped, so keys can be reserved before the module lands.
// Modules must close every socket, timer and child process they open before `run` resolves.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import Table from 'cli-table3';
import type { BenchRun, BenchSection } from './bench-section.ts';
import { summaryMarkdown } from './summary.ts';

const MODULES: Record<string, string> = {
  xmpp: './xmpp-fanout.ts',
  bgp: './bgp.ts',
  dataplane: './dataplane.ts',
};

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  arch: string;
  kernel: string;
  /** 1/5/15-minute load averages when the run started: other work on the machine skews every figure. */
  loadAverage: number[];
}

function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

function gitCommit(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: null, dirty: null };
  }
}

function formatValue(value: number | null): string {
  if (value === null) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(4)));
}

function printSection(section: BenchSection): void {
  const table = new Table({ head: ['figure', 'case', 'value', 'unit', 'target', 'met'] });
  for (const f of section.figures) {
    table.push([
      f.name,
      f.case,
      formatValue(f.value),
      f.unit,
      f.target ? `${f.target.op} ${formatValue(f.target.value)}` : '',
      f.met === undefined ? '' : f.met ? 'yes' : 'NO',
    ]);
  }
  process.stdout.write(`\n${section.title}\n${table.toString()}\n`);
  for (const note of section.notes) process.stdout.write(`  · ${note}\n`);
}

async function main(): Promise<number> {
  const program = new Command()
    .name('bench')
    .option('--quick', 'CI smoke sizes (well under a minute)', false)
    .option('--only <keys>', `comma-separated subset of: ${Object.keys(MODULES).join(', ')}`)
    .option('--out <file>', 'JSON output file', 'bench-results/latest.json')
    .parse(process.argv);
  const opts = program.opts<{ quick: boolean; only?: string; out: string }>();
  const wanted = opts.only === undefined ? Object.keys(MODULES) : opts.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((k) => !(k in MODULES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown module(s) ${unknown.join(', ')}; known: ${Object.keys(MODULES).join(', ')}\n`);
    return 2;
  }

  const started = new Date();
  const host = machine();
  const sections: BenchSection[] = [];
  const skipped: { name: string; reason: string }[] = [];
  let failed = false;
  const log = (line: string): void => {
    process.stderr.write(`[bench] ${line}\n`);
  };
  for (const key of wanted) {
    const file = path.resolve(HERE, MODULES[key]);
    if (!existsSync(file)) {
      skipped.push({ name: key, reason: `${path.relative(REPO, file)} does not exist yet` });
      continue;
    }
    log(`${key}: running (${opts.quick ? 'quick' : 'full'})`);
    try {
      const mod = (await import(file)) as { run?: BenchRun };
      if (typeof mod.run !== 'function') throw new Error(`${path.relative(REPO, file)} exports no run()`);
      const section = await mod.run({ quick: opts.quick, log: (line) => log(`${key}: ${line}`) });
      sections.push(section);
      printSection(section);
    } catch (e) {
      failed = true;
      const reason = e instanceof Error ? (e.stack ?? e.message) : String(e);
      skipped.push({ name: key, reason: `failed: ${reason}` });
      log(`${key}: FAILED: ${reason}`);
    }
  }
  for (const s of skipped) process.stdout.write(`\n${s.name}: skipped — ${s.reason.split('\n')[0]}\n`);

  const report = {
    tool: 'ecmpsim bench',
    mode: opts.quick ? 'quick' : 'full',
    date: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    machine: host,
    loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    v8: process.versions.v8,
    git: gitCommit(),
    sections,
    skipped,
  };
  const out = path.resolve(process.cwd(), opts.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  // Side by side in one run, as the README's tables (scripts/bench/summary.ts).
  process.stdout.write(`\n--- summary (markdown, for the README) ---\n${summaryMarkdown(report)}`);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out) || out}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
