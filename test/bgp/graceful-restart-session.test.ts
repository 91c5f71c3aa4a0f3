// Graceful restart at the session layer (docs/protocol.md §6.7, RFC 4724): what our OPEN offers (R on the
// first session after start only, F per family), End-of-RIB after the initial table, and what a GR session's
// end keeps: the families the peer listed are not withdrawn, the others are.
import { expect } from 'chai';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { type OpenMessage } from '../../src/bgp/messages.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { RouteUpdate } from '../../src/bgp/routes.ts';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { ScriptedPeer, eventually, startSpeaker, waitForEvent } from './harness.ts';

const ASN = 64512;
const ip = (host: number) => `127.5.${251 + (process.pid % 4)}.${host}`;

describe('bgp graceful restart sessions', function () {
  this.timeout(15_000);
  let speaker: BgpSpeaker;
  const scripted: ScriptedPeer[] = [];
  before(async () => {
    speaker = await startSpeaker({ asn: ASN, routerId: '10.0.5.1', address: ip(1), gracefulRestart: { restartTime: 90, longLivedStaleTime: 600 } });
    speaker.addPeer({ address: ip(2), asn: ASN, passive: true, idleHoldMs: 100 });
    speaker.advertise('all', [{
      rd: '10.0.0.11:3', prefix: '30.30.30.100/32', label: 17, nextHop: '10.0.0.11',
      attrs: defaultPathAttributes({ localPref: 200, extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:1'] } }),
    }]);
  });
  after(async () => {
    for (const p of scripted) p.close();
    await speaker.stop();
  });

  async function session(caps = {}): Promise<ScriptedPeer> {
    const p = await ScriptedPeer.connect(ip(2), speaker.listenAddress()!);
    scripted.push(p);
    await p.establish(ASN, '10.0.5.2', 90, caps);
    await eventually(() => speaker.peers()[0]!.state === 'established', 'Established');
    return p;
  }
  const openOf = (p: ScriptedPeer) => p.received.find((m): m is OpenMessage => m.type === 'open')!;
  const grCaps = { gracefulRestart: { restarting: true, notification: false, restartTime: 30, families: [{ afi: 1, safi: 128, forwardingState: true }] } };

  it('offers GR and LLGR with F for every family, R on the first session only, and sends End-of-RIB after the table', async () => {
    const first = await session(grCaps);
    const caps = openOf(first).capabilities;
    expect(caps.gracefulRestart).to.deep.equal({
      restarting: true, notification: false, restartTime: 90,
      families: [{ afi: 1, safi: 128, forwardingState: true }, { afi: 1, safi: 132, forwardingState: true }],
    });
    expect(caps.longLivedGracefulRestart!.families.map((f) => f.staleTime)).to.deep.equal([600, 600]);
    await eventually(() => first.received.filter((m) => m.type === 'update').length >= 3, 'table and two End-of-RIBs');
    const updates = first.received.filter((m) => m.type === 'update');
    expect(updates[0]!.mpReach?.nlri).to.deep.include({ family: 'inet-vpn' });
    expect(updates.slice(1).map((u) => u.mpUnreach)).to.deep.equal([{ family: 'inet-vpn', routes: [] }, { family: 'route-target', targets: [] }]);
    expect(speaker.peers()[0]!.gracefulRestart).to.deep.include({ restartTime: 30, families: ['inet-vpn'], restarting: true });

    const restarting = waitForEvent(speaker, 'peer-restarting');
    const updated: RouteUpdate[] = [];
    speaker.on('update', (_peer, u) => updated.push(u));
    first.send({
      type: 'update', attributes: defaultPathAttributes({ origin: 'igp', localPref: 100, extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:1'] } }),
      mpReach: { nextHop: '10.9.9.9', nlri: { family: 'inet-vpn', routes: [{ rd: '10.9.9.9:1', prefix: '30.30.30.9/32', label: 90 }] } },
    });
    first.send({
      type: 'update', attributes: defaultPathAttributes({ origin: 'igp', localPref: 100 }),
      mpReach: { nextHop: ip(2), nlri: { family: 'route-target', targets: [{ originAs: ASN, routeTarget: 'target:64512:1', prefixLength: 96 }] } },
    });
    await eventually(() => speaker.peer(ip(2))!.status().prefixesIn === 2, 'both learned');
    const down = waitForEvent(speaker, 'peer-down');
    first.close();
    const [, gr] = await restarting;
    expect(gr).to.deep.include({ families: ['inet-vpn'], restartTime: 30 });
    await down;
    // inet-vpn is kept for the helper; route-target, which the peer did not list, is withdrawn.
    const withdrawals = updated.filter((u) => u.withdraw.length > 0 || u.rtWithdraw.length > 0);
    expect(withdrawals.map((u) => [u.withdraw.length, u.rtWithdraw.length])).to.deep.equal([[0, 1]]);

    const second = await session(grCaps);
    expect(openOf(second).capabilities.gracefulRestart!.restarting).to.equal(false);
  });

  it('a session without the peer’s GR capability negotiates none, and its end withdraws everything', async () => {
    for (const p of scripted.splice(0)) p.close();
    await eventually(() => speaker.peers()[0]!.state !== 'established', 'the earlier session is down');
    const p = await session();
    expect(speaker.peers()[0]!.gracefulRestart).to.equal(undefined);
    const updated: RouteUpdate[] = [];
    speaker.on('update', (_peer, u) => updated.push(u));
    p.send({
      type: 'update', attributes: defaultPathAttributes({ origin: 'igp', localPref: 100 }),
      mpReach: { nextHop: '10.9.9.9', nlri: { family: 'inet-vpn', routes: [{ rd: '10.9.9.9:1', prefix: '30.30.30.9/32', label: 90 }] } },
    });
    await eventually(() => speaker.peer(ip(2))!.status().prefixesIn === 1, 'learned');
    let restarted = false;
    speaker.once('peer-restarting', () => { restarted = true; });
    const down = waitForEvent(speaker, 'peer-down');
    p.close();
    await down;
    expect(restarted).to.equal(false);
    expect(updated.some((u) => u.withdraw.some((k) => k.prefix === '30.30.30.9/32'))).to.equal(true);
  });
});
