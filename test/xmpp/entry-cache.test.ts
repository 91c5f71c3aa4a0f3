import { expect } from 'chai';
import { EntryCache, ownString } from '../../src/xmpp/entry-cache.ts';
import { encodeRouteItems } from '../../src/xmpp/stanza-encoder.ts';
import { decodeControlStanza, isStanzaError } from '../../src/xmpp/stanza-decoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';

const VRF = 'default-domain:scale:vn:vn';
const entry = (prefix: string, address: string, label: number) => makeRouteEntry({ prefix, nextHops: [makeNextHop({ address, label })] });

function items(to: string, entries: ReturnType<typeof entry>[]) {
  const decoded = decodeControlStanza(encodeRouteItems({ to, instance: VRF, entries }), cache);
  if (isStanzaError(decoded) || decoded.kind !== 'items') throw new Error(`not items: ${JSON.stringify(decoded)}`);
  return decoded;
}

let cache: EntryCache;

describe('xmpp/entry-cache: agents of one process share decoded route entries', () => {
  beforeEach(() => { cache = new EntryCache(4); });

  it('decodes an entry text once: the same object for every agent that receives it, equal to an uncached decode', () => {
    const e1 = entry('10.8.0.16/32', '127.9.0.1', 16);
    const e2 = entry('10.8.0.17/32', '127.9.0.2', 17);
    const a = items('compute-1', [e1, e2]);
    const b = items('compute-2', [e2, e1]);
    expect(b.entries[1]).to.equal(a.entries[0]);
    expect(b.entries[0]).to.equal(a.entries[1]);
    expect(cache.misses).to.equal(2);
    expect(cache.hits).to.equal(2);
    const plain = decodeControlStanza(encodeRouteItems({ to: 'compute-1', instance: VRF, entries: [e1, e2] }));
    expect(plain).to.deep.equal({ ...a, entries: a.entries });
    expect(a.entries[0]).to.deep.equal(e1);
  });

  it('decodes a message body once: another agent\'s message with the same items gets the same entries', () => {
    const e1 = entry('10.8.0.16/32', '127.9.0.1', 16);
    const e2 = entry('10.8.0.17/32', '127.9.0.2', 17);
    const a = items('compute-1', [e1, e2]);
    const b = items('compute-2', [e1, e2]);
    expect(cache.bodyHits).to.equal(1);
    expect(b.to).to.equal('compute-2');
    expect(b.instance).to.equal(a.instance);
    expect(b.entries).to.have.length(2);
    expect(b.entries[0]).to.equal(a.entries[0]);
    expect(b.entries[1]).to.equal(a.entries[1]);
    // one item more is another body: its entries are looked up one by one
    const c = items('compute-3', [e1, e2, entry('10.8.0.18/32', '127.9.0.3', 18)]);
    expect(cache.bodyHits).to.equal(1);
    expect(c.entries[0]).to.equal(a.entries[0]);
  });

  it('a changed entry (another label) is another text: decoded anew', () => {
    const first = items('compute-1', [entry('10.8.0.16/32', '127.9.0.1', 16)]).entries[0];
    const changed = items('compute-1', [entry('10.8.0.16/32', '127.9.0.1', 18)]).entries[0];
    expect(changed).to.not.equal(first);
    expect(changed.nextHops[0].label).to.equal(18);
  });

  it('keeps at most maxEntries, oldest out first, and refuses a size below 1', () => {
    for (let i = 0; i < 6; i++) items('compute-1', [entry(`10.8.0.${i + 16}/32`, '127.9.0.1', 16 + i)]);
    expect(cache.size).to.equal(4);
    expect(() => new EntryCache(0)).to.throw(RangeError, /maxEntries must be a positive integer/);
  });

  it('interns names: one copy of an instance name for all stanzas', () => {
    const a = items('compute-1', [entry('10.8.0.16/32', '127.9.0.1', 16)]);
    const b = items('compute-2', [entry('10.8.0.17/32', '127.9.0.1', 17)]);
    expect(a.instance).to.equal(VRF);
    expect(cache.name(`${VRF}`)).to.equal(b.instance);
    expect(ownString('abc')).to.equal('abc');
  });
});
