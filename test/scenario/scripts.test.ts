// Every scenario script in scripts/ must pass through the same runner `ecmpsim run` uses.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadScenario, runScenario } from '../../src/scenario/runner.ts';
import type { ScenarioReport } from '../../src/scenario/scenario.ts';

const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));
const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith('.ts'));

function failures(report: ScenarioReport): string {
  const failed = report.timeline.filter((e) => e.kind === 'check' && !e.ok).map((e) => `${e.text}: ${e.detail ?? ''}`);
  return [report.error, ...failed].filter(Boolean).join('\n');
}

describe('scenario scripts (in-process)', function () {
  this.timeout(60_000);
  it('ships the scenarios the runtime issue names', () => {
    expect(scripts).to.include.members(['scale-out.ts', 'scale-in.ts', 'member-flap.ts', 'compute-failure.ts', 'control-node-restart.ts']);
  });
  for (const file of scripts) {
    it(`${file} passes`, async () => {
      const scenario = await loadScenario(path.join(SCRIPTS, file));
      const report = await runScenario(scenario);
      expect(report.checks.passed, 'a scenario that checks nothing proves nothing').to.be.greaterThan(0);
      expect(report.ok, failures(report)).to.equal(true);
    });
  }
});

// Scripts take names, addresses and members from the topology they run on: alt-addresses.json shares
// none with the shipped examples (other names, addresses, ports, network, two control nodes).
const ALT = fileURLToPath(new URL('../../topologies/alt-addresses.json', import.meta.url));
/** Scripts that need what alt-addresses lacks; each must refuse with a reason, not pass or fail. */
const REFUSES_ALT: Record<string, RegExp> = {
  'k8s-service.ts': /maps no compute to Kubernetes node/,
  'graceful-restart.ts': /does not turn graceful restart and the XMPP helper on/,
  'avi-scaleout.ts': /lacks seed 002's service engines/,
  'north-south.ts': /lacks seed 002's service engines/,
};

describe('scenario scripts on a second topology (alt-addresses.json)', function () {
  this.timeout(60_000);
  for (const file of scripts) {
    it(`${file} ${REFUSES_ALT[file] ? 'refuses with a reason' : 'passes'}`, async () => {
      const report = await runScenario(await loadScenario(path.join(SCRIPTS, file)), { topologyFile: ALT });
      expect(report.topology).to.equal('alt-addresses');
      if (REFUSES_ALT[file]) {
        expect(report.ok).to.equal(false);
        expect(report.refused).to.match(REFUSES_ALT[file]);
        return;
      }
      expect(report.checks.passed, 'a scenario that checks nothing proves nothing').to.be.greaterThan(0);
      expect(report.ok, failures(report)).to.equal(true);
    });
  }
});

// The scripts alt-addresses cannot host (they need seed 001/002's names, or graceful restart on) run on a
// copy of their own topology moved to other loopback addresses (127.17.x.y) with the computes renamed.
function movedTopology(file: string, dir: string): string {
  const text = readFileSync(file, 'utf8');
  const moved = text
    .replace(/"127\.\d+\.(\d+)\.(\d+)"/g, '"127.17.$1.$2"')
    .replace(/\bcompute-(\d+)\b/g, 'hv-$1')
    .replace(/"name": "([^"]+)"/, '"name": "$1-moved"');
  const before = new Set(text.match(/"127\.\d+\.\d+\.\d+"/g) ?? []);
  const after = new Set(moved.match(/"127\.17\.\d+\.\d+"/g) ?? []);
  if (before.size !== after.size || before.size === 0) throw new Error(`${file}: moving its addresses would merge two of them`);
  const out = path.join(dir, path.basename(file));
  writeFileSync(out, moved);
  return out;
}

describe('scenario scripts on their own topology moved to other addresses and compute names', function () {
  this.timeout(90_000);
  let dir = '';
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-moved-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const file of Object.keys(REFUSES_ALT)) {
    it(`${file} passes`, async () => {
      const scenario = await loadScenario(path.join(SCRIPTS, file));
      if (scenario.topology === undefined) throw new Error(`${file} names no topology of its own`);
      const own = path.join(fileURLToPath(new URL('../../topologies/', import.meta.url)), scenario.topology);
      const report = await runScenario(scenario, { topologyFile: movedTopology(own, dir) });
      expect(report.topology).to.match(/-moved$/);
      expect(report.checks.passed, 'a scenario that checks nothing proves nothing').to.be.greaterThan(0);
      expect(report.ok, failures(report)).to.equal(true);
    });
  }
});

describe('scenario scripts (one OS process per node)', function () {
  this.timeout(120_000);
  it('scale-out.ts passes with --processes', async () => {
    const report = await runScenario(await loadScenario(path.join(SCRIPTS, 'scale-out.ts')), { mode: 'processes' });
    expect(report.ok, failures(report)).to.equal(true);
  });
  it('graceful-restart.ts passes with --processes', async () => {
    const report = await runScenario(await loadScenario(path.join(SCRIPTS, 'graceful-restart.ts')), { mode: 'processes' });
    expect(report.ok, failures(report)).to.equal(true);
  });
});
