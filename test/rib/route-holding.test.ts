// A route holds its single path without an array and its single copy without a list (./table-store.ts):
// every count of paths, in every order of arrival and withdrawal, must read as before.
import { expect } from 'chai';
import { Rib, VPN_TABLE, instanceTableName } from '../../src/rib/rib.ts';
import { agent } from './path-builders.ts';

const VN = 'default-domain:demo:hold-vn:hold-vn';
const RT = 'target:64512:8000099';
const PREFIX = '30.30.31.7/32';

function rib(): Rib {
  const r = new Rib();
  r.createInstance({ name: VN, virtualNetwork: 'default-domain:demo:hold-vn', vnIndex: 9, importTargets: [RT], exportTargets: [RT] });
  return r;
}

function add(r: Rib, n: number, label = 16 + n): void {
  const peer = agent(n);
  r.addPath(VN, { peer, rd: `${peer.address}:3`, prefix: PREFIX, label, nextHop: peer.address, attrs: { localPref: 200 } });
}

const vrfLabels = (r: Rib): number[] => (r.route(instanceTableName(VN), PREFIX)?.paths ?? []).map((p) => p.label).sort((a, b) => a - b);
const vpnLabels = (r: Rib, n: number): number[] => (r.route(VPN_TABLE, PREFIX, `${agent(n).address}:3`)?.paths ?? []).map((p) => p.label);

describe('rib: one path held without an array, many in one', () => {
  const orders = [[1, 2, 3], [3, 2, 1], [2, 1, 3], [2, 3, 1]];
  for (const withdraw of orders) {
    it(`adds 1, 2, 3 then withdraws ${withdraw.join(', ')}: paths, copies and counts follow`, () => {
      const r = rib();
      for (const n of [1, 2, 3]) add(r, n);
      expect(vrfLabels(r)).to.deep.equal([17, 18, 19]);
      expect(r.multipathPaths(instanceTableName(VN), PREFIX)).to.have.length(3);
      for (const n of [1, 2, 3]) expect(vpnLabels(r, n)).to.deep.equal([16 + n]);
      const left = new Set([1, 2, 3]);
      for (const n of withdraw) {
        r.removePath(VN, PREFIX, agent(n).name);
        left.delete(n);
        expect(vrfLabels(r)).to.deep.equal([...left].map((m) => 16 + m).sort((a, b) => a - b));
        expect(vpnLabels(r, n)).to.deep.equal([]);
        for (const m of left) expect(vpnLabels(r, m)).to.deep.equal([16 + m]);
        expect(r.peerPathCounts().find((c) => c.peer === agent(n).name)).to.equal(undefined);
      }
      expect(r.route(instanceTableName(VN), PREFIX)).to.equal(undefined);
      expect(r.instances().find((i) => i.name === VN)?.routeCount).to.equal(0);
    });
  }

  it('replaces a single path in its slot, and goes back to one path after two', () => {
    const r = rib();
    add(r, 1);
    add(r, 1, 40);
    expect(vrfLabels(r)).to.deep.equal([40]);
    expect(vpnLabels(r, 1)).to.deep.equal([40]);
    add(r, 2);
    add(r, 2, 41);
    expect(vrfLabels(r)).to.deep.equal([40, 41]);
    r.removePeer(agent(1).name);
    expect(vrfLabels(r)).to.deep.equal([41]);
    add(r, 1, 42);
    expect(vrfLabels(r)).to.deep.equal([41, 42]);
    expect(vpnLabels(r, 1)).to.deep.equal([42]);
  });
});
