import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  CONTROL_NODE_JID, encodeAgentStreamOpen, encodeEndOfRib, encodeRoutePublish, encodeRouteItems, encodeRouteRetract, encodeServerStreamOpen, encodeSubscribe, encodeUnsubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import {
  decodeAgentStanza, decodeAgentStanzaFull, decodeControlStanza, decodeControlStanzaFull, isStanzaError, validateAgentRoute, type AgentStanza, type ControlStanza, type StanzaError,
} from '../../src/xmpp/stanza-decoder.ts';
import { LOAD_BALANCE_FIELDS, makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';
import { splitStanzas } from '../../src/xmpp/stream-framer.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VN = 'default-domain:demo:svc-vn';

function ok<T>(x: T | StanzaError): T {
  if (isStanzaError(x)) throw new Error(`unexpected StanzaError: ${x.error}`);
  return x;
}

function agentEntry(over: Partial<XmppRouteEntry> = {}): XmppRouteEntry {
  return makeRouteEntry({
    prefix: '10.10.0.100/32',
    nextHops: [makeNextHop({ address: '10.0.0.11', mac: '52:54:00:00:00:0b', label: 17, virtualNetwork: VN })],
    securityGroups: [8000002], localPreference: 200, loadBalance: { fields: [], decision: 'field-hash' },
    subProtocol: 'interface', ...over,
  });
}

describe('stanza codec: byte-exact encoders', () => {
  it('stream headers (docs/protocol.md §2.2): from present, no XML declaration, xmlns:stream last', () => {
    expect(encodeAgentStreamOpen('compute-1')).to.equal(fixture('agent-stream-open.xml'));
    expect(encodeServerStreamOpen('compute-1')).to.equal(fixture('server-stream-open.xml'));
    expect(encodeAgentStreamOpen('compute-1')).to.match(/^<stream:stream from="compute-1" /);
    expect(encodeAgentStreamOpen('compute-1')).to.match(/xmlns:stream="http:\/\/etherx\.jabber\.org\/streams" >$/);
  });

  it('subscribe / unsubscribe with instance-id (docs/protocol.md §3.1)', () => {
    expect(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3, id: 'subscribe4' })).to.equal(fixture('subscribe.xml'));
    expect(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3, id: 'subscribe5', noRibout: true })).to.equal(fixture('subscribe-no-ribout.xml'));
    expect(encodeUnsubscribe({ from: 'compute-1', instance: VRF, instanceId: 3, id: 'unsubscribe6' })).to.equal(fixture('unsubscribe.xml'));
  });

  it('publish + collection associate / dissociate pairs (docs/protocol.md §3.2, §3.3)', () => {
    expect(encodeRoutePublish({ from: 'compute-1', instance: VRF, entry: agentEntry(), seq: 12 })).to.equal(fixture('publish-associate.xml'));
    const wd = agentEntry({ securityGroups: [], nextHops: [makeNextHop({ address: '10.0.0.11', mac: '52:54:00:00:00:0b', label: 0, encapsulations: ['gre', 'udp', 'vxlan'], virtualNetwork: VN })] });
    expect(encodeRoutePublish({ from: 'compute-1', instance: VRF, entry: wd, seq: 13, withdraw: true })).to.equal(fixture('publish-dissociate.xml'));
  });

  it('items with two ECMP next-hops (docs/protocol.md §4.1), retract (docs/protocol.md §4.2), EoR both ways (docs/protocol.md §3.4, §4.3)', () => {
    const nh = (a: string, l: number) => makeNextHop({ address: a, label: l, virtualNetwork: VN });
    const e = makeRouteEntry({ prefix: '10.10.0.100/32', nextHops: [nh('10.0.0.11', 17), nh('10.0.0.12', 21)], virtualNetwork: VN, securityGroups: [8000002], localPreference: 200, med: 100 });
    expect(encodeRouteItems({ to: 'compute-3', instance: VRF, entries: [e] })).to.equal(fixture('items-ecmp.xml'));
    expect(encodeRouteRetract({ to: 'compute-3', instance: VRF, prefixes: ['10.10.0.100/32'] })).to.equal(fixture('retract.xml'));
    expect(encodeEndOfRib({ from: 'compute-1', to: CONTROL_NODE_JID })).to.equal(fixture('agent-end-of-rib.xml'));
    expect(encodeEndOfRib({ from: CONTROL_NODE_JID, to: 'compute-3' })).to.equal(fixture('control-end-of-rib.xml'));
  });

  it('no top-level element is ever self-closed (docs/protocol.md §2.1)', () => {
    for (const f of ['subscribe.xml', 'publish-associate.xml', 'items-ecmp.xml', 'retract.xml', 'agent-end-of-rib.xml']) {
      for (const s of splitStanzas(fixture(f))) expect(s).to.match(/^<(iq|message)\b[^>]*[^/]>.*<\/(iq|message)>$/s);
    }
  });

  it('splits items into messages of at most 32, retracts into at most 256', () => {
    const entries = Array.from({ length: 70 }, (_, i) => makeRouteEntry({ prefix: `10.1.${i}.0/24`, nextHops: [makeNextHop({ address: '10.0.0.1', label: 20 })] }));
    const msgs = splitStanzas(encodeRouteItems({ to: 'c', instance: VRF, entries }));
    expect(msgs).to.have.length(3);
    const counts = msgs.map((m) => (ok(decodeControlStanza(m)) as Extract<ControlStanza, { kind: 'items' }>).entries.length);
    expect(counts).to.deep.equal([32, 32, 6]);
    const prefixes = Array.from({ length: 600 }, (_, i) => `10.2.${i >> 8}.${i & 255}/32`);
    const rs = splitStanzas(encodeRouteRetract({ to: 'c', instance: VRF, prefixes }));
    expect(rs.map((m) => (ok(decodeControlStanza(m)) as Extract<ControlStanza, { kind: 'retract' }>).prefixes.length)).to.deep.equal([256, 256, 88]);
    expect(encodeRouteItems({ to: 'c', instance: VRF, entries: [] })).to.equal('');
  });
});

