import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { StreamFramer, countStanzas, splitStanzas, type FrameEvent } from '../../src/xmpp/stream-framer.ts';
import { encodeAgentStreamOpen } from '../../src/xmpp/stanza-encoder.ts';
import { entryFromString, NOT_FAST } from '../../src/xmpp/route-entry.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const KA = Buffer.from([0xc8, 0x80]);
const HEADER = encodeAgentStreamOpen('compute-1');
const [PUB, COL] = splitStanzas(fixture('publish-associate.xml'));
const ITEMS = fixture('items-ecmp.xml');

function feed(chunks: (Buffer | string)[], max = 1 << 20): FrameEvent[] {
  const f = new StreamFramer(max);
  return chunks.flatMap((c) => f.push(typeof c === 'string' ? Buffer.from(c) : c));
}

const kinds = (evs: FrameEvent[]) => evs.map((e) => e.type);

describe('stream framer (docs/protocol.md §2.1)', () => {
  it('frames header, keepalives and stanzas; a run of blanks is one keepalive', () => {
    const evs = feed([Buffer.concat([Buffer.from(HEADER), KA, Buffer.from(PUB + '\n  '), KA, Buffer.from(COL), KA, KA])]);
    expect(kinds(evs)).to.deep.equal(['header', 'keepalive', 'stanza', 'keepalive', 'stanza', 'keepalive']);
    expect(evs[0]).to.deep.include({ raw: HEADER });
    expect((evs[0] as { attrs: Record<string, string> }).attrs.from).to.equal('compute-1');
    expect(evs.filter((e) => e.type === 'stanza').map((e) => (e as { raw: string }).raw)).to.deep.equal([PUB, COL]);
  });

  it('gives the same frames for every split of the byte stream into two or three segments', () => {
    const stream = Buffer.concat([Buffer.from(HEADER), KA, Buffer.from(PUB + COL), KA, Buffer.from(ITEMS), KA]);
    const whole = feed([stream]);
    fc.assert(fc.property(fc.nat(stream.length), fc.nat(stream.length), (a, b) => {
      const [x, y] = a < b ? [a, b] : [b, a];
      expect(feed([stream.subarray(0, x), stream.subarray(x, y), stream.subarray(y)])).to.deep.equal(whole);
    }), { numRuns: 400 });
    // and byte by byte, which splits the UTF-8 keepalive C8|80
    expect(feed([...stream].map((b) => Buffer.from([b])))).to.deep.equal(whole);
  });

  it('decodes characters of two, three and four bytes cut anywhere, among ASCII segments', () => {
    const text = '<iq type="set"><x>é€𝄞</x></iq>';
    const stream = Buffer.concat([Buffer.from(HEADER), Buffer.from(PUB + text), KA, Buffer.from(COL + text + text.replace('é', 'e')), KA]);
    const whole = feed([stream]);
    expect(whole.filter((e) => e.type === 'stanza').map((e) => (e as { raw: string }).raw)).to.deep.equal([PUB, text, COL, text, text.replace('é', 'e')]);
    for (let cut = 1; cut < stream.length; cut++) expect(feed([stream.subarray(0, cut), stream.subarray(cut)])).to.deep.equal(whole);
    fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 5 }), (cuts) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), stream.length];
      expect(feed(bounds.slice(1).map((end, i) => stream.subarray(bounds[i], end)))).to.deep.equal(whole);
    }), { numRuns: 300 });
    expect(feed([...stream].map((b) => Buffer.from([b])))).to.deep.equal(whole);
  });

  it('ends a stanza at the first matching close tag, whitespace allowed before >', () => {
    const evs = feed([HEADER + '<iq type="set"><x>a</x></iq  ><message to="a"><b/></message\n>']);
    expect(evs.slice(1).map((e) => (e as { raw: string }).raw)).to.deep.equal(['<iq type="set"><x>a</x></iq  >', '<message to="a"><b/></message\n>']);
  });

  it('skips near-miss close tags and waits inside a close tag split by the segment boundary', () => {
    const stanza = '<iq type="set"><iqx/></iqx></iq\tx></iq \n\t >';
    const whole = feed([HEADER + stanza]);
    expect(whole.slice(1).map((e) => (e as { raw: string }).raw)).to.deep.equal([stanza]);
    for (let cut = 1; cut < stanza.length; cut++) expect(feed([HEADER + stanza.slice(0, cut), stanza.slice(cut)])).to.deep.equal(whole);
  });

  it('accepts <?xml version="1.0"?> before the header, rejects the single-quoted one', () => {
    expect(kinds(feed(['<?xml version="1.0"?>' + HEADER]))).to.deep.equal(['header']);
    const bad = feed(["<?xml version='1.0'?>" + HEADER]);
    expect(kinds(bad)).to.deep.equal(['error']);
  });

  it('rejects a header whose last attribute is not xmlns:stream', () => {
    const evs = feed(['<stream:stream xmlns:stream="http://etherx.jabber.org/streams" from="a">']);
    expect(evs).to.have.length(1);
    expect(evs[0]).to.deep.include({ type: 'error' });
    expect((evs[0] as { reason: string }).reason).to.match(/xmlns:stream must be its last attribute/);
  });

  it('rejects unknown top-level data, a self-closed stanza and junk before the header', () => {
    expect((feed([HEADER + '<presence/>'])[1] as { reason: string }).reason).to.match(/unknown top-level/);
    expect(feed([HEADER + '<iqx></iqx>'])[1]).to.deep.include({ type: 'error' });
    expect(feed(['hello' + HEADER])[0]).to.deep.include({ type: 'error' });
    // A self-closed <iq/> is never framed: the framer keeps waiting for </iq>, bounded by the size cap.
    expect(kinds(feed([HEADER + '<iq type="set"/>']))).to.deep.equal(['header']);
  });

  it('reports the end of stream', () => {
    expect(kinds(feed([HEADER, '</stream:stream>']))).to.deep.equal(['header', 'stream-end']);
  });

  // Segments longer than the framer's head (4,096 characters): a stanza cut by a segment boundary is finished
  // on a join of its start and the next segment's head, the rest read in that segment's own text.
  describe('segments of many stanzas', () => {
    const bigIq = '<iq type="set">' + 'y'.repeat(9000) + '</iq >';
    const run = Buffer.concat([Buffer.from((PUB + COL).repeat(30) + PUB + COL + '\n' + ITEMS + '  ' + bigIq + PUB + COL), KA, Buffer.from((PUB + COL).repeat(30))]);
    const stream = Buffer.concat([Buffer.from(HEADER), run, KA, KA, run]);
    // The reference: every segment joined whole to what the last one left.
    const split = (bytes: Buffer, cuts: number[], max?: number, headChars?: number): FrameEvent[] => {
      const f = new StreamFramer(max ?? 1 << 20, true, undefined, headChars);
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
      return bounds.slice(1).flatMap((end, i) => f.push(bytes.subarray(bounds[i], end)));
    };

    it('gives the same frames for every split into segments of several thousand bytes', () => {
      const whole = split(stream, []);
      expect(whole.filter((e) => e.type === 'stanza').length).to.be.greaterThan(150);
      fc.assert(fc.property(fc.array(fc.nat(stream.length), { minLength: 1, maxLength: 6 }), (cuts) => {
        const evs = split(stream, cuts);
        expect(evs).to.deep.equal(split(stream, cuts, undefined, Infinity));
        // A run of blanks cut in two is two keepalives; the stanzas are the same.
        expect(evs.filter((e) => e.type !== 'keepalive')).to.deep.equal(whole.filter((e) => e.type !== 'keepalive'));
      }), { numRuns: 300 });
    });

    it('gives the events and errors of whole joins, size caps included, for every split', () => {
      const bad = Buffer.from(HEADER + (PUB + COL).repeat(10) + '<iq type="set">' + 'z'.repeat(6000) + '</iq>' + (PUB + COL).repeat(5) + '<presence/>' + PUB);
      for (const max of [1 << 20, 5000, 7000, 9000]) {
        expect(kinds(split(bad, [], max)).at(-1)).to.equal('error');
        fc.assert(fc.property(fc.array(fc.nat(bad.length), { minLength: 1, maxLength: 4 }), (cuts) => {
          expect(split(bad, cuts, max)).to.deep.equal(split(bad, cuts, max, Infinity));
        }), { numRuns: 200 });
      }
    });
  });

  it('caps a stanza at maxStanzaBytes, whether it arrives whole or in pieces', () => {
    const big = '<iq type="set">' + 'x'.repeat(2000) + '</iq>';
    expect(kinds(feed([HEADER + big], 1000))).to.deep.equal(['header', 'error']);
    const f = new StreamFramer(1000);
    const evs = [...f.push(Buffer.from(HEADER)), ...f.push(Buffer.from('<iq type="set">' + 'x'.repeat(600))), ...f.push(Buffer.from('x'.repeat(600)))];
    expect(kinds(evs)).to.deep.equal(['header', 'error']);
    expect(f.push(Buffer.from('</iq>'))).to.deep.equal([]);
  });
});

