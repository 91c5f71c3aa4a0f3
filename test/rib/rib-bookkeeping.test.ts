// The RIB's internal indexes (paths per peer, VPN routes per route target, interned target sets, shared
// empty collections) must always agree with what the tables hold, whatever order changes come in.
import { expect } from 'chai';
import fc from 'fast-check';
import { Rib, RibError, VPN_TABLE, instanceTableName } from '../../src/rib/index.ts';
import type { PathInput } from '../../src/rib/index.ts';
import { agent, bgpPeer } from './path-builders.ts';

const RT_A = 'target:64512:8000001';
const RT_B = 'target:64512:8000002';

function newRib(): Rib {
  const rib = new Rib();
  rib.createInstance({ name: 'd:p:a:a', virtualNetwork: 'd:p:a', vnIndex: 1, importTargets: [RT_A], exportTargets: [RT_A] });
  rib.createInstance({ name: 'd:p:b:b', virtualNetwork: 'd:p:b', vnIndex: 2, importTargets: [RT_A, RT_B], exportTargets: [RT_B] });
  return rib;
}

function xmppPath(n: number, prefix: string, localPref: number): PathInput {
  const peer = agent(n);
  return { peer, rd: `${peer.address}:3`, prefix, label: 16 + n, nextHop: peer.address, attrs: { localPref, encapsulations: ['gre'] } };
}

function vpnPath(n: number, prefix: string, targets: string[]): PathInput {
  const peer = bgpPeer(n);
  return { peer, rd: `${peer.address}:1`, prefix, label: 100 + n, nextHop: peer.address, attrs: { localPref: 100, routeTargets: targets } };
}

/** Path counts per peer recomputed from the table views: what peerPathCounts must report. */
function countedFromTables(rib: Rib): { peer: string; primary: number; secondary: number }[] {
  const counts = new Map<string, { primary: number; secondary: number }>();
  for (const table of rib.tableNames().filter((t) => t !== 'bgp.rtarget.0')) {
    for (const route of rib.routes(table)) {
      for (const path of route.paths) {
        const c = counts.get(path.peer.name) ?? { primary: 0, secondary: 0 };
        if (path.replicatedFrom === undefined) c.primary++;
        else c.secondary++;
        counts.set(path.peer.name, c);
      }
    }
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([peer, c]) => ({ peer, ...c }));
}

const PREFIXES = ['30.30.30.1/32', '30.30.30.2/32', '30.30.30.3/32'];

type Op =
  | { kind: 'add'; agent: number; prefix: number; localPref: number; instance: 0 | 1 }
  | { kind: 'remove'; agent: number; prefix: number; instance: 0 | 1 }
  | { kind: 'vpn'; peer: number; prefix: number; targets: 0 | 1 | 2 }
  | { kind: 'unvpn'; peer: number; prefix: number }
  | { kind: 'removePeer'; agent: number }
  | { kind: 'exports'; instance: 0 | 1; target: 0 | 1 };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), agent: fc.integer({ min: 1, max: 3 }), prefix: fc.integer({ min: 0, max: 2 }), localPref: fc.constantFrom(100, 200), instance: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant('remove' as const), agent: fc.integer({ min: 1, max: 3 }), prefix: fc.integer({ min: 0, max: 2 }), instance: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant('vpn' as const), peer: fc.integer({ min: 1, max: 2 }), prefix: fc.integer({ min: 0, max: 2 }), targets: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
  fc.record({ kind: fc.constant('unvpn' as const), peer: fc.integer({ min: 1, max: 2 }), prefix: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('removePeer' as const), agent: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('exports' as const), instance: fc.constantFrom(0 as const, 1 as const), target: fc.constantFrom(0 as const, 1 as const) }),
);

