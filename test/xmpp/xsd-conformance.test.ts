import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { parse, type Element } from 'ltx';
import { unicastItemsSchema, type XsdStructure } from './xsd-structure.ts';
import { encodeRoutePublish, encodeRouteItems } from '../../src/xmpp/stanza-encoder.ts';
import { LOAD_BALANCE_FIELDS, makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';
import { splitStanzas } from '../../src/xmpp/stream-framer.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function entries(raw: string): Element[] {
  const out: Element[] = [];
  for (const s of splitStanzas(raw.trim().replace(/>\s+</g, '><'))) {
    const walk = (el: Element) => {
      if (el.name === 'entry') out.push(el);
      else el.getChildElements().forEach(walk);
    };
    walk(parse(s));
  }
  return out;
}

describe('XSD conformance: every emitted <entry> against xmpp_unicast.xsd described as data (test/xmpp/unicast-schema.ts)', () => {
  const xsd: XsdStructure = unicastItemsSchema();

  it('reads the schema (types, enumerations, the items element)', () => {
    expect(xsd.typeNames()).to.include.members(['EntryType', 'NextHopType', 'TunnelEncapsulationType', 'LoadBalanceFieldType', 'MobilityType']);
    expect(xsd.topElements.get('items')).to.equal('ItemsType');
  });

  it('the checker catches wrong names, nesting, multiplicity, integers and enumerations', () => {
    const bad = parse('<entry><nlri><af>one</af><safi>1</safi><address>1.2.3.4/32</address><extra/></nlri>' +
      '<next-hops><next-hop><label>1</label><tunnel-encapsulation-list><tunnel-encapsulation>ipip</tunnel-encapsulation></tunnel-encapsulation-list></next-hop></next-hops>' +
      '<med>1</med><med>2</med><mobility seqno="x" sticky="maybe" color="red"/><sub-protocol>bgp</sub-protocol><version><x/></version></entry>');
    const problems = xsd.check(bad, 'EntryType');
    expect(problems.join('\n')).to.include('entry/nlri/af: "one" is not an integer')
      .and.include('entry/nlri/extra: element not in IPAddressType')
      .and.include('"ipip" not in TunnelEncapsulationType')
      .and.include('entry/med: occurs 2 times')
      .and.include('entry/mobility/@seqno: "x" is not an integer')
      .and.include('entry/mobility/@sticky: "maybe" is not a boolean')
      .and.include('entry/mobility/@color: attribute not in MobilityType')
      .and.include('entry/sub-protocol: "bgp" not in SubProtocolType')
      .and.include('entry/version: child elements in simple type xsd:integer');
  });

  for (const f of ['publish-associate.xml', 'publish-dissociate.xml', 'items-ecmp.xml', 'reference-3.2-publish-pair.xml', 'reference-4.1-items-ecmp.xml']) {
    it(`fixture ${f}`, () => {
      const es = entries(fixture(f));
      expect(es.length).to.be.greaterThan(0);
      for (const e of es) expect(xsd.check(e, 'EntryType')).to.deep.equal([]);
    });
  }

  it('every entry our encoders can emit (property)', () => {
    const nh = fc.record({
      af: fc.constant(1), address: fc.ipV4(), mac: fc.constantFrom('', '52:54:00:00:00:0b'), label: fc.integer({ min: 0, max: 0xffffff }),
      vni: fc.nat(), encapsulations: fc.subarray(['gre', 'udp', 'vxlan', 'mpls']), virtualNetwork: fc.string({ maxLength: 8 }),
      tags: fc.array(fc.nat(), { maxLength: 2 }), localSequenceNumber: fc.nat(),
    });
    const entry: fc.Arbitrary<XmppRouteEntry> = fc.record({
      prefix: fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
      nextHops: fc.array(nh, { maxLength: 3 }), med: fc.nat(), localPreference: fc.nat(), sequenceNumber: fc.nat(),
      securityGroups: fc.array(fc.nat(), { maxLength: 2 }), communityTags: fc.array(fc.constantFrom('no-export', '64512:1'), { maxLength: 2 }),
      mobility: fc.record({ seqno: fc.nat(), sticky: fc.boolean() }),
      loadBalance: fc.record({ fields: fc.subarray([...LOAD_BALANCE_FIELDS]), decision: fc.constantFrom('', 'field-hash', 'source-bias') }),
      subProtocol: fc.constantFrom('', 'interface', 'interface-static', 'service-interface', 'bgpaas'),
    }).map((p) => makeRouteEntry(p));
    fc.assert(fc.property(entry, (e) => {
      for (const raw of [encodeRoutePublish({ from: 'c', instance: 'v', entry: e, seq: 1 }), encodeRouteItems({ to: 'c', instance: 'v', entries: [e] })]) {
        for (const el of entries(raw)) expect(xsd.check(el, 'EntryType')).to.deep.equal([]);
      }
    }), { numRuns: 200 });
  });

  it('an entry with a bad encapsulation from a caller is flagged (the encoder does not validate values)', () => {
    const e = makeRouteEntry({ prefix: '1.2.3.4/32', nextHops: [makeNextHop({ address: '1.1.1.1', encapsulations: ['ipip'] })] });
    expect(xsd.check(entries(encodeRouteItems({ to: 'c', instance: 'v', entries: [e] }))[0], 'EntryType')).to.have.length(1);
  });
});
