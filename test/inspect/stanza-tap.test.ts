import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { StanzaTap, type StanzaRecord } from '../../src/inspect/stanza-tap.ts';
import { prettyXml } from '../../src/inspect/xml-pretty.ts';
import {
  CONTROL_NODE_JID, encodeAgentStreamOpen, encodeEndOfRib, encodeRouteItems, encodeRoutePublish, encodeRouteRetract, encodeSubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';
import { splitStanzas } from '../../src/xmpp/stream-framer.ts';

const V1 = 'default-domain:demo:a:a';
const V2 = 'default-domain:demo:b:b';
const entry = (p: string, ...labels: number[]) => makeRouteEntry({ prefix: p, nextHops: labels.map((l, i) => makeNextHop({ address: `127.0.20.${i + 1}`, label: l })) });

function fill(tap: StanzaTap): void {
  tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'out', raw: encodeAgentStreamOpen('compute-1') });
  tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'out', raw: encodeSubscribe({ from: 'compute-1', instance: V1, instanceId: 1 }) });
  for (const s of splitStanzas(encodeRoutePublish({ from: 'compute-1', instance: V1, entry: entry('10.0.0.1/32', 17), seq: 1 }))) {
    tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'out', raw: s });
  }
  tap.record({ node: 'control-1', peer: 'compute-2', direction: 'out', raw: encodeRouteItems({ to: 'compute-2', instance: V1, entries: [entry('10.0.0.1/32', 17, 18), entry('10.0.0.2/32', 19)] }) });
  tap.record({ node: 'control-1', peer: 'compute-2', direction: 'out', raw: encodeRouteRetract({ to: 'compute-2', instance: V2, prefixes: ['10.9.0.0/24'] }) });
  tap.record({ node: 'control-1', peer: 'compute-2', direction: 'out', raw: encodeEndOfRib({ from: CONTROL_NODE_JID, to: 'compute-2' }) });
  tap.record({ node: 'control-1', peer: 'compute-2', direction: 'in', raw: '<iq type="set"><broken></iq>' });
}

