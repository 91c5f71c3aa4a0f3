import { expect } from 'chai';
import { Rib, VPN_TABLE, RTARGET_TABLE, instanceTableName, type RouteChange } from '../../src/rib/rib.ts';
import { RibError } from '../../src/rib/route-syntax.ts';
import type { PathInput, PeerRef } from '../../src/rib/path.ts';
import { agent, bgpPeer } from './path-builders.ts';

const SVC = 'default-domain:demo:svc-vn:svc-vn';
const CLIENT = 'default-domain:demo:client-vn:client-vn';
const SVC_RT = 'target:64512:8000001';
const CLIENT_RT = 'target:64512:8000002';
const VIP = '30.30.30.100/32';

function svcInstance(extra: { importTargets?: string[]; exportTargets?: string[] } = {}) {
  return { name: SVC, virtualNetwork: 'default-domain:demo:svc-vn', vnIndex: 5, importTargets: [SVC_RT], exportTargets: [SVC_RT], ...extra };
}

function clientInstance(extra: { importTargets?: string[]; exportTargets?: string[] } = {}) {
  return { name: CLIENT, virtualNetwork: 'default-domain:demo:client-vn', vnIndex: 6, importTargets: [CLIENT_RT, SVC_RT], exportTargets: [CLIENT_RT], ...extra };
}

/** What agent n publishes for `prefix` in an instance where its local VRF index is 3. */
function published(n: number, prefix = VIP, attrs: PathInput['attrs'] = {}): PathInput {
  const peer = agent(n);
  return { peer, rd: `${peer.address}:3`, prefix, label: 16 + n, nextHop: peer.address, attrs: { localPref: 200, med: 100, encapsulations: ['gre', 'udp'], ...attrs } };
}

function vpnPath(peer: PeerRef, rd: string, routeTargets: string[], prefix = VIP): PathInput {
  return { peer, rd, prefix, label: 500, nextHop: peer.address, attrs: { localPref: 100, routeTargets, encapsulations: ['gre'], vnIndex: 5 } };
}

/** The next hops of the route's multipath set: what an agent's <item> is built from. */
function nextHops(rib: Rib, instance: string, prefix = VIP): string[] {
  return rib.multipathPaths(instanceTableName(instance), prefix).map((p) => `${p.nextHop}/${p.label}`);
}

/** The best path's next hop, label and origin VN (by name, or by index through the RIB's instances). */
function bestHop(rib: Rib, instance: string, prefix = VIP): { address: string; label: number; virtualNetwork: string | undefined } | undefined {
  const best = rib.multipathPaths(instanceTableName(instance), prefix)[0];
  if (best === undefined) return undefined;
  return { address: best.nextHop, label: best.label, virtualNetwork: best.attrs.virtualNetwork || rib.virtualNetworkName(best.attrs.vnIndex) };
}

function keys(changes: readonly RouteChange[]): string[] {
  return changes.map((c) => `${c.table} ${c.rd ?? '-'} ${c.prefix}`).sort();
}

