import { expect } from 'chai';
import fc from 'fast-check';
import { FLAG_REVERSE, FlowTable, keyWord0, keyWord3 } from '../../src/vrouter/flow-table.ts';

describe('vrouter/flow-table', () => {
  it('inserts a forward/reverse pair, finds both, and removes both together', () => {
    const t = new FlowTable(8);
    const f = t.insertPair(keyWord0(1, 0, 6), 10, 20, keyWord3(1000, 80), keyWord0(1, 1, 6), 20, 10, keyWord3(80, 1000), 0);
    expect(f).to.be.at.least(0);
    const r = t.partner[f];
    expect(t.lookup(keyWord0(1, 0, 6), 10, 20, keyWord3(1000, 80))).to.equal(f);
    expect(t.lookup(keyWord0(1, 1, 6), 20, 10, keyWord3(80, 1000))).to.equal(r);
    expect(t.flags[r] & FLAG_REVERSE).to.equal(FLAG_REVERSE);
    expect(t.lookup(keyWord0(2, 0, 6), 10, 20, keyWord3(1000, 80))).to.equal(-1);
    expect(t.size).to.equal(2);
    t.removePair(r);
    expect(t.size).to.equal(0);
    expect(t.lookup(keyWord0(1, 0, 6), 10, 20, keyWord3(1000, 80))).to.equal(-1);
  });

  it('refuses a pair when fewer than two entries are free', () => {
    const t = new FlowTable(5);
    expect(t.insertPair(1, 1, 1, 1, 2, 1, 1, 1, 0)).to.be.at.least(0);
    expect(t.insertPair(1, 2, 1, 1, 2, 2, 1, 1, 0)).to.be.at.least(0);
    expect(t.insertPair(1, 3, 1, 1, 2, 3, 1, 1, 0)).to.equal(-1);
    expect(t.size).to.equal(4);
  });

  it('ages out idle pairs, judged by the more recent entry of the pair', () => {
    const t = new FlowTable(16);
    const a = t.insertPair(1, 1, 1, 1, 2, 1, 1, 1, 0);
    const b = t.insertPair(1, 2, 1, 1, 2, 2, 1, 1, 0);
    t.lastSeen[t.partner[b]] = 900; // the reverse direction of b was active recently
    expect(t.isExpired(a, 1000, 500)).to.equal(true);
    expect(t.isExpired(b, 1000, 500)).to.equal(false);
    expect(t.sweep(1000, 500)).to.equal(1);
    expect(t.size).to.equal(2);
    expect(t.lookup(1, 1, 1, 1)).to.equal(-1);
    expect(t.lookup(1, 2, 1, 1)).to.equal(b);
  });

  it('rejects an unusable size', () => {
    expect(() => new FlowTable(1)).to.throw(RangeError);
    expect(() => new FlowTable(1.5)).to.throw(RangeError);
  });

  it('property: behaves like a map of pairs under random inserts and removals at high load', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }), (ops) => {
      const t = new FlowTable(64);
      const model = new Map<number, number>();
      for (const [insert, k] of ops) {
        const present = model.has(k);
        if (insert && !present) {
          const f = t.insertPair(0, k, 0, 0, 1, k, 0, 0, 0);
          if (f >= 0) model.set(k, f);
        } else if (!insert && present) {
          t.removePair(t.lookup(0, k, 0, 0));
          model.delete(k);
        }
        expect(t.size).to.equal(model.size * 2);
      }
      for (let k = 0; k <= 40; k++) {
        const f = t.lookup(0, k, 0, 0);
        const r = t.lookup(1, k, 0, 0);
        expect(f >= 0).to.equal(model.has(k));
        expect(r >= 0).to.equal(model.has(k));
        // entries move when others are removed; the pair links must follow them
        if (f >= 0) {
          expect(t.partner[f]).to.equal(r);
          expect(t.partner[r]).to.equal(f);
          model.set(k, f);
        }
      }
    }), { numRuns: 200 });
  });

  it('holds 1M entries in at most 100 bytes each, and starts small', () => {
    const t = new FlowTable(1 << 20);
    expect(t.fullSizeBytes() / t.capacity).to.be.at.most(100);
    expect(t.memoryBytes()).to.be.below(100_000);
  });

  it('grows up to its bound, keeping every entry and pair link', () => {
    const t = new FlowTable(20_000);
    const start = t.memoryBytes();
    for (let k = 0; k < 10_000; k++) {
      const f = t.insertPair(0, k, 7, 0, 1, k, 7, 0, 0);
      t.packets[f] = k;
    }
    expect(t.insertPair(0, -1 >>> 0, 7, 0, 1, 0, 0, 0, 0)).to.equal(-1);
    expect(t.memoryBytes()).to.equal(t.fullSizeBytes());
    expect(t.memoryBytes()).to.be.above(start);
    for (let k = 0; k < 10_000; k++) {
      const f = t.lookup(0, k, 7, 0);
      expect(t.packets[f]).to.equal(k);
      expect(t.partner[f]).to.equal(t.lookup(1, k, 7, 0));
    }
  });

  it('the incremental sweep ages everything over enough rounds, even as entries shift', () => {
    const t = new FlowTable(200);
    for (let k = 0; k < 100; k++) t.insertPair(0, k, 0, 0, 1, k, 0, 0, k < 50 ? 0 : 900);
    let removed = 0;
    for (let round = 0; round < 40; round++) removed += t.sweep(1000, 500, 10);
    expect(removed).to.equal(50);
    expect(t.size).to.equal(100);
    for (let k = 0; k < 100; k++) expect(t.lookup(0, k, 0, 0) >= 0).to.equal(k >= 50);
  });
});
