import { expect } from 'chai';
import { AdjRibIn, endOfRibFamily } from '../../src/bgp/adj-rib-in.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import { type DecodedUpdate, type UpdateParts, decodeUpdateBody, encodeUpdateBody } from '../../src/bgp/update-message.ts';

const ALL = ['inet', 'inet-vpn', 'route-target'] as const;

/** An UPDATE as the session hands it over: encoded and decoded, as if it came off the wire. */
function update(parts: UpdateParts): DecodedUpdate {
  return decodeUpdateBody(encodeUpdateBody(parts, true), true);
}

const ibgpAttrs = () => defaultPathAttributes({ origin: 'igp', localPref: 200 });

function vpnReach(attrs = ibgpAttrs(), labels = [17, 18]): DecodedUpdate {
  return update({
    attributes: attrs,
    mpReach: {
      nextHop: '10.0.0.11',
      nlri: { family: 'inet-vpn', routes: labels.map((label, i) => ({ rd: `10.0.0.1${i}:3`, prefix: '30.30.30.100/32', label })) },
    },
  });
}

describe('bgp Adj-RIB-In', () => {
  it('stores VPN routes from MP_REACH and reports them as reached', () => {
    const rib = new AdjRibIn(true);
    const effect = rib.apply(vpnReach(), ALL);
    expect(effect.kind).to.equal('changes');
    if (effect.kind !== 'changes') return;
    expect(effect.update.reach.map((r) => [r.rd, r.prefix, r.label, r.nextHop])).to.deep.equal([
      ['10.0.0.10:3', '30.30.30.100/32', 17, '10.0.0.11'], ['10.0.0.11:3', '30.30.30.100/32', 18, '10.0.0.11'],
    ]);
    expect(rib.size).to.equal(2);
    expect(rib.routes().vpn).to.have.length(2);
  });

  it('withdraws what it holds through MP_UNREACH, and reports only what was there', () => {
    const rib = new AdjRibIn(true);
    rib.apply(vpnReach(), ALL);
    const effect = rib.apply(update({
      mpUnreach: { family: 'inet-vpn', routes: [{ rd: '10.0.0.10:3', prefix: '30.30.30.100/32', label: 0 }, { rd: '9.9.9.9:1', prefix: '1.1.1.1/32', label: 0 }] },
    }), ALL);
    expect(effect).to.deep.include({ kind: 'changes' });
    if (effect.kind !== 'changes') return;
    expect(effect.update.withdraw).to.deep.equal([{ rd: '10.0.0.10:3', prefix: '30.30.30.100/32' }]);
    expect(rib.size).to.equal(1);
  });

  it('ignores NLRI of a family the session did not negotiate', () => {
    const rib = new AdjRibIn(true);
    const effect = rib.apply(vpnReach(), ['route-target']);
    expect(effect.kind === 'changes' && effect.update.reach).to.deep.equal([]);
    expect(rib.size).to.equal(0);
  });

  it('iBGP: a route without LOCAL_PREF is treated as withdrawn (RFC 7606 §7.5)', () => {
    const rib = new AdjRibIn(true);
    rib.apply(vpnReach(), ALL);
    const effect = rib.apply(vpnReach(defaultPathAttributes({ origin: 'igp' })), ALL);
    if (effect.kind !== 'changes') throw new Error('expected changes');
    expect(effect.update.reach).to.deep.equal([]);
    expect(effect.update.withdraw).to.have.length(2);
    expect(rib.size).to.equal(0);
  });

  it('eBGP: LOCAL_PREF from the peer is dropped, the route kept', () => {
    const rib = new AdjRibIn(false);
    const effect = rib.apply(vpnReach(), ALL);
    if (effect.kind !== 'changes') throw new Error('expected changes');
    expect(effect.update.reach).to.have.length(2);
    expect(effect.update.reach[0]!.attrs.localPref).to.equal(undefined);
  });

  it('treat-as-withdraw removes the routes the UPDATE names', () => {
    const rib = new AdjRibIn(true);
    rib.apply(vpnReach(), ALL);
    const bad = { ...vpnReach(), treatAsWithdraw: true };
    const effect = rib.apply(bad, ALL);
    if (effect.kind !== 'changes') throw new Error('expected changes');
    expect(effect.update.withdraw).to.have.length(2);
    expect(rib.size).to.equal(0);
  });

  it('IPv4 unicast: NLRI and withdrawn routes', () => {
    const rib = new AdjRibIn(true);
    rib.apply(update({ attributes: ibgpAttrs(), nextHop: '10.0.0.1', nlri: ['1.1.1.0/24', '2.2.2.0/24'] }), ALL);
    const effect = rib.apply(update({ withdrawn: ['1.1.1.0/24'] }), ALL);
    if (effect.kind !== 'changes') throw new Error('expected changes');
    expect(effect.update.inetWithdraw).to.deep.equal(['1.1.1.0/24']);
    expect(rib.routes().inet.map((r) => r.prefix)).to.deep.equal(['2.2.2.0/24']);
  });

  it('route-target memberships are stored by their NLRI', () => {
    const rib = new AdjRibIn(true);
    const target = { originAs: 64512, routeTarget: 'target:64512:8000001', prefixLength: 96 };
    rib.apply(update({ attributes: ibgpAttrs(), mpReach: { nextHop: '10.0.0.1', nlri: { family: 'route-target', targets: [target] } } }), ALL);
    expect(rib.routes().routeTargets).to.have.length(1);
    const effect = rib.apply(update({ mpUnreach: { family: 'route-target', targets: [target] } }), ALL);
    expect(effect.kind === 'changes' && effect.update.rtWithdraw).to.deep.equal([target]);
    expect(rib.size).to.equal(0);
  });

  it('recognises End-of-RIB per family (RFC 4724)', () => {
    expect(endOfRibFamily(update({}))).to.equal('inet');
    expect(endOfRibFamily(update({ mpUnreach: { family: 'inet-vpn', routes: [] } }))).to.equal('inet-vpn');
    expect(endOfRibFamily(update({ mpUnreach: { family: 'route-target', targets: [] } }))).to.equal('route-target');
    expect(endOfRibFamily(vpnReach())).to.equal(undefined);
    expect(new AdjRibIn(true).apply(update({}), ALL)).to.deep.equal({ kind: 'end-of-rib', family: 'inet' });
  });

  it('clear() empties the table and returns the withdrawal of everything', () => {
    const rib = new AdjRibIn(true);
    rib.apply(vpnReach(), ALL);
    rib.apply(update({ attributes: ibgpAttrs(), nextHop: '10.0.0.1', nlri: ['1.1.1.0/24'] }), ALL);
    const gone = rib.clear();
    expect(gone.withdraw).to.have.length(2);
    expect(gone.inetWithdraw).to.deep.equal(['1.1.1.0/24']);
    expect(rib.size).to.equal(0);
  });

  describe('with its VPN routes kept by the owner (OwnerKeptVpnRoutes)', () => {
    const kept = { count: () => 7, routes: () => [] };

    it('passes VPN routes and every withdrawal on without storing them; counts and lists from the owner while the session lasts', () => {
      const rib = new AdjRibIn(true, kept);
      expect(rib.size).to.equal(0);
      const reached = rib.apply(vpnReach(), ALL);
      expect(reached.kind === 'changes' && reached.update.reach.map((r) => r.label)).to.deep.equal([17, 18]);
      expect(rib.size).to.equal(7);
      // A withdrawal of a route never announced is passed on too: the owner knows what it holds.
      const gone = rib.apply(update({ mpUnreach: { family: 'inet-vpn', routes: [{ rd: '9.9.9.9:1', prefix: '1.1.1.1/32', label: 0 }] } }), ALL);
      expect(gone.kind === 'changes' && gone.update.withdraw.map((k) => `${k.rd} ${k.prefix}`)).to.deep.equal(['9.9.9.9:1 1.1.1.1/32']);
      // The session's end lists no VPN withdrawal (the owner drops them) and the owner's routes are no longer this session's.
      expect(rib.clear().withdraw).to.deep.equal([]);
      expect(rib.size).to.equal(0);
    });
  });
});