describe('rib/rib: VRF → bgp.l3vpn.0 → importing VRFs (docs/protocol.md §6.1)', () => {
  it("copies an agent's path into bgp.l3vpn.0 with the VRF's export targets and VN index", () => {
    const rib = new Rib();
    rib.createInstance(svcInstance({ exportTargets: [SVC_RT, 'target:64512:9'] }));
    rib.addPath(SVC, published(1, VIP, { vnIndex: 99, virtualNetwork: 'what-the-agent-says' }));
    const vpn = rib.route(VPN_TABLE, VIP, '127.0.20.1:3');
    expect(vpn?.paths).to.have.length(1);
    const [path] = vpn!.paths;
    expect(path).to.include({ rd: '127.0.20.1:3', label: 17, nextHop: '127.0.20.1', replicatedFrom: instanceTableName(SVC) });
    expect(path.peer.name).to.equal('compute-1');
    expect(path.attrs.routeTargets).to.deep.equal([SVC_RT, 'target:64512:9']);
    expect(path.attrs.vnIndex).to.equal(5);
    expect(path.attrs.virtualNetwork).to.equal('default-domain:demo:svc-vn');
  });

  it('imports the copy into every other VRF importing one of its targets, not back into the source', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    rib.createInstance({ name: 'other:other', virtualNetwork: 'other', vnIndex: 7, importTargets: ['target:64512:77'], exportTargets: [] });
    rib.addPath(SVC, published(1));
    expect(rib.route(instanceTableName(SVC), VIP)?.paths.map((p) => p.replicatedFrom)).to.deep.equal([undefined]);
    const client = rib.route(instanceTableName(CLIENT), VIP);
    expect(client?.paths.map((p) => [p.peer.name, p.replicatedFrom])).to.deep.equal([['compute-1', VPN_TABLE]]);
    expect(rib.route(instanceTableName('other:other'), VIP)).to.equal(undefined);
    expect(bestHop(rib, CLIENT)).to.include({ address: '127.0.20.1', label: 17, virtualNetwork: 'default-domain:demo:svc-vn' });
  });

  it('secondary paths follow their primary through change and delete', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    rib.addPath(SVC, published(1));
    rib.addPath(SVC, { ...published(1), label: 40 });
    expect(rib.route(VPN_TABLE, VIP, '127.0.20.1:3')?.paths[0].label).to.equal(40);
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/40']);
    rib.removePath(SVC, VIP, 'compute-1');
    expect(rib.route(instanceTableName(SVC), VIP)).to.equal(undefined);
    expect(rib.route(VPN_TABLE, VIP, '127.0.20.1:3')).to.equal(undefined);
    expect(rib.route(instanceTableName(CLIENT), VIP)).to.equal(undefined);
    expect(rib.multipathPaths(instanceTableName(CLIENT), VIP)).to.deep.equal([]);
    expect(rib.routes(VPN_TABLE)).to.deep.equal([]);
  });

  it('replicates only ECMP-eligible primaries and re-exports a path when it becomes eligible', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    rib.addPath(SVC, published(1));
    rib.addPath(SVC, published(2, VIP, { localPref: 100 }));
    expect(rib.route(VPN_TABLE, VIP, '127.0.20.2:3')).to.equal(undefined);
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17']);
    rib.addPath(SVC, published(2, VIP, { localPref: 200 }));
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17', '127.0.20.2/18']);
    expect(nextHops(rib, SVC)).to.deep.equal(['127.0.20.1/17', '127.0.20.2/18']);
  });

  it("imports a BGP peer's VPN path into every VRF importing its targets and withdraws it again", () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    const gw = bgpPeer(1);
    rib.addVpnPath(vpnPath(gw, '127.0.30.1:1', [SVC_RT]));
    expect(rib.route(instanceTableName(SVC), VIP)?.paths.map((p) => p.peer.name)).to.deep.equal(['gw-1']);
    expect(rib.route(instanceTableName(CLIENT), VIP)?.paths.map((p) => p.peer.name)).to.deep.equal(['gw-1']);
    expect(bestHop(rib, SVC)).to.include({ address: '127.0.30.1', label: 500, virtualNetwork: 'default-domain:demo:svc-vn' });
    rib.removeVpnPath('127.0.30.1:1', VIP, 'gw-1');
    expect(rib.route(instanceTableName(SVC), VIP)).to.equal(undefined);
    expect(rib.route(instanceTableName(CLIENT), VIP)).to.equal(undefined);
  });

  it('keeps several RDs of the same prefix from one BGP peer as distinct VPN routes and VRF paths', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    const gw = bgpPeer(1);
    rib.addVpnPath(vpnPath(gw, '127.0.20.1:3', [SVC_RT]));
    rib.addVpnPath({ ...vpnPath(gw, '127.0.20.2:3', [SVC_RT]), nextHop: '127.0.20.2', label: 501 });
    expect(rib.routes(VPN_TABLE).map((r) => r.rd)).to.deep.equal(['127.0.20.1:3', '127.0.20.2:3']);
    // Same peer: the RD breaks the tie, so the order is fixed.
    expect(nextHops(rib, SVC)).to.deep.equal(['127.0.30.1/500', '127.0.20.2/501']);
  });

  it("keeps an agent's path and the same path learned back over iBGP both in the ECMP set (the agent's <item> collapses them: test/control/agent-items)", () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.addPath(SVC, published(1));
    const own = rib.route(VPN_TABLE, VIP, '127.0.20.1:3')!.paths[0];
    const control2 = bgpPeer(2, { name: 'control-2' });
    rib.addVpnPath({
      peer: control2,
      rd: own.rd,
      prefix: VIP,
      label: own.label,
      nextHop: own.nextHop,
      attrs: { localPref: 200, med: 100, routeTargets: [SVC_RT], vnIndex: 5, encapsulations: ['udp', 'gre'] },
    });
    expect(rib.route(instanceTableName(SVC), VIP)?.paths.map((p) => [p.peer.name, p.multipath])).to.deep.equal([
      ['compute-1', true],
      ['control-2', true],
    ]);
    expect(nextHops(rib, SVC)).to.deep.equal(['127.0.20.1/17', '127.0.20.1/17']);
  });
});

