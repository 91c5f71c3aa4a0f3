// Best-path reasons: every step of the full order names itself when it decides, ECMP members say they
// tie up to MED, and the explanation always agrees with the order the RIB sorts by (docs/protocol.md §6.4).
import { expect } from 'chai';
import fc from 'fast-check';
import { comparePaths, decidingStep, pathReason, type PathSelectionOptions, type SelectionStep } from '../../src/rib/path-selection.ts';
import { Rib, instanceTableName } from '../../src/rib/index.ts';
import type { Path } from '../../src/rib/path.ts';
import { agent, agentPath, bgpPath, bgpPeer, seq } from './path-builders.ts';

interface Row {
  step: SelectionStep;
  winner: Path;
  loser: Path;
  detail: string;
  options?: PathSelectionOptions;
}

const sameId = { routerId: '10.9.9.9' };

// Each row differs first in the attribute its step looks at; everything earlier ties.
const rows: Row[] = [
  { step: 'feasible', winner: agentPath(2, { localPref: 100 }), loser: agentPath(1, { feasible: false, localPref: 200 }), detail: 'feasible over infeasible' },
  { step: 'local-pref', winner: agentPath(2, { localPref: 200 }), loser: agentPath(1, { localPref: 100 }), detail: '200 > 100' },
  { step: 'sticky', winner: agentPath(2, { sticky: true }), loser: agentPath(1, { sequence: 5 }), detail: 'sticky over not sticky' },
  { step: 'sequence', winner: agentPath(2, { sequence: 3 }), loser: agentPath(1, { sequence: 2 }), detail: '3 > 2' },
  { step: 'llgr-stale', winner: agentPath(2), loser: agentPath(1, { llgrStale: true }), detail: 'fresh over LLGR-stale' },
  { step: 'as-path-length', winner: bgpPath(2, { asPath: seq(65001) }), loser: bgpPath(1, { asPath: seq(65001, 65002) }), detail: '1 < 2' },
  { step: 'origin', winner: bgpPath(2, { origin: 'igp' }), loser: bgpPath(1, { origin: 'incomplete' }), detail: 'igp < incomplete' },
  { step: 'med', winner: bgpPath(2, { asPath: seq(65001), med: 10 }), loser: bgpPath(1, { asPath: seq(65001), med: 20 }), detail: '10 < 20' },
  { step: 'med', winner: agentPath(2, { med: 100 }), loser: agentPath(1, { med: 200 }), detail: '100 < 200', options: { alwaysCompareMed: true } },
  { step: 'peer-type', winner: agentPath(9, { localPref: 100, origin: 'igp' }), loser: bgpPath(1), detail: 'xmpp over ibgp' },
  { step: 'peer-type', winner: bgpPath(2, {}, bgpPeer(2, { isIbgp: false })), loser: bgpPath(1), detail: 'ebgp over ibgp' },
  { step: 'router-id', winner: bgpPath(2, {}, bgpPeer(2, { routerId: '10.0.0.1' })), loser: bgpPath(1, {}, bgpPeer(1, { routerId: '10.0.0.2' })), detail: '10.0.0.1 < 10.0.0.2' },
  {
    step: 'cluster-list-length',
    winner: bgpPath(2, { originatorId: '1.1.1.1' }),
    loser: bgpPath(1, { originatorId: '1.1.1.1', clusterList: ['2.2.2.2'] }),
    detail: '0 < 1',
  },
  { step: 'peer-address', winner: bgpPath(2, {}, bgpPeer(2, sameId)), loser: bgpPath(10, {}, bgpPeer(10, sameId)), detail: '127.0.30.2 < 127.0.30.10' },
  { step: 'rd', winner: agentPath(1), loser: { ...agentPath(1), rd: '127.0.20.1:4' }, detail: '127.0.20.1:3 < 127.0.20.1:4' },
  { step: 'peer-name', winner: agentPath(1), loser: { ...agentPath(1), peer: { ...agent(1), name: 'compute-1b' } }, detail: 'compute-1 < compute-1b' },
  {
    step: 'origin-table',
    winner: agentPath(1),
    loser: { ...agentPath(1), replicatedFrom: { table: 'bgp.l3vpn.0' } },
    detail: 'primary < bgp.l3vpn.0',
  },
];

