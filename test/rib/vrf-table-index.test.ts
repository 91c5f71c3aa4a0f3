// How a VRF table finds its routes (../../src/rib/vrf-route-map.ts: /32s by address as an integer, other
// prefixes by text), how a peer's paths are listed for its removal (../../src/rib/peer-paths.ts: an
// append-only list, counted exactly, filtered lazily) and how a VRF route's changes are de-duplicated (a
// mark on the route): what queries, counts and change reports show must not depend on any of it.
import { expect } from 'chai';
import { Rib, VPN_TABLE, instanceTableName, type RouteChange } from '../../src/rib/rib.ts';
import { PrefixMap } from '../../src/net/prefix-map.ts';
import { agent, bgpPeer } from './path-builders.ts';

const VN = 'default-domain:demo:idx-vn:idx-vn';
const TABLE = instanceTableName(VN);
const RT = 'target:64512:8000123';

function rib(): Rib {
  const r = new Rib();
  r.createInstance({ name: VN, virtualNetwork: 'default-domain:demo:idx-vn', vnIndex: 12, importTargets: [RT], exportTargets: [RT] });
  return r;
}

function add(r: Rib, n: number, prefix: string, label = 16 + n): RouteChange[] {
  const peer = agent(n);
  return r.addPath(VN, { peer, rd: `${peer.address}:3`, prefix, label, nextHop: peer.address, attrs: { localPref: 200 } });
}

const hostPrefix = (i: number): string => `10.1.${(i >> 8) & 255}.${i & 255}/32`;

describe('net/prefix-map', () => {
  it('keeps /32s and other prefixes apart, each in the order stored, and counts both', () => {
    const map = new PrefixMap<string>();
    expect(map.set('10.0.0.2/32', 'a')).to.equal(true);
    expect(map.set('10.0.0.0/24', 'b')).to.equal(true);
    expect(map.set('10.0.0.1/32', 'c')).to.equal(true);
    expect(map.set('10.0.0.2/32', 'd')).to.equal(false);
    expect(map.size).to.equal(3);
    expect([...map.values()]).to.deep.equal(['d', 'c', 'b']);
    expect(map.get('10.0.0.2/32')).to.equal('d');
    expect(map.get('10.0.0.0/24')).to.equal('b');
    expect(map.get('10.0.0.3/32')).to.equal(undefined);
    expect(map.delete('10.0.0.0/24')).to.equal(true);
    expect(map.delete('10.0.0.0/24')).to.equal(false);
    expect(map.delete('10.0.0.2/32')).to.equal(true);
    expect([...map.values()]).to.deep.equal(['c']);
    expect(map.size).to.equal(1);
  });
});

describe('rib: VRF routes by prefix, host routes by address', () => {
  it('finds /32 and other prefixes alike, and lists every prefix once', () => {
    const r = rib();
    const prefixes = ['30.30.30.0/24', '30.30.30.7/32', '0.0.0.0/0', '30.30.30.8/32', '192.168.0.0/16'];
    for (const prefix of prefixes) add(r, 1, prefix);
    expect(r.prefixes(TABLE).sort()).to.deep.equal([...prefixes].sort());
    for (const prefix of prefixes) expect(r.route(TABLE, prefix)?.paths.map((p) => p.label)).to.deep.equal([17]);
    expect(r.instance(VN)?.routeCount).to.equal(prefixes.length);
    // Listing sorts by prefix, numerically, whatever order the table keeps.
    expect(r.routes(TABLE).map((route) => route.prefix)).to.deep.equal(['0.0.0.0/0', '30.30.30.0/24', '30.30.30.7/32', '30.30.30.8/32', '192.168.0.0/16']);
    for (const prefix of prefixes) r.removePath(VN, prefix, agent(1).name);
    expect(r.prefixes(TABLE)).to.deep.equal([]);
    expect(r.routes(VPN_TABLE)).to.deep.equal([]);
  });
});

