// The control node as a BGP graceful restart helper, against a scripted peer on real sockets
// (docs/protocol.md §6.7; RFC 4724 §4.2, RFC 9494): a restarting peer's paths stay while it is away, the
// ones it does not announce again go at its End-of-RIB or when its restart time runs out; with LLGR they
// turn LLGR-stale first (65535:6 toward LLGR peers, withdrawn from the others); a NOTIFICATION is no restart.
import { expect } from 'chai';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { encodeMessage, type Capabilities } from '../../src/bgp/messages.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { RouteUpdate } from '../../src/bgp/routes.ts';
import { VPN_TABLE } from '../../src/rib/index.ts';
import { eventually, type ScriptedPeer } from '../bgp/harness.ts';
import { ASN, scriptedSetup, type ScriptedSetup } from './bgp-scripted-setup.ts';

const GW_ASN = 65001;
const RT = 'target:64512:8000001';
const RD = '10.9.9.9:1';

function gr(restartTime: number, longLivedStaleTime?: number): Partial<Capabilities> {
  return {
    gracefulRestart: { restarting: false, notification: false, restartTime, families: [{ afi: 1, safi: 128, forwardingState: true }] },
    ...(longLivedStaleTime !== undefined && {
      longLivedGracefulRestart: { families: [{ afi: 1, safi: 128, forwardingState: true, staleTime: longLivedStaleTime }] },
    }),
  };
}

function announce(peer: ScriptedPeer, ...hosts: number[]): void {
  peer.send({
    type: 'update',
    attributes: defaultPathAttributes({
      origin: 'igp', asPath: [{ type: 'sequence', asns: [GW_ASN] }],
      extCommunities: { ...emptyExtendedCommunities(), routeTargets: [RT], encapsulations: ['udp'] },
    }),
    mpReach: { nextHop: '10.9.9.9', nlri: { family: 'inet-vpn', routes: hosts.map((h) => ({ rd: RD, prefix: `30.30.30.${h}/32`, label: 40 + h })) } },
  });
}

const endOfRib = () => encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: [] } });