describe('rib/rib: route-target import when VRFs come and go', () => {
  it('imports existing VPN routes into a VRF created later', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.addPath(SVC, published(1));
    rib.addPath(SVC, published(2));
    rib.addVpnPath(vpnPath(bgpPeer(1), '127.0.30.1:1', [SVC_RT], '40.0.0.0/24'));
    const changes = rib.createInstance(clientInstance());
    expect(keys(changes)).to.deep.equal([`${instanceTableName(CLIENT)} - ${VIP}`, `${instanceTableName(CLIENT)} - 40.0.0.0/24`].sort());
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17', '127.0.20.2/18']);
  });

  it('imports on an added import target and withdraws on a removed one', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance({ importTargets: [CLIENT_RT] }));
    rib.addPath(SVC, published(1));
    expect(rib.route(instanceTableName(CLIENT), VIP)).to.equal(undefined);
    rib.setInstanceTargets(CLIENT, { importTargets: [CLIENT_RT, SVC_RT] });
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17']);
    rib.setInstanceTargets(CLIENT, { importTargets: [CLIENT_RT] });
    expect(rib.route(instanceTableName(CLIENT), VIP)).to.equal(undefined);
  });

  it('re-exports with new targets when export targets change', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance({ exportTargets: ['target:64512:1'] }));
    rib.createInstance(clientInstance());
    rib.addPath(SVC, published(1));
    expect(rib.route(instanceTableName(CLIENT), VIP)).to.equal(undefined);
    rib.setInstanceTargets(SVC, { exportTargets: [SVC_RT] });
    expect(rib.route(VPN_TABLE, VIP, '127.0.20.1:3')?.paths[0].attrs.routeTargets).to.deep.equal([SVC_RT]);
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17']);
  });

  it('deleting a VRF removes its paths, their copies and the copies imported into it', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance({ exportTargets: [SVC_RT] }));
    rib.addPath(SVC, published(1));
    rib.addPath(CLIENT, published(2, '40.0.0.2/32'));
    rib.deleteInstance(CLIENT);
    expect(rib.instances().map((i) => i.name)).to.deep.equal([SVC]);
    expect(rib.tableNames()).to.not.include(instanceTableName(CLIENT));
    expect(rib.routes(VPN_TABLE).map((r) => r.prefix)).to.deep.equal([VIP]);
    expect(rib.route(instanceTableName(SVC), '40.0.0.2/32')).to.equal(undefined);
    expect(rib.peerPathCounts()).to.deep.equal([{ peer: 'compute-1', primary: 1, secondary: 1, routeTargetMemberships: 0 }]);
    expect(rib.multipathPaths(instanceTableName(CLIENT), '40.0.0.2/32')).to.deep.equal([]);
    rib.createInstance(clientInstance());
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.1/17']);
  });
});

describe('rib/rib: bulk removal by peer', () => {
  it('removes every path of an agent at once and leaves the others', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    for (const n of [1, 2]) {
      rib.addPath(SVC, published(n));
      rib.addPath(SVC, published(n, `30.30.30.${10 + n}/32`));
    }
    rib.addRouteTargetMembership(agent(1), 64512, SVC_RT);
    const changes = rib.removePeer('compute-1');
    expect(nextHops(rib, SVC)).to.deep.equal(['127.0.20.2/18']);
    expect(nextHops(rib, CLIENT)).to.deep.equal(['127.0.20.2/18']);
    expect(rib.multipathPaths(instanceTableName(SVC), '30.30.30.11/32')).to.deep.equal([]);
    expect(rib.multipathPaths(instanceTableName(CLIENT), '30.30.30.11/32')).to.deep.equal([]);
    expect(rib.peerPathCounts().map((c) => c.peer)).to.deep.equal(['compute-2']);
    expect(keys(changes)).to.deep.equal(
      [
        `${instanceTableName(SVC)} - ${VIP}`,
        `${instanceTableName(SVC)} - 30.30.30.11/32`,
        `${instanceTableName(CLIENT)} - ${VIP}`,
        `${instanceTableName(CLIENT)} - 30.30.30.11/32`,
        `${VPN_TABLE} 127.0.20.1:3 ${VIP}`,
        `${VPN_TABLE} 127.0.20.1:3 30.30.30.11/32`,
        `${RTARGET_TABLE} - 64512:${SVC_RT}`,
      ].sort(),
    );
  });

  it("removes a BGP peer's VPN paths and their imports", () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.addPath(SVC, published(1));
    rib.addVpnPath(vpnPath(bgpPeer(1), '127.0.30.1:1', [SVC_RT], '40.0.0.0/24'));
    rib.addVpnPath(vpnPath(bgpPeer(1), '127.0.30.1:2', [SVC_RT], '40.0.1.0/24'));
    rib.removePeer('gw-1');
    expect(rib.routes(instanceTableName(SVC)).map((r) => r.prefix)).to.deep.equal([VIP]);
    expect(rib.routes(VPN_TABLE).map((r) => r.prefix)).to.deep.equal([VIP]);
  });

  it('handles 1,000 agents × 20 routes in one batch and removes one agent among them', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    let notified = 0;
    rib.onChange((changes) => (notified += changes.length));
    rib.batch(() => {
      for (let n = 1; n <= 1000; n++) {
        const peer: PeerRef = { kind: 'xmpp', name: `compute-${n}`, address: `127.1.${n >> 8}.${n & 255}` };
        for (let r = 0; r < 20; r++) {
          rib.addPath(SVC, { peer, rd: `${peer.address}:3`, prefix: `10.${n >> 8}.${n & 255}.${r}/32`, label: 16 + r, nextHop: peer.address, attrs: { localPref: 200 } });
        }
      }
    });
    expect(notified).to.equal(3 * 20_000);
    expect(rib.peerPathCounts()).to.have.length(1000);
    rib.removePeer('compute-500');
    expect(rib.routes(instanceTableName(CLIENT))).to.have.length(20_000 - 20);
  });
});

