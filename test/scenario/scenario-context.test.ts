// The scenario API's own rules, against a stub API: a check over an empty set fails, a scenario that
// checks nothing fails, and a topology without what a scenario needs is a refusal with a reason.
import { expect } from 'chai';
import type { ApiHandler } from '../../src/api/api-router.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { describeLoadBalancer, ScenarioRefused } from '../../src/scenario/load-balancer-view.ts';
import { loadTopologyFile, type Topology } from '../../src/topology/loader.ts';

const stub: ApiHandler = async () => ({ status: 404, body: { error: 'stub' } });
const meta = { scenario: 's', topology: 't', mode: 'in-process' };

async function topology(file: string): Promise<Topology> {
  const result = await loadTopologyFile(new URL(`../../topologies/${file}`, import.meta.url).pathname);
  if (!result.ok) throw new Error(file);
  return result.topology;
}

describe('ScenarioContext', () => {
  it('fails a checkAll over an empty set, saying so', () => {
    const sim = new ScenarioContext(stub);
    expect(sim.checkAll('survivors keep their slots', [], () => true)).to.equal(false);
    expect(sim.timeline[0]).to.include({ ok: false });
    expect(sim.timeline[0].detail).to.match(/nothing to check: the set is empty/);
    expect(sim.report(meta).ok).to.equal(false);
  });

  it('passes a checkAll only when every item holds', () => {
    const sim = new ScenarioContext(stub);
    expect(sim.checkAll('all even', [2, 4], (n) => n % 2 === 0)).to.equal(true);
    expect(sim.checkAll('all even', [2, 3], (n) => n % 2 === 0)).to.equal(false);
    expect(sim.counts).to.deep.equal({ passed: 1, failed: 1 });
  });

  it('fails a scenario that made no check', () => {
    const report = new ScenarioContext(stub).report(meta);
    expect(report.ok).to.equal(false);
    expect(report.error).to.equal('the scenario made no check');
  });
});

describe('describeLoadBalancer', () => {
  it('finds the VIP, members, client and spares of six-compute.json', async () => {
    const t = await topology('six-compute.json');
    const members = [
      { name: 'm1', pool: 'pool1', address: '30.30.30.10', port: 8080, adminState: true },
      { name: 'm2', pool: 'pool1', address: '30.30.30.11', port: 8080, adminState: true },
    ];
    const lb = describeLoadBalancer(t, members, { members: 2, spares: 3 });
    expect(lb).to.include({ name: 'lb1', vip: '30.30.30.100', pool: 'pool1', memberPort: 8080 });
    expect(lb.listener.port).to.equal(80);
    expect(lb.members.map((m) => m.id)).to.deep.equal(['compute-2/web-a', 'compute-3/web-b']);
    expect(lb.members[0].computeAddress).to.equal('127.0.21.2');
    expect(lb.client.name).to.equal('client');
    expect(lb.spares.map((w) => w.name)).to.deep.equal(['web-c', 'web-d', 'web-e']);
  });

  it('refuses with what is missing', async () => {
    const t = await topology('six-compute.json');
    expect(() => describeLoadBalancer(t, [], { members: 1 })).to.throw(ScenarioRefused, /pool pool1 has 0 member\(s\) on workloads, the scenario needs 1/);
    const members = [{ name: 'm1', pool: 'pool1', address: '30.30.30.10', port: 8080, adminState: true }];
    expect(() => describeLoadBalancer(t, members, { spares: 9 })).to.throw(ScenarioRefused, /the scenario needs 9/);
  });
});