describe('control node: BGP graceful restart helper (docs/protocol.md §6.7)', function () {
  this.timeout(30_000);
  let s: ScriptedSetup;
  /** Every UPDATE each receiving speaker got from the control node, in order. */
  const seen: Record<string, RouteUpdate[]> = { plain: [], llgr: [] };
  before(async () => {
    s = await scriptedSetup({
      gw: { asn: GW_ASN, families: ['inet-vpn'], scripted: true },
      plain: { asn: ASN, families: ['inet-vpn'] },
      // A receiver that negotiates LLGR: it alone may receive LLGR-stale paths (RFC 9494 §4.5).
      llgr: { asn: ASN, families: ['inet-vpn'], gracefulRestart: { restartTime: 120, longLivedStaleTime: 60 } },
    }, { gracefulRestart: { enable: true, bgpHelperEnable: true, restartTime: 120, longLivedRestartTime: 2, endOfRibTimeout: 3 } });
    for (const name of ['plain', 'llgr']) s.speakers[name]!.on('update', (_peer, u) => seen[name]!.push(u));
  });
  after(async () => s?.stop());
  // A failed test must not leave its session up for the next one (a second connection would lose the collision).
  const sessions: ScriptedPeer[] = [];
  afterEach(async () => {
    for (const p of sessions.splice(0)) p.close();
    await eventually(() => gwDetail().state !== 'Established', 'the gateway’s session is down');
  });

  const rib = () => s.control.control.rib;
  const has = (host: number) => rib().route(VPN_TABLE, `30.30.30.${host}/32`, RD) !== undefined;
  const learned = (name: string) => s.speakers[name]!.peers()[0] ? s.speakers[name]!.peer(s.controlAddress)!.adjRibIn().vpn : [];
  const withdrawnAt = (name: string, host: number) => seen[name]!.some((u) => u.withdraw.some((k) => k.prefix === `30.30.30.${host}/32`));
  const restart = () => s.control.bgp.peerDetails().find((p) => p.name === 'gw')!.restart;
  const gwDetail = () => s.control.bgp.peerDetails().find((p) => p.name === 'gw')!;
  /** A new session from the gateway's address, Established on the control node's side too. */
  async function session(caps: Partial<Capabilities> = {}): Promise<ScriptedPeer> {
    const p = await s.connect('gw');
    await p.establish(GW_ASN, '10.255.5.99', 90, caps);
    sessions.push(p);
    await eventually(() => gwDetail().state === 'Established', 'the control node has the gateway Established');
    return p;
  }

  it('keeps the paths of a peer whose TCP session dropped, and sweeps at its End-of-RIB what it did not announce again', async () => {
    const first = await session(gr(60));
    expect(gwDetail().gracefulRestart).to.deep.include({ restartTime: 60, families: ['inet-vpn'] });
    announce(first, 1, 2);
    await eventually(() => learned('plain').length === 2, 'the iBGP receiver got both gateway routes');
    first.close();
    await eventually(() => restart()?.phase === 'restarting', 'the helper keeps the gateway’s paths');
    expect(restart()!.stalePaths).to.equal(2);
    expect(has(1) && has(2)).to.equal(true);

    const second = await session(gr(60));
    await eventually(() => restart()?.phase === 'awaiting-end-of-rib', 'waiting for the gateway’s End-of-RIB');
    announce(second, 1);
    second.send(endOfRib());
    await eventually(() => !has(2), 'the path not announced again is swept at End-of-RIB');
    expect(has(1)).to.equal(true);
    expect(restart()).to.equal(undefined);
    await eventually(() => withdrawnAt('plain', 2), 'the receiver told of the swept path');
    expect(withdrawnAt('plain', 1)).to.equal(false);
    second.close();
    await eventually(() => restart()?.phase === 'restarting', 'restarting again');
  });

  it('sweeps when the peer stays away past its restart time (no LLGR negotiated)', async () => {
    const p = await session(gr(1));
    announce(p, 3);
    p.send(endOfRib());
    await eventually(() => has(3) && restart() === undefined, 'route 3 stored, the earlier restart settled by End-of-RIB');
    p.close();
    await eventually(() => restart()?.phase === 'restarting', 'the helper keeps route 3');
    await eventually(() => !has(3) && !has(1), 'swept once the 1 s restart time ran out', 8000);
    expect(restart()).to.equal(undefined);
  });

  it('with LLGR, turns the paths LLGR-stale after the restart time (65535:6 to LLGR peers, withdrawn from others), then sweeps', async () => {
    const p = await session(gr(1, 600));
    announce(p, 4);
    await eventually(() => learned('llgr').some((r) => r.prefix === '30.30.30.4/32') && learned('plain').some((r) => r.prefix === '30.30.30.4/32'), 'both receivers got route 4');
    p.close();
    await eventually(() => restart()?.phase === 'long-lived', 'LLGR-stale after the restart time', 8000);
    expect(rib().route(VPN_TABLE, '30.30.30.4/32', RD)!.paths[0]!.attrs.llgrStale).to.equal(true);
    await eventually(() => learned('llgr').some((r) => r.prefix === '30.30.30.4/32' && r.attrs.communities.includes('65535:6')), 'the LLGR receiver got the LLGR_STALE community');
    await eventually(() => !learned('plain').some((r) => r.prefix === '30.30.30.4/32'), 'withdrawn from the receiver without LLGR');
    // Our long-lived time (2 s) caps the peer's 600 s.
    await eventually(() => !has(4), 'swept after the long-lived stale time', 8000);
    await eventually(() => !learned('llgr').some((r) => r.prefix === '30.30.30.4/32'), 'withdrawn from the LLGR receiver too');
  });

  it('a session that ends with a NOTIFICATION is not a restart: its paths go at once', async () => {
    const p = await session(gr(60));
    announce(p, 5);
    await eventually(() => has(5), 'route 5 stored');
    p.send({ type: 'notification', code: 6, subcode: 2 });
    await eventually(() => !has(5), 'route 5 removed with the session');
    expect(restart()).to.equal(undefined);
  });

  it('a peer that offers no GR gets no help', async () => {
    const p = await session();
    announce(p, 6);
    await eventually(() => has(6), 'route 6 stored');
    expect(gwDetail().gracefulRestart).to.equal(undefined);
    p.close();
    await eventually(() => !has(6), 'route 6 removed with the session');
    expect(restart()).to.equal(undefined);
  });
});
