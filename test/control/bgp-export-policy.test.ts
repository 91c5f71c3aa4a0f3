// The docs/protocol.md §6.6 export decision per (route, peer), on routes of a real RIB.
import { expect } from 'chai';
import { exportDecision, type ExportContext, type ExportTarget } from '../../src/control/bgp-export-policy.ts';
import { Rib, VPN_TABLE, type PeerRef } from '../../src/rib/index.ts';

const RT = 'target:64512:8000001';
const PREFIX = '30.30.30.100/32';
const A: PeerRef = { kind: 'bgp', name: 'a', address: '127.0.0.2', asn: 64512, routerId: '10.0.0.2', isIbgp: true };
const GW: PeerRef = { kind: 'bgp', name: 'gw', address: '127.0.0.3', asn: 65001, routerId: '10.0.0.3', isIbgp: false };

function ctx(overrides: Partial<ExportContext> = {}): ExportContext {
  return { asn: 64512, clusterId: null, interestedPeers: () => new Set(), ...overrides };
}
function peer(name: string, overrides: Partial<ExportTarget> = {}): ExportTarget {
  return { name, isIbgp: true, rtConstrained: false, wantsAllTargets: false, ...overrides };
}

describe('control node BGP export policy (docs/protocol.md §6.6)', () => {
  const rib = new Rib();
  rib.addVpnPath({ peer: A, rd: '10.0.0.12:3', prefix: PREFIX, label: 18, nextHop: '10.0.0.12', attrs: { localPref: 200, routeTargets: [RT] } });
  rib.addVpnPath({ peer: GW, rd: '10.9.9.9:1', prefix: PREFIX, label: 40, nextHop: '10.9.9.9', attrs: { localPref: 100, asPath: [{ type: 'sequence', asns: [65001] }], routeTargets: [RT] } });
  rib.addVpnPath({ peer: { kind: 'xmpp', name: 'compute-1', address: '10.0.0.11' }, rd: '10.0.0.11:3', prefix: PREFIX, label: 17, nextHop: '10.0.0.11', attrs: { localPref: 200, routeTargets: [RT] } });
  const fromA = rib.route(VPN_TABLE, PREFIX, '10.0.0.12:3');
  const fromGw = rib.route(VPN_TABLE, PREFIX, '10.9.9.9:1');
  const fromAgent = rib.route(VPN_TABLE, PREFIX, '10.0.0.11:3');

  it('advertises an XMPP path to every peer with next hop, label and RD unchanged', () => {
    for (const target of [peer('a'), peer('gw', { isIbgp: false })]) {
      const d = exportDecision(fromAgent, target, ctx());
      expect(d).to.have.property('advertise');
      if ('advertise' in d) expect(d.advertise).to.deep.include({ rd: '10.0.0.11:3', prefix: PREFIX, label: 17, nextHop: '10.0.0.11' });
    }
  });

  it('never sends a path back to the peer it came from', () => {
    expect(exportDecision(fromA, peer('a'), ctx())).to.deep.equal({ refuse: 'learned-from-peer' });
  });

  it('keeps iBGP-learned paths from iBGP peers without a cluster-id, but gives them to eBGP peers', () => {
    expect(exportDecision(fromA, peer('b'), ctx())).to.deep.equal({ refuse: 'ibgp-split-horizon' });
    expect(exportDecision(fromA, peer('gw', { isIbgp: false }), ctx())).to.have.property('advertise');
    expect(exportDecision(fromGw, peer('b'), ctx())).to.have.property('advertise');
  });

  it('reflects with ORIGINATOR_ID and CLUSTER_LIST under a cluster-id, never to the originator', () => {
    const d = exportDecision(fromA, peer('b'), ctx({ clusterId: '10.254.0.1' }));
    expect('advertise' in d && d.advertise.attrs).to.deep.include({ originatorId: '10.0.0.2', clusterList: ['10.254.0.1'] });
    expect(exportDecision(fromA, peer('a2', { routerId: '10.0.0.2' }), ctx({ clusterId: '10.254.0.1' }))).to.deep.equal({ refuse: 'originator' });
  });

  it('sends to an RT-constrained peer only what it asked for, or everything after a default membership', () => {
    expect(exportDecision(fromAgent, peer('b', { rtConstrained: true }), ctx())).to.deep.equal({ refuse: 'rt-constraint' });
    expect(exportDecision(fromAgent, peer('b', { rtConstrained: true }), ctx({ interestedPeers: (rts) => new Set(rts.includes(RT) ? ['b'] : []) })))
      .to.have.property('advertise');
    expect(exportDecision(fromAgent, peer('b', { rtConstrained: true, wantsAllTargets: true }), ctx())).to.have.property('advertise');
  });

  it('withdraws a route with no path', () => {
    expect(exportDecision(undefined, peer('b'), ctx())).to.deep.equal({ refuse: 'no-best-path' });
  });
});
