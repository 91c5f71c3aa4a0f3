import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import { intToIpv4 } from '../../src/net/ipv4.ts';

const ipv4 = fc.integer({ min: 1, max: 0xffffffff }).map(intToIpv4);
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const rd = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32).map(([a, n]) => `${a}:${n}`),
  fc.tuple(ipv4, u16).map(([a, n]) => `${a}:${n}`),
  fc.tuple(fc.integer({ min: 0x10000, max: 0xffffffff }), u16).map(([a, n]) => `${a}:${n}`),
);
const prefix = fc.tuple(u32, fc.integer({ min: 0, max: 32 })).map(([addr, len]) => {
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return `${intToIpv4((addr & mask) >>> 0)}/${len}`;
});
const routeTarget = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32).map(([a, n]) => `target:${a}:${n}`),
  fc.tuple(ipv4, u16).map(([a, n]) => `target:${a}:${n}`),
  fc.tuple(fc.integer({ min: 0x10000, max: 0xffffffff }), u16).map(([a, n]) => `target:${a}:${n}`),
);
const attributes = fc.record({
  origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
  asns: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { maxLength: 5 }),
  med: fc.option(u32, { nil: undefined }),
  localPref: fc.option(u32, { nil: undefined }),
  communities: fc.array(fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`), { maxLength: 4 }),
  routeTargets: fc.array(routeTarget, { maxLength: 4 }),
  encapsulations: fc.subarray(['gre', 'udp', 'vxlan']),
  originVn: fc.option(fc.record({ asn: fc.integer({ min: 0, max: 0xffff }), vnIndex: u32 }), { nil: undefined }),
  clusterList: fc.array(ipv4, { maxLength: 3 }),
  originatorId: fc.option(ipv4, { nil: undefined }),
}).map((a) => defaultPathAttributes({
  origin: a.origin,
  asPath: a.asns.length ? [{ type: 'sequence', asns: a.asns }] : [],
  ...(a.med !== undefined && { med: a.med }),
  ...(a.localPref !== undefined && { localPref: a.localPref }),
  ...(a.originatorId !== undefined && { originatorId: a.originatorId }),
  communities: a.communities,
  clusterList: a.clusterList,
  extCommunities: { ...emptyExtendedCommunities(), routeTargets: a.routeTargets, encapsulations: a.encapsulations, ...(a.originVn && { originVn: a.originVn }) },
}));

describe('bgp codec round trip (property)', () => {
  it('VPN UPDATEs decode to what was encoded', () => {
    const routes = fc.array(fc.record({ rd, prefix, label: fc.integer({ min: 0, max: 0xfffff }) }), { minLength: 1, maxLength: 20 });
    fc.assert(fc.property(routes, attributes, ipv4, (nlri, attrs, nextHop) => {
      const msg = decodeMessage(encodeMessage({ type: 'update', attributes: attrs, mpReach: { nextHop, nlri: { family: 'inet-vpn', routes: nlri } } }));
      expect(msg).to.deep.include({ type: 'update', treatAsWithdraw: false, problems: [] });
      if (msg.type !== 'update') return;
      expect(msg.attributes).to.deep.equal(attrs);
      expect(msg.mpReach).to.deep.equal({ nextHop, nlri: { family: 'inet-vpn', routes: nlri } });
    }), { numRuns: 300 });
  });

  it('withdrawals and route-target NLRI decode to what was encoded', () => {
    const rts = fc.array(fc.record({ originAs: u32, routeTarget, prefixLength: fc.constant(96) }), { maxLength: 10 });
    const keys = fc.array(fc.record({ rd, prefix }), { maxLength: 20 });
    fc.assert(fc.property(rts, keys, attributes, ipv4, (targets, withdrawn, attrs, nextHop) => {
      const reach = decodeMessage(encodeMessage({ type: 'update', attributes: attrs, mpReach: { nextHop, nlri: { family: 'route-target', targets } } }));
      if (reach.type !== 'update') throw new Error('not an UPDATE');
      expect(reach.mpReach).to.deep.equal({ nextHop, nlri: { family: 'route-target', targets } });
      const routes = withdrawn.map((k) => ({ ...k, label: 0 }));
      const un = decodeMessage(encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes } }));
      if (un.type !== 'update') throw new Error('not an UPDATE');
      if (un.mpUnreach?.family !== 'inet-vpn') throw new Error('not an inet-vpn MP_UNREACH');
      // A withdrawn /32 spells its prefix through a getter: compare the fields.
      expect(un.mpUnreach.routes.map(({ rd, prefix, label }) => ({ rd, prefix, label }))).to.deep.equal(routes);
    }), { numRuns: 300 });
  });
});
