import { expect } from 'chai';
import fc from 'fast-check';
import {
  XmppServer, type XmppServerOptions, type XmppServerSession,
} from '../../src/xmpp/server.ts';
import {
  encodeAgentStreamOpen, encodeServerStreamOpen, encodeRoutePublish, encodeSubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import { decodeAgentStanza, isStanzaError, type AgentStanza } from '../../src/xmpp/stanza-decoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';
import { splitStanzas } from '../../src/xmpp/stream-framer.ts';
import { StanzaTap } from '../../src/inspect/stanza-tap.ts';
import { RawPeer, once, sleep } from './raw-peer.ts';

const KA = Buffer.from([0xc8, 0x80]);
const VRF = 'default-domain:demo:svc-vn:svc-vn';

interface Harness { server: XmppServer; port: number; logs: string[]; decoded: Map<string, AgentStanza[]>; tap: StanzaTap; peers: RawPeer[] }

/**
 * The server plus the intended consumer wiring: decode each stanza, close the session on a
 * StanzaError (what the control node does).
 */
async function start(opts: Partial<XmppServerOptions> = {}): Promise<Harness> {
  const logs: string[] = [];
  const tap = new StanzaTap({ capacity: 1000 });
  const server = new XmppServer({ host: '127.0.0.1', port: 0, log: (l) => logs.push(l), tap, ...opts });
  const decoded = new Map<string, AgentStanza[]>();
  server.on('session', (s: XmppServerSession) => {
    decoded.set(s.peerName, []);
    s.on('stanza', (raw: string) => {
      const d = decodeAgentStanza(raw);
      if (isStanzaError(d)) s.close(d.error);
      else decoded.get(s.peerName)!.push(d);
    });
  });
  const { port } = await server.listen();
  return { server, port, logs, decoded, tap, peers: [] };
}

async function connect(h: Harness, name: string, addr: string): Promise<RawPeer> {
  const p = await RawPeer.connect(h.port, addr);
  h.peers.push(p);
  await p.write(encodeAgentStreamOpen(name));
  await p.until((t) => t.startsWith(encodeServerStreamOpen(name)));
  return p;
}

describe('XMPP server (raw-socket client speaking the dialect byte for byte)', function () {
  let h: Harness;
  afterEach(async () => {
    for (const p of h.peers) p.destroy();
    await h.server.close();
    await h.tap.close();
  });

  it('answers the docs/protocol.md §2.2 header exactly and frames split / coalesced stanzas with U+0200 keepalives', async () => {
    h = await start();
    const sessionP = once<XmppServerSession>(h.server, 'session');
    const p = await connect(h, 'compute-1', '127.0.20.1');
    expect(p.text).to.equal(encodeServerStreamOpen('compute-1'));
    const s = await sessionP;
    expect(s.peerName).to.equal('compute-1');
    expect(s.remoteAddress).to.equal('127.0.20.1');
    const sub = encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3 });
    const entry = makeRouteEntry({ prefix: '10.10.0.100/32', nextHops: [makeNextHop({ address: '127.0.20.1', label: 17 })] });
    const pair = encodeRoutePublish({ from: 'compute-1', instance: VRF, entry, seq: 1 });
    const bytes = Buffer.concat([KA, Buffer.from(sub), KA, Buffer.from(pair)]);
    // split inside the subscribe, inside the publish's </iq>, and inside the keepalive
    const cuts = [17, KA.length + sub.length + 1, bytes.length - 3];
    let prev = 0;
    for (const c of cuts) {
      await p.write(bytes.subarray(prev, c));
      await sleep(15);
      prev = c;
    }
    await p.write(bytes.subarray(prev));
    await p.until(() => (h.decoded.get('compute-1')?.length ?? 0) === 3);
    expect(h.decoded.get('compute-1')!.map((d) => d.kind)).to.deep.equal(['subscribe', 'publish', 'collection']);
    expect(s.stats().keepalivesIn).to.equal(2);
    expect(s.stats().in).to.equal(3);
  });

  it('records headers and stanzas (not keepalives) in the tap', async () => {
    h = await start({ name: 'control-1' });
    const p = await connect(h, 'compute-1', '127.0.20.1');
    await p.write(Buffer.concat([KA, Buffer.from(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3 }))]));
    await p.until(() => h.tap.list().length === 3);
    expect(h.tap.list().map((r) => [r.node, r.peer, r.direction, r.summary])).to.deep.equal([
      ['control-1', 'compute-1', 'in', 'stream open from=compute-1 to=network-control@contrailsystems.com'],
      ['control-1', 'compute-1', 'out', 'stream open from=network-control@contrailsystems.com to=compute-1'],
      ['control-1', 'compute-1', 'in', `subscribe ${VRF} instance-id 3`],
    ]);
  });

  it('sends U+0200 every hold/3 and closes the session when the hold timer expires', async () => {
    h = await start({ holdTimeSeconds: 0.3 });
    const p = await connect(h, 'compute-1', '127.0.20.1');
    const s = h.server.sessions()[0];
    const closed = once<string>(s, 'closed');
    await p.until((t) => t.endsWith('\u0200'));
    const reason = await closed;
    expect(reason).to.match(/hold timer expired/);
    await p.closed;
    expect(p.text).to.not.include('</stream:stream>');
    expect(h.server.sessions()).to.have.length(0);
  });

  it('keeps a session alive while the peer sends keepalives', async () => {
    h = await start({ holdTimeSeconds: 0.6 });
    const p = await connect(h, 'compute-1', '127.0.20.1');
    // 1.2 s of keepalives every 60 ms: twice the hold time, so only the keepalives keep it up.
    for (let i = 0; i < 20; i++) {
      await p.write(KA);
      await sleep(60);
    }
    expect(p.isClosed).to.equal(false);
    expect(h.server.sessions().map((s) => s.peerName)).to.deep.equal(['compute-1']);
  });

  it('drops a second session with the same name, from another or the same address (docs/protocol.md §2.4)', async () => {
    h = await start();
    const first = await connect(h, 'compute-1', '127.0.20.1');
    for (const addr of ['127.0.20.2', '127.0.20.1']) {
      const dup = await RawPeer.connect(h.port, addr);
      h.peers.push(dup);
      await dup.write(encodeAgentStreamOpen('compute-1'));
      await dup.closed;
      expect(dup.text).to.equal('');
    }
    expect(h.logs.join('\n')).to.match(/duplicate name compute-1: already connected from 127\.0\.20\.1/);
    expect(h.logs.join('\n')).to.match(/duplicate session for compute-1/);
    expect(first.isClosed).to.equal(false);
    expect(h.server.sessions().map((s) => s.remoteAddress)).to.deep.equal(['127.0.20.1']);
  });

  it('lets the name reconnect once the old session is gone', async () => {
    h = await start();
    const first = await connect(h, 'compute-1', '127.0.20.1');
    first.destroy();
    await once(h.server, 'session-closed');
    await connect(h, 'compute-1', '127.0.20.2');
    expect(h.server.sessions().map((s) => s.remoteAddress)).to.deep.equal(['127.0.20.2']);
  });

  it('refuses a peer when acceptPeer gives a reason (strict mode)', async () => {
    h = await start({ acceptPeer: (name, addr) => (name === 'compute-1' && addr !== '127.0.20.1' ? `compute-1 must come from 127.0.20.1, not ${addr}` : null) });
    const bad = await RawPeer.connect(h.port, '127.0.20.9');
    h.peers.push(bad);
    await bad.write(encodeAgentStreamOpen('compute-1'));
    await bad.closed;
    expect(h.logs.join('\n')).to.include('compute-1 must come from 127.0.20.1, not 127.0.20.9');
    await connect(h, 'compute-1', '127.0.20.1');
  });

  it('closes a connection that sends no header within openTimeoutMs', async () => {
    h = await start({ openTimeoutMs: 150 });
    const p = await RawPeer.connect(h.port, '127.0.20.1');
    h.peers.push(p);
    await p.closed;
    expect(h.logs.join('\n')).to.match(/no stream header within 150 ms/);
  });

  it('answers the peer\'s </stream:stream> with its own and closes', async () => {
    h = await start();
    const p = await connect(h, 'compute-1', '127.0.20.1');
    await p.write('</stream:stream>');
    await p.closed;
    expect(p.text.endsWith('</stream:stream>')).to.equal(true);
  });

  describe('bad input closes only the offending session, with a logged reason', () => {
    const sub = (from: string) => encodeSubscribe({ from, instance: VRF, instanceId: 1 });
    const cases: [string, (name: string) => string | Buffer, RegExp][] = [
      ['malformed XML', (n) => `<iq type="set" from="${n}" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="v"><options></subscribe></pubsub></iq>`, /malformed XML/],
      ['an unknown stanza', () => '<presence from="x"></presence>', /unknown top-level data/],
      ['an unknown pubsub action', (n) => `<iq type="set" from="${n}" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><purge node="v"/></pubsub></iq>`, /unknown pubsub action/],
      ['a stanza over the size cap', () => `<iq type="set" to="network-control@contrailsystems.com/bgp-peer">${'<a>x</a>'.repeat(140_000)}</iq>`, /exceeds 1048576 bytes/],
      ['a DOCTYPE / entity trick', (n) => `<iq type="set" from="${n}" to="network-control@contrailsystems.com/bgp-peer"><!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="&b;"><options><instance-id>1</instance-id></options></subscribe></pubsub></iq>`, /DOCTYPE/],
      ['binary junk', () => Buffer.from([0x00, 0xff, 0xfe, 0x3c, 0x00]), /unknown top-level data/],
    ];
    for (const [name, payload, reason] of cases) {
      it(name, async () => {
        h = await start();
        const good = await connect(h, 'compute-1', '127.0.20.1');
        const bad = await connect(h, 'compute-2', '127.0.20.2');
        await good.write(sub('compute-1'));
        await bad.write(payload('compute-2'));
        await bad.closed;
        expect(h.logs.join('\n')).to.match(reason);
        // the other session is untouched and still works
        await good.write(sub('compute-1').replace('subscribe1', 'subscribe2'));
        await good.until(() => (h.decoded.get('compute-1')?.length ?? 0) === 2);
        expect(good.isClosed).to.equal(false);
        expect(h.server.sessions().map((s) => s.peerName)).to.deep.equal(['compute-1']);
      });
    }

    it('a header without from', async () => {
      h = await start();
      const good = await connect(h, 'compute-1', '127.0.20.1');
      const bad = await RawPeer.connect(h.port, '127.0.20.2');
      h.peers.push(bad);
      await bad.write('<stream:stream to="network-control@contrailsystems.com" version="1.0" xml:lang="en" xmlns="" xmlns:stream="http://etherx.jabber.org/streams" >');
      await bad.closed;
      expect(bad.text).to.equal('');
      expect(h.logs.join('\n')).to.match(/stream header without from/);
      expect(good.isClosed).to.equal(false);
    });

    it('a consumer that throws on a stanza', async () => {
      h = await start();
      h.server.on('session', (s: XmppServerSession) => s.on('stanza', () => { throw new Error('boom'); }));
      const p = await connect(h, 'compute-1', '127.0.20.1');
      await p.write(sub('compute-1'));
      await p.closed;
      expect(h.logs.join('\n')).to.match(/stanza handler failed: boom/);
    });
  });

  it('survives random garbage on many sessions at once; well-behaved sessions stay up', async () => {
    h = await start();
    const good = await connect(h, 'compute-1', '127.0.20.1');
    const junk = fc.sample(fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 200 }).map((t) => Buffer.from(`<iq type="set">${t}</iq>`)),
      fc.string({ maxLength: 200 }).map((t) => Buffer.from(`<message>${t}`)),
    ), { numRuns: 25, seed: 42 });
    const bad = await Promise.all(junk.map(async (payload, i) => {
      const p = await connect(h, `junk-${i}`, `127.0.21.${i + 1}`);
      await p.write(payload);
      return p;
    }));
    for (const b of bad) b.destroy();
    await good.write(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 1 }));
    await good.until(() => (h.decoded.get('compute-1')?.length ?? 0) === 1);
    expect(good.isClosed).to.equal(false);
    await sleep(50);
    expect(h.server.sessions().map((s) => s.peerName)).to.deep.equal(['compute-1']);
  });

  it('tags outgoing multi-stanza writes one record per stanza', async () => {
    h = await start();
    const p = await connect(h, 'compute-1', '127.0.20.1');
    const s = h.server.sessions()[0];
    const entry = makeRouteEntry({ prefix: '1.2.3.4/32', nextHops: [makeNextHop({ address: '127.0.20.1', label: 17 })] });
    const pair = encodeRoutePublish({ from: 'x', instance: VRF, entry, seq: 1 });
    s.send(pair);
    await p.until((t) => t.endsWith('</iq>') && splitStanzas(t.slice(t.indexOf('<iq'))).length === 2);
    expect(s.stats().out).to.equal(2);
    expect(h.tap.list({ direction: 'out' }).slice(1).map((r) => r.summary.split(' ')[0])).to.deep.equal(['publish', 'collection']);
  });

  it('counts outgoing stanzas per stanza without a tap too', async () => {
    h = await start({ tap: undefined });
    const p = await connect(h, 'compute-1', '127.0.20.1');
    const s = h.server.sessions()[0];
    const entry = makeRouteEntry({ prefix: '1.2.3.4/32', nextHops: [makeNextHop({ address: '127.0.20.1', label: 17 })] });
    const pair = encodeRoutePublish({ from: 'x', instance: VRF, entry, seq: 1 });
    s.send(pair + pair);
    await p.until((t) => t.endsWith('</iq>') && splitStanzas(t.slice(t.indexOf('<iq'))).length === 4);
    expect(s.stats().out).to.equal(4);
    expect(s.stats().bytesOut).to.equal(Buffer.byteLength(pair) * 2);
    expect(h.tap.list({ direction: 'out' })).to.deep.equal([]);
  });
});
