// `ecmpsim compare` on a topology where clients share computes with members (127.3.x, run under the
// shared test lock): both providers over real XMPP, the same connections and events.
import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparisonHtml, comparisonJson, comparisonTable } from '../../src/compare/compare-report.ts';
import { compareProviders, METRIC_KEYS, type Comparison } from '../../src/compare/compare.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { ecmpsim } from '../cli/support/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(ROOT, 'test/compare/fixtures/shared-compute.json');
const FLOWS = 300;

describe('compare: native vs proxy load balancer', function () {
  this.timeout(120_000);
  let comparison: Comparison;
  let holdMs: number;

  before(async () => {
    const loaded = await loadTopologyFile(FIXTURE);
    if (!loaded.ok) throw new Error('fixture topology is invalid');
    holdMs = loaded.topology.holdTimeSeconds * 1000;
    comparison = await compareProviders(loaded.topology, { flows: FLOWS });
  });

  it('reports every metric key for both providers, and only those', () => {
    const json = comparisonJson(comparison) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json.native)).to.deep.equal([...METRIC_KEYS]);
    expect(Object.keys(json.proxy)).to.deep.equal([...METRIC_KEYS]);
    expect(comparison.native.connections).to.equal(FLOWS);
    expect(comparison.proxy.connections).to.equal(FLOWS);
  });

  it('native: no tromboning and fewer tunnels per connection than the proxy', () => {
    expect(comparison.native.trombonedConnections).to.equal(0);
    expect(comparison.proxy.trombonedConnections, 'clients beside web-a go through the haproxy’s compute').to.be.greaterThan(0);
    expect(comparison.native.tunnelsPerConnection).to.be.lessThan(comparison.proxy.tunnelsPerConnection);
    expect(comparison.native.busiestComputeShare).to.be.lessThan(comparison.proxy.busiestComputeShare);
  });

  it('the failed compute breaks every proxied connection, and under native only its members’ connections', () => {
    expect(comparison.proxy.brokenByLbNodeFailure).to.equal(FLOWS);
    expect(comparison.heldByFailedCompute.proxy).to.equal(FLOWS);
    expect(comparison.native.brokenByLbNodeFailure).to.equal(comparison.heldByFailedCompute.native);
    expect(comparison.native.brokenByLbNodeFailure).to.be.within(1, FLOWS - 1);
  });

  it('the standby haproxy serves new connections within the hold time', () => {
    expect(comparison.proxy.recoveryMs).to.not.equal(null);
    expect(comparison.proxy.recoveryMs!).to.be.at.most(holdMs);
  });

  it('a member added breaks nothing; a member removed breaks its native connections, the haproxy drains them', () => {
    expect(comparison.native.brokenByScaleOut).to.equal(0);
    expect(comparison.proxy.brokenByScaleOut).to.equal(0);
    expect(comparison.native.brokenByScaleIn).to.be.greaterThan(0);
    expect(comparison.proxy.brokenByScaleIn).to.equal(0);
  });

  it('renders a side-by-side table and a self-contained HTML page with both providers’ per-compute load', () => {
    const table = comparisonTable(comparison);
    expect(table).to.match(/native \(ECMP\)\s+proxy \(haproxy\)/);
    expect(table).to.contain('tromboned connections');
    const html = comparisonHtml(comparison);
    expect(html).to.not.match(/<script[^>]+src=/);
    expect(html).to.not.match(/https?:\/\/cdn/);
    expect(html).to.contain('new Chart(');
    expect(html).to.contain(`"labels":${JSON.stringify(Object.keys(comparison.native.perCompute).sort())}`);
  });

  it('the CLI refuses a bad --flows and a topology without a load balancer, with one line each', async () => {
    const flows = await ecmpsim(['compare', FIXTURE, '--flows', '0']);
    expect(flows.code).to.equal(2);
    expect(flows.stderr.trim().split('\n')).to.have.length(1);
    expect(flows.stderr).to.contain('--flows').and.to.contain('expected an integer from 1 to 1000000, got 0');
    const none = await ecmpsim(['compare', path.join(ROOT, 'test/compare/fixtures/no-lb.json')]);
    expect(none.code).to.equal(2);
    expect(none.stderr.trim()).to.equal('ecmpsim: compare: topology no-lb has no load balancer to compare');
  });
});
