import { expect } from 'chai';
import fc from 'fast-check';
import { HealthCheckState } from '../../src/lbaas/health-check-state.ts';

describe('lbaas/service-health-check verdict (docs/protocol.md §7.2, §8.2 step 5)', () => {
  it('stays active until max-retries failures in a row, then one success brings it back', () => {
    const state = new HealthCheckState(3);
    expect(state.active).to.equal(true);
    expect([state.answer(false), state.answer(false)]).to.deep.equal([false, false]);
    expect(state.active, 'two failures of three').to.equal(true);
    expect(state.answer(false), 'the third failure changes it').to.equal(true);
    expect(state).to.deep.include({ active: false, failuresInRow: 3 });
    expect(state.answer(false)).to.equal(false);
    expect(state.answer(true), 'one success').to.equal(true);
    expect(state).to.deep.include({ active: true, failuresInRow: 0 });
  });

  it('a success in between restarts the count', () => {
    const state = new HealthCheckState(2);
    state.answer(false);
    state.answer(true);
    state.answer(false);
    expect(state.active).to.equal(true);
    state.answer(false);
    expect(state.active).to.equal(false);
  });

  it('counts the probes sent', () => {
    const state = new HealthCheckState(1);
    state.probeSent();
    state.probeSent();
    expect(state.probesSent).to.equal(2);
  });

  it('a lower max-retries judges the failures already counted; a higher one does not revive', () => {
    const state = new HealthCheckState(5);
    state.answer(false);
    state.answer(false);
    expect(state.setMaxRetries(3)).to.equal(false);
    expect(state.setMaxRetries(2)).to.equal(true);
    expect(state.active).to.equal(false);
    expect(state.setMaxRetries(10)).to.equal(false);
    expect(state.active, 'only a success makes it active again').to.equal(false);
  });

  it('refuses a max-retries below 1', () => {
    expect(() => new HealthCheckState(0)).to.throw(RangeError, 'max-retries');
    expect(() => new HealthCheckState(1).setMaxRetries(1.5)).to.throw(RangeError);
  });

  it('property: active exactly while the current run of failures is shorter than max-retries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.boolean(), { maxLength: 60 }), (maxRetries, outcomes) => {
        const state = new HealthCheckState(maxRetries);
        let run = 0;
        for (const ok of outcomes) {
          const before = state.active;
          const changed = state.answer(ok);
          run = ok ? 0 : run + 1;
          expect(state.failuresInRow).to.equal(run);
          expect(state.active).to.equal(run < maxRetries);
          expect(changed).to.equal(before !== state.active);
        }
      }),
    );
  });
});