describe('rib/rib: change notifications', () => {
  it('reports exactly the routes whose paths changed, once per mutation', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    const seen: RouteChange[][] = [];
    rib.onChange((changes) => seen.push([...changes]));
    const first = rib.addPath(SVC, published(1));
    expect(keys(first)).to.deep.equal([`${instanceTableName(SVC)} - ${VIP}`, `${instanceTableName(CLIENT)} - ${VIP}`, `${VPN_TABLE} 127.0.20.1:3 ${VIP}`].sort());
    expect(first.find((c) => c.table === instanceTableName(SVC))).to.deep.equal({ table: instanceTableName(SVC), instance: SVC, prefix: VIP });
    expect(first.find((c) => c.table === VPN_TABLE)).to.deep.equal({ table: VPN_TABLE, rd: '127.0.20.1:3', prefix: VIP });
    expect(seen).to.deep.equal([first]);
    expect(rib.addPath(SVC, published(1))).to.deep.equal([]);
    expect(seen).to.have.length(1);
  });

  it('reports a non-ECMP path only in its own table', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.createInstance(clientInstance());
    rib.addPath(SVC, published(1));
    expect(keys(rib.addPath(SVC, published(2, VIP, { localPref: 100 })))).to.deep.equal([`${instanceTableName(SVC)} - ${VIP}`]);
  });

  it('merges the changes of a batch and de-duplicates them', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    const seen: RouteChange[][] = [];
    rib.onChange((changes) => seen.push([...changes]));
    const changes = rib.batch(() => {
      rib.addPath(SVC, published(1));
      rib.addPath(SVC, published(2));
      rib.addPath(SVC, published(2, '30.30.30.12/32'));
    });
    expect(keys(changes)).to.deep.equal(
      [`${instanceTableName(SVC)} - ${VIP}`, `${instanceTableName(SVC)} - 30.30.30.12/32`, `${VPN_TABLE} 127.0.20.1:3 ${VIP}`, `${VPN_TABLE} 127.0.20.2:3 ${VIP}`, `${VPN_TABLE} 127.0.20.2:3 30.30.30.12/32`].sort(),
    );
    expect(seen).to.deep.equal([changes]);
  });

  it('notifies every listener even when one throws, then surfaces the error', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    let heard = 0;
    rib.onChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = rib.onChange(() => heard++);
    expect(() => rib.addPath(SVC, published(1))).to.throw('listener bug');
    expect(heard).to.equal(1);
    expect(nextHops(rib, SVC)).to.deep.equal(['127.0.20.1/17']);
    unsubscribe();
    expect(() => rib.addPath(SVC, published(2))).to.throw('listener bug');
    expect(heard).to.equal(1);
  });

  it('reports nothing for removing what is not there', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    expect(rib.removePath(SVC, VIP, 'compute-1')).to.deep.equal([]);
    expect(rib.removePeer('compute-1')).to.deep.equal([]);
    expect(rib.removeRouteTargetMembership('gw-1', 64512, SVC_RT)).to.deep.equal([]);
  });
});

