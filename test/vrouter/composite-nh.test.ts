// The ECMP composite next-hop of a route (docs/protocol.md §7.3, §7.4), driven directly: slots stay where
// they are, a removed member leaves a hole, a new member takes the first hole, and only the flows of a
// removed member are placed again.
import { expect } from 'chai';
import { CompositeNextHops, withSlotCounters, type RouteEntry } from '../../src/vrouter/composite-nh.ts';
import type { RemoteNextHop } from '../../src/vrouter/composite-members.ts';
import { VrouterTallies } from '../../src/vrouter/counters.ts';
import { ALL_FIELDS, ecmpHash } from '../../src/vrouter/ecmp-hash.ts';
import { FlowTable, keyWord0, keyWord3, NO_SLOT } from '../../src/vrouter/flow-table.ts';
import { InterfaceTable } from '../../src/vrouter/interfaces.ts';
import { LocalComposites } from '../../src/vrouter/local-composite.ts';
import { VrfTable } from '../../src/vrouter/vrfs.ts';

const VRF = 'default-domain:demo:svc-vn:svc-vn';
const PREFIX = '30.30.30.100/32';
const VIP_INT = 0x1e1e1e64;
const FLOWS = 400;

const member = (name: string): RemoteNextHop => {
  const i = 'ABCDEFGH'.indexOf(name);
  return { address: `127.0.20.${i + 1}`, label: 100 + i, encapsulations: ['udp'] };
};
const members = (names: string): RemoteNextHop[] => [...names].map(member);
/** 'A' for the member at 127.0.20.1, null for a hole. */
const slotNames = (e: RouteEntry): (string | null)[] => e.slots.map((m) => (m === null ? null : 'ABCDEFGH'[Number(m.address.split('.')[3]) - 1]));

interface Fixture {
  nh: CompositeNextHops;
  table: FlowTable;
  tallies: VrouterTallies;
  entry(): RouteEntry;
  /** forward flows placed the way forwarding.ts places them: hashed on all fields, slot and route stored */
  placeFlows(count: number): number[];
  slotsOf(flows: number[]): number[];
}

function fixture(): Fixture {
  // preallocated: a growing table rehashes its entries, and the test follows flows by index
  const table = new FlowTable(4096, { preallocate: true });
  const vrfs = new VrfTable<RouteEntry>('compute-1');
  const tallies = new VrouterTallies();
  const nh = new CompositeNextHops({
    routerId: '127.0.20.9', hashRouterId: -1, maglevDefault: false, encapPriorities: ['udp', 'gre'],
    table, vrfs, interfaces: new InterfaceTable(), localComposites: new LocalComposites(), tallies,
  });
  const entry = (): RouteEntry => vrfs.fib(vrfs.idOf(VRF)!)!.get(VIP_INT, 32)!;
  const hash = new Uint32Array(2);
  return {
    nh, table, tallies, entry,
    placeFlows(count) {
      const e = entry();
      const flows: number[] = [];
      for (let i = 0; i < count; i++) {
        const src = 0x1e1e0000 + i;
        const sport = 20000 + i;
        ecmpHash(hash, -1, ALL_FIELDS, src, VIP_INT, 6, sport, 80);
        const slot = nh.chooseSlot(e, hash);
        const fi = table.insertPair(keyWord0(e.vrfId, 0, 6), src, VIP_INT, keyWord3(sport, 80), keyWord0(e.vrfId, 1, 6), VIP_INT, src, keyWord3(80, sport), 0);
        table.slot[fi] = slot;
        table.hashMask[fi] = ALL_FIELDS;
        table.target[fi] = e.id;
        flows.push(fi);
      }
      return flows;
    },
    slotsOf: (flows) => flows.map((fi) => table.slot[fi]),
  };
}

