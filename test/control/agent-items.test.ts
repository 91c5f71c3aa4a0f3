import { expect } from 'chai';
import fc from 'fast-check';
import { agentRouteItem, isDuplicateNextHop } from '../../src/control/agent-items.ts';
import { comparePaths, makePath, multipathSet, type Path } from '../../src/rib/index.ts';
import { agent, agentPath, bgpPath, bgpPeer } from '../rib/path-builders.ts';

function sorted(paths: Path[]): Path[] {
  return [...paths].sort((a, b) => comparePaths(a, b));
}

/** The multipath set of `paths`, as the RIB hands it to agentRouteItem. */
function ecmp(paths: Path[]): Path[] {
  return multipathSet(sorted(paths));
}

/** The same path as agentPath(n), learned back over iBGP from another control node. */
function learnedBack(n: number, attrs: Partial<Path['attrs']> = {}): Path {
  const own = agentPath(n, { vnIndex: 5, ...attrs });
  return makePath({
    peer: bgpPeer(1, { name: 'control-2' }),
    rd: own.rd,
    prefix: own.prefix,
    label: own.label,
    nextHop: own.nextHop,
    attrs: { ...own.attrs, encapsulations: [...own.attrs.encapsulations].reverse() },
  });
}

describe('control/agent-items: the <item> an agent gets (docs/protocol.md §6.5)', () => {
  it('is the best path then every following ECMP-equal path', () => {
    const paths = sorted([agentPath(3), agentPath(1, { localPref: 100 }), agentPath(2)]);
    expect(multipathSet(paths).map((p) => p.peer.name)).to.deep.equal(['compute-2', 'compute-3']);
  });

  it('is empty when the best path is infeasible', () => {
    expect(multipathSet(sorted([agentPath(1, { feasible: false })]))).to.deep.equal([]);
    expect(agentRouteItem('30.30.30.100/32', ecmp([agentPath(1, { feasible: false })]))).to.equal(null);
    expect(agentRouteItem('30.30.30.100/32', [])).to.equal(null);
  });

  it('leaves out a member whose sequence number is lower', () => {
    const item = agentRouteItem('30.30.30.100/32', ecmp([agentPath(1, { sequence: 1 }), agentPath(2, { sequence: 2 })]));
    expect(item?.nextHops.map((nh) => nh.address)).to.deep.equal(['127.0.20.2']);
  });
});

describe('control/agent-items: duplicate rule (docs/protocol.md §6.5)', () => {
  it("collapses an agent's own XMPP path and the same path learned back over iBGP into one next hop", () => {
    const own = agentPath(1, { vnIndex: 5 });
    const back = learnedBack(1);
    const item = agentRouteItem(own.prefix, ecmp([back, own, agentPath(2, { vnIndex: 5 })]));
    expect(item?.nextHops.map((nh) => [nh.address, nh.label])).to.deep.equal([
      ['127.0.20.1', 17],
      ['127.0.20.2', 18],
    ]);
  });

  const differing: Array<[string, Partial<Path['attrs']> | { label: number } | { nextHop: string }]> = [
    ['mac', { mac: '52:54:00:00:00:0b' }],
    ['origin-VN index', { vnIndex: 6 }],
    ['encap list', { encapsulations: ['gre'] }],
    ['tag list', { tags: [7] }],
  ];
  for (const [field, change] of differing) {
    it(`keeps both next hops when only the ${field} differs`, () => {
      const own = agentPath(1, { vnIndex: 5 });
      const other = learnedBack(1, change as Partial<Path['attrs']>);
      expect(isDuplicateNextHop(own, other)).to.equal(false);
      expect(agentRouteItem(own.prefix, ecmp([own, other]))?.nextHops).to.have.length(2);
    });
  }

  it('keeps both next hops when only the label or the address differs', () => {
    const own = agentPath(1, { vnIndex: 5 });
    const back = learnedBack(1);
    expect(isDuplicateNextHop(own, { ...back, label: 99 })).to.equal(false);
    expect(isDuplicateNextHop(own, { ...back, nextHop: '127.0.20.99' })).to.equal(false);
    expect(isDuplicateNextHop(own, back)).to.equal(true);
  });
});