describe('rib: a peer\'s paths listed for its removal', () => {
  it('counts stay exact and removal finds exactly what is stored after heavy churn', () => {
    const r = rib();
    // 300 routes in, then each replaced twice and two of three withdrawn: the list holds far more
    // entries than paths stored until it is filtered.
    for (let i = 0; i < 300; i++) add(r, 1, hostPrefix(i));
    for (let round = 0; round < 2; round++) for (let i = 0; i < 300; i++) add(r, 1, hostPrefix(i), 100 + round);
    for (let i = 0; i < 300; i++) if (i % 3 !== 0) r.removePath(VN, hostPrefix(i), agent(1).name);
    add(r, 2, hostPrefix(0));
    expect(r.peerPathCounts()).to.deep.equal([
      { peer: 'compute-1', primary: 100, secondary: 100, routeTargetMemberships: 0 },
      { peer: 'compute-2', primary: 1, secondary: 1, routeTargetMemberships: 0 },
    ]);
    const changes = r.removePeer(agent(1).name);
    // Each of its 100 VRF routes and their 100 bgp.l3vpn.0 copies, once each.
    expect(changes.filter((c) => c.table === TABLE)).to.have.length(100);
    expect(changes.filter((c) => c.table === VPN_TABLE)).to.have.length(100);
    expect(r.peerPathCounts()).to.deep.equal([{ peer: 'compute-2', primary: 1, secondary: 1, routeTargetMemberships: 0 }]);
    expect(r.prefixes(TABLE)).to.deep.equal([hostPrefix(0)]);
    expect(r.routes(VPN_TABLE)).to.have.length(1);
  });

  it('a peer whose every path went has no list left, and comes back counted from zero', () => {
    const r = rib();
    for (let i = 0; i < 100; i++) add(r, 1, hostPrefix(i));
    for (let i = 0; i < 100; i++) r.removePath(VN, hostPrefix(i), agent(1).name);
    expect(r.peerPathCounts()).to.deep.equal([]);
    add(r, 1, hostPrefix(5));
    expect(r.peerPathCounts()).to.deep.equal([{ peer: 'compute-1', primary: 1, secondary: 1, routeTargetMemberships: 0 }]);
    expect(r.removePeer(agent(1).name).map((c) => c.table)).to.deep.equal([TABLE, VPN_TABLE]);
  });
});

describe('rib: a VRF route\'s changes reported once per mutation', () => {
  it('a route changed several times in a batch is reported once', () => {
    const r = rib();
    const changes = r.batch(() => {
      add(r, 1, '30.30.30.9/32');
      add(r, 2, '30.30.30.9/32');
      add(r, 1, '30.30.30.9/32', 40);
    });
    expect(changes.filter((c) => c.table === TABLE)).to.deep.equal([{ table: TABLE, instance: VN, prefix: '30.30.30.9/32' }]);
  });

  it('a route that leaves its table and comes back within one batch is reported once', () => {
    // A imports its own target and B's; its route for P holds only a copy of a BGP path. In one batch the
    // BGP path goes and an agent publishes P in B: replication empties A's route (it leaves the table),
    // then copies B's path into A under P as a new route, a round later.
    const r = new Rib();
    const RT_A = 'target:64512:8000201';
    const RT_B = 'target:64512:8000202';
    r.createInstance({ name: 'a', virtualNetwork: 'vn-a', vnIndex: 21, importTargets: [RT_A, RT_B], exportTargets: [RT_A] });
    r.createInstance({ name: 'b', virtualNetwork: 'vn-b', vnIndex: 22, importTargets: [RT_B], exportTargets: [RT_B] });
    const P = '30.30.40.9/32';
    const gw = bgpPeer(1);
    r.addVpnPath({ peer: gw, rd: `${gw.address}:1`, prefix: P, label: 101, nextHop: gw.address, attrs: { localPref: 100, routeTargets: [RT_A] } });
    expect(r.route(instanceTableName('a'), P)?.paths.map((p) => p.peer.name)).to.deep.equal([gw.name]);
    const changes = r.batch(() => {
      r.removeVpnPath(`${gw.address}:1`, P, gw.name);
      const peer = agent(2);
      r.addPath('b', { peer, rd: `${peer.address}:3`, prefix: P, label: 18, nextHop: peer.address, attrs: { localPref: 200 } });
    });
    expect(changes.filter((c) => c.table === instanceTableName('a'))).to.deep.equal([{ table: instanceTableName('a'), instance: 'a', prefix: P }]);
    expect(changes.filter((c) => c.table === instanceTableName('b'))).to.deep.equal([{ table: instanceTableName('b'), instance: 'b', prefix: P }]);
    expect(r.route(instanceTableName('a'), P)?.paths.map((p) => p.peer.name)).to.deep.equal(['compute-2']);
  });
});
