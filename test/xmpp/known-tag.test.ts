import { expect } from 'chai';
import fc from 'fast-check';
import { KnownTag, readKnownTag, readOpenTag } from '../../src/xmpp/xml-text.ts';
import { encodeRoutePublish } from '../../src/xmpp/stanza-encoder.ts';
import { decodeAgentStanza, decodeAgentStanzaFull } from '../../src/xmpp/stanza-decoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';

const KNOWN = ['type', 'from', 'to', 'id', 'node', 'xmlns'] as const;

describe('xmpp/readKnownTag (the agent fast path\'s start-tag reader)', () => {
  it('reads name, end, self-closing and the known attributes, absent ones undefined', () => {
    const tag = new KnownTag();
    const s = `xx<iq type="set" from='a&amp;b' to="cn/bgp-peer" id="p1" >rest`;
    expect(readKnownTag(s, 2, tag)).to.equal(true);
    expect({ name: tag.name, type: tag.type, from: tag.from, to: tag.to, id: tag.id, node: tag.node, xmlns: tag.xmlns })
      .to.deep.equal({ name: 'iq', type: 'set', from: 'a&b', to: 'cn/bgp-peer', id: 'p1', node: undefined, xmlns: undefined });
    expect(tag.end).to.equal(s.indexOf('rest'));
    expect(tag.selfClosing).to.equal(false);
    expect(readKnownTag('<associate node="1/1/vn/10.0.0.1/32"/>', 0, tag)).to.equal(true);
    expect([tag.name, tag.node, tag.from, tag.selfClosing]).to.deep.equal(['associate', '1/1/vn/10.0.0.1/32', undefined, true]);
  });

  it('declines an unknown attribute and rejects a repeated one', () => {
    const tag = new KnownTag();
    expect(readKnownTag('<iq type="set" xml:lang="en">', 0, tag)).to.equal(false);
    expect(readKnownTag('<iq id="1" id="2">', 0, tag)).to.equal(false);
  });

  it('agrees with readOpenTag on tags whose attributes are all known', () => {
    const value = fc.constantFrom('', 'set', 'a&amp;b', 'x<y', '&bogus;', 'cn/bgp-peer', "it's");
    const attr = fc.tuple(fc.constantFrom(...KNOWN), value, fc.constantFrom('"', "'"), fc.constantFrom(' ', '  ', '\n'));
    const end = fc.constantFrom('>', '/>', ' >', '/ >', '');
    fc.assert(
      fc.property(fc.constantFrom('iq', 'publish', 'x'), fc.array(attr, { maxLength: 4 }), end, (name, attrs, close) => {
        const text = `<${name}` + attrs.map(([n, v, q, sp]) => `${sp}${n}=${q}${v}${q}`).join('') + close;
        const tag = new KnownTag();
        const open = readOpenTag(text, 0);
        expect(readKnownTag(text, 0, tag)).to.equal(open !== null);
        if (open === null) return;
        expect([tag.name, tag.end, tag.selfClosing]).to.deep.equal([open.name, open.end, open.selfClosing]);
        for (const k of KNOWN) expect(tag[k]).to.equal(open.attrs[k]);
      }),
      { numRuns: 2000 },
    );
  });

  it('publish and collection with extra or repeated attributes decode as the full parse does', () => {
    const entry = makeRouteEntry({ prefix: '10.1.2.3/32', nextHops: [makeNextHop({ address: '192.168.1.1', label: 17 })] });
    const pair = encodeRoutePublish({ from: 'agent-a', instance: 'default-domain:p:vn:vn', entry, seq: 1 });
    const cut = pair.indexOf('</iq>') + '</iq>'.length;
    for (const raw of [pair.slice(0, cut), pair.slice(cut)]) {
      const variants = [
        raw.replace('<iq ', '<iq xml:lang="en" '),
        raw.replace('<iq ', '<iq id="dup" '),
        raw.replace(/<(publish|collection) /, '<$1 extra="1" '),
        raw.replace(/node="/, 'node="x" node="'),
      ];
      for (const v of variants) {
        expect(v).to.not.equal(raw);
        expect(decodeAgentStanza(v)).to.deep.equal(decodeAgentStanzaFull(v));
      }
    }
  });
});
