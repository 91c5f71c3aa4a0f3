// The one-pass reader of the agent's publish + collection pair: it must read exactly what the general decoder
// reads, and decline (so that the general decoder reports the same error as before) everything else.
import { expect } from 'chai';
import fc from 'fast-check';
import { scanAgentRouteStanza } from '../../src/xmpp/publish-scanner.ts';
import { AgentRouteReader } from '../../src/xmpp/agent-route-reader.ts';
import { decodeAgentStanza, decodeAgentStanzaFull } from '../../src/xmpp/stanza-decoder.ts';
import { encodeRoutePublish } from '../../src/xmpp/stanza-encoder.ts';
import { StreamFramer, splitStanzas, type FrameEvent } from '../../src/xmpp/stream-framer.ts';
import { encodeAgentStreamOpen } from '../../src/xmpp/stanza-encoder.ts';
import { LOAD_BALANCE_FIELDS, makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';

const VRF = 'default-domain:demo:vn:vn';

function pair(entry: XmppRouteEntry, opts: { from?: string; withdraw?: boolean; seq?: number } = {}): [string, string] {
  const [pub, col] = splitStanzas(encodeRoutePublish({ from: opts.from ?? 'compute-1', instance: VRF, entry, seq: opts.seq ?? 1, withdraw: opts.withdraw }));
  return [pub, col];
}

const AGENT_ROUTE = makeRouteEntry({
  prefix: '10.1.2.3/32', localPreference: 200,
  nextHops: [makeNextHop({ address: '10.0.0.1', label: 17, virtualNetwork: 'default-domain:demo:vn' })],
  loadBalance: { fields: [], decision: 'field-hash' }, subProtocol: 'interface',
});

describe('xmpp/publish-scanner', () => {
  it('reads an agent route pair as the general decoder does', () => {
    const [pub, col] = pair(AGENT_ROUTE);
    const p = scanAgentRouteStanza(pub);
    expect(p).to.deep.equal(decodeAgentStanzaFull(pub));
    expect(p?.kind === 'publish' && p.entry).to.deep.equal(AGENT_ROUTE);
    const c = scanAgentRouteStanza(col);
    expect(c).to.deep.equal(decodeAgentStanzaFull(col));
    // The collection names the publish's node with the very same string.
    expect(c?.node).to.equal(p?.node);
  });

  it('reads a dissociate and an empty publish (End-of-RIB)', () => {
    const [pub, col] = pair(AGENT_ROUTE, { withdraw: true });
    expect(scanAgentRouteStanza(col)).to.deep.include({ kind: 'collection', action: 'dissociate' });
    const empty = pub.replace(/<item>.*<\/item>/, '');
    expect(scanAgentRouteStanza(empty)).to.deep.equal(decodeAgentStanzaFull(empty));
    expect(scanAgentRouteStanza(empty)).to.deep.include({ kind: 'publish', entry: null });
  });

  it('shares repeated values between routes but hands out lists of their own', () => {
    const a = scanAgentRouteStanza(pair(AGENT_ROUTE, { seq: 1 })[0]);
    const b = scanAgentRouteStanza(pair({ ...AGENT_ROUTE, prefix: '10.1.2.4/32' }, { seq: 2 })[0]);
    if (a?.kind !== 'publish' || b?.kind !== 'publish' || !a.entry || !b.entry) throw new Error('not publishes');
    expect(b.entry.nextHops[0].encapsulations).to.deep.equal(['gre', 'udp']);
    expect(b.entry.nextHops[0].encapsulations).not.to.equal(a.entry.nextHops[0].encapsulations);
    b.entry.nextHops[0].encapsulations.push('vxlan');
    const c = scanAgentRouteStanza(pair(AGENT_ROUTE, { seq: 3 })[0]);
    expect(c?.kind === 'publish' && c.entry?.nextHops[0].encapsulations).to.deep.equal(['gre', 'udp']);
  });

  const [pub, col] = pair(AGENT_ROUTE);
  const declined: [string, string][] = [
    ['blanks between tags', pub.replace('<nlri>', '<nlri>\n  ')],
    ['attributes in another order', pub.replace('<iq type="set" from="compute-1"', '<iq from="compute-1" type="set"')],
    ['single-quoted attributes', col.replace('id="collection1"', "id='collection1'")],
    ['an entity in a value', pub.replace('<virtual-network>default-domain:demo:vn</virtual-network>', '<virtual-network>a&amp;b</virtual-network>')],
    ['a self-closed text element', pub.replace('<mac></mac>', '<mac/>')],
    ['no next hop', pub.replace(/<next-hops>.*<\/next-hops>/, '<next-hops/>')],
    ['two next hops', pub.replace(/(<next-hop>.*<\/next-hop>)/, '$1$1')],
    ['a non-integer label', pub.replace('<label>17</label>', '<label>x7</label>')],
    ['a label of 16 digits', pub.replace('<label>17</label>', '<label>1234567890123456</label>')],
    ['a lone minus', pub.replace('<med>0</med>', '<med>-</med>')],
    ['an unknown load-balance field', pub.replace('<load-balance-fields/>', '<load-balance-fields><load-balance-field-list>l2-mac</load-balance-field-list></load-balance-fields>')],
    ['a sticky flag of 1', pub.replace('sticky="false"', 'sticky="1"')],
    ['another resource', pub.replace('/bgp-peer"', '/config"')],
    ['a publish node with five slashes', pub.replace(`${VRF}/10.1.2.3/32`, `${VRF}/10.1.2.3/32/7`)],
    ['a non-integer afi', pub.replace(`node="1/1/`, `node="x/1/`)],
    ['an empty collection node', col.replace(`<collection node="${VRF}"`, '<collection node=""')],
    ['trailing text', pub + ' '],
    ['a truncated stanza', pub.slice(0, -5)],
    ['a message', '<message from="a" to="b"><event/></message>'],
  ];
  for (const [what, raw] of declined) {
    it(`declines ${what}, and the decoder answers as before`, () => {
      expect(scanAgentRouteStanza(raw)).to.equal(undefined);
      expect(decodeAgentStanza(raw)).to.deep.equal(decodeAgentStanzaFull(raw));
    });
  }

  it('agrees with the general decoder on every entry our encoder emits, and reads back what was encoded', () => {
    const nextHop = fc.record({
      af: fc.constantFrom(1, 2), address: fc.ipV4(), mac: fc.constantFrom('', '52:54:00:00:00:0b'),
      label: fc.integer({ min: -5, max: 0xffffff }), vni: fc.nat(1000),
      encapsulations: fc.subarray(['gre', 'udp', 'vxlan', 'mpls']), virtualNetwork: fc.constantFrom('', 'vn', 'a:b:c', 'x&y'),
      tags: fc.array(fc.nat(), { maxLength: 3 }), localSequenceNumber: fc.nat(),
    });
    const entry: fc.Arbitrary<XmppRouteEntry> = fc.record({
      af: fc.constantFrom(1, 2), safi: fc.constantFrom(1, 4),
      prefix: fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
      nextHops: fc.array(nextHop, { minLength: 0, maxLength: 2 }), version: fc.nat(3),
      virtualNetwork: fc.constantFrom('', 'vn'), mobility: fc.record({ seqno: fc.nat(), sticky: fc.boolean() }),
      sequenceNumber: fc.nat(), securityGroups: fc.array(fc.nat(), { maxLength: 3 }),
      communityTags: fc.array(fc.constantFrom('no-export', '64512:100', 'a&b'), { maxLength: 2 }),
      localPreference: fc.nat(), med: fc.integer({ min: -3, max: 1000 }),
      loadBalance: fc.record({ fields: fc.subarray([...LOAD_BALANCE_FIELDS]), decision: fc.constantFrom('', 'field-hash', 'source-bias') }),
      subProtocol: fc.constantFrom('', 'interface', 'bgpaas'),
    });
    fc.assert(fc.property(entry, fc.constantFrom('compute-1', 'compute-22-with-a-long-name'), fc.boolean(), (e, from, withdraw) => {
      const [p, c] = pair(e, { from, withdraw });
      for (const raw of [p, c]) {
        const scanned = scanAgentRouteStanza(raw);
        if (scanned !== undefined) expect(scanned).to.deep.equal(decodeAgentStanzaFull(raw));
        expect(decodeAgentStanza(raw)).to.deep.equal(decodeAgentStanzaFull(raw));
      }
      const plain = e.nextHops.length === 1 && !/&/.test(JSON.stringify(e));
      if (plain) expect(scanAgentRouteStanza(p)).to.deep.include({ entry: e });
    }), { numRuns: 400 });
  });

  describe('read by the server\'s framer where the stanza lies (AgentRouteReader)', () => {
    const framed = (stream: Buffer, cuts: number[], reader = true): FrameEvent[] => {
      const f = new StreamFramer(1 << 20, true, reader ? new AgentRouteReader() : undefined);
      const bounds = [0, ...cuts, stream.length];
      return bounds.slice(1).flatMap((end, i) => f.push(stream.subarray(bounds[i], end)));
    };
    const [pub, col] = pair(AGENT_ROUTE);
    const [, dis] = pair(AGENT_ROUTE, { withdraw: true });
    const empty = pub.replace(/<item>.*<\/item>/, '');
    const odd = pub.replace('<local-preference>', ' <local-preference>');
    const stream = Buffer.from(encodeAgentStreamOpen('compute-1') + pub + col + '\n' + empty + dis + odd + col.replace('</iq>', '</iq >') + pub);

    it('cuts the same stanzas as the close-tag search, and hands on what the scanner reads of each', () => {
      const plain = framed(stream, []);
      expect(plain.map((e) => e.type === 'stanza' ? e.raw : e.type)).to.deep.equal(framed(stream, [], false).map((e) => e.type === 'stanza' ? e.raw : e.type));
      const stanzas = plain.filter((e): e is Extract<FrameEvent, { type: 'stanza' }> => e.type === 'stanza');
      expect(stanzas.map((e) => e.read !== undefined)).to.deep.equal([true, true, true, true, false, false, true]);
      for (const e of stanzas) expect(e.read).to.deep.equal(e.read === undefined ? undefined : scanAgentRouteStanza(e.raw));
      for (const e of stanzas) expect(decodeAgentStanza(e.raw, e.read)).to.deep.equal(decodeAgentStanzaFull(e.raw));
    });

    it('gives the same stanzas for every split of the stream, read or not', () => {
      const whole = framed(stream, []).map((e) => e.type === 'stanza' ? e.raw : e.type);
      fc.assert(fc.property(fc.nat(stream.length), fc.nat(stream.length), (a, b) => {
        const evs = framed(stream, a < b ? [a, b] : [b, a]);
        expect(evs.map((e) => e.type === 'stanza' ? e.raw : e.type)).to.deep.equal(whole);
        for (const e of evs) if (e.type === 'stanza') expect(decodeAgentStanza(e.raw, e.read)).to.deep.equal(decodeAgentStanzaFull(e.raw));
      }), { numRuns: 300 });
    });

    it('declines a stanza whose value the general decoder must report, which then reports it', () => {
      const bad = pub.replace('<load-balance-fields/>', '<load-balance-fields><load-balance-field-list>l2-mac</load-balance-field-list></load-balance-fields>');
      expect(bad).to.not.equal(pub);
      const [, ...evs] = framed(Buffer.from(encodeAgentStreamOpen('compute-1') + bad + col), []);
      expect(evs.map((e) => e.type === 'stanza' && e.read !== undefined)).to.deep.equal([false, true]);
      const first = evs[0] as Extract<FrameEvent, { type: 'stanza' }>;
      expect(first.raw).to.equal(bad);
      expect(decodeAgentStanza(first.raw, first.read)).to.deep.equal(decodeAgentStanzaFull(bad));
    });
  });
});