describe('countStanzas (what XmppServerSession.send counts without a tap)', () => {
  it('counts what splitStanzas cuts, on our messages and on anything else', () => {
    expect(countStanzas(PUB + COL + ITEMS.trim())).to.equal(3);
    expect(countStanzas('')).to.equal(0);
    const piece = fc.constantFrom(PUB, COL, '<iq>', '</iq>', '<message>', '</message>', 'x', ' ', '<iq', '<message');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const raw = parts.join('');
        expect(countStanzas(raw)).to.equal(splitStanzas(raw).length);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fast entry scanner is the path actually taken for the shapes peers emit', () => {
  for (const [name, raw] of [['our publish', PUB], ['our items', ITEMS], ['docs/protocol.md §3.2', fixture('reference-3.2-publish-pair.xml')], ['docs/protocol.md §4.1', fixture('reference-4.1-items-ecmp.xml')]] as const) {
    it(name, () => {
      const r = entryFromString(raw, raw.indexOf('<entry>') + '<entry>'.length);
      expect(r).to.not.equal(NOT_FAST);
    });
  }
  it('falls back (NOT_FAST) for a reordered entry', () => {
    const raw = '<entry><version>1</version><nlri><af>1</af><safi>1</safi><address>1.2.3.4/32</address></nlri></entry>';
    expect(entryFromString(raw, 7)).to.equal(NOT_FAST);
  });
});
