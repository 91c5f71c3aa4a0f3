// The gateway's two hashes: stateless (mod n over the current set) and the resilient bucket table.
import { expect } from 'chai';
import fc from 'fast-check';
import { BucketTable, statelessPick, tupleHash } from '../../src/gateway/gateway-hash.ts';

const packet = (i: number) => ({ src: `198.51.100.${1 + (i % 200)}`, dst: '10.1.11.4', proto: 6, sport: 20000 + i, dport: 80 });

describe('gateway/hash', () => {
  it('hashes a 5-tuple the same every time, and differently per seed', () => {
    expect(tupleHash(packet(1), 7)).to.equal(tupleHash(packet(1), 7));
    expect(tupleHash(packet(1), 7)).to.not.equal(tupleHash(packet(1), 8));
    expect(tupleHash(packet(1), 7)).to.not.equal(tupleHash(packet(2), 7));
  });

  it('stateless: growing 2 → 3 moves about two thirds of the flows, between old members too', () => {
    let moved = 0;
    let betweenOld = 0;
    for (let i = 0; i < 3000; i++) {
      const h = tupleHash(packet(i), 1);
      const before = statelessPick(h, ['a', 'b']);
      const after = statelessPick(h, ['a', 'b', 'c']);
      if (before !== after) moved++;
      if (before !== after && after !== 'c') betweenOld++;
    }
    expect(moved / 3000).to.be.within(0.6, 0.73);
    expect(betweenOld).to.be.greaterThan(0);
    expect(statelessPick(1, [])).to.equal(undefined);
  });

  it('resilient: fair shares, and a change moves only the buckets it must', () => {
    const table = new BucketTable(1024);
    expect(table.update(['a', 'b'])).to.equal(1024);
    expect(Object.fromEntries(table.counts())).to.deep.equal({ a: 512, b: 512 });
    const before = [...table.buckets];
    const changed = table.update(['a', 'b', 'c']);
    expect(Object.fromEntries(table.counts())).to.deep.equal({ a: 342, b: 341, c: 341 });
    expect(changed).to.equal(341);
    // every changed bucket went to the newcomer
    table.buckets.forEach((owner, i) => {
      if (owner !== before[i]) expect(owner).to.equal('c');
    });
    const middle = [...table.buckets];
    table.update(['b', 'c']);
    table.buckets.forEach((owner, i) => {
      if (middle[i] !== 'a') expect(owner).to.equal(middle[i]);
    });
    expect(table.update([])).to.equal(1024);
    expect(() => new BucketTable(0)).to.throw('bucket table size 0 must be 1..65536');
  });

  it('property: any sequence of member sets keeps shares within one bucket and survivors keep every bucket when a member leaves', () => {
    const sets = fc.array(fc.subarray(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], { minLength: 1 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(sets, fc.integer({ min: 1, max: 300 }), (sequence, size) => {
        const table = new BucketTable(size);
        let current: string[] = [];
        for (const next of sequence) {
          const before = [...table.buckets];
          table.update(next);
          const counts = [...table.counts().values()];
          if (size >= next.length && Math.max(...counts) - Math.min(...counts) > 1) return false;
          const onlyRemoved = next.every((m) => current.includes(m));
          if (onlyRemoved) {
            for (let i = 0; i < size; i++) if (before[i] !== undefined && next.includes(before[i] as string) && table.buckets[i] !== before[i]) return false;
          }
          current = next;
        }
        return true;
      }),
    );
  });
});
