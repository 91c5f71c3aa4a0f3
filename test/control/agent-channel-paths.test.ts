// An agent's item as a RIB path (docs/protocol.md §6.1/§6.2), and the attribute object that a run of items with
// equal attributes shares on its way into the RIB.
import { expect } from 'chai';
import { pathFromItem } from '../../src/control/agent-channel.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';
import { Rib, instanceTableName } from '../../src/rib/index.ts';
import type { PeerRef } from '../../src/rib/index.ts';

const PEER: PeerRef = { kind: 'xmpp', name: 'compute-1', address: '127.24.0.1' };
const VN = { name: 'default-domain:demo:vn', vnIndex: 5 };
const item = (prefix: string, over: { localPreference?: number; encapsulations?: string[] } = {}) => makeRouteEntry({
  prefix, localPreference: over.localPreference ?? 200,
  nextHops: [makeNextHop({ address: '127.24.0.1', label: 20, encapsulations: over.encapsulations ?? ['gre', 'udp'] })],
});

describe('control/agent-channel: items → paths', () => {
  it('gives items with equal attributes one frozen attribute object, and others their own', () => {
    const a = pathFromItem(PEER, '10.0.0.1/32', item('10.0.0.1/32'), 3, VN);
    const b = pathFromItem(PEER, '10.0.0.2/32', item('10.0.0.2/32'), 3, VN);
    expect(b.attrs).to.equal(a.attrs);
    expect(Object.isFrozen(a.attrs) && Object.isFrozen(a.attrs?.encapsulations)).to.equal(true);
    expect(b.rd).to.equal('127.24.0.1:3');
    const c = pathFromItem(PEER, '10.0.0.3/32', item('10.0.0.3/32', { encapsulations: ['udp'] }), 3, VN);
    expect(c.attrs).not.to.equal(a.attrs);
    expect(c.attrs?.encapsulations).to.deep.equal(['udp']);
    const d = pathFromItem(PEER, '10.0.0.4/32', item('10.0.0.4/32', { localPreference: 100 }), 3, { ...VN, vnIndex: 6 });
    expect(d.attrs).to.deep.include({ localPref: 100, med: 200, vnIndex: 6 });
  });

  it('the RIB stores the same attributes whether it normalises a shared object once or every time', () => {
    const shared = new Rib();
    const fresh = new Rib();
    const config = { name: 'vrf', virtualNetwork: VN.name, vnIndex: VN.vnIndex, importTargets: ['target:64512:5'], exportTargets: ['target:64512:5'] };
    shared.createInstance(config);
    fresh.createInstance(config);
    for (const prefix of ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']) {
      const input = pathFromItem(PEER, prefix, item(prefix), 3, VN);
      shared.addPath('vrf', input);
      fresh.addPath('vrf', { ...input, attrs: { ...input.attrs } });
    }
    for (const prefix of ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']) {
      expect(shared.route(instanceTableName('vrf'), prefix)).to.deep.equal(fresh.route(instanceTableName('vrf'), prefix));
    }
    // A config change is seen: the VN index comes from the instance, not from the memo.
    shared.deleteInstance('vrf');
    shared.createInstance({ ...config, vnIndex: 9 });
    shared.addPath('vrf', pathFromItem(PEER, '10.0.0.1/32', item('10.0.0.1/32'), 3, VN));
    expect(shared.multipathPaths(instanceTableName('vrf'), '10.0.0.1/32')[0]?.attrs.vnIndex).to.equal(9);
  });
});