describe('rib/rib: bgp.rtarget.0 (RT-constrain, docs/protocol.md §6.6)', () => {
  it('answers which peers want a route carrying given targets', () => {
    const rib = new Rib();
    const gw1 = bgpPeer(1);
    const gw2 = bgpPeer(2);
    expect(keys(rib.addRouteTargetMembership(gw1, 64512, SVC_RT))).to.deep.equal([`${RTARGET_TABLE} - 64512:${SVC_RT}`]);
    rib.addRouteTargetMembership(gw2, 64512, CLIENT_RT);
    rib.addRouteTargetMembership(gw2, 64513, CLIENT_RT);
    expect(rib.peersInterestedIn([SVC_RT]).map((p) => p.name)).to.deep.equal(['gw-1']);
    expect(rib.peersInterestedIn([SVC_RT, CLIENT_RT]).map((p) => p.name)).to.deep.equal(['gw-1', 'gw-2']);
    rib.removeRouteTargetMembership('gw-2', 64512, CLIENT_RT);
    expect(rib.peersInterestedIn([CLIENT_RT]).map((p) => p.name)).to.deep.equal(['gw-2']);
    rib.removeRouteTargetMembership('gw-2', 64513, CLIENT_RT);
    expect(rib.peersInterestedIn([CLIENT_RT])).to.deep.equal([]);
    expect(rib.routeTargetMemberships().map((r) => r.prefix)).to.deep.equal([`64512:${SVC_RT}`]);
  });
});

describe('rib/rib: bad input', () => {
  const cases: Array<[string, (rib: Rib) => unknown, RegExp]> = [
    ['unknown instance', (rib) => rib.addPath('nope', published(1)), /no routing instance nope/],
    ['duplicate instance', (rib) => rib.createInstance(svcInstance()), /already exists/],
    ['bad prefix', (rib) => rib.addPath(SVC, published(1, '30.30.30.1/24')), /host bits/],
    ['bad prefix length', (rib) => rib.addPath(SVC, published(1, '30.30.30.1/33')), /invalid IPv4 prefix/],
    ['bad RD', (rib) => rib.addPath(SVC, { ...published(1), rd: '127.0.20.1:70000' }), /route distinguisher/],
    ['bad label', (rib) => rib.addPath(SVC, { ...published(1), label: -1 }), /invalid label/],
    ['bad next hop', (rib) => rib.addPath(SVC, { ...published(1), nextHop: 'compute-1' }), /invalid next hop/],
    ['bad route target', (rib) => rib.addVpnPath(vpnPath(bgpPeer(1), '1:1', ['64512:1'])), /invalid route target/],
    ['bad import target', (rib) => rib.setInstanceTargets(SVC, { importTargets: ['target:x'] }), /invalid route target/],
    ['bad local-pref', (rib) => rib.addPath(SVC, published(1, VIP, { localPref: 1.5 })), /local preference/],
  ];
  for (const [what, act, message] of cases) {
    it(`rejects ${what} with a RibError and keeps the state`, () => {
      const rib = new Rib();
      rib.createInstance(svcInstance());
      rib.addPath(SVC, published(2));
      const before = JSON.stringify([rib.routes(instanceTableName(SVC)), rib.routes(VPN_TABLE), rib.instances()]);
      expect(() => act(rib)).to.throw(RibError, message);
      expect(JSON.stringify([rib.routes(instanceTableName(SVC)), rib.routes(VPN_TABLE), rib.instances()])).to.equal(before);
    });
  }
});

describe('rib/rib: introspection views', () => {
  it('lists every path of a route with best/multipath flags in selection order', () => {
    const rib = new Rib();
    rib.createInstance(svcInstance());
    rib.addPath(SVC, published(2));
    rib.addPath(SVC, published(1));
    rib.addPath(SVC, published(3, VIP, { localPref: 100 }));
    const view = rib.route(instanceTableName(SVC), VIP)!;
    expect(view).to.include({ table: instanceTableName(SVC), instance: SVC, prefix: VIP });
    expect(view.paths.map((p) => [p.peer.name, p.rd, p.best, p.multipath])).to.deep.equal([
      ['compute-1', '127.0.20.1:3', true, true],
      ['compute-2', '127.0.20.2:3', false, true],
      ['compute-3', '127.0.20.3:3', false, false],
    ]);
    expect(rib.instance(SVC)).to.deep.include({ table: instanceTableName(SVC), routeCount: 1, vnIndex: 5 });
    expect(rib.peerPathCounts()).to.deep.equal([
      { peer: 'compute-1', primary: 1, secondary: 1, routeTargetMemberships: 0 },
      { peer: 'compute-2', primary: 1, secondary: 1, routeTargetMemberships: 0 },
      { peer: 'compute-3', primary: 1, secondary: 0, routeTargetMemberships: 0 },
    ]);
  });
});