describe('vrouter/composite-nh', () => {
  it('keeps every member on its slot when the next-hops come back in another order', () => {
    const f = fixture();
    expect(f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {})).to.deep.equal({ ok: true, warnings: [] });
    const flows = f.placeFlows(FLOWS);
    const before = f.slotsOf(flows);
    f.nh.setControlRoute(VRF, PREFIX, members('DBCA'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', 'B', 'C', 'D']);
    expect(f.slotsOf(flows)).to.deep.equal(before);
    expect(f.tallies.rehashed).to.equal(0);
  });

  it('leaves a hole where a member left, also at the end, and keeps the slot count', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {});
    f.nh.setControlRoute(VRF, PREFIX, members('ACD'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', null, 'C', 'D']);
    f.nh.setControlRoute(VRF, PREFIX, members('AC'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', null, 'C', null]);
    expect([...f.entry().activeList.subarray(0, f.entry().activeCount)]).to.deep.equal([0, 2]);
  });

  it('gives a new member the first hole, then appends', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {});
    f.nh.setControlRoute(VRF, PREFIX, members('AD'), {});
    f.nh.setControlRoute(VRF, PREFIX, members('ADE'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', 'E', null, 'D']);
    f.nh.setControlRoute(VRF, PREFIX, members('ADEFG'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', 'E', 'F', 'D', 'G']);
  });

  it('re-evaluates only the flows of a removed member, onto active slots', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {});
    const flows = f.placeFlows(FLOWS);
    const before = f.slotsOf(flows);
    const onB = before.filter((s) => s === 1).length;
    expect(onB, 'the test needs flows on the member it removes').to.be.greaterThan(0);
    f.nh.setControlRoute(VRF, PREFIX, members('ACD'), {});
    const after = f.slotsOf(flows);
    after.forEach((slot, i) => {
      if (before[i] === 1) expect(slot).to.be.oneOf([0, 2, 3]);
      else expect(slot, `flow ${i} was on slot ${before[i]}`).to.equal(before[i]);
    });
    expect(f.tallies.rehashed).to.equal(onB);
    // the moved flows are counted on the slots they landed on; the hole counts nothing
    const e = f.entry();
    expect(e.slotFlows[1]).to.equal(0);
    expect(e.slotFlows[0] + e.slotFlows[2] + e.slotFlows[3]).to.equal(onB);
  });

  it('refills the hole with a returning member without moving any flow back', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {});
    const flows = f.placeFlows(FLOWS);
    f.nh.setControlRoute(VRF, PREFIX, members('ACD'), {});
    const whileAway = f.slotsOf(flows);
    const rehashed = f.tallies.rehashed;
    f.nh.setControlRoute(VRF, PREFIX, members('ABCD'), {});
    expect(slotNames(f.entry())).to.deep.equal(['A', 'B', 'C', 'D']);
    expect(f.slotsOf(flows)).to.deep.equal(whileAway);
    expect(f.tallies.rehashed).to.equal(rehashed);
    // new flows reach the returning member again
    const fresh = f.slotsOf(f.placeFlows(FLOWS));
    expect(fresh).to.include(1);
  });

  it('leaves flows with their route id when the route is withdrawn, and forgets the entry', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('AB'), {});
    const id = f.entry().id;
    const flows = f.placeFlows(10);
    const result = f.nh.deleteControlRoute(VRF, PREFIX);
    expect(result).to.deep.equal({ ok: true, warnings: [] });
    expect(f.nh.route(id)).to.equal(undefined);
    expect(f.nh.count).to.equal(0);
    for (const fi of flows) expect(f.table.slot[fi]).to.not.equal(NO_SLOT);
  });

  it('installs a single next-hop as a plain tunnel, not a composite', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('C'), {});
    expect(f.entry().ecmp).to.equal(false);
    expect(slotNames(f.entry())).to.deep.equal(['C']);
    expect(f.entry().maglevTable.length).to.equal(0);
  });

  // docs/architecture.md "Scale": a compute holds thousands of such routes
  it('gives a route no per-slot counters until a flow counts on it, and shares what agents receive alike', () => {
    const a = fixture();
    const b = fixture();
    const hops = members('C');
    a.nh.setControlRoute(VRF, PREFIX, hops, {});
    b.nh.setControlRoute(VRF, PREFIX, hops, {});
    const ea = a.entry();
    expect(ea.slotFlows.length).to.equal(0);
    expect([...ea.active]).to.deep.equal([1]);
    // the same received list: one checked copy, one member, one slot list for both vRouters
    expect(b.entry().control).to.equal(ea.control);
    expect(b.entry().slots).to.equal(ea.slots);
    expect(ea.control!.nextHops[0]).to.not.equal(hops[0]);
    expect(ea.control!.nextHops[0]).to.deep.equal(hops[0]);
    expect(Object.isFrozen(ea.slots[0])).to.equal(true);
    withSlotCounters(ea).slotFlows[0]++;
    expect(ea.slotFlows.length).to.equal(128);
    expect(b.entry().slotFlows.length).to.equal(0);
  });

  it('still counts and re-places flows when a route that carried none becomes ECMP', () => {
    const f = fixture();
    f.nh.setControlRoute(VRF, PREFIX, members('A'), {});
    f.nh.setControlRoute(VRF, PREFIX, members('ABC'), {});
    const flows = f.placeFlows(FLOWS);
    f.nh.setControlRoute(VRF, PREFIX, members('BC'), {});
    expect(slotNames(f.entry())).to.deep.equal([null, 'B', 'C']);
    expect(new Set(f.slotsOf(flows))).to.deep.equal(new Set([1, 2]));
    // the flows of A were placed again and counted on the slots they went to
    expect(f.entry().slotFlows[1] + f.entry().slotFlows[2]).to.equal(f.tallies.rehashed);
    expect(f.tallies.rehashed).to.be.greaterThan(0);
  });
});
