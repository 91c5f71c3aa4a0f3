import { expect } from 'chai';
import fc from 'fast-check';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { requireIpv4 } from '../../src/net/ipv4.ts';
import { MAX_MESSAGE_LENGTH, decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';
import type { VpnNlri } from '../../src/bgp/nlri.ts';
import { type PathAttributes, defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import { encodeAttributeBlock, encodeVpnNlriList, encodeVpnWithdrawList, packVpnReach, packVpnWithdraw } from '../../src/bgp/vpn-reach-packer.ts';

function attributes(extra: Partial<PathAttributes> = {}): PathAttributes {
  return defaultPathAttributes({
    localPref: 100,
    extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:8000001'], encapsulations: ['gre', 'udp'] },
    ...extra,
  });
}

function decodeReach(message: Buffer) {
  const msg = decodeMessage(message, true);
  if (msg.type !== 'update' || msg.mpReach?.nlri.family !== 'inet-vpn') throw new Error('expected an inet-vpn MP_REACH UPDATE');
  return { attributes: msg.attributes, nextHop: msg.mpReach.nextHop, routes: msg.mpReach.nlri.routes, problems: msg.problems };
}

const nlriArb: fc.Arbitrary<VpnNlri> = fc.record({
  rd: fc.oneof(
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 0xffff })).map(([ip, n]) => `${ip}:${n}`),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([asn, n]) => `${asn}:${n}`),
  ),
  prefix: fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([address, length]) => {
    const masked = length === 0 ? 0 : (address & ((0xffffffff << (32 - length)) >>> 0)) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 0xff).join('.')}/${length}`;
  }),
  label: fc.integer({ min: 0, max: 0xfffff }),
});

describe('bgp VPN reach packer', () => {
  it('builds, for one route, the same bytes as the general UPDATE encoder', () => {
    const route = { rd: '10.1.0.7:1', prefix: '20.0.1.2/32', label: 4242 };
    const attrs = attributes({ med: 7, communities: ['64512:1'] });
    const [message, ...more] = packVpnReach(encodeAttributeBlock(attrs, true), requireIpv4('10.1.0.7'), encodeVpnNlriList([route]), [0]);
    expect(more).to.be.empty;
    const general = encodeMessage({ type: 'update', attributes: attrs, mpReach: { nextHop: '10.1.0.7', nlri: { family: 'inet-vpn', routes: [route] } } });
    expect(message!.toString('hex')).to.equal(general.toString('hex'));
  });

  it('packs any routes into full UPDATEs of at most 4096 bytes that decode to the same routes in order', () => {
    fc.assert(fc.property(fc.array(nlriArb, { minLength: 1, maxLength: 700 }), fc.ipV4(), (routes, nextHop) => {
      const attrs = attributes();
      const block = encodeAttributeBlock(attrs, true);
      const nlri = encodeVpnNlriList(routes);
      const messages = packVpnReach(block, requireIpv4(nextHop), nlri, routes.map((_, i) => i));
      const decoded = messages.map(decodeReach);
      expect(decoded.flatMap((d) => d.routes)).to.deep.equal(routes);
      for (const [i, d] of decoded.entries()) {
        expect(messages[i]!.length).to.be.at.most(MAX_MESSAGE_LENGTH);
        expect(d.nextHop).to.equal(nextHop);
        expect(d.attributes).to.deep.equal(attrs);
        expect(d.problems).to.be.empty;
      }
      // Greedy: a message ends only when the next route would not have fitted it.
      let first = 0;
      for (let i = 0; i + 1 < decoded.length; i++) {
        first += decoded[i]!.routes.length;
        const next = nlri.starts[first + 1]! - nlri.starts[first]!;
        expect(messages[i]!.length + next + 1, `message ${i} could have taken one more route`).to.be.above(MAX_MESSAGE_LENGTH);
      }
    }), { numRuns: 60 });
  });

  it('sends only the routes asked for, in the order given', () => {
    const routes = Array.from({ length: 10 }, (_, i) => ({ rd: `64512:${i}`, prefix: `10.0.0.${i}/32`, label: 100 + i }));
    const [message] = packVpnReach(encodeAttributeBlock(attributes(), true), requireIpv4('10.1.0.1'), encodeVpnNlriList(routes), [7, 2, 5]);
    expect(decodeReach(message!).routes.map((r) => r.label)).to.deep.equal([107, 102, 105]);
  });

  it('refuses a batch with a bad label, prefix or RD, naming the problem', () => {
    const good = { rd: '64512:1', prefix: '10.0.0.1/32', label: 17 };
    expect(() => encodeVpnNlriList([good, { ...good, label: 0x100000 }])).to.throw(RangeError, /MPLS label 1048576/);
    expect(() => encodeVpnNlriList([good, { ...good, prefix: '10.0.0.1/24' }])).to.throw(RangeError, /host bits/);
    expect(() => encodeVpnNlriList([good, { ...good, prefix: '10.0.0/24' }])).to.throw(RangeError, /not an IPv4 prefix/);
    expect(() => encodeVpnNlriList([{ ...good, rd: 'nonsense' }])).to.throw(RangeError, /bad RD/);
  });

  it('never builds a message over 4096 bytes: attributes that leave no room for a route are refused', () => {
    const attrs = attributes({ communities: Array.from({ length: 1015 }, (_, i) => `64512:${i}`) });
    const route = { rd: '64512:1', prefix: '10.0.0.1/32', label: 17 };
    expect(() => packVpnReach(encodeAttributeBlock(attrs, true), 1, encodeVpnNlriList([route]), [0])).to.throw(RangeError, /does not fit a BGP message/);
  });

  it('keys attribute sets by their bytes: equal sets in distinct objects share a key, different ones do not', () => {
    expect(encodeAttributeBlock(attributes(), true).key).to.equal(encodeAttributeBlock(attributes(), true).key);
    expect(encodeAttributeBlock(attributes(), true).key).to.not.equal(encodeAttributeBlock(attributes({ med: 1 }), true).key);
  });

  describe('withdraw', () => {
    it('builds the same bytes as the general UPDATE encoder, for one route and for a full message', () => {
      for (const count of [1, 15, 200]) {
        const keys = Array.from({ length: count }, (_, i) => ({ rd: `10.1.0.${1 + (i % 3)}:1`, prefix: `20.0.${i >> 8}.${i & 255}/32` }));
        const messages = packVpnWithdraw(encodeVpnWithdrawList(keys), 4000);
        expect(messages).to.have.length(1);
        expect(messages[0]!.toString('hex')).to.equal(encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: keys.map((k) => ({ ...k, label: 0 })) } }).toString('hex'));
      }
    });

    it('splits by actual NLRI size, keeps the order and loses no route', () => {
      fc.assert(fc.property(fc.array(nlriArb, { minLength: 1, maxLength: 600 }), fc.integer({ min: 16, max: 4066 }), (routes, room) => {
        const messages = packVpnWithdraw(encodeVpnWithdrawList(routes), room);
        const back = messages.flatMap((m) => {
          expect(m.length).to.be.at.most(MAX_MESSAGE_LENGTH);
          const msg = decodeMessage(m, true);
          if (msg.type !== 'update' || msg.mpUnreach?.family !== 'inet-vpn') throw new Error('expected an inet-vpn MP_UNREACH UPDATE');
          return msg.mpUnreach.routes.map((r) => `${r.rd} ${r.prefix}`);
        });
        expect(back).to.deep.equal(routes.map((r) => `${r.rd} ${r.prefix}`));
      }), { numRuns: 50 });
    });

    it('refuses a bad RD or prefix before anything is built', () => {
      expect(() => encodeVpnWithdrawList([{ rd: '64512:1', prefix: '10.0.0.1/24' }])).to.throw(RangeError, /host bits/);
      expect(() => encodeVpnWithdrawList([{ rd: 'nonsense', prefix: '10.0.0.1/32' }])).to.throw(RangeError, /bad RD/);
    });
  });
});