describe('stanza codec: decoding the reference examples (real agent / control-node layout)', () => {
  it('docs/protocol.md §3.1 subscribe', () => {
    const s = ok(decodeAgentStanza(fixture('reference-3.1-subscribe.xml')));
    expect(s).to.deep.equal({ kind: 'subscribe', from: 'compute-1', id: 'subscribe4', instance: VRF, instanceId: 3, noRibout: false });
  });

  it('docs/protocol.md §3.2 publish + collection, one element per line', () => {
    const [pub, col] = splitStanzas(fixture('reference-3.2-publish-pair.xml').trim().replace(/>\s*\n<iq/, '><iq'));
    const p = ok(decodeAgentStanza(pub)) as Extract<AgentStanza, { kind: 'publish' }>;
    expect(p).to.include({ kind: 'publish', afi: 1, safi: 1, instance: VRF, prefix: '10.10.0.100/32', id: 'pubsub12' });
    expect(p.entry).to.deep.equal(agentEntry());
    expect(p).to.deep.equal(decodeAgentStanzaFull(pub));
    expect(ok(decodeAgentStanza(col))).to.deep.equal({ kind: 'collection', from: 'compute-1', id: 'collection12', instance: VRF, action: 'associate', node: `1/1/${VRF}/10.10.0.100/32` });
  });

  it('docs/protocol.md §4.1 items with two next-hops and docs/protocol.md §4.2 retract', () => {
    const raw = fixture('reference-4.1-items-ecmp.xml').trim();
    const m = ok(decodeControlStanza(raw)) as Extract<ControlStanza, { kind: 'items' }>;
    expect(m).to.deep.equal(decodeControlStanzaFull(raw));
    expect(m.to).to.equal('compute-3');
    expect(m.entries[0].nextHops.map((n) => [n.address, n.label])).to.deep.equal([['10.0.0.11', 17], ['10.0.0.12', 21]]);
    expect(m.entries[0].med).to.equal(100);
    expect(ok(decodeControlStanza(fixture('reference-4.2-retract.xml').trim()))).to.deep.equal({ kind: 'retract', to: 'compute-3', instance: VRF, afi: 1, safi: 1, prefixes: ['10.10.0.100/32'] });
  });

  it('docs/protocol.md §3.4 agent EoR, and a publish with no item (also EoR)', () => {
    expect(ok(decodeAgentStanza(fixture('reference-3.4-end-of-rib.xml').trim()))).to.deep.equal({ kind: 'end-of-rib', from: 'compute-1' });
    const noItem = `<iq type="set" from="c1" to="${CONTROL_NODE_JID}/bgp-peer" id="p1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="1/1/${VRF}/1.2.3.4/32"></publish></pubsub></iq>`;
    expect((ok(decodeAgentStanza(noItem)) as Extract<AgentStanza, { kind: 'publish' }>).entry).to.equal(null);
  });

  it('options as a sibling of <subscribe> (bgp/testdata shape) and no-ribout', () => {
    const raw = `<iq type="set" from="c1" to="${CONTROL_NODE_JID}/bgp-peer" id="s"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="v"/><options><instance-id>7</instance-id><no-ribout>true</no-ribout></options></pubsub></iq>`;
    expect(ok(decodeAgentStanza(raw))).to.deep.include({ kind: 'subscribe', instanceId: 7, noRibout: true });
  });

  it('stanzas to other resources come back as kind other (e.g. /config)', () => {
    const raw = `<iq type="set" from="c1" to="${CONTROL_NODE_JID}/config"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="virtual-router:x"/></pubsub></iq>`;
    const s = ok(decodeAgentStanza(raw)) as Extract<AgentStanza, { kind: 'other' }>;
    expect(s.kind).to.equal('other');
    expect(s.resource).to.equal('config');
    expect(s.element.name).to.equal('iq');
  });
});

