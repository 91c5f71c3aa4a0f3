// Issue #16 fault 5: with one node process stopped (SIGSTOP), `GET /api/nodes` still answers, names the
// node that did not answer within its 2 s deadline, and lists the others with their status.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../../src/topology/launcher.ts';
import { apiTopology } from './api-fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/ecmpsim.js', import.meta.url));

interface NodeLine { name: string; alive: boolean; status: unknown; error?: string }

describe('api deadlines: a stopped node process (up --processes)', function () {
  this.timeout(90_000);
  let sim: Simulation;
  let url: string;
  let stopped: number | undefined;

  before(async () => {
    sim = await Simulation.start(apiTopology('deadlines', 4, 4), { mode: 'processes', endOfRibQuietMs: 200 });
    url = await sim.serve('127.0.0.1', 0);
  });
  after(async () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    await sim?.stop();
  });

  it('answers GET /api/nodes naming the stopped node, and still lists the others', async () => {
    const before = (await (await fetch(`${url}/api/nodes`)).json()) as NodeLine[];
    expect(before.every((n) => n.status !== null && n.error === undefined)).to.equal(true);
    stopped = sim.processId('compute-4');
    expect(stopped).to.be.a('number');
    process.kill(stopped!, 'SIGSTOP');
    const res = await fetch(`${url}/api/nodes`);
    expect(res.status).to.equal(200);
    const nodes = (await res.json()) as NodeLine[];
    const four = nodes.find((n) => n.name === 'compute-4')!;
    expect(four).to.include({ alive: true, status: null, error: 'compute-4: no answer in 2 s' });
    const others = nodes.filter((n) => n.name !== 'compute-4');
    expect(others.map((n) => n.name)).to.deep.equal(['control-1', 'compute-1', 'compute-2', 'compute-3']);
    for (const n of others) expect(n.status, n.name).to.not.equal(null);
    // `ecmpsim nodes` (the CLI is a client of this API) names it in its table.
    // (asynchronously: the simulation answering it runs in this process)
    const cli = await promisify(execFile)(process.execPath, [BIN, '--api', url, 'nodes'], { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
    expect(cli.stdout).to.match(/compute-4 .*compute-4: no answer in 2 s/);
    const direct = await fetch(`${url}/api/nodes/compute-4/fib`);
    expect(direct.status).to.equal(504);
    expect(await direct.json()).to.deep.equal({ error: { code: 'node-timeout', message: 'compute-4: no answer in 2 s', path: '/fib' } });
    process.kill(stopped!, 'SIGCONT');
    stopped = undefined;
  });
});
