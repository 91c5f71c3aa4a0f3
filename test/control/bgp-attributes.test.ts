// RIB path ↔ BGP attributes (docs/protocol.md §6.2, §6.3): the bytes of the documented example, a wire round trip that keeps
// everything the RIB compares, and the docs/protocol.md §6.5 duplicate rule holding between an agent's path and its copy
// learned back over iBGP.
import { expect } from 'chai';
import { HASH_FIELDS } from '../../src/net/hash-fields.ts';
import fc from 'fast-check';
import { encodeExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';
import { fromBgpAttributes, ribRouteDistinguisher, toBgpAttributes } from '../../src/control/bgp-attributes.ts';
import { isDuplicateNextHop } from '../../src/control/agent-items.ts';
import { makePath, medForXmppPath, normalizeAttributes, type PathAttributes } from '../../src/rib/index.ts';

const ASN = 64512;

describe('control node BGP attributes', () => {
  it('encodes the docs/protocol.md §6.3 example: RT, encap gre, encap udp, OriginVN 64512:5, SG 8000002; LOCAL_PREF 200, MED 100, ORIGIN incomplete', () => {
    const attrs = normalizeAttributes({
      localPref: 200, med: medForXmppPath(0, 200), encapsulations: ['gre', 'udp'], vnIndex: 5, securityGroups: [8000002],
      routeTargets: ['target:64512:8000005'],
    });
    const bgp = toBgpAttributes(attrs, ASN);
    expect(bgp).to.deep.include({ origin: 'incomplete', asPath: [], localPref: 200, med: 100 });
    expect(encodeExtendedCommunities(bgp.extCommunities).toString('hex').match(/.{16}/g)).to.deep.equal([
      '0002fc00007a1205', '030c000000000002', '030c00000000000d', '8071fc0000000005', '8004fc00007a1202',
    ]);
  });

  it('leaves out LOCAL_PREF 0, an absent MED, VN index 0 and encapsulations the wire has no id for', () => {
    const bgp = toBgpAttributes(normalizeAttributes({ encapsulations: ['gre', 'bogus'] }), ASN);
    expect(bgp.localPref).to.equal(undefined);
    expect(bgp.med).to.equal(undefined);
    expect(bgp.extCommunities.originVn).to.equal(undefined);
    expect(bgp.extCommunities.encapsulations).to.deep.equal(['gre']);
  });

  it('maps well-known community names both ways and drops what is no 16:16 community', () => {
    const bgp = toBgpAttributes(normalizeAttributes({ communities: ['no-export', '64512:100', 'bogus', '70000:1'] }), ASN);
    expect(bgp.communities).to.deep.equal(['65535:65281', '64512:100']);
    expect(fromBgpAttributes(bgp).communities).to.deep.equal(['no-export', '64512:100']);
  });

  it('writes 4-byte-ASN RDs the RIB’s way', () => {
    expect(ribRouteDistinguisher('4200000000:7')).to.equal('4200000000L:7');
    expect(ribRouteDistinguisher('64512:7')).to.equal('64512:7');
    expect(ribRouteDistinguisher('10.0.0.1:3')).to.equal('10.0.0.1:3');
  });

  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const ribAttributes = fc.record({
    localPref: fc.integer({ min: 1, max: 0xffffffff }),
    med: fc.option(u32, { nil: undefined }),
    origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
    asPath: fc.array(fc.record({
      type: fc.constantFrom('sequence' as const, 'set' as const),
      asns: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 4 }),
    }), { maxLength: 3 }),
    opaqueTransitive: fc.uniqueArray(fc.record({
      flags: fc.constantFrom(0xc0, 0xe0),
      type: fc.integer({ min: 200, max: 255 }),
      value: fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString('hex')),
    }), { maxLength: 2, selector: (a) => a.type }).map((list) => list.sort((a, b) => a.type - b.type)),
    sequence: u32,
    sticky: fc.boolean(),
    encapsulations: fc.subarray(['gre', 'udp', 'vxlan', 'native']),
    vnIndex: u32,
    securityGroups: fc.array(u32, { maxLength: 3 }),
    tags: fc.array(u32, { maxLength: 3 }),
    communities: fc.array(fc.oneof(fc.constantFrom('no-export', 'no-advertise'), fc.tuple(fc.integer({ min: 0, max: 65534 }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => `${a}:${b}`)), { maxLength: 3 }),
    routeTargets: fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 0xffff }), u32).map(([a, n]) => `target:${a}:${n}`), { maxLength: 3 }),
    loadBalance: fc.option(fc.record({
      fields: fc.subarray([...HASH_FIELDS], { minLength: 1 }),
      decision: fc.constantFrom('field-hash' as const, 'source-bias' as const),
    }), { nil: undefined }),
    mac: fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':')), { nil: '' }),
  });

  /** What survives the wire: the fields path selection, the duplicate rule and the agents' items use. */
  const comparable = (a: PathAttributes) => ({
    localPref: a.localPref, med: a.med, origin: a.origin, asPath: a.asPath, sequence: a.sequence, sticky: a.sticky,
    encapsulations: [...a.encapsulations].sort(), vnIndex: a.vnIndex, securityGroups: a.securityGroups, tags: a.tags,
    communities: a.communities, routeTargets: a.routeTargets, loadBalance: a.loadBalance, mac: a.mac,
    // Partial is set on the way out (RFC 4271 §9).
    opaqueTransitive: a.opaqueTransitive.map((o) => ({ ...o, flags: o.flags | 0x20 })),
  });

  it('a path survives the wire (UPDATE encode → decode) with everything the RIB compares (property)', () => {
    fc.assert(fc.property(ribAttributes, (input) => {
      const original = normalizeAttributes(input);
      const bytes = encodeMessage({
        type: 'update', attributes: toBgpAttributes(original, ASN),
        mpReach: { nextHop: '10.0.0.11', nlri: { family: 'inet-vpn', routes: [{ rd: '10.0.0.11:3', prefix: '30.30.30.100/32', label: 17 }] } },
      });
      const decoded = decodeMessage(bytes);
      if (decoded.type !== 'update' || !decoded.attributes) throw new Error('not an UPDATE with attributes');
      expect(decoded.problems).to.deep.equal([]);
      expect(comparable(normalizeAttributes(fromBgpAttributes(decoded.attributes)))).to.deep.equal(comparable(original));
    }), { numRuns: 300 });
  });

  it('docs/protocol.md §6.5: an agent’s path and its copy learned back over iBGP are the same next hop', () => {
    const agentPath = makePath({
      peer: { kind: 'xmpp', name: 'compute-2', address: '10.0.0.12' }, rd: '10.0.0.12:3', prefix: '30.30.30.100/32', label: 18, nextHop: '10.0.0.12',
      attrs: { localPref: 200, med: 100, encapsulations: ['udp', 'gre'], vnIndex: 1, tags: [7] },
    });
    const wire = toBgpAttributes(agentPath.attrs, ASN);
    const learned = makePath({
      peer: { kind: 'bgp', name: 'control-2', address: '10.0.0.2', asn: ASN, isIbgp: true }, rd: agentPath.rd, prefix: agentPath.prefix,
      label: agentPath.label, nextHop: agentPath.nextHop, attrs: fromBgpAttributes(wire),
    });
    expect(isDuplicateNextHop(agentPath, learned)).to.equal(true);
    const otherLabel = makePath({ ...learned, attrs: fromBgpAttributes(wire), label: 19 });
    expect(isDuplicateNextHop(agentPath, otherLabel)).to.equal(false);
  });
});
