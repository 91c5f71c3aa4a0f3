import { expect } from 'chai';
import { AdjRibOut, type OutSession } from '../../src/bgp/adj-rib-out.ts';
import type { FamilyName } from '../../src/bgp/families.ts';
import { type BgpMessage, MAX_MESSAGE_LENGTH, type OutgoingMessage, decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { OwnerKeptVpnOut, VpnRoute } from '../../src/bgp/routes.ts';

type Update = Extract<BgpMessage, { type: 'update' }>;

/** A session that records every message as the peer would decode it. */
class RecordingSession implements OutSession {
  readonly messages: Update[] = [];
  readonly sizes: number[] = [];
  constructor(readonly families: readonly FamilyName[], readonly fourOctetAs = true) {}
  send(msg: OutgoingMessage): void {
    this.sendEncoded(encodeMessage(msg, this.fourOctetAs));
  }
  sendEncoded(bytes: Buffer): void {
    this.sizes.push(bytes.length);
    const msg = decodeMessage(bytes, this.fourOctetAs);
    if (msg.type !== 'update') throw new Error(`unexpected ${msg.type}`);
    this.messages.push(msg);
  }
  reached(): VpnRoute[] {
    return this.messages.flatMap((m) => (m.mpReach?.nlri.family === 'inet-vpn'
      ? m.mpReach.nlri.routes.map((r) => ({ ...r, nextHop: m.mpReach!.nextHop, attrs: m.attributes! })) : []));
  }
}

const attrs = defaultPathAttributes({ origin: 'igp', med: 100 });

function route(i: number, label = 16 + i, shared = attrs): VpnRoute {
  return { rd: `10.0.0.${i % 250}:${Math.floor(i / 250) + 1}`, prefix: '30.30.30.100/32', label, nextHop: '10.0.0.11', attrs: shared };
}

const IBGP = { localAsn: 64512, isIbgp: true };

describe('bgp Adj-RIB-Out', () => {
  it('stores routes while down and sends them all, then End-of-RIB, when a session comes up', () => {
    const rib = new AdjRibOut(IBGP);
    rib.advertiseVpn([route(1), route(2)]);
    expect(rib.size).to.equal(2);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    rib.sendFamily('inet-vpn');
    expect(session.reached().map((r) => r.label)).to.deep.equal([17, 18]);
    const eor = session.messages.at(-1)!;
    expect(eor.mpUnreach).to.deep.equal({ family: 'inet-vpn', routes: [] });
  });

  it('sends only what changed', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    rib.advertiseVpn([route(1), route(2)]);
    rib.advertiseVpn([route(1), route(2)]);
    expect(session.reached()).to.have.length(2);
    rib.advertiseVpn([route(1), route(2, 99)]);
    expect(session.reached().map((r) => r.label)).to.deep.equal([17, 18, 99]);
  });

  it('withdraws only routes it holds', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    rib.advertiseVpn([route(1)]);
    rib.withdrawVpn([{ rd: route(1).rd, prefix: route(1).prefix }, { rd: '9.9.9.9:9', prefix: '1.1.1.1/32' }]);
    const last = session.messages.at(-1)!;
    expect(last.mpUnreach?.family === 'inet-vpn' && last.mpUnreach.routes.map((r) => r.rd)).to.deep.equal([route(1).rd]);
    rib.withdrawVpn([{ rd: '9.9.9.9:9', prefix: '1.1.1.1/32' }]);
    expect(session.messages).to.have.length(2);
    expect(rib.size).to.equal(0);
  });

  it('iBGP: LOCAL_PREF defaults to 100; eBGP: local ASN prepended, LOCAL_PREF stripped (RFC 4271 §5.1)', () => {
    const ibgp = new AdjRibOut(IBGP);
    const s1 = new RecordingSession(['inet-vpn']);
    ibgp.attach(s1);
    ibgp.advertiseVpn([route(1)]);
    expect(s1.reached()[0]!.attrs.localPref).to.equal(100);
    const ebgp = new AdjRibOut({ localAsn: 64512, isIbgp: false });
    const s2 = new RecordingSession(['inet-vpn']);
    ebgp.attach(s2);
    ebgp.advertiseVpn([route(1, 17, defaultPathAttributes({ origin: 'igp', localPref: 300, asPath: [{ type: 'sequence', asns: [65001] }] }))]);
    const sent = s2.reached()[0]!.attrs;
    expect(sent.localPref).to.equal(undefined);
    expect(sent.asPath).to.deep.equal([{ type: 'sequence', asns: [64512, 65001] }]);
  });

  it('stores but does not send a family the session did not negotiate', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['route-target']);
    rib.attach(session);
    rib.advertiseVpn([route(1)]);
    expect(session.messages).to.deep.equal([]);
    expect(rib.routes().vpn).to.have.length(1);
  });

  it('refuses a batch with one route the wire cannot carry, storing none of it', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    expect(() => rib.advertiseVpn([route(1), route(2, 1 << 20)])).to.throw(RangeError);
    expect(rib.size).to.equal(0);
    expect(session.messages).to.deep.equal([]);
  });

  it('packs many routes into UPDATEs of at most 4096 bytes that carry them all', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    rib.advertiseVpn(Array.from({ length: 1000 }, (_, i) => route(i)));
    expect(session.reached()).to.have.length(1000);
    expect(Math.max(...session.sizes)).to.be.at.most(MAX_MESSAGE_LENGTH);
    expect(session.messages.length).to.be.below(10);
  });

  it('route-target and inet routes: advertise, re-send on sendFamily, withdraw', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['route-target', 'inet']);
    rib.attach(session);
    const target = { originAs: 64512, routeTarget: 'target:64512:1', prefixLength: 96, nextHop: '10.0.0.1', attrs };
    rib.advertiseRouteTargets([target]);
    rib.advertiseInet([{ prefix: '1.1.1.0/24', nextHop: '10.0.0.1', attrs }]);
    expect(session.messages).to.have.length(2);
    rib.sendFamily('inet');
    expect(session.messages.at(-2)!.nlri).to.deep.equal(['1.1.1.0/24']);
    rib.withdrawRouteTargets([target]);
    rib.withdrawInetPrefixes(['1.1.1.0/24']);
    expect(session.messages.at(-1)!.withdrawn).to.deep.equal(['1.1.1.0/24']);
    expect(rib.size).to.equal(0);
  });

  it('sends nothing once the session is detached', () => {
    const rib = new AdjRibOut(IBGP);
    const session = new RecordingSession(['inet-vpn']);
    rib.attach(session);
    rib.attach(undefined);
    rib.advertiseVpn([route(1)]);
    expect(session.messages).to.deep.equal([]);
    expect(rib.size).to.equal(1);
  });

  describe('with its VPN routes kept by the owner (OwnerKeptVpnOut)', () => {
    /** An owner that keeps a list of what it means the peer to have. */
    function owner(routes: VpnRoute[]): OwnerKeptVpnOut & { tables: number } {
      const o = { tables: 0, count: () => routes.length, routes: () => [...routes], table: () => (o.tables++, [...routes]) };
      return o;
    }

    it('stores nothing: sends every route it is given, repeated ones too, and every withdrawal', () => {
      const rib = new AdjRibOut(IBGP, owner([]));
      const session = new RecordingSession(['inet-vpn']);
      rib.attach(session);
      rib.advertiseVpn([route(1), route(2)]);
      rib.advertiseVpn([route(1)]);
      expect(session.reached().map((r) => r.label)).to.deep.equal([17, 18, 17]);
      rib.withdrawVpn([{ rd: route(3).rd, prefix: route(3).prefix }]);
      const last = session.messages.at(-1)!;
      expect(last.mpUnreach?.family === 'inet-vpn' && last.mpUnreach.routes.map((r) => r.rd)).to.deep.equal([route(3).rd]);
    });

    it('answers size and view from the owner, and gives a new session the owner\'s table, then End-of-RIB', () => {
      const kept = owner([route(4), route(5)]);
      const rib = new AdjRibOut(IBGP, kept);
      expect(rib.size).to.equal(2);
      expect(rib.routes().vpn.map((r) => r.label)).to.deep.equal([20, 21]);
      const session = new RecordingSession(['inet-vpn']);
      rib.attach(session);
      rib.sendFamily('inet-vpn');
      expect(kept.tables).to.equal(1);
      expect(session.reached().map((r) => r.label)).to.deep.equal([20, 21]);
      expect(session.messages.at(-1)!.mpUnreach).to.deep.equal({ family: 'inet-vpn', routes: [] });
    });

    it('still refuses, with nothing sent, a batch holding a route the wire cannot carry', () => {
      const rib = new AdjRibOut(IBGP, owner([]));
      const session = new RecordingSession(['inet-vpn']);
      rib.attach(session);
      expect(() => rib.advertiseVpn([route(1), route(2, 0x100000)])).to.throw(RangeError, /MPLS label/);
      expect(session.messages).to.have.length(0);
    });
  });
});
