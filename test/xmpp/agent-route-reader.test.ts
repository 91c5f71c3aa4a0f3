// The framer's per-session reader: a pair that repeats the session's last one but for its ids, prefix and
// label is read against that template; it must read exactly what the expressions (scanAgentRouteStanza) and
// the general decoder read, and decline whatever they decline, for every input and every split.
import { expect } from 'chai';
import fc from 'fast-check';
import { AgentRouteReader } from '../../src/xmpp/agent-route-reader.ts';
import { scanAgentRouteStanza } from '../../src/xmpp/publish-scanner.ts';
import { decodeAgentStanza, decodeAgentStanzaFull } from '../../src/xmpp/stanza-decoder.ts';
import { encodeAgentStreamOpen, encodeRoutePublish } from '../../src/xmpp/stanza-encoder.ts';
import { StreamFramer, splitStanzas, type FrameEvent } from '../../src/xmpp/stream-framer.ts';
import { makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';

const VRF = 'default-domain:demo:vn:vn';
const HEADER = encodeAgentStreamOpen('compute-1');

const route = (prefix: string, label: number, over: Partial<XmppRouteEntry> = {}): XmppRouteEntry => makeRouteEntry({
  prefix, localPreference: 200,
  nextHops: [makeNextHop({ address: '10.0.0.1', label, virtualNetwork: 'default-domain:demo:vn' })],
  loadBalance: { fields: [], decision: 'field-hash' }, subProtocol: 'interface', ...over,
});

const pairText = (entry: XmppRouteEntry, seq: number, o: { from?: string; withdraw?: boolean; instance?: string } = {}): string =>
  encodeRoutePublish({ from: o.from ?? 'compute-1', instance: o.instance ?? VRF, entry, seq, withdraw: o.withdraw });

type Stanza = Extract<FrameEvent, { type: 'stanza' }>;

function frame(stream: string, cuts: number[] = [], reader = new AgentRouteReader()): Stanza[] {
  const bytes = Buffer.from(stream);
  const f = new StreamFramer(1 << 20, true, reader);
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const evs = bounds.slice(1).flatMap((end, i) => f.push(bytes.subarray(bounds[i], end)));
  return evs.filter((e): e is Stanza => e.type === 'stanza');
}

/** Every stanza read as the expressions read it alone, and decoded as the general decoder decodes it. */
function expectExact(stanzas: Stanza[]): void {
  for (const e of stanzas) {
    expect(e.read).to.deep.equal(scanAgentRouteStanza(e.raw), e.raw);
    expect(decodeAgentStanza(e.raw, e.read)).to.deep.equal(decodeAgentStanzaFull(e.raw), e.raw);
  }
}

describe('xmpp/agent-route-reader', () => {
  it('reads a run of an agent\'s pairs, the collection naming its publish\'s node with the same string', () => {
    let text = HEADER;
    for (let i = 0; i < 20; i++) text += pairText(route(`10.1.${i}.3/32`, 16 + i), i + 1);
    const reader = new AgentRouteReader();
    const stanzas = frame(text, [], reader);
    expect(stanzas).to.have.length(40);
    // The first publish is a candidate, the second gives the template (unless one learned before fits); every
    // later stanza is read by it.
    expect(reader.templateReads).to.be.at.least(37);
    expect(stanzas.every((e) => e.read !== undefined)).to.equal(true);
    expectExact(stanzas);
    for (let i = 0; i < 40; i += 2) {
      const [p, c] = [stanzas[i].read, stanzas[i + 1].read];
      if (p?.kind !== 'publish' || c?.kind !== 'collection') throw new Error('not a pair');
      expect(c.node).to.equal(p.node);
      expect(p.entry?.nextHops[0].label).to.equal(16 + i / 2);
    }
  });

  it('shares a template between sessions whose routes differ only in agent, next hop, MAC, prefix and label', () => {
    const stream = (agent: number): string => {
      let text = encodeAgentStreamOpen(`compute-${agent}`);
      for (let i = 0; i < 5; i++) {
        const e = route(`10.${agent}.${i}.3/32`, 16 + i);
        e.nextHops[0].address = `10.0.0.${agent}`;
        // Each compute's own vhost0 MAC, as agents send it.
        e.nextHops[0].mac = `02:00:0a:00:00:0${agent}`;
        text += pairText(e, i + 1, { from: `compute-${agent}` });
      }
      return text;
    };
    const [a, b] = [new AgentRouteReader(), new AgentRouteReader()];
    const sa = frame(stream(1), [], a);
    const sb = frame(stream(2), [], b);
    expectExact(sa);
    expectExact(sb);
    expect(a.templateReads).to.be.at.least(9);
    // The second session reads even its first publish by the template the first one learned.
    expect(b.templateReads).to.equal(10);
    expect(sb.map((e) => e.read?.from)).to.deep.equal(Array(10).fill('compute-2'));
    expect(sb.map((e) => e.read?.kind === 'publish' && e.read.entry?.nextHops[0].address).filter(Boolean)).to.deep.equal(Array(5).fill('10.0.0.2'));
    expect(sb.map((e) => e.read?.kind === 'publish' && e.read.entry?.nextHops[0].mac).filter(Boolean)).to.deep.equal(Array(5).fill('02:00:0a:00:00:02'));
  });

  it('keeps two templates for an agent that publishes two kinds of routes in turn', () => {
    let text = HEADER;
    for (let i = 0; i < 10; i++) text += pairText(route(`10.9.${i}.3/32`, 16 + i, { localPreference: i % 2 === 0 ? 100 : 300 }), i + 1);
    const reader = new AgentRouteReader();
    const stanzas = frame(text, [], reader);
    expectExact(stanzas);
    // At most the first two publishes of each kind are read by the full expression.
    expect(reader.templateReads).to.be.at.least(14);
  });

  it('compiles no template for shapes that do not come again', () => {
    let text = HEADER;
    // Every route with a local preference of its own, in an instance no other test uses (whose collections no
    // template learned before reads).
    const instance = 'default-domain:demo:one-off:one-off';
    for (let i = 0; i < 6; i++) text += pairText(route(`10.8.${i}.3/32`, 16 + i, { localPreference: 7000 + i }), i + 1, { instance });
    const reader = new AgentRouteReader();
    const stanzas = frame(text, [], reader);
    expectExact(stanzas);
    expect(stanzas.every((e) => e.read !== undefined)).to.equal(true);
    expect(reader.templateReads).to.equal(0);
  });

  it('hands out entries of their own', () => {
    const stanzas = frame(HEADER + pairText(route('10.1.2.3/32', 17), 1) + pairText(route('10.1.2.4/32', 18), 2) + pairText(route('10.1.2.5/32', 19), 3));
    const [a, b, c] = [stanzas[0].read, stanzas[2].read, stanzas[4].read];
    if (a?.kind !== 'publish' || b?.kind !== 'publish' || c?.kind !== 'publish' || !a.entry || !b.entry || !c.entry) throw new Error('not publishes');
    expect(b.entry.nextHops[0].encapsulations).not.to.equal(a.entry.nextHops[0].encapsulations);
    b.entry.nextHops[0].encapsulations.push('vxlan');
    b.entry.mobility.seqno = 9;
    expect(c.entry).to.deep.equal(route('10.1.2.5/32', 19));
  });

  // Edits of the second pair's text, after the first has given the template: each must be read, or declined,
  // exactly as the expressions and the general decoder do.
  const first = pairText(route('10.1.2.3/32', 17), 1);
  const [pub, col] = splitStanzas(pairText(route('10.1.2.4/32', 18), 2));
  // Read against the template: the label's text as an INT group.
  const labels: [string, number][] = [['', 0], ['-18', -18], ['-0', -0], ['123456789012345', 123456789012345], ['0018', 18]];
  for (const [text, value] of labels) {
    it(`reads a label of ${JSON.stringify(text)} against the template as ${Object.is(value, -0) ? '-0' : value}`, () => {
      const reader = new AgentRouteReader();
      const f = new StreamFramer(1 << 20, true, reader);
      const before = f.push(Buffer.from(HEADER + first)).filter((e): e is Stanza => e.type === 'stanza');
      const reads = reader.templateReads;
      const after = f.push(Buffer.from(pub.replace('<label>18</label>', `<label>${text}</label>`) + col)).filter((e): e is Stanza => e.type === 'stanza');
      expect(reader.templateReads - reads).to.equal(2);
      const stanzas = [...before, ...after];
      const read = stanzas[2].read;
      if (read?.kind !== 'publish' || !read.entry) throw new Error('not read');
      expect(Object.is(read.entry.nextHops[0].label, value)).to.equal(true);
      expectExact(stanzas);
    });
  }
  const edits: [string, string][] = [
    ['an empty label', pub.replace('<label>18</label>', '<label></label>')],
    ['a negative label', pub.replace('<label>18</label>', '<label>-18</label>')],
    ['a label of -0', pub.replace('<label>18</label>', '<label>-0</label>')],
    ['a lone minus for a label', pub.replace('<label>18</label>', '<label>-</label>')],
    ['a label of 15 digits', pub.replace('<label>18</label>', '<label>123456789012345</label>')],
    ['a label of 16 digits', pub.replace('<label>18</label>', '<label>1234567890123456</label>')],
    ['a label with leading zeros', pub.replace('<label>18</label>', '<label>0018</label>')],
    ['a label with a blank', pub.replace('<label>18</label>', '<label>18 </label>')],
    ['an NLRI address that is not the prefix', pub.replace('<address>10.1.2.4/32</address>', '<address>10.1.2.5/32</address>')],
    ['an NLRI address longer than the prefix', pub.replace('<address>10.1.2.4/32</address>', '<address>10.1.2.4/320</address>')],
    ['an NLRI address shorter than the prefix', pub.replace('<address>10.1.2.4/32</address>', '<address>10.1.2.4/3</address>')],
    ['a prefix without a slash', pub.replace(`${VRF}/10.1.2.4/32"`, `${VRF}/10.1.2.4"`).replace('<address>10.1.2.4/32<', '<address>10.1.2.4<')],
    ['a prefix with two slashes', pub.replace(`${VRF}/10.1.2.4/32"`, `${VRF}/10.1.2.4/32/1"`).replace('<address>10.1.2.4/32<', '<address>10.1.2.4/32/1<')],
    ['an empty prefix', pub.replace(`${VRF}/10.1.2.4/32"`, `${VRF}/"`)],
    ['an id with an entity', pub.replace('id="pubsub2"', 'id="pub&amp;sub2"')],
    ['an empty id', pub.replace('id="pubsub2"', 'id=""')],
    ['another from', pub.replace('from="compute-1"', 'from="compute-2"')],
    ['another instance', pub.replace(`node="1/1/${VRF}/`, `node="1/1/${VRF}x/`)],
    ['safi 4', pub.replace('node="1/1/', 'node="1/4/')],
    ['another next hop', pub.replace('<address>10.0.0.1</address>', '<address>10.0.0.2</address>')],
    ['another local preference', pub.replace('<local-preference>200<', '<local-preference>100<')],
    ['blanks in the tail', pub.replace('<med>0</med>', '<med>0</med> ')],
    ['no item (End-of-RIB)', pub.replace(/<item>.*<\/item>/, '')],
    ['a dissociate', col.replace('<associate ', '<dissociate ')],
    ['a collection of another node', col.replace('10.1.2.4/32"/>', '10.1.2.5/32"/>')],
    ['a collection of another instance', col.replace(`<collection node="${VRF}"`, `<collection node="${VRF}x"`)],
    ['a collection without its quote', col.replace('32"/></collection>', '32/></collection>')],
    ['a collection of a node in another instance', col.replace(`node="1/1/${VRF}/`, `node="1/1/${VRF}x/`)],
    ['a collection of the publish node with safi 4', col.replace('node="1/1/', 'node="1/4/')],
  ];
  for (const [what, edited] of edits) {
    it(`reads ${what} as the expressions and the general decoder do, whole or split`, () => {
      const isPub = edited.includes('<publish');
      const tail = isPub ? edited + col : pub + edited;
      expect(tail).to.not.equal(pub + col);
      const text = HEADER + first + tail + pairText(route('10.1.2.9/32', 19), 3);
      const whole = frame(text);
      expectExact(whole);
      const raws = whole.map((e) => e.raw);
      const at = Buffer.byteLength(HEADER + first);
      for (let cut = at; cut <= at + Buffer.byteLength(tail); cut += 37) {
        const split = frame(text, [cut]);
        expect(split.map((e) => e.raw)).to.deep.equal(raws);
        expectExact(split);
      }
    });
  }

  it('agrees with the expressions on random runs of pairs from two agents, for every split', () => {
    const entry = fc.record({
      prefix: fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
      label: fc.integer({ min: -3, max: 0xfffff }),
      lp: fc.constantFrom(100, 200), vn: fc.constantFrom('default-domain:demo:vn', 'a&b'),
      from: fc.constantFrom('compute-1', 'compute-22-with-a-long-name'), withdraw: fc.boolean(),
      instance: fc.constantFrom(VRF, 'default-domain:demo:other:other'), orphan: fc.nat(9),
    });
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 3 }), (runs, cuts) => {
      let text = HEADER;
      runs.forEach((r, i) => {
        const e = route(r.prefix, r.label, { localPreference: r.lp });
        e.nextHops[0].virtualNetwork = r.vn;
        const [p, c] = splitStanzas(pairText(e, i + 1, { from: r.from, withdraw: r.withdraw, instance: r.instance }));
        // Now and then a collection alone, or a publish without its collection.
        text += r.orphan === 0 ? c : r.orphan === 1 ? p : p + c;
      });
      const length = Buffer.byteLength(text);
      const whole = frame(text);
      expectExact(whole);
      const split = frame(text, cuts.map((c) => c % (length + 1)));
      expect(split.map((e) => e.raw)).to.deep.equal(whole.map((e) => e.raw));
      expectExact(split);
    }), { numRuns: 300 });
  });
});