describe('control/agent-items: the <item> content (docs/protocol.md §4.1, §5)', () => {
  it('takes entry attributes from the best path and next-hop fields from each path', () => {
    const best = agentPath(1, {
      sequence: 4,
      med: 100,
      securityGroups: [8000002],
      communities: ['64512:100'],
      virtualNetwork: 'default-domain:demo:svc-vn',
      tags: [3],
      mac: '52:54:00:00:00:0b',
    });
    const second = agentPath(2, { sequence: 4, med: 300, securityGroups: [8000009], tags: [4] });
    const item = agentRouteItem(best.prefix, ecmp([second, best]), (index) => (index === 0 ? undefined : 'x'));
    expect(item).to.deep.equal({
      prefix: '30.30.30.100/32',
      nextHops: [
        { address: '127.0.20.1', mac: '', label: 17, encapsulations: ['gre', 'udp'], virtualNetwork: 'default-domain:demo:svc-vn', tags: [3] },
        { address: '127.0.20.2', mac: '', label: 18, encapsulations: ['gre', 'udp'], virtualNetwork: 'unresolved', tags: [4] },
      ],
      virtualNetwork: 'default-domain:demo:svc-vn',
      mobility: { seqno: 4, sticky: false },
      sequenceNumber: 4,
      securityGroups: [8000002],
      communities: ['64512:100'],
      localPreference: 200,
      med: 100,
      loadBalance: undefined,
    });
  });

  it("names a path's origin VN from its index when the path carries no name", () => {
    const item = agentRouteItem('30.30.30.100/32', [bgpPath(1, { vnIndex: 5 })], (index) => (index === 5 ? 'default-domain:demo:svc-vn' : undefined));
    expect(item?.nextHops[0].virtualNetwork).to.equal('default-domain:demo:svc-vn');
  });

  it("defaults the encap list to gre for a labelled path without one", () => {
    const item = agentRouteItem('30.30.30.100/32', [bgpPath(1, { encapsulations: [] })]);
    expect(item?.nextHops[0].encapsulations).to.deep.equal(['gre']);
  });
});

describe('control/agent-items: property', () => {
  // Paths drawn from a small attribute space so that ties, duplicates and non-ECMP paths all occur.
  const pathArb = fc
    .record({
      n: fc.integer({ min: 1, max: 6 }),
      // A second RD from the same peer ties on everything up to the RD tie-break.
      rdNumber: fc.constantFrom(3, 4),
      learnedBack: fc.boolean(),
      localPref: fc.constantFrom(100, 200),
      sequence: fc.constantFrom(0, 1),
      encapsulations: fc.constantFrom(['gre', 'udp'], ['udp', 'gre'], ['gre']),
      feasible: fc.boolean(),
    })
    .map(({ n, rdNumber, learnedBack: back, ...attrs }) => {
      const own = agentPath(n, { ...attrs, vnIndex: 5 });
      const peer = back ? bgpPeer(n, { name: `control-${n}` }) : agent(n);
      return { ...own, peer, rd: `${own.nextHop}:${rdNumber}` };
    });
  const uniquePaths = fc.uniqueArray(pathArb, { selector: (p) => `${p.peer.name}|${p.rd}`, maxLength: 10 });

  it('the next-hop list does not depend on the order paths were inserted', () => {
    fc.assert(
      fc.property(uniquePaths, fc.infiniteStream(fc.nat()), (paths, randoms) => {
        const shuffled = [...paths];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = randoms.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        expect(agentRouteItem('30.30.30.100/32', ecmp(shuffled))).to.deep.equal(agentRouteItem('30.30.30.100/32', ecmp(paths)));
      }),
      { numRuns: 300 },
    );
  });
});