describe('stanza tap', () => {
  it('summarises every kind and extracts VRF and prefixes', () => {
    const tap = new StanzaTap();
    fill(tap);
    const rs = tap.list();
    expect(rs.map((r) => r.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rs.map((r) => r.summary)).to.deep.equal([
      `stream open from=compute-1 to=${CONTROL_NODE_JID}`,
      `subscribe ${V1} instance-id 1`,
      `publish ${V1} 10.0.0.1/32 nh 127.0.20.1:17`,
      `collection associate ${V1} 10.0.0.1/32`,
      `items ${V1} 10.0.0.1/32 10.0.0.2/32`,
      `retract ${V2} 10.9.0.0/24`,
      'end-of-rib',
      rs[7].summary,
    ]);
    expect(rs[7].summary).to.match(/^undecodable: malformed XML/);
    expect(rs[4]).to.deep.include({ vrf: V1, prefixes: ['10.0.0.1/32', '10.0.0.2/32'] });
    expect(rs[0].time).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('filters by node, peer, direction, VRF, prefix, sinceSeq and limit', () => {
    const tap = new StanzaTap();
    fill(tap);
    const seqs = (rs: StanzaRecord[]) => rs.map((r) => r.seq);
    expect(seqs(tap.list({ node: 'compute-1' }))).to.deep.equal([1, 2, 3, 4]);
    expect(seqs(tap.list({ peer: 'compute-2', direction: 'in' }))).to.deep.equal([8]);
    expect(seqs(tap.list({ vrf: V1 }))).to.deep.equal([2, 3, 4, 5]);
    expect(seqs(tap.list({ prefix: '10.0.0.1/32' }))).to.deep.equal([3, 4, 5]);
    expect(seqs(tap.list({ prefix: '10.0.0.1/32', node: 'control-1' }))).to.deep.equal([5]);
    expect(seqs(tap.list({ sinceSeq: 5 }))).to.deep.equal([6, 7, 8]);
    expect(seqs(tap.list({ limit: 2 }))).to.deep.equal([7, 8]);
  });

  it('is a bounded ring: keeps the newest `capacity` records', () => {
    const tap = new StanzaTap({ capacity: 3 });
    for (let i = 0; i < 10; i++) tap.record({ node: 'n', peer: 'p', direction: 'in', raw: encodeSubscribe({ from: 'c', instance: V1, instanceId: i }) });
    expect(tap.list().map((r) => r.seq)).to.deep.equal([8, 9, 10]);
    expect(() => new StanzaTap({ capacity: 0 })).to.throw(RangeError);
  });

  it('follows matching records until unsubscribed; a throwing follower is dropped, recording goes on', () => {
    const tap = new StanzaTap();
    const got: number[] = [];
    const stop = tap.follow({ vrf: V1 }, (r) => got.push(r.seq));
    tap.follow({}, () => { throw new Error('broken pipe'); });
    fill(tap);
    stop();
    fill(tap);
    expect(got).to.deep.equal([2, 3, 4, 5]);
    expect(tap.list()).to.have.length(16);
  });

  it('appends JSONL when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tap-'));
    try {
      const path = join(dir, 'stanzas.jsonl');
      const tap = new StanzaTap({ jsonlPath: path });
      fill(tap);
      await tap.close();
      const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StanzaRecord);
      expect(lines.map((l) => l.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(lines[2]).to.deep.include({ node: 'compute-1', direction: 'out', vrf: V1, prefixes: ['10.0.0.1/32'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives an unwritable JSONL path (error kept, no crash)', async () => {
    const tap = new StanzaTap({ jsonlPath: '/nonexistent-dir/x.jsonl' });
    fill(tap);
    await new Promise((r) => setTimeout(r, 20));
    expect(tap.error).to.be.instanceOf(Error);
    expect(tap.list()).to.have.length(8);
    await tap.close();
  });
});

describe('prettyXml', () => {
  it('indents a stanza, keeps leaf text inline and escapes', () => {
    const raw = encodeSubscribe({ from: 'a&b', instance: V1, instanceId: 3, id: 's1' });
    expect(prettyXml(raw)).to.equal([
      '<iq type="set" from="a&amp;b" to="network-control@contrailsystems.com/bgp-peer" id="s1">',
      '  <pubsub xmlns="http://jabber.org/protocol/pubsub">',
      `    <subscribe node="${V1}">`,
      '      <options>',
      '        <instance-id>3</instance-id>',
      '      </options>',
      '    </subscribe>',
      '  </pubsub>',
      '</iq>',
    ].join('\n'));
  });

  it('shows a stream header as is and returns unparseable input unchanged', () => {
    expect(prettyXml(encodeAgentStreamOpen('c'))).to.equal(encodeAgentStreamOpen('c'));
    expect(prettyXml('<iq><x></iq>')).to.equal('<iq><x></iq>');
  });
});

describe('stanza tap: bounded by characters', () => {
  it('drops the oldest records once the kept raw text exceeds maxChars, keeping the newest however large', () => {
    const tap = new StanzaTap({ capacity: 100, maxChars: 100 });
    for (let i = 0; i < 5; i++) tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'in', raw: `<x>${'a'.repeat(33)}${i}</x>` });
    // 41 characters each: two fit in 100
    expect(tap.list().map((r) => r.seq)).to.deep.equal([4, 5]);
    tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'in', raw: `<big>${'b'.repeat(500)}</big>` });
    expect(tap.list().map((r) => r.seq)).to.deep.equal([6]);
    tap.record({ node: 'compute-1', peer: CONTROL_NODE_JID, direction: 'in', raw: '<s/>' });
    expect(tap.list().map((r) => r.seq)).to.deep.equal([7]);
  });

  it('still wraps by count, and refuses a maxChars below 1', () => {
    const tap = new StanzaTap({ capacity: 3, maxChars: 1_000_000 });
    for (let i = 0; i < 5; i++) tap.record({ node: 'n', peer: 'p', direction: 'out', raw: `<m${i}/>` });
    expect(tap.list().map((r) => r.seq)).to.deep.equal([3, 4, 5]);
    expect(() => new StanzaTap({ maxChars: 0 })).to.throw(RangeError, /maxChars must be at least 1/);
  });
});
