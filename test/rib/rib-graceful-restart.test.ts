// The RIB's graceful-restart marks (docs/protocol.md §6.7): a peer's paths and memberships kept stale after
// its session ended, fresh again when re-announced, LLGR-stale losing to fresh paths, and the sweep.
import { expect } from 'chai';
import { Rib, VPN_TABLE, instanceTableName } from '../../src/rib/rib.ts';
import type { PathInput } from '../../src/rib/path.ts';
import { agentPath, bgpPeer } from './path-builders.ts';

const RT = 'target:64512:8000001';
const GW = bgpPeer(1);
const INSTANCE = 'default-domain:demo:svc-vn:svc-vn';

function vpn(i: number, label = 16 + i): PathInput {
  return { peer: GW, rd: '10.1.0.1:1', prefix: `30.30.30.${i}/32`, label, nextHop: '10.1.0.1', attrs: { localPref: 200, routeTargets: [RT] } };
}

function withInstance(): Rib {
  const rib = new Rib();
  rib.createInstance({ name: INSTANCE, virtualNetwork: 'default-domain:demo:svc-vn', vnIndex: 1, importTargets: [RT], exportTargets: [RT] });
  return rib;
}

describe('rib/rib: graceful restart marks', () => {
  it('keeps a peer’s paths after markPeerStale, sweeps only those not announced again', () => {
    const rib = withInstance();
    for (const i of [1, 2, 3]) rib.addVpnPath(vpn(i));
    rib.addRouteTargetMembership(GW, 64512, RT);
    expect(rib.markPeerStale(GW.name)).to.equal(3);
    expect(rib.staleCounts(GW.name)).to.deep.equal({ paths: 3, memberships: 1 });
    // The new session: 1 unchanged, 2 with a new label, 3 not at all, and the membership again.
    rib.addVpnPath(vpn(1));
    rib.addVpnPath(vpn(2, 99));
    rib.addRouteTargetMembership(GW, 64512, RT);
    expect(rib.staleCounts(GW.name)).to.deep.equal({ paths: 1, memberships: 0 });
    const changes = rib.sweepStale(GW.name);
    expect(changes.map((c) => `${c.table} ${c.prefix}`)).to.include(`${VPN_TABLE} 30.30.30.3/32`);
    expect(rib.route(VPN_TABLE, '30.30.30.1/32', '10.1.0.1:1')).to.not.equal(undefined);
    expect(rib.route(VPN_TABLE, '30.30.30.2/32', '10.1.0.1:1')!.paths[0]!.label).to.equal(99);
    expect(rib.route(VPN_TABLE, '30.30.30.3/32', '10.1.0.1:1')).to.equal(undefined);
    expect(rib.route(instanceTableName(INSTANCE), '30.30.30.3/32')).to.equal(undefined);
    expect(rib.peersInterestedIn([RT]).map((p) => p.name)).to.deep.equal([GW.name]);
  });

  it('sweeps memberships that were not announced again', () => {
    const rib = new Rib();
    rib.addRouteTargetMembership(GW, 64512, RT);
    rib.markPeerStale(GW.name);
    rib.sweepStale(GW.name, 'paths');
    expect(rib.peersInterestedIn([RT])).to.have.length(1);
    rib.sweepStale(GW.name, 'memberships');
    expect(rib.peersInterestedIn([RT])).to.deep.equal([]);
  });

  it('LLGR-stale paths lose against a fresh path and leave the multipath set; a re-announcement makes them fresh', () => {
    const rib = withInstance();
    const table = instanceTableName(INSTANCE);
    rib.addVpnPath({ ...vpn(100), prefix: '30.30.30.100/32' });
    rib.addPath(INSTANCE, { ...agentPathInput(2) });
    expect(rib.multipathPaths(table, '30.30.30.100/32')).to.have.length(2);
    rib.markPeerStale(GW.name);
    expect(rib.multipathPaths(table, '30.30.30.100/32')).to.have.length(2);
    rib.markPeerLlgrStale(GW.name);
    const view = rib.route(table, '30.30.30.100/32')!;
    expect(view.paths.map((p) => [p.peer.name, p.attrs.llgrStale, p.best])).to.deep.equal([['compute-2', false, true], [GW.name, true, false]]);
    expect(view.paths[1]!.reason.step).to.equal('llgr-stale');
    expect(rib.staleCounts(GW.name).paths).to.equal(1);
    rib.addVpnPath({ ...vpn(100), prefix: '30.30.30.100/32' });
    expect(rib.staleCounts(GW.name).paths).to.equal(0);
    expect(rib.multipathPaths(table, '30.30.30.100/32')).to.have.length(2);
  });

  it('removePeer forgets the marks', () => {
    const rib = withInstance();
    rib.addVpnPath(vpn(1));
    rib.markPeerStale(GW.name);
    rib.removePeer(GW.name);
    expect(rib.staleCounts(GW.name)).to.deep.equal({ paths: 0, memberships: 0 });
    expect(rib.route(VPN_TABLE, '30.30.30.1/32', '10.1.0.1:1')).to.equal(undefined);
  });
});

/** An agent's VIP path as PathInput (same attributes as the gateway's, so that the two are ECMP-equal). */
function agentPathInput(n: number): PathInput {
  const p = agentPath(n);
  return { peer: p.peer, rd: p.rd, prefix: p.prefix, label: p.label, nextHop: p.nextHop, attrs: { localPref: 200 } };
}
