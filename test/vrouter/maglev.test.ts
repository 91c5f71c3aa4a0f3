import { expect } from 'chai';
import { buildMaglevTable, MAGLEV_TABLE_SIZES, maglevTableSize, nextPrime } from '../../src/vrouter/maglev.ts';

const members = (slots: number[]): { slot: number; key: string }[] =>
  slots.map((slot) => ({ slot, key: `127.0.20.${slot + 2}|${17 + slot}` }));
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

function changedShare(a: Int16Array, b: Int16Array): number {
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
  return changed / a.length;
}

describe('vrouter/maglev', () => {
  it('chooses the smallest listed prime of at least 500 entries per member and fills every entry', () => {
    expect(nextPrime(500)).to.equal(503);
    for (const p of MAGLEV_TABLE_SIZES) expect(nextPrime(p)).to.equal(p);
    expect([2, 4, 5, 16, 17, 65, 66, 100, 128].map((n) => maglevTableSize(n))).to.deep.equal([1021, 2039, 4093, 8191, 16381, 32749, 65521, 65521, 65521]);
    const table = buildMaglevTable(members(range(5)));
    expect(table.length).to.equal(4093);
    expect(table.every((s) => s >= 0 && s < 5)).to.equal(true);
    expect(buildMaglevTable([]).length).to.equal(0);
    expect(() => buildMaglevTable(members(range(5)), 499)).to.throw(RangeError);
    expect(() => maglevTableSize(300)).to.throw(RangeError, /no table size for 300 members/);
  });

  it('keeps the current size on scale-in while it holds 500-2000 entries per member', () => {
    expect(maglevTableSize(66, 65521)).to.equal(65521);
    expect(maglevTableSize(33, 65521)).to.equal(65521);
    expect(maglevTableSize(32, 65521)).to.equal(16381); // more than 4x: shrink to the size N asks for
    expect(maglevTableSize(66, 32749)).to.equal(65521); // too small: grow
    expect(maglevTableSize(10, 8000)).to.equal(8191); // not a listed size: ignored
  });

  it('moves at most 1/N + 1 % of placements when a member joins, for every N up to 128 within one size', () => {
    const over: string[] = [];
    for (let n = 1; n < 128; n++) {
      const size = maglevTableSize(n);
      if (maglevTableSize(n + 1) !== size) continue; // a step in size: rebuilt once, see maglevTableSize
      const share = changedShare(buildMaglevTable(members(range(n)), size), buildMaglevTable(members(range(n + 1)), size));
      if (share > 1 / n + 0.01) over.push(`N=${n}: ${(100 * share).toFixed(2)} %`);
    }
    expect(over).to.deep.equal([]);
    const at100 = changedShare(buildMaglevTable(members(range(100))), buildMaglevTable(members(range(101))));
    expect(at100).to.be.at.most(0.02);
  });

  it('gives each member a near-equal share of the entries', () => {
    const table = buildMaglevTable(members(range(10)));
    const counts = new Array(10).fill(0);
    for (const s of table) counts[s]++;
    const fair = table.length / 10;
    for (const c of counts) expect(Math.abs(c - fair) / fair).to.be.lessThan(0.05);
  });

  for (const n of [2, 10, 100]) {
    it(`moves about 1/(N+1) of the placements when a member joins N = ${n}`, () => {
      const size = maglevTableSize(n + 1); // one size on both sides: a step in size is tested above
      const share = changedShare(buildMaglevTable(members(range(n)), size), buildMaglevTable(members(range(n + 1)), size));
      // Maglev is near-minimal, not minimal: measured 1.03x (N=10) to 1.6x (N=100) the ideal 1/(N+1)
      expect(share).to.be.within(0.5 / (n + 1), 3 / (n + 1));
    });
  }

  it('moves little beyond the removed member\'s own entries when one leaves', () => {
    const before = buildMaglevTable(members(range(10)));
    const after = buildMaglevTable(members(range(10).filter((s) => s !== 3)));
    const own = before.filter((s) => s === 3).length / before.length;
    const share = changedShare(before, after);
    expect(share).to.be.at.least(own);
    expect(share - own).to.be.lessThan(0.05);
  });
});
