import { expect } from 'chai';
import { Rib, VPN_TABLE, instanceTableName } from '../../src/rib/rib.ts';
import { RibError } from '../../src/rib/route-syntax.ts';
import type { PathAttributes, PathInput } from '../../src/rib/path.ts';
import { bgpPeer } from './path-builders.ts';

const RT = 'target:64512:8000001';
const GW = bgpPeer(1);

/** The attributes object one BGP UPDATE hands the RIB with each of its routes. */
function updateAttrs(extra: Partial<PathAttributes> = {}): Partial<PathAttributes> {
  return { localPref: 100, origin: 'incomplete', routeTargets: [RT], asPath: [], clusterList: [], ...extra };
}

function route(i: number, attrs: Partial<PathAttributes>, rd = '10.1.0.1:1', nextHop = '10.1.0.1'): PathInput {
  return { peer: GW, rd, prefix: `20.0.0.${i}/32`, label: 16 + i, nextHop, attrs };
}

function storedAttrs(rib: Rib, i: number, rd = '10.1.0.1:1'): PathAttributes {
  const view = rib.route(VPN_TABLE, `20.0.0.${i}/32`, rd);
  if (view === undefined) throw new Error(`route ${i} missing`);
  return view.paths[0].attrs;
}

describe('rib/rib: BGP VPN ingest (shared attributes, validation, views)', () => {
  it('stores the routes of one UPDATE with one shared attribute set, and equal UPDATEs share it too', () => {
    const rib = new Rib();
    const first = updateAttrs();
    const second = updateAttrs();
    rib.batch(() => {
      for (let i = 1; i <= 3; i++) rib.addVpnPath(route(i, first));
    });
    rib.batch(() => rib.addVpnPath(route(4, second)));
    const shared = storedAttrs(rib, 1);
    for (const i of [2, 3, 4]) expect(storedAttrs(rib, i)).to.equal(shared);
    expect(shared.routeTargets).to.deep.equal([RT]);
    expect(shared.localPref).to.equal(100);
  });

  it('removes a /32 given as its address (a decoded BGP withdrawal), low and high addresses alike, and reports the change once', () => {
    const rib = new Rib();
    const high: PathInput = { ...route(1, updateAttrs()), prefix: '200.1.2.3/32' };
    rib.batch(() => {
      rib.addVpnPath(route(1, updateAttrs()));
      rib.addVpnPath(high);
      rib.addVpnPath({ ...route(2, updateAttrs()), prefix: '20.0.0.0/24' });
    });
    const changes = rib.batch(() => {
      rib.removeVpnHostPath('10.1.0.1:1', 0x14000001, GW.name);
      rib.removeVpnHostPath('10.1.0.1:1', 0xc8010203 | 0, GW.name);
      rib.removeVpnHostPath('10.1.0.1:1', 0xc8010203 | 0, GW.name);
      rib.removeVpnHostPath('10.9.9.9:1', 0x14000001, GW.name);
    });
    expect(changes).to.deep.equal([
      { table: VPN_TABLE, rd: '10.1.0.1:1', prefix: '20.0.0.1/32' },
      { table: VPN_TABLE, rd: '10.1.0.1:1', prefix: '200.1.2.3/32' },
    ]);
    expect(rib.routes(VPN_TABLE).map((r) => r.prefix)).to.deep.equal(['20.0.0.0/24']);
    expect(() => rib.removeVpnHostPath('bad', 1, GW.name)).to.throw(RibError, /route distinguisher/);
  });

  it('keeps distinct attribute sets apart: a different UPDATE gets its own', () => {
    const rib = new Rib();
    rib.addVpnPath(route(1, updateAttrs()));
    rib.addVpnPath(route(2, updateAttrs({ localPref: 200 })));
    rib.addVpnPath(route(3, updateAttrs()));
    expect(storedAttrs(rib, 1).localPref).to.equal(100);
    expect(storedAttrs(rib, 2).localPref).to.equal(200);
    expect(storedAttrs(rib, 3).localPref).to.equal(100);
  });

  it('indexes a route under the targets of its shared attributes: a later importing VRF gets the copies', () => {
    const rib = new Rib();
    const attrs = updateAttrs();
    rib.batch(() => {
      for (let i = 1; i <= 3; i++) rib.addVpnPath(route(i, attrs));
    });
    rib.createInstance({ name: 'blue', virtualNetwork: 'blue-vn', vnIndex: 7, importTargets: [RT], exportTargets: [] });
    expect(rib.prefixes(instanceTableName('blue')).sort()).to.deep.equal(['20.0.0.1/32', '20.0.0.2/32', '20.0.0.3/32']);
  });

  it('refuses bad attributes with RibError on every route that carries them, storing none', () => {
    const rib = new Rib();
    const bad = updateAttrs({ routeTargets: ['target:nope'] });
    for (let i = 1; i <= 2; i++) expect(() => rib.addVpnPath(route(i, bad))).to.throw(RibError, /route target 'target:nope'/);
    expect(rib.routes(VPN_TABLE)).to.deep.equal([]);
  });

  it('still checks the RD, next hop and prefix of each route after a run of valid ones', () => {
    const rib = new Rib();
    const attrs = updateAttrs();
    rib.addVpnPath(route(1, attrs));
    expect(() => rib.addVpnPath(route(2, attrs, '10.1.0.1:99999'))).to.throw(RibError, /route distinguisher '10.1.0.1:99999'/);
    expect(() => rib.addVpnPath(route(3, attrs, '10.1.0.1:1', '10.1.0.300'))).to.throw(RibError, /next hop '10.1.0.300'/);
    expect(() => rib.addVpnPath({ ...route(4, attrs), prefix: '20.0.0.4/24' })).to.throw(RibError, /host bits/);
    rib.addVpnPath(route(5, attrs));
    expect(rib.routes(VPN_TABLE).map((r) => r.prefix)).to.deep.equal(['20.0.0.1/32', '20.0.0.5/32']);
  });

  it('orders a route again when a second path joins a single-path route, and views carry only the keys that apply', () => {
    const rib = new Rib();
    rib.addVpnPath(route(1, updateAttrs({ localPref: 100 })));
    const better = { ...route(1, updateAttrs({ localPref: 300 })), peer: bgpPeer(2), nextHop: '10.1.0.2' };
    rib.addVpnPath(better);
    const view = rib.route(VPN_TABLE, '20.0.0.1/32', '10.1.0.1:1')!;
    expect(view.paths.map((p) => [p.peer.name, p.best])).to.deep.equal([
      ['gw-2', true],
      ['gw-1', false],
    ]);
    expect(Object.keys(view)).to.deep.equal(['table', 'rd', 'prefix', 'paths']);
    expect(Object.keys(view.paths[0])).to.deep.equal(['peer', 'rd', 'label', 'nextHop', 'best', 'multipath', 'reason', 'attrs']);
    rib.removeVpnPath('10.1.0.1:1', '20.0.0.1/32', 'gw-2');
    expect(rib.route(VPN_TABLE, '20.0.0.1/32', '10.1.0.1:1')!.paths.map((p) => [p.peer.name, p.best])).to.deep.equal([['gw-1', true]]);
  });

  it('views a copy in an importing VRF with instance and replicatedFrom, and no rd key', () => {
    const rib = new Rib();
    rib.createInstance({ name: 'blue', virtualNetwork: 'blue-vn', vnIndex: 7, importTargets: [RT], exportTargets: [] });
    rib.addVpnPath(route(1, updateAttrs()));
    const view = rib.route(instanceTableName('blue'), '20.0.0.1/32')!;
    expect(Object.keys(view)).to.deep.equal(['table', 'instance', 'prefix', 'paths']);
    expect(view.paths[0].replicatedFrom).to.equal(VPN_TABLE);
  });

  it('drops the copies of a route whose new targets nobody imports, and removes un-imported routes that lose their last path', () => {
    const rib = new Rib();
    rib.createInstance({ name: 'blue', virtualNetwork: 'blue-vn', vnIndex: 7, importTargets: [RT], exportTargets: [] });
    rib.addVpnPath(route(1, updateAttrs()));
    rib.addVpnPath(route(2, updateAttrs({ routeTargets: ['target:64512:9'] })));
    expect(rib.prefixes(instanceTableName('blue'))).to.deep.equal(['20.0.0.1/32']);
    const changes = rib.addVpnPath(route(1, updateAttrs({ routeTargets: ['target:64512:9'] })));
    expect(rib.prefixes(instanceTableName('blue'))).to.deep.equal([]);
    expect(changes.map((c) => c.table).sort()).to.deep.equal([VPN_TABLE, instanceTableName('blue')].sort());
    rib.removeVpnPath('10.1.0.1:1', '20.0.0.2/32', GW.name);
    expect(rib.routes(VPN_TABLE).map((r) => r.prefix)).to.deep.equal(['20.0.0.1/32']);
  });

  it('reports each changed route once per batch, in the order first changed', () => {
    const rib = new Rib();
    const attrs = updateAttrs();
    const changes = rib.batch(() => {
      rib.addVpnPath(route(2, attrs));
      rib.addVpnPath(route(1, attrs));
      rib.addVpnPath({ ...route(2, attrs), label: 99 });
      rib.removeVpnPath('10.1.0.1:1', '20.0.0.1/32', GW.name);
    });
    expect(changes).to.deep.equal([
      { table: VPN_TABLE, rd: '10.1.0.1:1', prefix: '20.0.0.2/32' },
      { table: VPN_TABLE, rd: '10.1.0.1:1', prefix: '20.0.0.1/32' },
    ]);
  });
});
