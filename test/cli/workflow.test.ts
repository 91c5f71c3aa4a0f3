// The seed's workflow and a scale-out from 2 to 4 members with CLI verbs only, on alt-addresses.json:
// lb-create → listener-create → pool-create → workload-create → member-create, then member status,
// --json on every verb, and the read commands' filters and shapes.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { ecmpsim, startUp, stopUp, type CliResult } from './support/run-cli.ts';

const VN = 'default-domain:shop:front-vn';

describe('ecmpsim CLI: a load balancer from scratch and a scale-out, verbs only', function () {
  this.timeout(90_000);
  let up: ChildProcess;
  let api: string;
  let upOut: () => string;
  let vip: string;

  const cli = async (...args: string[]): Promise<CliResult> => ecmpsim(['--api', api, ...args]);
  const ok = async (...args: string[]): Promise<CliResult> => {
    const r = await cli(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse((await ok(...args, '--json')).stdout) as T;

  /** Polls `fib hv-a --prefix VIP --json` until the VIP's composite has n active slots. */
  async function activeSlots(n: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const fib = await json<{ routes: { slots: { empty: boolean; active?: boolean }[] }[] }[]>('fib', 'hv-a', '--prefix', vip);
      const active = fib.flatMap((v) => v.routes).flatMap((r) => r.slots).filter((s) => !s.empty && s.active !== false).length;
      if (active === n) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect.fail(`hv-a never had ${n} active slots for ${vip}`);
  }

  before(async () => {
    ({ up, api, stdout: upOut } = await startUp('topologies/alt-addresses.json'));
  });
  after(async () => {
    if (up) await stopUp(up);
  });

  it('prints what to try next with this topology’s names, one command a line, no pipes', async () => {
    for (let i = 0; i < 50 && !upOut().includes('stanzas --follow'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upOut()).to.match(/ecmpsim --api \S+ routes ctl-east\n/).and.match(/ecmpsim --api \S+ fib hv-a\n/);
    expect(upOut()).to.not.match(/\| /);
  });

  it('creates the load balancer, listener and pool, each printing the API’s object with --json', async () => {
    const lb = await json<{ object: { name: string; vipAddress: string } }>('lb-create', 'cli-lb', '--network', VN);
    expect(lb.object.name).to.equal('cli-lb');
    vip = lb.object.vipAddress;
    expect(vip).to.match(/^40\.40\.40\.\d+$/);
    expect((await ok('lb-show', 'cli-lb')).stdout).to.match(new RegExp(`vipAddress\\s+${vip.replace(/\./g, '\\.')}`));
    expect((await json<{ vipAddress: string }>('lb-show', 'cli-lb')).vipAddress).to.equal(vip);
    const listener = await json<{ object: { port: number } }>('listener-create', 'cli-listener', '--loadbalancer', 'cli-lb', '--protocol-port', '80');
    expect(listener.object.port).to.equal(80);
    const pool = await json<{ object: { listener: string } }>('pool-create', 'cli-pool', '--listener', 'cli-listener');
    expect(pool.object.listener).to.equal('cli-listener');
  });

  it('creates two workloads and makes them members: a 2-way ECMP set', async () => {
    const w1 = await json<{ name: string; compute: string; address: string }>('workload-create', 'cli-w1', '--compute', 'hv-c', '--network', VN);
    expect(w1).to.include({ name: 'cli-w1', compute: 'hv-c' });
    const w2 = (await ok('workload-create', 'cli-w2', '--compute', 'hv-e', '--network', VN, '--address', '40.40.40.102')).stdout;
    expect(w2).to.match(/created workload cli-w2 on hv-e at 40\.40\.40\.102/);
    for (const address of [w1.address, '40.40.40.102']) {
      const created = await json<{ object: { address: string } }>('member-create', 'cli-pool', '--address', address, '--protocol-port', '8080');
      expect(created.object.address).to.equal(address);
    }
    await activeSlots(2);
    const traffic = await json<{ report: { delivered: number; members: unknown[] } }>('traffic', '--from', 'shopper', '--to', `${vip}:80`, '--count', '400');
    expect(traffic.report.delivered).to.equal(400);
    expect(traffic.report.members).to.have.length(2);
  });

  it('scales out from 2 to 4 members with workload-create and member-create alone', async () => {
    await ok('workload-create', 'cli-w3', '--compute', 'hv-f', '--network', VN, '--address', '40.40.40.103');
    await ok('workload-create', 'cli-w4', '--compute', 'hv-b', '--network', VN, '--address', '40.40.40.104');
    for (const address of ['40.40.40.103', '40.40.40.104']) await ok('member-create', 'cli-pool', '--address', address, '--protocol-port', '8080');
    await activeSlots(4);
    const traffic = await json<{ report: { delivered: number; members: unknown[] } }>('traffic', '--from', 'shopper', '--to', `${vip}:80`, '--count', '2000');
    expect(traffic.report.delivered).to.equal(2000);
    expect(traffic.report.members).to.have.length(4);
    const members = (await json<{ pool: string; status: string }[]>('member-list')).filter((m) => m.pool === 'cli-pool');
    expect(members.map((m) => m.status)).to.deep.equal(['active', 'active', 'active', 'active']);
    const workloads = await json<{ name: string }[]>('workload-list', '--compute', 'hv-f');
    expect(workloads.map((w) => w.name)).to.include('cli-w3');
  });

  it('shows member status: admin down with the driver’s warning, no interface once the workload is gone', async () => {
    const down = await ok('member-update', 'cli-pool:40.40.40.103:8080', '--admin-state', 'down');
    expect(down.stdout).to.match(/warning: admin-state down is ignored by the native driver/);
    const deleted = await json<{ deleted: { kind: string; name: string } }>('workload-delete', 'cli-w4');
    expect(deleted.deleted).to.include({ kind: 'workload', name: 'cli-w4' });
    const members = (await json<{ address: string; status: string }[]>('member-list')).filter((m) => m.address.startsWith('40.40.40.10'));
    const status = Object.fromEntries(members.map((m) => [m.address, m.status]));
    expect(status['40.40.40.103']).to.equal('admin down');
    expect(status['40.40.40.104']).to.equal('no interface');
    expect((await ok('member-list')).stdout).to.match(/no interface/);
    const orphan = await ok('member-create', 'cli-pool', '--address', '40.40.40.199', '--protocol-port', '8080');
    expect(orphan.stdout).to.match(/problem: address 40\.40\.40\.199 matches no virtual-machine-interface/).and.match(/workload-create/);
    expect(orphan.stdout, 'only notices about this member').to.not.match(/40\.40\.40\.104/);
    const removed = await json<{ deleted: { name: string } }>('member-delete', 'cli-pool:40.40.40.199:8080');
    expect(removed.deleted.name).to.equal('cli-pool:40.40.40.199:8080');
  });

  it('answers routes --json in one shape for a control node and a compute, with --prefix honoured', async () => {
    const prefix = `${vip}/32`;
    const control = await json<{ node: string; table: string; prefix: string; paths: { peer: string; nextHop: string; label: number }[] }[]>('routes', 'ctl-east', '--prefix', prefix);
    const compute = await json<typeof control>('routes', 'hv-a', '--prefix', vip);
    for (const routes of [control, compute]) {
      expect(routes.length).to.be.greaterThan(0);
      for (const r of routes) {
        expect(r).to.include.keys('node', 'table', 'prefix', 'paths');
        expect(r.prefix).to.equal(prefix);
        for (const p of r.paths) expect(p).to.include.keys('peer', 'nextHop', 'label');
      }
    }
    expect(compute[0].node).to.equal('hv-a');
    const fib = await json<{ routes: { prefix: string }[] }[]>('fib', 'hv-a', '--prefix', prefix);
    expect(fib.flatMap((v) => v.routes.map((r) => r.prefix))).to.deep.equal([prefix]);
  });

  it('refuses unknown names and the wrong node kind', async () => {
    for (const args of [['stanzas', '--node', 'nosuch'], ['fib', 'ctl-east'], ['flows', 'nosuch'], ['lb-show', 'nosuch'], ['workload-create', 'x', '--compute', 'nosuch', '--network', VN]]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
    }
  });

  it('shows flows with slot, member and NAT, and counts their bytes', async () => {
    const flows = await json<{ direction: string; slot: number | null; member: unknown; bytes: number; packets: number }[]>('flows', 'hv-a', '--ip', vip, '--limit', '5');
    expect(flows.length).to.be.greaterThan(0);
    const forward = flows.find((f) => f.direction === 'forward')!;
    expect(forward.slot).to.be.a('number');
    expect(forward.bytes).to.be.greaterThan(0);
    expect(forward.bytes % forward.packets).to.equal(0);
    const table = (await ok('flows', 'hv-a', '--ip', vip, '--limit', '5')).stdout;
    expect(table).to.match(/slot/).and.match(/member/).and.match(/nat/).and.match(/bytes/);
  });

  it('kill and restart take --json', async () => {
    expect(await json('kill', 'hv-f')).to.be.an('object');
    expect(await json('restart', 'hv-f')).to.be.an('object');
  });
});
