// The seed's haproxy workflow through the CLI against a running simulation (127.3.x, under the shared
// test lock): v1 pool, members, health monitor, VIP; the generated haproxy.cfg; a client connection
// that ends at the active haproxy and reaches a member from the pool-side address.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Simulation } from '../../src/topology/launcher.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import type { ForwardResult } from '../../src/vrouter/packet.ts';
import { ROOT, ecmpsim as run, type CliResult } from '../cli/support/run-cli.ts';


/** The CLI as a process against the simulation at `api`. */
const ecmpsim = (api: string, args: string[]): Promise<CliResult> => run(['--api', api, ...args]);

describe('proxy load balancer through the CLI (LBaaS v1 workflow)', function () {
  this.timeout(60_000);
  let sim: Simulation;
  let api: string;

  before(async () => {
    const loaded = await loadTopologyFile(path.join(ROOT, 'test/compare/fixtures/v1-seed.json'));
    if (!loaded.ok) throw new Error('fixture topology is invalid');
    sim = await Simulation.start(loaded.topology);
    api = await sim.serve('127.3.11.1', 0);
  });

  after(async () => {
    await sim?.stop();
  });

  it('builds the haproxy from v1 verbs, prints its haproxy.cfg, and proxies a client connection', async () => {
    const steps: string[][] = [
      ['lb-pool-create', '--name', 'mypool', '--lb-method', 'ROUND_ROBIN', '--protocol', 'HTTP', '--subnet-id', '10.1.1.0/24'],
      ['lb-member-create', '--address', '10.1.1.2', '--protocol-port', '80', 'mypool'],
      ['lb-member-create', '--address', '10.1.1.3', '--protocol-port', '80', 'mypool'],
      ['lb-healthmonitor-create', '--name', 'hm', '--delay', '20', '--timeout', '10', '--max-retries', '3', '--type', 'HTTP'],
      ['lb-healthmonitor-associate', 'hm', 'mypool'],
      ['lb-vip-create', '--name', 'myvip', '--protocol-port', '80', '--protocol', 'HTTP', '--subnet-id', '20.1.1.0/24', '--address', '20.1.1.100', 'mypool'],
    ];
    for (const args of steps) {
      const r = await ecmpsim(api, args);
      expect(r.code, `${args[0]}: ${r.stderr}`).to.equal(0);
    }
    const shown = await ecmpsim(api, ['lb-haproxy-config', 'myvip']);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.contain('frontend myvip-listener\n   bind 20.1.1.100:80');
    expect(shown.stdout).to.contain('   server mypool:10.1.1.3:80 10.1.1.3:80 weight 1 check inter 20s fall 3 rise 1');
    if (spawnSync('haproxy', ['-v']).status === 0) {
      const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-haproxy-'));
      try {
        writeFileSync(path.join(dir, 'haproxy.cfg'), shown.stdout);
        const check = spawnSync('haproxy', ['-c', '-f', path.join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
        expect(check.status, check.stdout + check.stderr).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else if (process.env.CI === 'true') {
      throw new Error('haproxy is not installed (CI installs it in .ci/run)');
    }

    const client = sim.agentOf('compute-1')!.vrouter;
    let result: ForwardResult | undefined;
    for (let sport = 20000; sport < 20400; sport++) {
      result = client.sendFromInterface('client', { src: '20.1.1.9', dst: '20.1.1.100', proto: 6, sport, dport: 80 });
      if (result.reply?.delivered === true) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(result?.reply?.delivered, JSON.stringify(result)).to.equal(true);
    expect(result!.interface).to.match(/^myvip-haproxy-active-vip$/);
    // the control node keeps both haproxies' paths but only the active one (LP 200) is best: no ECMP
    const routes = await sim.api({ method: 'GET', path: '/api/nodes/control-1/routes', query: new URLSearchParams({ vrf: 'default-domain:demo:vipnet:vipnet', prefix: '20.1.1.100/32' }), body: undefined, params: {} });
    const paths = ('body' in routes ? (routes.body as { paths: { localPref: number; best: boolean; multipath: boolean; reason: { detail: string } }[] }[]) : [])[0].paths;
    expect(paths.map((p) => [p.localPref, p.best, p.multipath])).to.deep.equal([[200, true, true], [100, false, false]]);
    expect(paths[1].reason.detail).to.equal('200 > 100');
    const slots = client.fib().flatMap((vrf) => vrf.routes).find((r) => r.prefix === '20.1.1.100/32')!.slots;
    expect(slots.map((s) => s.address), 'the client compute installs the active path only').to.deep.equal([sim.topology.computes.find((c) => c.name === result!.node)!.address]);
    const backend = result!.proxied!.backend!;
    expect(backend.packet!.src, 'from the haproxy’s pool-side address').to.match(/^10\.1\.1\.25[34]$/);
    expect(backend.interface).to.match(/^web-[12]$/);
  });

  it('answers a v1 mistake with one line and a failing exit code', async () => {
    const r = await ecmpsim(api, ['lb-vip-create', '--name', 'other', '--protocol-port', '80', '--subnet-id', '20.1.1.0/24', 'nopool']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr.trim()).to.equal('ecmpsim: loadbalancer other: pool: pool nopool does not exist (create it with lb-pool-create)');
    const missing = await ecmpsim(api, ['lb-haproxy-config', 'nope']);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr.trim()).to.equal('ecmpsim: no service-instance named nope (nor one of a load balancer so named); service instances: myvip-haproxy');
  });
});