const arbNextHop = fc.record({
  af: fc.constantFrom(1, 2), address: fc.ipV4(), mac: fc.constantFrom('', '52:54:00:00:00:0b'),
  label: fc.integer({ min: 0, max: 0xffffff }), vni: fc.nat(1000),
  encapsulations: fc.subarray(['gre', 'udp', 'vxlan', 'mpls']), virtualNetwork: fc.string({ maxLength: 12 }),
  tags: fc.array(fc.nat(), { maxLength: 3 }), localSequenceNumber: fc.nat(),
});
const arbEntry: fc.Arbitrary<XmppRouteEntry> = fc.record({
  af: fc.constant(1), safi: fc.constantFrom(1, 4),
  prefix: fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
  nextHops: fc.array(arbNextHop, { minLength: 0, maxLength: 4 }), version: fc.nat(3),
  virtualNetwork: fc.string({ maxLength: 12 }), mobility: fc.record({ seqno: fc.nat(), sticky: fc.boolean() }),
  sequenceNumber: fc.nat(), securityGroups: fc.array(fc.nat(), { maxLength: 3 }),
  communityTags: fc.array(fc.constantFrom('no-export', '64512:100', 'a&b<c>"d\''), { maxLength: 2 }),
  localPreference: fc.nat(), med: fc.nat(),
  loadBalance: fc.record({ fields: fc.subarray([...LOAD_BALANCE_FIELDS]), decision: fc.constantFrom('', 'field-hash', 'source-bias') }),
  subProtocol: fc.constantFrom('', 'interface', 'interface-static', 'service-interface', 'bgpaas'),
});

describe('stanza codec: properties', () => {
  it('publish round-trips, and the fast path agrees with the full ltx parse', () => {
    fc.assert(fc.property(arbEntry, fc.nat(), (entry, seq) => {
      const [pub, col] = splitStanzas(encodeRoutePublish({ from: 'compute-9', instance: VRF, entry, seq }));
      const fast = ok(decodeAgentStanza(pub));
      expect(fast).to.deep.equal(decodeAgentStanzaFull(pub));
      expect((fast as Extract<AgentStanza, { kind: 'publish' }>).entry).to.deep.equal(entry);
      expect(decodeAgentStanza(col)).to.deep.equal(decodeAgentStanzaFull(col));
    }), { numRuns: 300 });
  });

  it('items round-trip, and the fast path agrees with the full ltx parse', () => {
    fc.assert(fc.property(fc.array(arbEntry, { minLength: 1, maxLength: 5 }), (entries) => {
      const raw = encodeRouteItems({ to: 'compute-2', instance: VRF, entries });
      const d = ok(decodeControlStanza(raw));
      expect(d).to.deep.equal(decodeControlStanzaFull(raw));
      expect((d as Extract<ControlStanza, { kind: 'items' }>).entries).to.deep.equal(entries);
    }), { numRuns: 200 });
  });

  it('decoders never throw on arbitrary or mutated input', () => {
    const base = fixture('publish-associate.xml');
    fc.assert(fc.property(fc.string(), fc.nat(base.length), fc.nat(40), (junk, at, cut) => {
      for (const raw of [junk, base.slice(0, at) + junk + base.slice(at + cut)]) {
        const a = decodeAgentStanza(raw);
        const c = decodeControlStanza(raw);
        expect(a).to.be.an('object');
        expect(c).to.be.an('object');
      }
    }), { numRuns: 500 });
  });
});

