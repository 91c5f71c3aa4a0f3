import { expect } from 'chai';
import { medForXmppPath } from '../../src/rib/path.ts';
import { comparePaths, compareUpToMed, isEcmpEqual } from '../../src/rib/path-selection.ts';
import { agentPath, bgpPath, bgpPeer, seq } from './path-builders.ts';
import type { Path } from '../../src/rib/path.ts';

interface Row {
  step: string;
  winner: Path;
  loser: Path;
  options?: { alwaysCompareMed?: boolean; ignoreAsPath?: boolean };
}

// Each row differs in exactly the attribute its step looks at; everything earlier ties.
const decidedUpToMed: Row[] = [
  { step: '1 feasible first', winner: agentPath(2, { feasible: true, localPref: 100 }), loser: agentPath(1, { feasible: false, localPref: 200 }) },
  { step: '2 higher local-pref', winner: agentPath(2, { localPref: 200 }), loser: agentPath(1, { localPref: 100, sequence: 9 }) },
  { step: '4 sticky first', winner: agentPath(2, { sticky: true }), loser: agentPath(1, { sequence: 5 }) },
  { step: '5 higher sequence', winner: agentPath(2, { sequence: 3 }), loser: agentPath(1, { sequence: 2 }) },
  { step: '6 non-LLGR-stale first', winner: agentPath(2), loser: agentPath(1, { llgrStale: true }) },
  { step: '7 shorter AS path', winner: bgpPath(2, { asPath: seq(65001) }), loser: bgpPath(1, { asPath: seq(65001, 65002), origin: 'igp' }) },
  { step: '8 lower origin', winner: bgpPath(2, { origin: 'igp' }), loser: bgpPath(1, { origin: 'egp' }) },
  { step: '8 egp before incomplete', winner: bgpPath(2, { origin: 'egp' }), loser: bgpPath(1, { origin: 'incomplete' }) },
  {
    step: '9 lower MED, same non-zero neighbour AS',
    winner: bgpPath(2, { asPath: seq(65001), med: 10 }),
    loser: bgpPath(1, { asPath: seq(65001), med: 20 }),
  },
  {
    step: '9 lower MED under always-compare-med',
    winner: agentPath(2, { med: 100 }),
    loser: agentPath(1, { med: 200 }),
    options: { alwaysCompareMed: true },
  },
];

describe('rib/path-selection: PathCompare steps (docs/protocol.md §6.4)', () => {
  for (const row of decidedUpToMed) {
    it(`step ${row.step}: decides the best path and breaks ECMP equality`, () => {
      expect(compareUpToMed(row.winner, row.loser, row.options)).to.be.lessThan(0);
      expect(compareUpToMed(row.loser, row.winner, row.options)).to.be.greaterThan(0);
      expect(comparePaths(row.winner, row.loser, row.options)).to.be.lessThan(0);
      expect(isEcmpEqual(row.winner, row.loser, row.options)).to.equal(false);
    });
  }

  it('does not compare MED between XMPP paths (no neighbour AS): they stay ECMP-equal', () => {
    const a = agentPath(1, { med: 100 });
    const b = agentPath(2, { med: 200 });
    expect(isEcmpEqual(a, b)).to.equal(true);
  });

  it('does not compare MED between paths from different neighbour ASes', () => {
    expect(isEcmpEqual(bgpPath(1, { asPath: seq(65001), med: 10 }), bgpPath(2, { asPath: seq(65002), med: 20 }))).to.equal(true);
  });

  it('does not compare MED between iBGP paths with an empty AS path', () => {
    expect(isEcmpEqual(bgpPath(1, { med: 10 }), bgpPath(2, { med: 20 }))).to.equal(true);
  });

  it('skips the AS-path length step under ignore-aspath', () => {
    const a = bgpPath(1, { asPath: seq(65001) });
    const b = bgpPath(2, { asPath: seq(65001, 65002) });
    expect(isEcmpEqual(a, b, { ignoreAsPath: true })).to.equal(true);
    expect(isEcmpEqual(a, b)).to.equal(false);
  });

  it('keeps paths that differ in label, RD, encaps and next hop ECMP-equal (the native LB case)', () => {
    const a = agentPath(1, { encapsulations: ['gre'] });
    const b = agentPath(2, { encapsulations: ['udp'], med: 5 });
    expect(isEcmpEqual(a, b)).to.equal(true);
  });
});

describe('rib/path-selection: tie-breaks after MED (best path only)', () => {
  const rows: Array<{ breaker: string; winner: Path; loser: Path }> = [
    { breaker: 'XMPP over BGP', winner: agentPath(9, { localPref: 100, origin: 'igp', encapsulations: ['gre'] }), loser: bgpPath(1) },
    { breaker: 'eBGP over iBGP', winner: bgpPath(2, {}, bgpPeer(2, { isIbgp: false })), loser: bgpPath(1) },
    { breaker: 'lower router id', winner: bgpPath(2, {}, bgpPeer(2, { routerId: '10.0.0.1' })), loser: bgpPath(1, {}, bgpPeer(1, { routerId: '10.0.0.2' })) },
    { breaker: 'originator id before router id', winner: bgpPath(2, { originatorId: '1.1.1.1' }), loser: bgpPath(1) },
    { breaker: 'shorter cluster list', winner: bgpPath(2, { originatorId: '1.1.1.1' }), loser: bgpPath(1, { originatorId: '1.1.1.1', clusterList: ['2.2.2.2'] }) },
    { breaker: 'lower peer address (numeric, not text)', winner: agentPath(9), loser: agentPath(10) },
  ];
  for (const row of rows) {
    it(`${row.breaker}: decides the best path without breaking ECMP equality`, () => {
      expect(isEcmpEqual(row.winner, row.loser)).to.equal(true);
      expect(comparePaths(row.winner, row.loser)).to.be.lessThan(0);
      expect(comparePaths(row.loser, row.winner)).to.be.greaterThan(0);
    });
  }
});

describe('rib/path: the MED rule at XMPP ingest (docs/protocol.md §6.2)', () => {
  const rows: Array<[med: number, lp: number, expected: number | undefined]> = [
    [0, 100, 200],
    [0, 200, 100],
    [0, 0, undefined],
    [0, 150, 4294967295 - 150],
    [0, 1, 4294967294],
    [7, 100, 7],
    [7, 0, 7],
  ];
  for (const [med, lp, expected] of rows) {
    it(`med ${med}, local-pref ${lp} → ${String(expected)}`, () => {
      expect(medForXmppPath(med, lp)).to.equal(expected);
    });
  }
});
