// Through the real stack (a control node and three agents over XMPP on loopback): a member whose
// service-health-check fails max-retries times in a row becomes L3-inactive and its agent withdraws its
// routes, the VIP/32 included (docs/protocol.md §7.2); one good probe brings it back. Co-located members shrink the local
// composite instead (docs/protocol.md §7.2); a VMI without a check is never probed. Health-check seconds last 10 ms here.
import { expect } from 'chai';
import { ControlNode } from '../../src/control/control-node.ts';
import { configSource } from '../../src/control/config-source.ts';
import type { ApiHandler } from '../../src/api/api-router.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { VrouterAgent, type WorkloadHealth } from '../../src/vrouter/agent.ts';
import { agentApi, type LocalWorkload } from '../../src/api/agent-api.ts';
import { InProcessUnderlay } from '../../src/vrouter/underlay.ts';

const VN = 'default-domain:demo:svc-vn';
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VIP = '30.30.30.100/32';
const CONTROL = '127.0.140.1';
const C = { 'compute-1': '127.0.130.1', 'compute-2': '127.0.130.2', 'compute-3': '127.0.130.3' } as const;
type Compute = keyof typeof C;
const WORKLOADS: (LocalWorkload & { compute: Compute })[] = [
  { name: 'client', compute: 'compute-1', network: VN, address: '30.30.30.2' },
  { name: 'web-a', compute: 'compute-2', network: VN, address: '30.30.30.10' },
  { name: 'web-e', compute: 'compute-2', network: VN, address: '30.30.30.14' },
  { name: 'web-b', compute: 'compute-3', network: VN, address: '30.30.30.11' },
  { name: 'web-d', compute: 'compute-3', network: VN, address: '30.30.30.13' },
];
const MAX_RETRIES = 3;

