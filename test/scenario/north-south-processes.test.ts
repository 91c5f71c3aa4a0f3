// The north-south scenario with one OS process per node: the gateway stays in the launcher's process on
// its own MPLS-over-UDP socket and reaches the computes' processes over real datagrams.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadScenario, runScenario } from '../../src/scenario/runner.ts';

describe('scenario north-south.ts (one OS process per node)', function () {
  this.timeout(120_000);
  it('passes, with the same moved and broken counts as in-process', async () => {
    const file = fileURLToPath(new URL('../../scripts/north-south.ts', import.meta.url));
    const report = await runScenario(await loadScenario(file), { mode: 'processes' });
    const failed = report.timeline.filter((e) => e.kind === 'check' && !e.ok).map((e) => `${e.text}: ${e.detail ?? ''}`);
    expect(report.ok, [report.error, ...failed].filter(Boolean).join('\n')).to.equal(true);
    expect(report.checks.passed).to.be.greaterThan(20);
  });
});
