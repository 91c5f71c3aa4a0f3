// `up --processes`: computes reach each other over real MPLS-over-UDP, so the FIB names that
// encapsulation (not the GRE the route advertised first) and a trace shows the tunnel once.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ecmpsim, startUp, stopUp } from './support/run-cli.ts';

const VN = 'default-domain:p:vn';
const TOPOLOGY = {
  name: 'two-compute-processes',
  controlNodes: [{ name: 'ctl', address: '127.2.40.1', xmppPort: 5269, bgpPort: 1179 }],
  computes: [
    { name: 'hv-1', address: '127.2.40.11' },
    { name: 'hv-2', address: '127.2.40.12' },
  ],
  networks: [{ name: VN, subnets: ['50.50.50.0/24'] }],
  workloads: [
    { name: 'cl', compute: 'hv-1', network: VN, address: '50.50.50.5' },
    { name: 'srv', compute: 'hv-2', network: VN, address: '50.50.50.10' },
  ],
  loadBalancers: [
    {
      name: 'lb', provider: 'native', network: VN, vip: '50.50.50.100',
      listeners: [{ name: 'l', protocol: 'TCP', port: 80, pool: { name: 'p', algorithm: 'ROUND_ROBIN', members: [{ address: '50.50.50.10', port: 8080 }] } }],
    },
  ],
};

describe('ecmpsim up --processes: the encapsulation actually used', function () {
  this.timeout(90_000);
  let up: ChildProcess;
  let api: string;

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-processes-'));
    const file = path.join(dir, 'topology.json');
    writeFileSync(file, JSON.stringify(TOPOLOGY));
    ({ up, api } = await startUp(file, ['--processes']));
  });
  after(async () => {
    if (up) await stopUp(up);
  });

  it('fib says udp (MPLS-over-UDP) and trace names the tunnel once', async () => {
    let slots: { empty: boolean; local?: boolean; encapsulation?: string }[] = [];
    for (let i = 0; i < 100 && slots.length === 0; i++) {
      const r = await ecmpsim(['--api', api, 'fib', 'hv-1', '--prefix', '50.50.50.100', '--json']);
      const fib = JSON.parse(r.stdout || '[]') as { routes: { slots: typeof slots }[] }[];
      slots = fib.flatMap((v) => v.routes).flatMap((r) => r.slots);
      if (slots.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(slots.filter((s) => !s.empty && !s.local).map((s) => s.encapsulation)).to.deep.equal(['udp']);
    const trace = await ecmpsim(['--api', api, 'trace', '--from', 'cl', '--to', '50.50.50.100:80']);
    expect(trace.code, trace.stderr).to.equal(0);
    const tunnels = trace.stdout.split('\n').filter((l) => /^\s*\d+\.\s+\S+\s+tunnel\s/.test(l));
    expect(tunnels, trace.stdout).to.have.length(1);
    expect(tunnels[0]).to.match(/MPLSoUDP/);
    expect(trace.stdout).to.not.match(/GRE/);
  });
});