describe('stanza codec: bad input gives a typed error', () => {
  const iq = (inner: string) => `<iq type="set" from="c1" to="${CONTROL_NODE_JID}/bgp-peer" id="x"><pubsub xmlns="http://jabber.org/protocol/pubsub">${inner}</pubsub></iq>`;
  const cases: [string, string, RegExp][] = [
    ['malformed XML', iq('<publish node="1/1/v/1.2.3.4/32"><item></publish>'), /malformed/],
    ['unknown stanza', '<presence from="c1"></presence>', /unknown stanza/],
    ['unknown pubsub action', iq('<purge node="v"/>'), /unknown pubsub action/],
    ['DOCTYPE', `<!DOCTYPE iq [<!ENTITY x "y">]>${iq('<subscribe node="&x;"/>')}`, /DOCTYPE/],
    ['undefined entity', iq('<subscribe node="&x;"><options><instance-id>1</instance-id></options></subscribe>'), /malformed/],
    ['non-integer label', iq('<publish node="1/1/v/1.2.3.4/32"><item><entry><nlri><af>1</af><safi>1</safi><address>1.2.3.4/32</address></nlri><next-hops><next-hop><label>x7</label></next-hop></next-hops></entry></item></publish>'), /label: not an integer/],
    ['bad publish node', iq('<publish node="1/1/v"><item/></publish>'), /publish node/],
    ['subscribe without instance-id', iq('<subscribe node="v"></subscribe>'), /instance-id/],
    ['collection without associate', iq('<collection node="v"><frob node="x"/></collection>'), /associate/],
    ['unknown load-balance field', iq('<publish node="1/1/v/1.2.3.4/32"><item><entry><nlri><af>1</af><safi>1</safi><address>1.2.3.4/32</address></nlri><load-balance><load-balance-fields><load-balance-field-list>l5</load-balance-field-list></load-balance-fields></load-balance></entry></item></publish>'), /unknown field/],
  ];
  for (const [name, raw, re] of cases) {
    it(name, () => {
      const r = decodeAgentStanza(raw);
      expect(isStanzaError(r), JSON.stringify(r)).to.equal(true);
      expect((r as StanzaError).error).to.match(re);
    });
  }
});

describe('validateAgentRoute (docs/protocol.md §3.2, §5)', () => {
  const pub = (e: XmppRouteEntry) => ({ afi: 1, safi: 1, prefix: e.prefix, instance: VRF, entry: e });
  const nh = (label: number) => makeNextHop({ address: '10.0.0.11', label });
  it('accepts a well-formed agent route and a withdraw with label 0', () => {
    expect(validateAgentRoute(pub(agentEntry()))).to.equal(null);
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [nh(0)] })), true)).to.equal(null);
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [nh(0xffffff)] })))).to.equal(null);
  });
  it('rejects 0 or 2+ next-hops, label 0 or > 0xFFFFFF, bad prefix, af ≠ 1', () => {
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [] })))).to.match(/exactly one next-hop, got 0/);
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [nh(17), nh(18)] })))).to.match(/exactly one next-hop, got 2/);
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [nh(0)] })))).to.match(/label 0/);
    expect(validateAgentRoute(pub(agentEntry({ nextHops: [nh(0x1000000)] })))).to.match(/label 16777216/);
    expect(validateAgentRoute({ ...pub(agentEntry()), prefix: '10.10.0.300/32' })).to.match(/not a valid IPv4 prefix/);
    expect(validateAgentRoute({ ...pub(agentEntry()), prefix: '10.10.0.1/33' })).to.match(/not a valid IPv4 prefix/);
    expect(validateAgentRoute({ ...pub(agentEntry()), afi: 2 })).to.match(/afi 2/);
    expect(validateAgentRoute(pub(agentEntry({ af: 2 })))).to.match(/af 2/);
  });
});
