import { expect } from 'chai';
import { StaleSweep } from '../../src/rib/stale-sweep.ts';

describe('rib/stale-sweep', () => {
  /** Source "a" announced p1..p3 on its first session; its second session has started. */
  function restarted(): StaleSweep<string, string, number> {
    const table = new StaleSweep<string, string, number>();
    for (const [key, value] of [['p1', 1], ['p2', 2], ['p3', 3]] as const) table.refresh('a', key, value);
    table.refresh('b', 'p1', 10);
    expect(table.markStale('a')).to.deep.equal(['p1', 'p2', 'p3']);
    return table;
  }

  it('marks all of a source’s entries stale, and only that source’s', () => {
    const table = restarted();
    expect(table.freshCount('a')).to.equal(0);
    expect(table.staleCount('a')).to.equal(3);
    expect(table.hasStale('a')).to.equal(true);
    expect(table.isStale('a', 'p2')).to.equal(true);
    expect(table.stale('a', 'p2')).to.equal(2);
    expect(table.fresh('a', 'p2')).to.equal(undefined);
    expect(table.fresh('b', 'p1')).to.equal(10);
    expect(table.hasStale('b')).to.equal(false);
  });

  it('keeps both copies of a refreshed entry until the sweep', () => {
    const table = restarted();
    table.refresh('a', 'p1', 100);
    expect(table.fresh('a', 'p1')).to.equal(100);
    expect(table.stale('a', 'p1')).to.equal(1);
    expect(table.isStale('a', 'p1')).to.equal(false);
  });

  it('sweep removes what was not refreshed and reports what was', () => {
    const table = restarted();
    table.refresh('a', 'p1', 100);
    table.refresh('a', 'p4', 4);
    expect(table.sweep('a')).to.deep.equal({ removed: ['p2', 'p3'], refreshed: ['p1'] });
    expect(table.staleCount('a')).to.equal(0);
    expect([...table.freshEntries('a')]).to.deep.equal([['p1', 100], ['p4', 4]]);
    expect(table.stale('a', 'p2')).to.equal(undefined);
  });

  it('a second sweep finds nothing', () => {
    const table = restarted();
    table.sweep('a');
    expect(table.sweep('a')).to.deep.equal({ removed: [], refreshed: [] });
    expect(table.freshCount('a')).to.equal(0);
  });

  it('a source with nothing stale (or never heard of) sweeps to nothing and keeps its entries', () => {
    const table = restarted();
    expect(table.sweep('b')).to.deep.equal({ removed: [], refreshed: [] });
    expect(table.fresh('b', 'p1')).to.equal(10);
    expect(table.sweep('nobody')).to.deep.equal({ removed: [], refreshed: [] });
    expect(table.markStale('nobody')).to.deep.equal([]);
    expect(table.hasStale('nobody')).to.equal(false);
  });

  it('refresh of a key that was never stale adds it fresh and the sweep leaves it alone', () => {
    const table = restarted();
    table.refresh('a', 'new', 7);
    expect(table.isStale('a', 'new')).to.equal(false);
    const swept = table.sweep('a');
    expect(swept.removed).to.not.include('new');
    expect(swept.refreshed).to.not.include('new');
    expect(table.fresh('a', 'new')).to.equal(7);
  });

  it('a withdrawal during re-learning drops the fresh copy only; the stale one goes at the sweep', () => {
    const table = restarted();
    table.refresh('a', 'p1', 100);
    expect(table.withdraw('a', 'p1')).to.equal(true);
    expect(table.withdraw('a', 'unknown')).to.equal(false);
    expect(table.stale('a', 'p1')).to.equal(1);
    expect(table.sweep('a').removed).to.deep.equal(['p1', 'p2', 'p3']);
  });

  it('marking stale again merges with the older stale entries, the newer value winning', () => {
    const table = restarted();
    table.refresh('a', 'p1', 100);
    table.refresh('a', 'p5', 5);
    expect(table.markStale('a')).to.deep.equal(['p1', 'p2', 'p3', 'p5']);
    expect(table.stale('a', 'p1')).to.equal(100);
  });

  it('deleteWhere drops both copies of the matching keys and names each once', () => {
    const table = restarted();
    table.refresh('a', 'p1', 100);
    table.refresh('a', 'q1', 9);
    expect(table.deleteWhere('a', (key) => key.startsWith('p1') || key === 'p2')).to.deep.equal(['p1', 'p2']);
    expect(table.fresh('a', 'p1')).to.equal(undefined);
    expect(table.stale('a', 'p1')).to.equal(undefined);
    expect(table.fresh('a', 'q1')).to.equal(9);
    expect(table.sweep('a')).to.deep.equal({ removed: ['p3'], refreshed: [] });
  });

  it('works with any key type', () => {
    const key = { vrf: 'red', prefix: '10.0.0.1/32' };
    const table = new StaleSweep<number, object, string>();
    table.refresh(0, key, 'x');
    table.markStale(0);
    expect(table.isStale(0, key)).to.equal(true);
    expect(table.isStale(0, { ...key })).to.equal(false);
    expect(table.sweep(0).removed).to.deep.equal([key]);
  });
});
