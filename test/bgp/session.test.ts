import { expect } from 'chai';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { RouteUpdate, VpnRoute } from '../../src/bgp/routes.ts';
import { encodeMessage } from '../../src/bgp/messages.ts';
import { ScriptedPeer, eventually, loopbackBlock, startSpeaker, waitForEvent } from './harness.ts';

const ASN = 64512;

function vipRoute(compute: string, label: number): VpnRoute {
  return {
    rd: `${compute}:3`, prefix: '30.30.30.100/32', label, nextHop: compute,
    attrs: defaultPathAttributes({
      localPref: 200, med: 100,
      extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:8000001'], encapsulations: ['gre', 'udp'], originVn: { asn: ASN, vnIndex: 5 } },
    }),
  };
}

describe('bgp sessions between two speakers', function () {
  this.timeout(15000);
  const speakers: BgpSpeaker[] = [];
  afterEach(async () => {
    await Promise.all(speakers.splice(0).map((s) => s.stop()));
  });

  async function pair(options: { bActive?: boolean; bAsn?: number; idleHoldMs?: number } = {}) {
    const ip = loopbackBlock();
    const a = await startSpeaker({ asn: ASN, routerId: '10.0.0.1', address: ip(1) });
    const b = await startSpeaker({ asn: options.bAsn ?? ASN, routerId: '10.0.0.2', address: ip(2) });
    speakers.push(a, b);
    const timers = { connectRetryMs: 300, idleHoldMs: options.idleHoldMs ?? 200 };
    const aUp = waitForEvent(a, 'peer-established');
    const bUp = waitForEvent(b, 'peer-established');
    a.addPeer({ address: ip(2), port: b.listenAddress()!.port, asn: options.bAsn ?? ASN, ...timers });
    b.addPeer({ address: ip(1), port: a.listenAddress()!.port, asn: ASN, passive: !options.bActive, ...timers });
    await Promise.all([aUp, bUp]);
    return { a, b, ip };
  }

  it('establishes, negotiates families and hold time, and reports status', async () => {
    const { a, ip } = await pair();
    const [status] = a.peers();
    expect(status).to.include({ address: ip(2), state: 'established', holdTime: 90, remoteRouterId: '10.0.0.2', fourOctetAs: true, routeRefresh: true });
    expect(status!.families).to.deep.equal(['inet-vpn', 'route-target']);
  });

  it('delivers VPN routes with RD, label, next hop and typed attributes, then withdraws them', async () => {
    const { a, b, ip } = await pair();
    const reached: VpnRoute[] = [];
    b.on('update', (_p, u) => reached.push(...u.reach));
    a.advertise(ip(2), [vipRoute('10.0.0.11', 17), vipRoute('10.0.0.12', 18)]);
    await eventually(() => reached.length === 2, 'two routes');
    expect(reached.map((r) => [r.rd, r.prefix, r.label, r.nextHop])).to.deep.equal([
      ['10.0.0.11:3', '30.30.30.100/32', 17, '10.0.0.11'], ['10.0.0.12:3', '30.30.30.100/32', 18, '10.0.0.12'],
    ]);
    expect(reached[0]!.attrs).to.deep.equal(vipRoute('10.0.0.11', 17).attrs);
    expect(b.peer(ip(1))!.adjRibIn().vpn).to.have.length(2);
    const updatesBefore = a.peers()[0]!.counters.updatesOut;
    a.advertise(ip(2), [vipRoute('10.0.0.11', 17)]);
    expect(a.peers()[0]!.counters.updatesOut, 'an unchanged route is not sent again').to.equal(updatesBefore);
    const gone = waitForEvent<[unknown, RouteUpdate]>(b, 'update', (_p, u) => u.withdraw.length === 1);
    a.withdraw('all', [{ rd: '10.0.0.12:3', prefix: '30.30.30.100/32' }]);
    expect((await gone)[1].withdraw).to.deep.equal([{ rd: '10.0.0.12:3', prefix: '30.30.30.100/32' }]);
    expect(b.peer(ip(1))!.adjRibIn().vpn.map((r) => r.rd)).to.deep.equal(['10.0.0.11:3']);
  });

  it('packs a batch of routes that share attributes into few full UPDATEs, one attribute set per next hop', async () => {
    const { a, b, ip } = await pair();
    const reached: VpnRoute[] = [];
    b.on('update', (_p, u) => reached.push(...u.reach));
    const attrs = vipRoute('10.0.0.11', 0).attrs;
    const routes: VpnRoute[] = Array.from({ length: 2000 }, (_, i) => ({
      rd: `10.0.0.${11 + (i % 2)}:3`, prefix: `20.0.${i >> 8}.${i & 0xff}/32`, label: 16 + i, nextHop: `10.0.0.${11 + (i % 2)}`, attrs,
    }));
    const before = a.peers()[0]!.counters.updatesOut;
    a.advertise(ip(2), routes);
    await eventually(() => reached.length === routes.length, 'every route');
    // 2000 routes of 16 bytes over two next hops: 4 KB UPDATEs hold about 250 each, so 8 to 10 UPDATEs.
    expect(a.peers()[0]!.counters.updatesOut - before).to.be.within(8, 10);
    const byKey = new Map(reached.map((r) => [`${r.rd}|${r.prefix}`, r]));
    for (const r of routes) {
      const got = byKey.get(`${r.rd}|${r.prefix}`);
      expect(got && [got.label, got.nextHop], `${r.rd}:${r.prefix}`).to.deep.equal([r.label, r.nextHop]);
    }
    expect(reached[0]!.attrs).to.deep.equal(attrs);
  });

  it('refuses a whole batch with one unsendable route, storing and sending none of it', async () => {
    const { a, ip } = await pair();
    const peer = a.peer(ip(2))!;
    const before = peer.status().counters.updatesOut;
    const batch = [vipRoute('10.0.0.11', 17), vipRoute('10.0.0.12', 0x100000)];
    expect(() => peer.advertiseVpn(batch)).to.throw(RangeError, /MPLS label/);
    expect(() => peer.advertiseVpn([vipRoute('10.0.0.11', 17), { ...vipRoute('10.0.0.12', 18), nextHop: '10.0.0' }])).to.throw(RangeError, /not an IPv4 address/);
    const huge = { ...vipRoute('10.0.0.13', 19), attrs: { ...vipRoute('10.0.0.13', 19).attrs, communities: Array.from({ length: 1100 }, (_, i) => `64512:${i}`) } };
    expect(() => peer.advertiseVpn([vipRoute('10.0.0.11', 17), huge])).to.throw(RangeError, /does not fit a BGP message/);
    expect(peer.adjRibOut().vpn).to.be.empty;
    expect(peer.status().counters.updatesOut).to.equal(before);
  });

  it('sends the Adj-RIB-Out and End-of-RIB when a session comes up, and route-target NLRI', async () => {
    const ip = loopbackBlock();
    const a = await startSpeaker({ asn: ASN, routerId: '10.0.0.1', address: ip(1) });
    const b = await startSpeaker({ asn: ASN, routerId: '10.0.0.2', address: ip(2) });
    speakers.push(a, b);
    b.addPeer({ address: ip(1), asn: ASN, passive: true });
    const peerA = a.addPeer({ address: ip(2), port: b.listenAddress()!.port, asn: ASN, passive: true });
    a.advertise(ip(2), [vipRoute('10.0.0.11', 17)]);
    a.advertiseRouteTargets('all', [{ originAs: ASN, routeTarget: 'target:64512:8000001', prefixLength: 96, nextHop: ip(1), attrs: defaultPathAttributes() }]);
    const vpnEor = waitForEvent(b, 'end-of-rib', (_p, f) => f === 'inet-vpn');
    const rtEor = waitForEvent(b, 'end-of-rib', (_p, f) => f === 'route-target');
    const reach = waitForEvent<[unknown, RouteUpdate]>(b, 'update', (_p, u) => u.reach.length === 1);
    const rt = waitForEvent<[unknown, RouteUpdate]>(b, 'update', (_p, u) => u.rtReach.length === 1);
    expect(peerA.state).to.equal('active');
    // Passive on both sides: start a session by making A active.
    a.removePeer(ip(2));
    const active = a.addPeer({ address: ip(2), port: b.listenAddress()!.port, asn: ASN, connectRetryMs: 300 });
    active.advertiseVpn([vipRoute('10.0.0.11', 17)]);
    active.advertiseRouteTargets([{ originAs: ASN, routeTarget: 'target:64512:8000001', prefixLength: 96, nextHop: ip(1), attrs: defaultPathAttributes() }]);
    await Promise.all([vpnEor, rtEor, reach, rt]);
    expect((await rt)[1].rtReach[0]).to.include({ originAs: ASN, routeTarget: 'target:64512:8000001', prefixLength: 96, nextHop: ip(1) });
  });

  it('resolves a connection collision into one session when both sides connect', async () => {
    const { a, b } = await pair({ bActive: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(a.peers()[0]!.state).to.equal('established');
    expect(b.peers()[0]!.state).to.equal('established');
    expect(a.peers()[0]!.counters.establishedTransitions).to.equal(1);
    expect(b.peers()[0]!.counters.establishedTransitions).to.equal(1);
  });

  it('closes a new connection that collides with an Established session with Cease/7', async () => {
    const { a, ip } = await pair();
    const intruder = await ScriptedPeer.connect(ip(2), a.listenAddress()!);
    await eventually(() => intruder.notifications().length > 0, 'NOTIFICATION');
    intruder.close();
    expect(intruder.notifications()).to.deep.equal([{ code: 6, subcode: 7 }]);
    expect(a.peers()[0]!.state).to.equal('established');
  });

  it('re-converges after an administrative reset', async () => {
    const { a, b, ip } = await pair({ idleHoldMs: 100 });
    a.advertise('all', [vipRoute('10.0.0.11', 17)]);
    await eventually(() => b.peer(ip(1))!.adjRibIn().vpn.length === 1, 'route learned');
    const down = waitForEvent<[unknown, RouteUpdate]>(b, 'update', (_p, u) => u.withdraw.length === 1);
    const again = waitForEvent(b, 'update', (_p, u: RouteUpdate) => u.reach.length === 1);
    a.resetPeer(ip(2));
    await down;
    await again;
    expect(a.peers()[0]!.counters.establishedTransitions).to.equal(2);
    expect(b.peer(ip(1))!.adjRibIn().vpn).to.have.length(1);
  });

  it('eBGP: prepends the local ASN and strips LOCAL_PREF', async () => {
    const { a, b, ip } = await pair({ bAsn: 64513 });
    const got = waitForEvent<[unknown, RouteUpdate]>(b, 'update', (_p, u) => u.reach.length === 1);
    a.advertise(ip(2), [vipRoute('10.0.0.11', 17)]);
    const [, u] = await got;
    expect(u.reach[0]!.attrs.asPath).to.deep.equal([{ type: 'sequence', asns: [ASN] }]);
    expect(u.reach[0]!.attrs.localPref).to.equal(undefined);
  });

  it('rejects bad input to advertise() without storing or sending anything', async () => {
    const { a, ip } = await pair();
    expect(() => a.advertise(ip(2), [{ ...vipRoute('10.0.0.11', 17), label: 1 << 20 }])).to.throw(RangeError);
    expect(() => a.advertise(ip(2), [{ ...vipRoute('10.0.0.11', 17), rd: 'x' }])).to.throw(RangeError);
    expect(() => a.advertise('127.9.9.9', [])).to.throw(/no peer/);
    const huge = vipRoute('10.0.0.11', 17);
    huge.attrs.communities = Array.from({ length: 1100 }, (_, i) => `64512:${i}`);
    expect(() => a.advertise(ip(2), [huge])).to.throw(RangeError, /4096|does not fit/);
    expect(a.peers()[0]!.prefixesOut).to.equal(0);
  });
});

describe('bgp FSM against a scripted peer', function () {
  this.timeout(15000);
  let speaker: BgpSpeaker | undefined;
  const scripted: ScriptedPeer[] = [];
  afterEach(async () => {
    scripted.splice(0).forEach((p) => p.close());
    await speaker?.stop();
    speaker = undefined;
  });

  async function setup() {
    const ip = loopbackBlock();
    speaker = await startSpeaker({ asn: ASN, routerId: '10.0.0.1', address: ip(1) });
    speaker.addPeer({ address: ip(2), asn: ASN, passive: true });
    const listen = speaker.listenAddress()!;
    const connectFrom = async (host: number) => {
      const p = await ScriptedPeer.connect(ip(host), listen);
      scripted.push(p);
      return p;
    };
    return { speaker, ip, connectFrom };
  }

  it('answers a wrong peer AS with NOTIFICATION 2/2', async () => {
    const { connectFrom } = await setup();
    const p = await connectFrom(2);
    p.send({ type: 'open', asn: 65000, holdTime: 90, routerId: '10.0.0.9', capabilities: { multiprotocol: [], routeRefresh: false, fourOctetAs: 65000, other: [] } });
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()[0]).to.deep.equal({ code: 2, subcode: 2 });
  });

  it('answers an unacceptable hold time with 2/6 and an unknown source address with Cease/5', async () => {
    const { connectFrom } = await setup();
    const p = await connectFrom(2);
    p.send({ type: 'open', asn: ASN, holdTime: 2, routerId: '10.0.0.9', capabilities: { multiprotocol: [], routeRefresh: false, other: [] } });
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()[0]).to.deep.equal({ code: 2, subcode: 6 });
    const stranger = await connectFrom(3);
    await eventually(() => stranger.notifications().length > 0, 'NOTIFICATION to stranger');
    expect(stranger.notifications()[0]).to.deep.equal({ code: 6, subcode: 5 });
  });

  it('expires the hold timer of a silent peer with NOTIFICATION 4/0 and goes down', async () => {
    const { speaker, connectFrom } = await setup();
    const p = await connectFrom(2);
    const down = waitForEvent(speaker, 'peer-down');
    await p.establish(ASN, '10.0.0.2', 3);
    // Swallow the scripted side's obligations: it never sends a KEEPALIVE after the first.
    await down;
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 4, subcode: 0 }]);
    expect(speaker.peers()[0]!.state).to.equal('active');
  });

  it('answers an unsupported BGP version with 2/1 naming version 4', async () => {
    const { connectFrom } = await setup();
    const p = await connectFrom(2);
    const open = encodeMessage({ type: 'open', asn: ASN, holdTime: 90, routerId: '10.0.0.9', capabilities: { multiprotocol: [], routeRefresh: false, other: [] } });
    open[19] = 3;
    p.send(open);
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    const n = p.received.find((m) => m.type === 'notification');
    expect(n).to.deep.include({ code: 2, subcode: 1, data: Buffer.of(0, 4) });
  });

  it('answers ROUTE-REFRESH by sending the Adj-RIB-Out again', async () => {
    const { speaker, ip, connectFrom } = await setup();
    speaker.advertise(ip(2), [vipRoute('10.0.0.11', 17)]);
    const p = await connectFrom(2);
    await p.establish(ASN, '10.0.0.2');
    const vpnUpdates = () => p.received.filter((m) => m.type === 'update' && m.mpReach?.nlri.family === 'inet-vpn').length;
    await eventually(() => vpnUpdates() === 1, 'initial dump');
    p.send({ type: 'route-refresh', afi: 1, safi: 128 });
    await eventually(() => vpnUpdates() === 2, 'dump after refresh');
  });

  it('rejects a message in the wrong state with an FSM error', async () => {
    const { connectFrom } = await setup();
    const p = await connectFrom(2);
    p.send({ type: 'keepalive' });
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()[0]).to.deep.equal({ code: 5, subcode: 1 });
  });
});
