// The in-process launcher with agents in worker threads (docs/architecture.md, "Scale"): same sessions to the
// control node on the main thread, the API reaches agents across threads, packets cross threads on the
// MPLS-over-UDP underlay, and a compute in a thread can be killed and restarted. Addresses: 127.8.0.0/13.
import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation, type StartProgress } from '../../src/topology/launcher.ts';
import type { ApiResponse } from '../../src/api/api-router.ts';
import { freePort } from '../interop/bgp-daemons.ts';
import { SCALE_NETWORK, SCALE_VIP, computeAddress, scaleTopology } from '../../scripts/bench/scale/scale-topology.ts';

// not the scale bench's 127.8.0.1 / 127.9.x.y: a bench may run meanwhile (its computes bind UDP 6635 too)
const CONTROL = '127.14.255.1';
const OCTET = 14;
const COMPUTES = 6;
const MEMBERS = 3;

async function call(sim: Simulation, method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<ApiResponse & { body: unknown }> {
  const response = await sim.api({ method, path, query: new URLSearchParams(query), body, params: {} });
  if (!('body' in response)) throw new Error(`${path}: a stream`);
  return response;
}

async function vipSlots(sim: Simulation, compute: string): Promise<string[]> {
  const r = await call(sim, 'GET', `/api/nodes/${compute}/fib`, { vrf: SCALE_NETWORK, prefix: `${SCALE_VIP}/32` });
  if (r.status !== 200) return [];
  const route = (r.body as { routes: { slots: { empty: boolean; address?: string }[] }[] }[])[0]?.routes[0];
  return (route?.slots ?? []).filter((s) => !s.empty).map((s) => s.address!).sort();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('topology/launcher: agents in worker threads', function () {
  this.timeout(60_000);
  let sim: Simulation;
  const progress: StartProgress[] = [];

  before(async () => {
    const raw = scaleTopology({ computes: COMPUTES, members: MEMBERS, controlAddress: CONTROL, computeOctet: OCTET, xmppPort: await freePort(CONTROL), bgpPort: await freePort(CONTROL) });
    const checked = validateTopology(raw);
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    sim = await Simulation.start(checked.topology, { agentThreads: 2, startWave: 4, progress: (p) => progress.push(p) });
  });

  after(async () => {
    await sim?.stop();
  });

  it('starts the computes in waves, reporting each, in the threads asked for', () => {
    expect(sim.agentThreads).to.equal(2);
    expect(progress.map((p) => [p.started, p.total])).to.deep.equal([[4, COMPUTES], [COMPUTES, COMPUTES]]);
  });

  it('every compute, whichever thread runs it, gets the VIP with every member from the control node on the main thread', async () => {
    const expected = Array.from({ length: MEMBERS }, (_, i) => computeAddress(i, OCTET)).sort();
    for (let i = 1; i <= COMPUTES; i++) await until(`compute-${i} VIP`, async () => (await vipSlots(sim, `compute-${i}`)).join() === expected.join());
    const status = await call(sim, 'GET', '/api/nodes/compute-2/status');
    expect(status.status).to.equal(200);
    expect((status.body as { sessions: { established: boolean }[] }).sessions[0].established).to.equal(true);
  });

  it('carries traffic between computes of different threads on the MPLS-over-UDP underlay', async () => {
    const r = await call(sim, 'POST', '/api/traffic', {}, { from: 'w-6', to: `${SCALE_VIP}:80`, count: 60 });
    expect(r.status).to.equal(201);
    const report = (r.body as { report: { delivered: number; members: unknown[] } }).report;
    expect(report.delivered).to.equal(60);
    expect(report.members.length).to.equal(MEMBERS);
  });

  it('kills and restarts a compute in its thread: the others drop and regain it as a member', async () => {
    await call(sim, 'POST', '/api/nodes/compute-1/kill');
    expect((await call(sim, 'GET', '/api/nodes/compute-1/status')).status).to.equal(503);
    await until('compute-1 gone from the VIP at compute-5', async () => !(await vipSlots(sim, 'compute-5')).includes(computeAddress(0, OCTET)));
    await call(sim, 'POST', '/api/nodes/compute-1/restart');
    await until('compute-1 back in the VIP at compute-5', async () => (await vipSlots(sim, 'compute-5')).includes(computeAddress(0, OCTET)));
    expect((await call(sim, 'GET', '/api/nodes/compute-1/status')).status).to.equal(200);
  });

  it('answers a bad FIB prefix with a one-line 400 across the thread', async () => {
    const r = await call(sim, 'GET', '/api/nodes/compute-3/fib', { prefix: '10.8.0.300/32' });
    expect(r.status).to.equal(400);
    expect(JSON.stringify(r.body)).to.match(/prefix: /);
  });
});