function apply(rib: Rib, o: Op): void {
  const instances = ['d:p:a:a', 'd:p:b:b'];
  const targetSets = [[RT_A], [RT_B], [RT_A, RT_B]];
  switch (o.kind) {
    case 'add':
      rib.addPath(instances[o.instance], xmppPath(o.agent, PREFIXES[o.prefix], o.localPref));
      return;
    case 'remove':
      rib.removePath(instances[o.instance], PREFIXES[o.prefix], agent(o.agent).name);
      return;
    case 'vpn':
      rib.addVpnPath(vpnPath(o.peer, PREFIXES[o.prefix], targetSets[o.targets]));
      return;
    case 'unvpn':
      rib.removeVpnPath(`${bgpPeer(o.peer).address}:1`, PREFIXES[o.prefix], bgpPeer(o.peer).name);
      return;
    case 'removePeer':
      rib.removePeer(agent(o.agent).name);
      return;
    case 'exports':
      rib.setInstanceTargets(instances[o.instance], { exportTargets: [[RT_A, RT_B][o.target]] });
      return;
  }
}

describe('rib/rib: internal bookkeeping', () => {
  it('peerPathCounts always matches the paths the tables hold, for any sequence of changes', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const rib = newRib();
        for (const o of ops) apply(rib, o);
        const reported = rib.peerPathCounts().map(({ peer, primary, secondary }) => ({ peer, primary, secondary }));
        expect(reported).to.deep.equal(countedFromTables(rib));
      }),
      { numRuns: 300 },
    );
  });

  it('a VPN path whose targets change is imported by exactly the VRFs importing the new targets', () => {
    const rib = newRib();
    rib.addVpnPath(vpnPath(1, PREFIXES[0], [RT_B]));
    expect(rib.route(instanceTableName('d:p:a:a'), PREFIXES[0])).to.equal(undefined);
    expect(rib.route(instanceTableName('d:p:b:b'), PREFIXES[0])?.paths).to.have.length(1);
    rib.addVpnPath(vpnPath(1, PREFIXES[0], [RT_A]));
    expect(rib.route(instanceTableName('d:p:a:a'), PREFIXES[0])?.paths).to.have.length(1);
    expect(rib.route(instanceTableName('d:p:b:b'), PREFIXES[0])?.paths).to.have.length(1);
    // A later VRF importing the first target finds the route through the target index.
    rib.createInstance({ name: 'd:p:c:c', virtualNetwork: 'd:p:c', vnIndex: 3, importTargets: [RT_B], exportTargets: [RT_B] });
    expect(rib.route(instanceTableName('d:p:c:c'), PREFIXES[0])).to.equal(undefined);
    rib.setInstanceTargets('d:p:c:c', { importTargets: [RT_A] });
    expect(rib.route(instanceTableName('d:p:c:c'), PREFIXES[0])?.paths[0].replicatedFrom).to.equal(VPN_TABLE);
  });

  it('replacing a path with a changed one keeps one entry per peer, and removing it leaves none', () => {
    const rib = newRib();
    rib.addPath('d:p:a:a', xmppPath(1, PREFIXES[0], 100));
    rib.addPath('d:p:a:a', xmppPath(1, PREFIXES[0], 200));
    // Primary in a, its VPN copy, and the import into b (which imports RT_A).
    expect(rib.peerPathCounts()).to.deep.equal([{ peer: 'compute-1', primary: 1, secondary: 2, routeTargetMemberships: 0 }]);
    rib.removePath('d:p:a:a', PREFIXES[0], 'compute-1');
    expect(rib.peerPathCounts()).to.deep.equal([]);
    expect(rib.routes(VPN_TABLE)).to.deep.equal([]);
  });

  it('lists the prefixes of a VRF table, and refuses the VPN table and unknown tables', () => {
    const rib = newRib();
    rib.addPath('d:p:a:a', xmppPath(1, PREFIXES[1], 100));
    rib.addPath('d:p:a:a', xmppPath(2, PREFIXES[0], 100));
    expect(rib.prefixes(instanceTableName('d:p:a:a')).sort()).to.deep.equal([PREFIXES[0], PREFIXES[1]]);
    expect(rib.prefixes(instanceTableName('d:p:b:b')).sort()).to.deep.equal([PREFIXES[0], PREFIXES[1]]);
    expect(() => rib.prefixes(VPN_TABLE)).to.throw(RibError);
    expect(() => rib.prefixes('nope.inet.0')).to.throw(RibError);
  });
});