/** Polls until `probe` satisfies `done` (no timing asserts: only the state reached matters). */
async function until<T>(what: string, probe: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms, last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('agent: service-health-checks make failing members L3-inactive (docs/protocol.md §7.2, §8.2 step 5)', function () {
  this.timeout(30_000);
  let store: ConfigStore;
  let control: ControlNode;
  const agents = new Map<Compute, VrouterAgent>();
  const apis = new Map<Compute, ApiHandler>();

  before(async () => {
    store = new ConfigStore({ reconcile: nativeDriverHook });
    store.batch(() => {
      store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
      for (const w of WORKLOADS) {
        store.createVirtualMachineInterface({ name: w.name, virtualNetwork: VN, compute: w.compute });
        store.createInstanceIp({ name: w.name, virtualMachineInterface: w.name, address: w.address });
      }
      store.createLoadBalancer({ name: 'lb1', virtualNetwork: VN, vipAddress: '30.30.30.100' });
      store.createListener({ name: 'l1', loadBalancer: 'lb1', protocol: 'TCP', port: 80 });
      store.createHealthMonitor({ name: 'hm', type: 'PING', delay: 1, timeout: 1, maxRetries: MAX_RETRIES });
      store.createPool({ name: 'p1', listener: 'l1', healthMonitor: 'hm' });
      for (const address of ['30.30.30.10', '30.30.30.11', '30.30.30.13']) store.createMember({ pool: 'p1', address, port: 8080 });
    });
    const source = configSource(store);
    control = new ControlNode({ name: 'control-1', address: CONTROL, xmppPort: 0, asn: 64512, config: source, globals: { hashFields: [], encapsulationPriorities: ['MPLSoUDP'] }, endOfRibQuietMs: 100 });
    const { xmpp } = await control.start();
    const underlay = new InProcessUnderlay();
    for (const [name, address] of Object.entries(C) as [Compute, string][]) {
      const agent = new VrouterAgent({ name, address, controlNodes: [{ name: 'control-1', host: CONTROL, port: xmpp.port }], underlay, healthCheckTimeScale: 0.01 });
      agent.start();
      agents.set(name, agent);
      apis.set(name, agentApi(agent, WORKLOADS.filter((w) => w.compute === name)));
    }
    await until('the client holds the VIP from both member computes', () => vipNextHops('compute-1'), (nhs) => nhs.length === 2);
  });

  after(async () => {
    for (const agent of agents.values()) await agent.stop();
    await control?.stop();
  });

  const agent = (name: Compute): VrouterAgent => agents.get(name)!;
  const vipNextHops = (at: Compute): { address: string; label: number }[] =>
    (agent(at).receivedRoutes(VRF).find((r) => r.prefix === VIP && !r.stale)?.nextHops ?? []).map((nh) => ({ address: nh.address, label: nh.label }));
  const received = (at: Compute, prefix: string): boolean => agent(at).receivedRoutes(VRF).some((r) => r.prefix === prefix && !r.stale);
  const exported = (at: Compute): Map<string, number> => new Map(agent(at).status().exports.map((e) => [e.prefix, e.label]));
  const labelOf = (at: Compute, vmi: string): number => agent(at).status().labels.find((l) => l.interface === vmi)!.label;

  async function call(at: Compute, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await apis.get(at)!({ method, path, query: new URLSearchParams(), body, params: {} });
    if (!('body' in response)) throw new Error('stream');
    return { status: response.status, body: response.body };
  }
  const health = async (at: Compute, vmi: string): Promise<WorkloadHealth> => (await call(at, 'GET', `/workloads/${vmi}/health`)).body as WorkloadHealth;
  const setHealthy = async (at: Compute, vmi: string, healthy: boolean): Promise<WorkloadHealth> => {
    const answer = await call(at, 'POST', `/workloads/${vmi}/health`, { healthy });
    expect(answer.status).to.equal(200);
    return answer.body as WorkloadHealth;
  };

  it('probes every member VMI with the monitor’s check; members answer and stay L3-active', async () => {
    const a = await until('web-a has answered a probe', () => health('compute-2', 'web-a'), (h) => h.probesSent > 0);
    expect(a).to.deep.include({ workload: 'web-a', healthy: true, l3Active: true, failuresInRow: 0 });
    expect(a.checks).to.have.length(1);
    expect(a.checks[0]).to.deep.include({ name: 'hm:service-health-check', monitorType: 'PING', delay: 1, timeout: 1, maxRetries: MAX_RETRIES, active: true });
    expect(agent('compute-2').status().health.map((h) => h.workload)).to.deep.equal(['web-a']);
    expect(vipNextHops('compute-1').map((nh) => nh.address).sort()).to.deep.equal([C['compute-2'], C['compute-3']]);
  });

  it('a failing member keeps its routes until max-retries probes failed in a row, then withdraws them all', async () => {
    const labelA = labelOf('compute-2', 'web-a');
    expect(exported('compute-2').get(VIP)).to.equal(labelA);
    await setHealthy('compute-2', 'web-a', false);
    const seen: WorkloadHealth[] = [];
    const down = await until('web-a goes L3-inactive', async () => {
      const h = await health('compute-2', 'web-a');
      seen.push(h);
      return h;
    }, (h) => !h.l3Active);
    for (const h of seen) expect(h.l3Active, `after ${h.failuresInRow} failure(s)`).to.equal(h.failuresInRow < MAX_RETRIES);
    expect(down).to.deep.include({ healthy: false, failuresInRow: MAX_RETRIES });
    const exports = exported('compute-2');
    expect(exports.has(VIP), 'the VIP').to.equal(false);
    expect(exports.has('30.30.30.10/32'), 'its own /32').to.equal(false);
    expect(exports.has('30.30.30.14/32'), 'the other VMI of the compute').to.equal(true);
    for (const at of Object.keys(C) as Compute[]) {
      await until(`${at} holds the VIP without compute-2`, () => vipNextHops(at), (nhs) => nhs.length === 1 && nhs[0].address === C['compute-3']);
      await until(`${at} no longer holds web-a`, () => received(at, '30.30.30.10/32'), (held) => !held);
    }
  });

  it('one good probe makes it L3-active again: it re-publishes with the same label', async () => {
    const labelA = labelOf('compute-2', 'web-a');
    await setHealthy('compute-2', 'web-a', true);
    const up = await until('web-a is L3-active again', () => health('compute-2', 'web-a'), (h) => h.l3Active);
    expect(up.failuresInRow).to.equal(0);
    await until('the client holds the VIP from both computes again', () => vipNextHops('compute-1'),
      (nhs) => nhs.length === 2 && nhs.some((nh) => nh.address === C['compute-2'] && nh.label === labelA));
    expect(received('compute-1', '30.30.30.10/32')).to.equal(true);
  });

  it('of two co-located members, a failing one leaves the local composite; the VIP stays with the other’s label', async () => {
    const composite = await until('compute-3 has a local composite', () => agent('compute-3').status().localComposites, (cs) => cs.length === 1 && !cs[0].retiring);
    expect(composite[0].interfaces).to.deep.equal(['web-b', 'web-d']);
    await setHealthy('compute-3', 'web-d', false);
    await until('web-d goes L3-inactive', () => health('compute-3', 'web-d'), (h) => !h.l3Active);
    const labelB = labelOf('compute-3', 'web-b');
    expect(exported('compute-3').get(VIP)).to.equal(labelB);
    expect(exported('compute-3').has('30.30.30.13/32')).to.equal(false);
    await until('the client reaches compute-3 with web-b’s label', () => vipNextHops('compute-1'),
      (nhs) => nhs.length === 2 && nhs.some((nh) => nh.address === C['compute-3'] && nh.label === labelB));
    await until('compute-3 retires its composite', () => agent('compute-3').status().localComposites, (cs) => cs.length === 0);
    await setHealthy('compute-3', 'web-d', true);
    await until('compute-3 programs the composite again', () => agent('compute-3').status().localComposites, (cs) => cs.some((c) => !c.retiring && c.interfaces.length === 2));
    expect(exported('compute-3').get(VIP)).to.not.equal(labelB);
  });

  it('a VMI without a check is never probed and never withdrawn', async () => {
    await setHealthy('compute-2', 'web-e', false);
    await setHealthy('compute-2', 'web-a', false);
    // web-a, probed on the same clock, failing out proves that web-e had every chance to
    await until('web-a goes L3-inactive', () => health('compute-2', 'web-a'), (h) => !h.l3Active);
    expect(await health('compute-2', 'web-e')).to.deep.equal({ workload: 'web-e', healthy: false, l3Active: true, probesSent: 0, failuresInRow: 0, checks: [] });
    expect(exported('compute-2').has('30.30.30.14/32')).to.equal(true);
    await setHealthy('compute-2', 'web-e', true);
  });

  it('detaching the monitor stops the probes and brings a failed member back', async () => {
    expect((await health('compute-2', 'web-a')).l3Active).to.equal(false);
    store.updatePool('p1', { healthMonitor: null });
    await until('web-a has no check and is active', () => health('compute-2', 'web-a'), (h) => h.l3Active && h.checks.length === 0);
    await until('the client holds the VIP from both computes again', () => vipNextHops('compute-1'), (nhs) => nhs.length === 2);
    store.updatePool('p1', { healthMonitor: 'hm' });
    await until('web-a, still unhealthy, fails out again under the re-attached monitor', () => health('compute-2', 'web-a'), (h) => !h.l3Active);
    await setHealthy('compute-2', 'web-a', true);
    await until('web-a is back', () => health('compute-2', 'web-a'), (h) => h.l3Active);
  });

  it('the health API names what is wrong with a request', async () => {
    expect(await call('compute-2', 'POST', '/workloads/web-a/health', { healthy: 'no' })).to.deep.include({ status: 400 });
    expect(((await call('compute-2', 'POST', '/workloads/web-a/health', {})).body as { error: { message: string } }).error.message).to.contain('healthy is required');
    const unknown = await call('compute-2', 'GET', '/workloads/web-b/health');
    expect(unknown.status).to.equal(404);
    expect((unknown.body as { error: { message: string } }).error.message).to.contain('compute-2 hosts no workload named web-b');
    expect((await health('compute-2', 'web-a')).healthy, 'a refused request changes nothing').to.equal(true);
  });
});
