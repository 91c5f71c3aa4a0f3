// `ecmpsim` as a library: a user's scenario in a directory outside the repository, with no package.json,
// imports from 'ecmpsim' and runs through `ecmpsim run` (.ts, .mts and .js alike).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/ecmpsim.js');
const ALT = path.join(ROOT, 'topologies/alt-addresses.json');

const TS_SCENARIO = `import { defineScenario, type ScenarioContext } from 'ecmpsim';
export default defineScenario({
  name: 'mine',
  description: 'a user scenario outside the repository',
  async run(sim: ScenarioContext) {
    const lb = await sim.loadBalancer({ members: 2 });
    await sim.expectVipMembers(lb.vip, lb.members.length);
  },
});
`;
const JS_SCENARIO = TS_SCENARIO.replace(', type ScenarioContext', '').replace('sim: ScenarioContext', 'sim');

async function run(file: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, 'run', file, '--topology', ALT], { cwd: tmpdir(), env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}

describe('ecmpsim as a library', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-user-'));

  for (const [name, text] of [['scn.ts', TS_SCENARIO], ['scn.mts', TS_SCENARIO], ['scn.js', JS_SCENARIO]] as const) {
    it(`runs ${name} from ${dir}, importing 'ecmpsim'`, async () => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      const r = await run(file);
      expect(r.out).to.not.match(/Cannot require\(\) ES Module|ERR_MODULE_NOT_FOUND/);
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.match(/PASS mine on alt-addresses/);
    });
  }

  it('refuses a file that is not a scenario module with one line, exit 2', async () => {
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'hello');
    const r = await run(file);
    expect(r.code).to.equal(2);
    expect(r.out.trim().split('\n')).to.have.length(1);
    expect(r.out).to.match(/a scenario is a \.ts, \.mts, \.js or \.mjs file/);
  });

  it('exports the scenario API and the topology loader from the package entry', async () => {
    const lib = await import('../../src/index.ts');
    expect(lib.defineScenario).to.be.a('function');
    expect(lib.loadTopologyFile).to.be.a('function');
    expect(lib.runScenario).to.be.a('function');
    expect(lib.Simulation).to.be.a('function');
  });
});