describe('rib/path-selection: the step that decided (best-path reasons)', () => {
  for (const row of rows) {
    it(`${row.step} decides: ${row.detail}`, () => {
      expect(comparePaths(row.winner, row.loser, row.options)).to.be.lessThan(0);
      expect(decidingStep(row.winner, row.loser, row.options)).to.deep.equal({ step: row.step, winner: 'a', detail: row.detail });
      // Asked the other way round, the same step names the same winner.
      expect(decidingStep(row.loser, row.winner, row.options)).to.deep.equal({ step: row.step, winner: 'b', detail: row.detail });
    });
  }

  it('covers every step of the order at least once', () => {
    const all: SelectionStep[] = [
      'feasible', 'local-pref', 'sticky', 'sequence', 'llgr-stale', 'as-path-length', 'origin', 'med',
      'peer-type', 'router-id', 'cluster-list-length', 'peer-address', 'rd', 'peer-name', 'origin-table',
    ];
    expect([...new Set(rows.map((r) => r.step))].sort()).to.deep.equal([...all].sort());
  });

  it("gives the best path 'best', an ECMP member the tie up to MED, a loser the step it lost on", () => {
    const best = agentPath(1);
    const member = agentPath(2, { med: 999 });
    const loser = agentPath(3, { localPref: 100 });
    expect(pathReason(best, best, true)).to.deep.equal({ step: 'best', detail: 'best path' });
    expect(pathReason(member, best, true)).to.deep.equal({ step: 'ecmp', detail: 'ECMP: tie up to MED' });
    expect(pathReason(loser, best, false)).to.deep.equal({ step: 'local-pref', detail: '200 > 100' });
  });

  it('says so when no path is feasible', () => {
    const a = agentPath(1, { feasible: false });
    expect(pathReason(a, a, false)).to.deep.equal({ step: 'feasible', detail: 'no feasible path' });
    expect(pathReason(agentPath(2, { feasible: false }), a, false).step).to.equal('feasible');
  });

  it('agrees with comparePaths on every pair (property)', () => {
    const pathArb = fc
      .record({
        n: fc.integer({ min: 1, max: 4 }),
        bgp: fc.boolean(),
        ebgp: fc.boolean(),
        localPref: fc.constantFrom(100, 200),
        sequence: fc.constantFrom(0, 1),
        asPath: fc.constantFrom(seq(), seq(65001), seq(65001, 65002), seq(65003), [{ type: 'set' as const, asns: [65001, 65002] }]),
        origin: fc.constantFrom('igp' as const, 'incomplete' as const),
        med: fc.constantFrom(undefined, 10, 20),
        feasible: fc.boolean(),
        llgrStale: fc.boolean(),
      })
      .map(({ n, bgp, ebgp, ...attrs }) => (bgp ? bgpPath(n, attrs, bgpPeer(n, { isIbgp: !ebgp })) : agentPath(n, attrs)));
    const optionsArb = fc.record({ alwaysCompareMed: fc.boolean(), ignoreAsPath: fc.boolean() });
    fc.assert(
      fc.property(pathArb, pathArb, optionsArb, (a, b, options) => {
        const order = Math.sign(comparePaths(a, b, options));
        const decided = decidingStep(a, b, options);
        if (order === 0) expect(decided).to.equal(null);
        else expect(decided?.winner).to.equal(order < 0 ? 'a' : 'b');
      }),
      { numRuns: 500 },
    );
  });
});

describe('rib/rib: every path of a route view carries its reason', () => {
  it('best, ECMP members and losers in one VRF route', () => {
    const rib = new Rib();
    const name = 'default-domain:demo:svc-vn:svc-vn';
    rib.createInstance({ name, virtualNetwork: 'default-domain:demo:svc-vn', vnIndex: 5, importTargets: [], exportTargets: ['target:64512:5'] });
    for (const [n, attrs] of [[1, {}], [2, {}], [3, { localPref: 100 }], [4, { sequence: 0 }]] as const) {
      const p = agentPath(n, attrs);
      rib.addPath(name, { peer: p.peer, rd: p.rd, prefix: p.prefix, label: p.label, nextHop: p.nextHop, attrs: { localPref: 200, sequence: 1, ...attrs } });
    }
    const view = rib.route(instanceTableName(name), '30.30.30.100/32')!;
    expect(view.paths.map((p) => [p.peer.name, p.reason.step, p.reason.detail])).to.deep.equal([
      ['compute-1', 'best', 'best path'],
      ['compute-2', 'ecmp', 'ECMP: tie up to MED'],
      ['compute-4', 'sequence', '1 > 0'],
      ['compute-3', 'local-pref', '200 > 100'],
    ]);
  });
});
