// The `ecmpsim` command as users run it: a real process of bin/ecmpsim.js.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ecmpsim, startUp, stopUp } from './support/run-cli.ts';

describe('ecmpsim CLI', function () {
  this.timeout(60_000);

  describe('validate', () => {
    it('accepts every shipped topology and skips the schema the glob also matches', async () => {
      const r = await ecmpsim(['validate', 'topologies/default.json', 'topologies/two-control.json', 'topologies/sixteen-compute.json', 'topologies/six-compute.json', 'topologies/schema.json']);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/default\.json: ok/);
      expect(r.stdout).to.match(/schema\.json: skipped/);
    });

    it('reports every error with its JSON path and exits 1', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-cli-'));
      const file = path.join(dir, 'bad.json');
      writeFileSync(
        file,
        JSON.stringify({
          name: 'bad',
          controlNodes: [{ name: 'control-1', address: '10.0.0.1' }],
          computes: [
            { name: 'compute-1', address: '127.0.20.1' },
            { name: 'compute-2', address: '127.0.20.1' },
          ],
          networks: [{ name: 'default-domain:demo:vn', subnets: ['30.30.30.0/24'] }],
        }),
      );
      const r = await ecmpsim(['validate', file]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/controlNodes\[0\]\.address: /);
      expect(r.stdout).to.match(/computes\[1\]\.address: 127\.0\.20\.1 is already used by compute-1/);
    });

    it('says what is wrong with malformed JSON, without a stack trace', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-cli-'));
      const file = path.join(dir, 'broken.json');
      writeFileSync(file, '{ "name": "x",, }');
      const r = await ecmpsim(['validate', file]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/broken\.json:1:\d+: malformed JSON/);
      expect(r.stdout + r.stderr).to.not.match(/at .*\.ts:\d+/);
    });
  });

  describe('against a running simulation (`ecmpsim up`)', () => {
    let up: ChildProcess;
    let api: string;

    before(async () => {
      ({ up, api } = await startUp('topologies/six-compute.json'));
      // Agents are up once the VIP is a 2-way composite on the client's compute.
      for (let i = 0; i < 50; i++) {
        const r = await ecmpsim(['--api', api, 'fib', 'compute-1', '--json']);
        if (r.stdout.includes('"index": 1')) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    });

    after(async () => {
      if (up) await stopUp(up);
    });

    it('lists the nodes, routes and FIB', async () => {
      const nodes = await ecmpsim(['--api', api, 'nodes']);
      expect(nodes.code, nodes.stderr).to.equal(0);
      expect(nodes.stdout).to.match(/control-1/).and.match(/compute-6/);
      const routes = await ecmpsim(['--api', api, 'routes', 'control-1', '--vrf', 'default-domain:demo:svc-vn', '--prefix', '30.30.30.100/32', '--json']);
      const parsed = JSON.parse(routes.stdout) as { paths: { rd: string; reason: { step: string; detail: string } }[] }[];
      expect(parsed[0].paths.map((p) => p.rd).sort()).to.deep.equal(['127.0.21.2:2', '127.0.21.3:2']);
      // Best-path reasons: the best path, then the other member of the native LB's ECMP set.
      expect(parsed[0].paths.map((p) => p.reason)).to.deep.equal([
        { step: 'best', detail: 'best path' },
        { step: 'ecmp', detail: 'ECMP: tie up to MED' },
      ]);
      const human = await ecmpsim(['--api', api, 'routes', 'control-1', '--vrf', 'default-domain:demo:svc-vn', '--prefix', '30.30.30.100/32']);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stdout).to.match(/\breason\b/).and.match(/best path/).and.match(/ECMP: tie up to MED/);
      const fib = await ecmpsim(['--api', api, 'fib', 'compute-1', '--prefix', '30.30.30.100/32']);
      expect(fib.stdout).to.match(/\[0\] 127\.0\.21\.\d label \d+/).and.match(/\[1\] 127\.0\.21\.\d label \d+/);
    });

    it('follows the seed’s LBaaS workflow: member-create grows the ECMP set', async () => {
      const created = await ecmpsim(['--api', api, 'member-create', 'pool1', '--address', '30.30.30.12', '--protocol-port', '8080']);
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stdout).to.match(/created loadbalancer-member/);
      const members = await ecmpsim(['--api', api, 'member-list', '--json']);
      expect((JSON.parse(members.stdout) as { address: string }[]).map((m) => m.address)).to.include('30.30.30.12');
      let slots = 0;
      for (let i = 0; i < 50 && slots !== 3; i++) {
        const fib = JSON.parse((await ecmpsim(['--api', api, 'fib', 'compute-1', '--json'])).stdout) as { routes: { prefix: string; source: string; slots: { empty: boolean }[] }[] }[];
        slots = fib[0].routes.find((r) => r.prefix === '30.30.30.100/32' && r.source === 'control')?.slots.filter((s) => !s.empty).length ?? 0;
      }
      expect(slots).to.equal(3);
    });

    it('traces one 5-tuple and sends traffic', async () => {
      const trace = await ecmpsim(['--api', api, 'trace', '--from', 'client', '--to', '30.30.30.100:80', '--sport', '40001']);
      expect(trace.code, trace.stderr).to.equal(0);
      expect(trace.stdout).to.match(/composite/).and.match(/nat/);
      const traffic = await ecmpsim(['--api', api, 'traffic', '--from', 'client', '--to', '30.30.30.100:80', '--count', '300', '--json']);
      expect((JSON.parse(traffic.stdout) as { report: { delivered: number } }).report.delivered).to.equal(300);
    });

    it('shows stanzas as pretty XML', async () => {
      const r = await ecmpsim(['--api', api, 'stanzas', '--node', 'control-1', '--direction', 'out', '--limit', '1', '--xml']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/\n\s+<event xmlns="http:\/\/jabber\.org\/protocol\/pubsub">/);
    });

    it('writes the stanza log as a capture (--pcap) and says how to read it', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-cli-'));
      const file = path.join(dir, 'stanzas.pcap');
      const r = await ecmpsim(['--api', api, 'stanzas', '--node', 'control-1', '--limit', '200', '--pcap', file]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/tshark .*-d tcp\.port==5269,xmpp/);
      const header = readFileSync(file).subarray(0, 4).toString('hex');
      expect(['a1b2c3d4', 'd4c3b2a1']).to.include(header);
    });

    it('refuses bad requests with a clear message and a non-zero exit, and keeps running', async () => {
      const unknown = await ecmpsim(['--api', api, 'fib', 'compute-99']);
      expect(unknown.code).to.not.equal(0);
      expect(unknown.stderr).to.match(/no node named compute-99/);
      const unknownVrf = await ecmpsim(['--api', api, 'fib', 'compute-1', '--vrf', 'no-such-vrf']);
      expect(unknownVrf.code).to.not.equal(0);
      expect(unknownVrf.stderr).to.match(/compute-1 has no VRF named no-such-vrf/);
      const unknownTable = await ecmpsim(['--api', api, 'routes', 'control-1', '--vrf', 'no-such-vrf']);
      expect(unknownTable.code).to.not.equal(0);
      expect(unknownTable.stderr).to.match(/no routing instance or table named no-such-vrf/);
      const badPort = await ecmpsim(['--api', api, 'member-create', 'pool1', '--address', '30.30.30.13', '--protocol-port', '70000']);
      expect(badPort.code, 'a bad option value is a usage error').to.equal(2);
      expect(badPort.stderr).to.match(/port/);
      // A member whose address matches no VMI is kept and reported, not refused (docs/protocol.md §8.2, as Contrail does).
      const orphan = await ecmpsim(['--api', api, 'member-create', 'pool1', '--address', '30.30.30.99', '--protocol-port', '8080']);
      expect(orphan.code, orphan.stderr).to.equal(0);
      expect(orphan.stdout).to.match(/problem: .*30\.30\.30\.99/);
      const nodes = await ecmpsim(['--api', api, 'nodes', '--json']);
      expect((JSON.parse(nodes.stdout) as { alive: boolean }[]).every((n) => n.alive)).to.equal(true);
    });

    it('stops cleanly on SIGTERM', async () => {
      expect(await stopUp(up)).to.equal(0);
    });
  });

  it('reports a script that throws and exits 1', async () => {
    const r = await ecmpsim(['run', 'test/cli/fixtures/throws.ts']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/boom: the script has a bug/);
    expect(r.stdout).to.match(/1 passed, 0 failed/);
  });

  it('refuses an unknown script with exit 2', async () => {
    const r = await ecmpsim(['run', 'scripts/no-such-script.ts']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/cannot load scenario/);
  });
});
