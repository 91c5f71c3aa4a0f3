import { expect } from 'chai';
import { decodeMessage, encodeMessage, MessageFramer } from '../../src/bgp/messages.ts';
import { BgpProtocolError } from '../../src/bgp/protocol-error.ts';
import { decodeRd, encodeRd } from '../../src/bgp/route-distinguisher.ts';
import { decodeExtendedCommunities, emptyExtendedCommunities, encodeExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { decodeRouteTargetNlri, decodeVpnNlri, encodeRouteTargetNlri, encodeVpnReach } from '../../src/bgp/nlri.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

// docs/protocol.md §6.3 example route for member 1, every byte written out from RFC 4271/4760/4364 and the docs/protocol.md §6.3 table.
const SECTION_6_3_UPDATE = hex(`${MARKER} 007b 02 0000 0064
  40 01 01 02
  40 02 00
  80 04 04 00000064
  40 05 04 000000c8
  80 0e 21 0001 80 0c 0000000000000000 0a00000b 00 78 000111 0001 0a00000b 0003 0a0a0064
  c0 10 28 0002fc00007a1205 030c000000000002 030c00000000000d 8071fc0000000005 8004fc00007a1202`);

const section63Attributes = () => defaultPathAttributes({
  origin: 'incomplete', med: 100, localPref: 200,
  extCommunities: {
    ...emptyExtendedCommunities(),
    routeTargets: ['target:64512:8000005'], encapsulations: ['gre', 'udp'],
    originVn: { asn: 64512, vnIndex: 5 }, securityGroups: [{ asn: 64512, id: 8000002 }],
  },
});

/** A decoded NLRI's fields (a withdrawn /32 spells its prefix through a getter). */
const fields = ({ rd, prefix, label }: { rd: string; prefix: string; label: number }) => ({ rd, prefix, label });

describe('bgp codec', () => {
  describe('docs/protocol.md §6.3 VPN route example', () => {
    it('encodes byte for byte', () => {
      const bytes = encodeMessage({
        type: 'update', attributes: section63Attributes(),
        mpReach: { nextHop: '10.0.0.11', nlri: { family: 'inet-vpn', routes: [{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32', label: 17 }] } },
      });
      expect(bytes.toString('hex')).to.equal(SECTION_6_3_UPDATE.toString('hex'));
    });

    it('decodes to the same route', () => {
      const msg = decodeMessage(SECTION_6_3_UPDATE);
      expect(msg.type).to.equal('update');
      if (msg.type !== 'update') return;
      expect(msg.treatAsWithdraw).to.equal(false);
      expect(msg.attributes).to.deep.equal(section63Attributes());
      expect(msg.mpReach).to.deep.equal({
        nextHop: '10.0.0.11', nlri: { family: 'inet-vpn', routes: [{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32', label: 17 }] },
      });
    });

    it('has the NLRI bytes quoted in docs/protocol.md §6.3', () => {
      expect(encodeVpnReach([{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32', label: 17 }]).toString('hex'))
        .to.equal('78000111' + '00010a00000b0003' + '0a0a0064');
    });
  });

  describe('route distinguishers', () => {
    const cases: [string, string][] = [
      ['64512:1', '0000fc0000000001'],
      ['10.0.0.11:3', '00010a00000b0003'],
      ['4200000000:1', '0002fa56ea000001'],
      ['100L:7', '0002000000640007'],
      ['raw:0005010203040506', '0005010203040506'],
    ];
    for (const [text, bytes] of cases) {
      it(`${text} ↔ ${bytes}`, () => {
        expect(encodeRd(text).toString('hex')).to.equal(bytes);
        expect(decodeRd(hex(bytes))).to.equal(text);
      });
    }
    it('rejects numbers that do not fit the type', () => {
      expect(() => encodeRd('10.0.0.1:70000')).to.throw(RangeError);
      expect(() => encodeRd('4200000000:70000')).to.throw(RangeError);
      expect(() => encodeRd('nonsense')).to.throw(RangeError);
    });
  });

  describe('extended communities (docs/protocol.md §6.3 table)', () => {
    const cases: [string, Partial<ReturnType<typeof emptyExtendedCommunities>>][] = [
      ['0002fc00007a1205', { routeTargets: ['target:64512:8000005'] }],
      ['0202fa56ea001f40', { routeTargets: ['target:4200000000:8000'] }],
      ['01020a0000010005', { routeTargets: ['target:10.0.0.1:5'] }],
      ['030c000000000002', { encapsulations: ['gre'] }],
      ['030c00000000000d', { encapsulations: ['udp'] }],
      ['030c000000000008', { encapsulations: ['vxlan'] }],
      ['8071fc0000000005', { originVn: { asn: 64512, vnIndex: 5 } }],
      ['8271fa56ea000005', { originVn: { asn: 4200000000, vnIndex: 5 } }],
      ['8004fc00007a1202', { securityGroups: [{ asn: 64512, id: 8000002 }] }],
      ['8084fc0000000007', { tags: [{ asn: 64512, tag: 7 }] }],
      ['0600010000000009', { macMobility: { sticky: true, sequence: 9 } }],
      ['0603020000000001', { routerMac: '02:00:00:00:00:01' }],
      ['03aad80080000000', { loadBalance: { fields: ['source-ip', 'destination-ip', 'source-port', 'destination-port'], sourceBias: true } }],
      ['c000000000000001', { other: ['c000000000000001'] }],
    ];
    for (const [bytes, typed] of cases) {
      it(`${bytes}`, () => {
        const ec = { ...emptyExtendedCommunities(), ...typed };
        expect(decodeExtendedCommunities(hex(bytes))).to.deep.equal(ec);
        expect(encodeExtendedCommunities(ec).toString('hex')).to.equal(bytes);
      });
    }
  });

  describe('route-target NLRI (RFC 4684)', () => {
    it('encodes origin AS + route target with a 96-bit length', () => {
      const items = [{ originAs: 64512, routeTarget: 'target:64512:8000001', prefixLength: 96 }];
      const bytes = encodeRouteTargetNlri(items);
      expect(bytes.toString('hex')).to.equal('60' + '0000fc00' + '0002fc00007a1201');
      expect(decodeRouteTargetNlri(bytes)).to.deep.equal(items);
    });
    it('encodes the default route as a zero length', () => {
      expect(encodeRouteTargetNlri([{ originAs: 0, routeTarget: null, prefixLength: 0 }]).toString('hex')).to.equal('00');
      expect(decodeRouteTargetNlri(hex('00'))).to.deep.equal([{ originAs: 0, routeTarget: null, prefixLength: 0 }]);
    });
    it('rejects lengths between 1 and 31', () => {
      expect(() => decodeRouteTargetNlri(hex('10 0000'))).to.throw(BgpProtocolError);
    });
  });

  describe('VPN NLRI', () => {
    it('reads a withdraw with the 0x800000 label field and one with the old label', () => {
      const compat = hex('78 800000 0001 0a00000b 0003 0a0a0064');
      const oldLabel = hex('78 000151 0001 0a00000b 0003 0a0a0064');
      for (const b of [compat, oldLabel]) expect(decodeVpnNlri(b, true).map(fields)).to.deep.equal([{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32', label: 0 }]);
    });
    it('gives a withdrawn /32 its address as a host key (10.10.0.100 → 0x0a0a0064) and spells its prefix on demand', () => {
      const [key] = decodeVpnNlri(hex('78 800000 0001 0a00000b 0003 0a0a0064'), true);
      expect(key?.hostKey).to.equal(0x0a0a0064);
      expect(key?.prefix).to.equal('10.10.0.100/32');
      expect(JSON.parse(JSON.stringify(key))).to.deep.equal({ rd: '10.0.0.11:3', prefix: '10.10.0.100/32', label: 0 });
    });
    it('rejects a prefix longer than 32 bits', () => {
      expect(() => decodeVpnNlri(hex('79 000111 0001 0a00000b 0003 0a0a0064 00'), false)).to.throw(BgpProtocolError);
    });
    it('reads one label whatever its bottom-of-stack bit says (no Multiple Labels capability, RFC 8277 §2.2)', () => {
      // Label 0x5902 with S = 0, RD 2:42, prefix 10.88.42.0/24 — the S bit must not make the RD a second label.
      const routes = decodeVpnNlri(hex('70 059020 0000 0002 0000002a 0a582a'), false);
      expect(routes).to.deep.equal([{ rd: '2:42', prefix: '10.88.42.0/24', label: 0x5902 }]);
    });
    it('clears bits past the prefix length', () => {
      expect(decodeVpnNlri(hex('70 000111 0000fc0000000001 0a0a01'), false)[0]!.prefix).to.equal('10.10.1.0/24');
    });
  });

  describe('other messages', () => {
    it('OPEN with MP inet/inet-vpn/route-target, route refresh and 4-octet AS', () => {
      const bytes = encodeMessage({
        type: 'open', asn: 4200000000, holdTime: 90, routerId: '10.0.0.1',
        capabilities: { multiprotocol: [{ afi: 1, safi: 1 }, { afi: 1, safi: 128 }, { afi: 1, safi: 132 }], routeRefresh: true, fourOctetAs: 4200000000, other: [] },
      });
      expect(bytes.toString('hex')).to.equal(`${MARKER}0039 01 04 5ba0 005a 0a000001 1c 02 1a
        0104 00010001 0104 00010080 0104 00010084 0200 4104 fa56ea00`.replace(/\s+/g, ''));
      const msg = decodeMessage(bytes);
      expect(msg).to.deep.include({ type: 'open', version: 4, myAs: 23456, holdTime: 90, routerId: '10.0.0.1' });
    });
    it('skips unknown capabilities (GoBGP FQDN 73, extended next hop 5)', () => {
      const body = '04 fc00 005a 0a000001 18 02 16 4906 0568 6f73 7400 0506 0001 0001 0002 0104 00010080';
      const bytes = hex(`${MARKER} ${(19 + hex(body).length).toString(16).padStart(4, '0')} 01 ${body}`);
      const msg = decodeMessage(bytes);
      if (msg.type !== 'open') throw new Error('not an OPEN');
      expect(msg.capabilities.multiprotocol).to.deep.equal([{ afi: 1, safi: 128 }]);
      expect(msg.capabilities.other.map((o) => o.code)).to.deep.equal([73, 5]);
    });
    it('KEEPALIVE, NOTIFICATION and ROUTE-REFRESH', () => {
      expect(encodeMessage({ type: 'keepalive' }).toString('hex')).to.equal(`${MARKER}001304`);
      expect(encodeMessage({ type: 'notification', code: 6, subcode: 2 }).toString('hex')).to.equal(`${MARKER}0015030602`);
      expect(encodeMessage({ type: 'route-refresh', afi: 1, safi: 128 }).toString('hex')).to.equal(`${MARKER}00170500010080`);
      expect(decodeMessage(hex(`${MARKER}00170500010080`))).to.deep.equal({ type: 'route-refresh', afi: 1, safi: 128, subtype: 0 });
      expect(decodeMessage(hex(`${MARKER}0017030402ffff`))).to.deep.equal({ type: 'notification', code: 4, subcode: 2, data: hex('ffff') });
    });
    it('End-of-RIB for inet-vpn is an empty MP_UNREACH', () => {
      expect(encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: [] } }).toString('hex'))
        .to.equal(`${MARKER}001d 02 0000 0006 800f03 000180`.replace(/\s+/g, ''));
    });
    it('AS_PATH with 4-byte ASNs, and AS_TRANS on a 2-byte session', () => {
      const attributes = defaultPathAttributes({ origin: 'igp', asPath: [{ type: 'sequence', asns: [4200000000, 64512] }] });
      const four = encodeMessage({ type: 'update', attributes, nextHop: '10.0.0.1', nlri: ['10.9.9.0/24'] });
      expect(four.toString('hex')).to.include('40020a' + '0202fa56ea000000fc00');
      const two = encodeMessage({ type: 'update', attributes, nextHop: '10.0.0.1', nlri: ['10.9.9.0/24'] }, false);
      expect(two.toString('hex')).to.include('400206' + '02025ba0fc00');
      const back = decodeMessage(four);
      if (back.type !== 'update') throw new Error('not an UPDATE');
      expect(back.attributes!.asPath).to.deep.equal([{ type: 'sequence', asns: [4200000000, 64512] }]);
      expect(back.nlri).to.deep.equal(['10.9.9.0/24']);
      expect(back.nextHop).to.equal('10.0.0.1');
    });
  });

  describe('framing', () => {
    it('reassembles messages split across chunks and keeps those before a bad header', () => {
      const ka = encodeMessage({ type: 'keepalive' });
      const framer = new MessageFramer();
      const two = Buffer.concat([ka, ka]);
      expect(framer.push(two.subarray(0, 25)).messages).to.have.length(1);
      expect(framer.push(two.subarray(25)).messages).to.have.length(1);
      const bad = Buffer.concat([ka, hex(`${'ff'.repeat(15)}00 0013 04`)]);
      const res = framer.push(bad);
      expect(res.messages).to.have.length(1);
      expect(res.error).to.include({ code: 1, subcode: 1 });
    });
  });
});
