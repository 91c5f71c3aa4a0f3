import { expect } from 'chai';
import fc from 'fast-check';
import { pickSlot, reorderSlots } from '../../src/vrouter/composite-slots.ts';

const m = (key: string): { key: string } => ({ key });
const keys = (slots: ({ key: string } | null)[]): (string | null)[] => slots.map((s) => s?.key ?? null);

function activeArrays(slots: ({ key: string } | null)[]): { active: Uint8Array; list: Int16Array; count: number } {
  const active = new Uint8Array(128);
  const list = new Int16Array(128);
  let count = 0;
  slots.forEach((s, i) => { if (s !== null) { active[i] = 1; list[count++] = i; } });
  return { active, list, count };
}

describe('vrouter/composite-slots', () => {
  it('keeps survivors in place, leaves holes, fills the first hole, then appends', () => {
    let slots = reorderSlots([], ['a', 'b', 'c', 'd', 'e'].map(m));
    expect(keys(slots)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    slots = reorderSlots(slots, ['a', 'c', 'e'].map(m));
    expect(keys(slots)).to.deep.equal(['a', null, 'c', null, 'e']);
    slots = reorderSlots(slots, ['e', 'x', 'a', 'c'].map(m));
    expect(keys(slots)).to.deep.equal(['a', 'x', 'c', null, 'e']);
    slots = reorderSlots(slots, ['a', 'x', 'c', 'e', 'y', 'z'].map(m));
    expect(keys(slots)).to.deep.equal(['a', 'x', 'c', 'y', 'e', 'z']);
  });

  it('merges duplicate members', () => {
    expect(keys(reorderSlots([], ['a', 'a', 'b'].map(m)))).to.deep.equal(['a', 'b']);
  });

  it('property: over random member changes, survivors never move and every member has exactly one slot', () => {
    const universe = 'abcdefghijklmnop'.split('');
    fc.assert(fc.property(fc.array(fc.subarray(universe, { minLength: 1 }), { minLength: 1, maxLength: 30 }), (updates) => {
      let slots: ({ key: string } | null)[] = [];
      for (const next of updates) {
        const before = keys(slots);
        const shuffled = [...next].reverse();
        slots = reorderSlots(slots, shuffled.map(m));
        const after = keys(slots);
        // survivors keep their index
        before.forEach((k, i) => { if (k !== null && next.includes(k)) expect(after[i]).to.equal(k); });
        // removed members leave holes (possibly refilled by a newcomer), never shifting others
        const newcomers = next.filter((k) => !before.includes(k));
        before.forEach((k, i) => {
          if (k !== null && !next.includes(k)) expect(after[i] === null || newcomers.includes(after[i]!)).to.equal(true);
        });
        // newcomers take the lowest holes first, then append
        const holes = before.map((k, i) => (k === null || !next.includes(k) ? i : -1)).filter((i) => i >= 0);
        const taken = after.map((k, i) => (k !== null && newcomers.includes(k) ? i : -1)).filter((i) => i >= 0);
        const expected = [...holes.slice(0, newcomers.length)];
        for (let i = 0; expected.length < newcomers.length; i++) expected.push(before.length + i);
        expect(taken).to.deep.equal(expected);
        // each member present exactly once
        expect(after.filter((k) => k !== null).sort()).to.deep.equal([...next].sort());
        // the list only grows when there was no hole left for a new member
        expect(after.length).to.equal(before.length + Math.max(0, newcomers.length - holes.length));
      }
    }), { numRuns: 300 });
  });

  it('picks hash % slots, and falls back to the active slots for a hole', () => {
    const slots = [m('a'), null, m('c')];
    const { active, list, count } = activeArrays(slots);
    expect(pickSlot(0, 0, 3, active, list, count)).to.equal(0);
    expect(pickSlot(0, 2, 3, active, list, count)).to.equal(2);
    // 1 % 3 = 1 is a hole -> active[1 % 2] = slot 2
    expect(pickSlot(0, 1, 3, active, list, count)).to.equal(2);
    // 4 % 3 = 1 is a hole -> active[4 % 2] = slot 0
    expect(pickSlot(0, 4, 3, active, list, count)).to.equal(0);
    expect(pickSlot(0, 4, 3, new Uint8Array(128), list, 0)).to.equal(-1);
  });
});
