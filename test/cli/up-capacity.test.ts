// `ecmpsim up` refuses, before starting anything, a topology whose sockets would exceed the open-file
// limit: one line naming the need and the limit, exit code 2, no node started.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { scaleTopology } from '../../scripts/bench/scale/scale-topology.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/ecmpsim.js');

describe('cli: up refuses what the box cannot run', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-capacity-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the descriptors it needs and the ulimit -n, exits 2', async () => {
    const file = path.join(dir, 'scale-300.json');
    writeFileSync(file, JSON.stringify(scaleTopology({ computes: 300, members: 4 })));
    // the soft limit is lowered for this child only; the launcher reads it from /proc/self/limits
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile('bash', ['-c', `ulimit -n 400 && exec "${process.execPath}" "${BIN}" up "${file}" --port 0`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
        (error, stdout, stderr) => resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stdout, stderr }));
    });
    expect(result.code).to.equal(2);
    expect(result.stdout).to.equal('');
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).to.equal('ecmpsim: scale-300: 300 computes need about 664 open files in this process, but the limit (ulimit -n) is 400; raise it (ulimit -n 1024) or run fewer computes');
  });
});
