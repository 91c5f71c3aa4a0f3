import net from 'node:net';
import { expect } from 'chai';
import { XmppAgentClient, contrailReconnectDelayMs, type AgentClientOptions } from '../../src/xmpp/agent-client.ts';
import { XmppServer, type XmppServerSession } from '../../src/xmpp/server.ts';
import {
  encodeAgentStreamOpen, encodeRouteItems, encodeServerStreamOpen, encodeSubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import { decodeControlStanza, isStanzaError } from '../../src/xmpp/stanza-decoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';
import { StanzaTap } from '../../src/inspect/stanza-tap.ts';
import { RawPeer, once, sleep } from './raw-peer.ts';

const VRF = 'default-domain:demo:svc-vn:svc-vn';

/** A raw TCP listener standing in for a control node, to see the agent's bytes exactly. */
async function rawServer(): Promise<{ server: net.Server; port: number; next: () => Promise<RawPeer>; peers: RawPeer[] }> {
  const queue: RawPeer[] = [];
  const waiting: ((p: RawPeer) => void)[] = [];
  const peers: RawPeer[] = [];
  const server = net.createServer((s) => {
    const p = RawPeer.wrap(s);
    peers.push(p);
    const w = waiting.shift();
    if (w) w(p); else queue.push(p);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, peers, next: () => new Promise((r) => { const q = queue.shift(); if (q) r(q); else waiting.push(r); }) };
}

describe('XMPP agent client (on @xmpp/connection-tcp, @xmpp/reconnect, @xmpp/middleware)', function () {
  const clients: XmppAgentClient[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  function client(o: Partial<AgentClientOptions> & { port: number }): XmppAgentClient {
    const c = new XmppAgentClient({ agentName: 'compute-1', localAddress: '127.0.20.1', host: '127.0.0.1', reconnectDelay: () => 30, ...o });
    clients.push(c);
    return c;
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    for (const f of cleanups.splice(0)) await f();
  });

  it('sends the Contrail header from its own address, treats `open` as established, then one keepalive', async () => {
    const rs = await rawServer();
    cleanups.push(() => { rs.peers.forEach((p) => p.destroy()); rs.server.close(); });
    const c = client({ port: rs.port });
    c.start();
    const peer = await rs.next();
    expect(peer.socket.remoteAddress).to.equal('127.0.20.1');
    await peer.until((t) => t.length >= encodeAgentStreamOpen('compute-1').length);
    expect(peer.text).to.equal(encodeAgentStreamOpen('compute-1'));
    expect(c.established).to.equal(false);
    const established = once(c, 'established');
    await peer.write(encodeServerStreamOpen('compute-1'));
    await established;
    expect(c.established).to.equal(true);
    await peer.until((t) => t.endsWith('\u0200'));
    expect(peer.received.subarray(-2)).to.deep.equal(Buffer.from([0xc8, 0x80]));
    expect(peer.text).to.not.include('<?xml');
  });

  it('exchanges stanzas with the XmppServer, both directions recorded in the tap', async () => {
    const tap = new StanzaTap();
    const server = new XmppServer({ host: '127.0.0.1', port: 0, name: 'control-1', tap });
    cleanups.push(async () => { await server.close(); await tap.close(); });
    const { port } = await server.listen();
    const sessionP = once<XmppServerSession>(server, 'session');
    const c = client({ port, tap });
    c.start();
    await once(c, 'established');
    const s = await sessionP;
    expect(s.remoteAddress).to.equal('127.0.20.1');
    const got = once<string>(s, 'stanza');
    expect(c.send(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3 }))).to.equal(true);
    expect(await got).to.include('<subscribe node=');
    const entry = makeRouteEntry({ prefix: '30.30.30.100/32', nextHops: [makeNextHop({ address: '127.0.20.2', label: 17 }), makeNextHop({ address: '127.0.20.3', label: 18 })] });
    const recv = once<string>(c, 'stanza');
    s.send(encodeRouteItems({ to: 'compute-1', instance: VRF, entries: [entry] }));
    const d = decodeControlStanza(await recv);
    if (isStanzaError(d) || d.kind !== 'items') throw new Error('expected items');
    expect(d.entries[0].nextHops.map((n) => n.address)).to.deep.equal(['127.0.20.2', '127.0.20.3']);
    const agentSide = tap.list({ node: 'compute-1' }).map((r) => `${r.direction} ${r.summary.split(' ')[0]}`);
    expect(agentSide).to.deep.equal(['out stream', 'in stream', 'out subscribe', 'in items']);
    expect(tap.list({ node: 'control-1', prefix: '30.30.30.100/32' })).to.have.length(1);
  });

  it('keeps the library middleware: incoming stanzas reach middleware.use() as elements', async () => {
    const server = new XmppServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const { port } = await server.listen();
    const c = client({ port });
    const seen: string[] = [];
    c.middleware.use((ctx, next) => {
      seen.push(`${ctx.name} ${ctx.stanza.getChild('event')?.getChild('items')?.attrs.node}`);
      return next();
    });
    c.start();
    await once(c, 'established');
    const raw = once<string>(c, 'stanza');
    server.sessions()[0].send(encodeRouteItems({ to: 'compute-1', instance: VRF, entries: [makeRouteEntry({ prefix: '1.2.3.4/32' })] }));
    await raw;
    await sleep(10);
    expect(seen).to.deep.equal([`message 1/1/${VRF}`]);
  });

  it('with parseElements: false, delivers raw stanzas only (no XML parse, middleware idle)', async () => {
    const server = new XmppServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const { port } = await server.listen();
    const c = client({ port, parseElements: false });
    let middlewareCalls = 0;
    c.middleware.use((_ctx, next) => { middlewareCalls++; return next(); });
    c.start();
    await once(c, 'established');
    const raw = once<string>(c, 'stanza');
    server.sessions()[0].send(encodeRouteItems({ to: 'compute-1', instance: VRF, entries: [makeRouteEntry({ prefix: '1.2.3.4/32' })] }));
    expect(await raw).to.match(/^<message /);
    await sleep(10);
    expect(middlewareCalls).to.equal(0);
  });

  it('closes on hold-timer expiry when the server goes silent, then reconnects', async () => {
    const rs = await rawServer();
    cleanups.push(() => { rs.peers.forEach((p) => p.destroy()); rs.server.close(); });
    const logs: string[] = [];
    const c = client({ port: rs.port, holdTimeSeconds: 0.3, log: (l) => logs.push(l) });
    c.start();
    const first = await rs.next();
    await first.until((t) => t.includes('streams" >'));
    await first.write(encodeServerStreamOpen('compute-1'));
    const reason = await once<string>(c, 'disconnected');
    expect(reason).to.match(/hold timer expired/);
    await first.closed;
    const second = await rs.next();
    await second.until((t) => t === encodeAgentStreamOpen('compute-1'));
  });

  /** A server on a free port and a client that has established a session with it. */
  async function establishedClient(): Promise<{ server: XmppServer; c: XmppAgentClient }> {
    const server = new XmppServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const { port } = await server.listen();
    const c = client({ port });
    c.start();
    await once(c, 'established');
    return { server, c };
  }

  it('follows the server through a session drop: disconnected, then established again', async () => {
    const { server, c } = await establishedClient();
    const reason = once<string>(c, 'disconnected');
    server.sessions()[0].close('test: drop');
    expect(await reason).to.be.a('string');
    await once(c, 'established');
    expect(c.stats().connects).to.equal(2);
  });

  it('keeps retrying while the server is down (connection refused) and connects when it appears', async () => {
    const probe = new XmppServer({ host: '127.0.0.1', port: 0 });
    const { port } = await probe.listen();
    await probe.close();
    const c = client({ port });
    c.start();
    await sleep(150);
    expect(c.established).to.equal(false);
    const server = new XmppServer({ host: '127.0.0.1', port });
    cleanups.push(() => server.close());
    await server.listen();
    await once(c, 'established');
  });

  it('drops the connection on bad input from the server and logs why', async () => {
    const rs = await rawServer();
    cleanups.push(() => { rs.peers.forEach((p) => p.destroy()); rs.server.close(); });
    const logs: string[] = [];
    const c = client({ port: rs.port, log: (l) => logs.push(l) });
    c.start();
    const peer = await rs.next();
    await peer.until((t) => t.includes('streams" >'));
    await peer.write(encodeServerStreamOpen('compute-1'));
    await once(c, 'established');
    await peer.write('<message from="x" to="compute-1/bgp-peer"><event><items node="1/1/v"><item></items></event></message>');
    await peer.closed;
    expect(logs.join('\n')).to.match(/malformed stanza/);
    await rs.next(); // and it comes back
  });

  it('stop() closes cleanly and does not reconnect', async () => {
    const { server, c } = await establishedClient();
    await c.stop();
    expect(c.established).to.equal(false);
    expect(c.send('<iq></iq>')).to.equal(false);
    await sleep(120);
    expect(server.sessions()).to.have.length(0);
  });

  it('backs off 50 ms, 1, 2, 4, 8, 16, then 30 s, with ±10 % jitter (docs/protocol.md §2.4)', () => {
    const base = [50, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    base.forEach((b, i) => {
      expect(contrailReconnectDelayMs(i, () => 0)).to.equal(Math.round(b * 0.9));
      expect(contrailReconnectDelayMs(i, () => 1)).to.equal(Math.round(b * 1.1));
      expect(contrailReconnectDelayMs(i, () => 0.5)).to.equal(b);
    });
  });
});
