import { expect } from 'chai';
import { type Server, type Socket, createServer } from 'node:net';
import type { BgpConnection } from '../../src/bgp/connection.ts';
import type { EstablishedSession } from '../../src/bgp/open-negotiation.ts';
import {
  type FsmConfig, type FsmCounters, type PeerReason, type PeerTransition, PeerFsm, describeReason,
} from '../../src/bgp/peer-fsm.ts';
import type { DecodedUpdate } from '../../src/bgp/update-message.ts';
import { ScriptedPeer, eventually, loopbackBlock } from './harness.ts';

const ASN = 64512;
const LOCAL_ID = '10.0.0.2';

/** Everything the FSM tells its owner, in order. */
class Recorder {
  readonly calls: string[] = [];
  readonly transitions: PeerTransition[] = [];
  readonly downs: PeerReason[] = [];
  readonly closed: PeerReason[] = [];
  readonly updates: DecodedUpdate[] = [];
  session: EstablishedSession | undefined;

  readonly hooks = {
    state: (t: PeerTransition) => {
      this.transitions.push(t);
      this.calls.push(`state ${t.from}->${t.to} (${t.event})`);
    },
    sessionUp: (s: EstablishedSession) => {
      this.session = s;
      this.calls.push('sessionUp');
    },
    established: () => void this.calls.push('established'),
    sessionEnding: () => void this.calls.push('sessionEnding'),
    down: (r: PeerReason) => {
      this.downs.push(r);
      this.calls.push(`down ${r.kind}`);
    },
    connectionClosed: (r: PeerReason, _c: BgpConnection) => void this.closed.push(r),
    update: (m: DecodedUpdate) => void this.updates.push(m),
    routeRefresh: () => undefined,
    wire: () => undefined,
  };

  /** The transitions as `from->to (event)`. */
  path(): string[] {
    return this.transitions.map((t) => `${t.from}->${t.to} (${t.event})`);
  }
}

function counters(): FsmCounters {
  return { messagesIn: 0, messagesOut: 0, updatesOut: 0, keepalivesIn: 0, notificationsIn: 0, notificationsOut: 0, establishedTransitions: 0 };
}

function openFrom(routerId: string, options: { asn?: number; holdTime?: number } = {}) {
  const asn = options.asn ?? ASN;
  return {
    type: 'open' as const, asn, holdTime: options.holdTime ?? 90, routerId,
    capabilities: { multiprotocol: [{ afi: 1, safi: 128 }, { afi: 1, safi: 132 }], routeRefresh: true, fourOctetAs: asn, other: [] },
  };
}

describe('bgp peer FSM: one handler per state, typed reasons', function () {
  this.timeout(15000);
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0).reverse()) c();
  });

  function listen(address: string, onSocket: (s: Socket) => void): Promise<Server> {
    const server = createServer(onSocket);
    cleanup.push(() => server.close());
    return new Promise((resolve) => server.listen({ host: address, port: 0 }, () => resolve(server)));
  }

  function port(server: Server): number {
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  }

  /** An FSM for the peer at ip(2); `remotePort` is where it dials. */
  function makeFsm(ip: (h: number) => string, remotePort: number, options: Partial<FsmConfig> = {}) {
    const rec = new Recorder();
    const fsm = new PeerFsm({
      address: ip(2), port: remotePort, asn: ASN, localAsn: ASN, localRouterId: LOCAL_ID, localAddress: ip(1),
      passive: false, holdTime: 90, families: ['inet-vpn', 'route-target'], connectRetryMs: 100, idleHoldMs: 100, ...options,
    }, rec.hooks, counters());
    cleanup.push(() => fsm.stop(2));
    return { fsm, rec };
  }

  /** A passive FSM with a listener that hands it every connection, and a scripted peer connected to it. */
  async function passivePair(options: Partial<FsmConfig> = {}) {
    const ip = loopbackBlock();
    const { fsm, rec } = makeFsm(ip, 1, { passive: true, ...options });
    const server = await listen(ip(1), (s) => fsm.acceptIncoming(s));
    fsm.start();
    const connectPeer = async () => {
      const p = await ScriptedPeer.connect(ip(2), { address: ip(1), port: port(server) });
      cleanup.push(() => p.close());
      return p;
    };
    return { fsm, rec, ip, connectPeer };
  }

  async function established(options: Partial<FsmConfig> = {}, holdTime = 90) {
    const pair = await passivePair(options);
    const p = await pair.connectPeer();
    p.send(openFrom('10.0.0.1', { holdTime }));
    await eventually(() => p.received.some((m) => m.type === 'open'), 'OPEN');
    p.send({ type: 'keepalive' });
    await eventually(() => pair.fsm.state === 'established', 'established');
    return { ...pair, p };
  }

  it('active start: connect → opensent → openconfirm → established, with the events that moved it and hooks in order', async () => {
    const ip = loopbackBlock();
    let remote: ScriptedPeer | undefined;
    const server = await listen(ip(2), (s) => {
      remote = ScriptedPeer.fromSocket(s);
      cleanup.push(() => remote!.close());
    });
    const { fsm, rec } = makeFsm(ip, port(server));
    fsm.start();
    expect(fsm.state).to.equal('connect');
    await eventually(() => fsm.state === 'opensent' && remote !== undefined, 'opensent');
    await eventually(() => remote!.received.some((m) => m.type === 'open'), 'our OPEN');
    remote!.send(openFrom('10.0.0.1'));
    await eventually(() => fsm.state === 'openconfirm', 'openconfirm');
    remote!.send({ type: 'keepalive' });
    await eventually(() => fsm.state === 'established', 'established');
    expect(rec.path()).to.deep.equal([
      'idle->connect (manual-start)', 'connect->opensent (tcp-connected)', 'opensent->openconfirm (open-received)',
      'openconfirm->established (keepalive-received)',
    ]);
    expect(rec.calls.slice(-3)).to.deep.equal(['sessionUp', 'state openconfirm->established (keepalive-received)', 'established']);
    expect(rec.session).to.include({ holdTime: 90, fourOctetAs: true, routeRefresh: true });
    expect(rec.session!.families).to.deep.equal(['inet-vpn', 'route-target']);
  });

  it('TCP connect failure: back to active with a typed connect-failed reason, then the ConnectRetryTimer dials again', async () => {
    const ip = loopbackBlock();
    const closedServer = await listen(ip(2), () => undefined);
    const deadPort = port(closedServer);
    await new Promise<void>((r) => closedServer.close(() => r()));
    const { fsm, rec } = makeFsm(ip, deadPort);
    fsm.start();
    await eventually(() => rec.transitions.filter((t) => t.event === 'connect-retry-expired').length > 0, 'a retry');
    expect(rec.path().slice(0, 3)).to.deep.equal([
      'idle->connect (manual-start)', 'connect->active (tcp-failed)', 'active->connect (connect-retry-expired)',
    ]);
    expect(fsm.lastReason).to.deep.include({ kind: 'connect-failed', target: `${ip(2)}:${deadPort}` });
    expect(describeReason(fsm.lastReason!)).to.match(/^connect to .* failed: .*ECONNREFUSED/);
  });

  it('passive start waits in active; an incoming connection moves it to opensent', async () => {
    const { fsm, rec, connectPeer } = await passivePair();
    expect(fsm.state).to.equal('active');
    const p = await connectPeer();
    await eventually(() => p.received.some((m) => m.type === 'open'), 'our OPEN');
    expect(rec.path()).to.deep.equal(['idle->active (manual-start)', 'active->opensent (tcp-connected)']);
  });

  it('a bad OPEN gets NOTIFICATION 2/2 and an open-rejected reason; no session went down', async () => {
    const { fsm, rec, connectPeer } = await passivePair();
    const p = await connectPeer();
    p.send(openFrom('10.0.0.1', { asn: 65000 }));
    await eventually(() => p.notifications().length > 0 && fsm.state === 'active', 'NOTIFICATION and back to active');
    expect(p.notifications()).to.deep.equal([{ code: 2, subcode: 2 }]);
    expect(fsm.lastReason).to.deep.equal({ kind: 'notification-sent', cause: 'open-rejected', code: 2, subcode: 2, message: 'peer AS 65000, expected 64512' });
    expect(rec.path().at(-1)).to.equal('opensent->active (open-rejected)');
    expect(rec.downs).to.deep.equal([]);
  });

  it('an OPEN with our own router id on iBGP is refused with 2/3', async () => {
    const { fsm, connectPeer } = await passivePair();
    const p = await connectPeer();
    p.send(openFrom(LOCAL_ID));
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 2, subcode: 3 }]);
    expect(fsm.lastReason).to.include({ kind: 'notification-sent', cause: 'open-rejected' });
  });

  it('KEEPALIVE in opensent is an FSM error 5/1', async () => {
    const { fsm, rec, connectPeer } = await passivePair();
    const p = await connectPeer();
    p.send({ type: 'keepalive' });
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 5, subcode: 1 }]);
    expect(fsm.lastReason).to.include({ kind: 'notification-sent', cause: 'fsm-error', message: 'unexpected keepalive in opensent' });
    await eventually(() => fsm.state === 'active', 'back to active');
    expect(rec.path().at(-1)).to.equal('opensent->active (fsm-error)');
  });

  it('UPDATE in openconfirm is an FSM error 5/2', async () => {
    const { fsm, connectPeer } = await passivePair();
    const p = await connectPeer();
    p.send(openFrom('10.0.0.1'));
    await eventually(() => fsm.state === 'openconfirm', 'openconfirm');
    p.send({ type: 'update' });
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 5, subcode: 2 }]);
    expect(fsm.lastReason).to.include({ kind: 'notification-sent', cause: 'fsm-error' });
  });

  it('OPEN in established is an FSM error 5/3 and takes the session down with that reason', async () => {
    const { fsm, rec, p } = await established();
    p.send(openFrom('10.0.0.1'));
    await eventually(() => rec.downs.length === 1 && p.notifications().length > 0, 'down and NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 5, subcode: 3 }]);
    expect(rec.downs[0]).to.include({ kind: 'notification-sent', cause: 'fsm-error', code: 5, subcode: 3 });
    expect(rec.calls.slice(-3)).to.deep.equal(['sessionEnding', 'state established->active (fsm-error)', 'down notification-sent']);
    expect(fsm.session).to.equal(undefined);
  });

  it('UPDATEs in established go to the hooks; KEEPALIVEs are counted and change nothing', async () => {
    const { fsm, rec, p } = await established();
    p.send({ type: 'keepalive' });
    p.send({ type: 'update' });
    await eventually(() => rec.updates.length === 1, 'update');
    expect(fsm.state).to.equal('established');
  });

  it('hold timer expiry in established: NOTIFICATION 4/0 and a hold-timer-expired reason', async () => {
    const { rec, p } = await established({}, 3);
    await eventually(() => rec.downs.length === 1 && p.notifications().length > 0, 'hold timer expired', 6000);
    expect(p.notifications()).to.deep.equal([{ code: 4, subcode: 0 }]);
    expect(rec.downs[0]).to.deep.equal({ kind: 'notification-sent', cause: 'hold-timer-expired', code: 4, subcode: 0, message: 'hold timer expired' });
    expect(rec.path()).to.include('established->active (hold-timer-expired)');
  });

  it('a NOTIFICATION from the peer ends the session with its code, then the IdleHoldTimer restarts (active mode)', async () => {
    const ip = loopbackBlock();
    const remotes: ScriptedPeer[] = [];
    const server = await listen(ip(2), (s) => {
      const r = ScriptedPeer.fromSocket(s);
      remotes.push(r);
      cleanup.push(() => r.close());
      r.send(openFrom('10.0.0.1'));
      r.send({ type: 'keepalive' });
    });
    const { fsm, rec } = makeFsm(ip, port(server));
    fsm.start();
    await eventually(() => fsm.state === 'established', 'established');
    remotes[0]!.send({ type: 'notification', code: 6, subcode: 2, data: Buffer.of(0xab) });
    await eventually(() => rec.downs.length === 1, 'down');
    expect(rec.downs[0]).to.deep.equal({ kind: 'notification-received', code: 6, subcode: 2, data: 'ab' });
    expect(describeReason(rec.downs[0]!)).to.equal('received NOTIFICATION 6/2 data ab');
    await eventually(() => fsm.state === 'established' && remotes.length === 2, 'established again');
    // The session ends (active), the IdleHoldTimer starts (idle), and its expiry dials again.
    const path = rec.path();
    const end = path.indexOf('established->active (notification-received)');
    expect(path.slice(end, end + 3)).to.deep.equal([
      'established->active (notification-received)', 'active->idle (notification-received)', 'idle->connect (automatic-start)',
    ]);
  });

  it('the peer closing TCP in established is a connection-lost reason', async () => {
    const { rec, p } = await established();
    p.close();
    await eventually(() => rec.downs.length === 1, 'down');
    expect(rec.downs[0]).to.deep.equal({ kind: 'connection-lost', detail: 'connection closed by peer' });
    expect(rec.path().at(-1)).to.equal('established->active (tcp-closed)');
  });

  it('collision with an established session: the new connection gets Cease/7, the session stays', async () => {
    const { fsm, rec, connectPeer } = await established();
    const second = await connectPeer();
    await eventually(() => second.notifications().length > 0, 'Cease');
    expect(second.notifications()).to.deep.equal([{ code: 6, subcode: 7 }]);
    expect(rec.closed).to.deep.equal([{ kind: 'collision', resolution: 'established-exists' }]);
    expect(fsm.state).to.equal('established');
  });

  it('collision between two opening connections: the higher router id keeps its own (RFC 4271 §6.8)', async () => {
    const ip = loopbackBlock();
    let outgoing: ScriptedPeer | undefined;
    const remoteServer = await listen(ip(2), (s) => {
      outgoing = ScriptedPeer.fromSocket(s);
      cleanup.push(() => outgoing!.close());
    });
    const { fsm, rec } = makeFsm(ip, port(remoteServer));
    const ours = await listen(ip(1), (s) => fsm.acceptIncoming(s));
    fsm.start();
    await eventually(() => outgoing !== undefined, 'our connect');
    const incoming = await ScriptedPeer.connect(ip(2), { address: ip(1), port: port(ours) });
    cleanup.push(() => incoming.close());
    await eventually(() => incoming.received.some((m) => m.type === 'open'), 'OPEN on the incoming connection');
    // The peer (10.0.0.1) has the lower id: its own connection (the incoming one) loses.
    incoming.send(openFrom('10.0.0.1'));
    await eventually(() => fsm.state === 'openconfirm', 'incoming in openconfirm');
    outgoing!.send(openFrom('10.0.0.1'));
    await eventually(() => incoming.notifications().length > 0, 'Cease on the incoming connection');
    expect(incoming.notifications()).to.deep.equal([{ code: 6, subcode: 7 }]);
    expect(rec.closed).to.deep.equal([{ kind: 'collision', resolution: 'lost' }]);
    outgoing!.send({ type: 'keepalive' });
    await eventually(() => fsm.state === 'established', 'established on the outgoing connection');
    expect(fsm.session!.connection.direction).to.equal('outgoing');
  });

  it('stop in established: Cease with the given subcode, a manual-stop reason, idle, and no restart', async () => {
    const { fsm, rec, p } = await established();
    fsm.stop(3);
    expect(fsm.state).to.equal('idle');
    expect(rec.downs).to.deep.equal([{ kind: 'manual-stop', subcode: 3 }]);
    expect(rec.path().at(-1)).to.equal('established->idle (manual-stop)');
    await eventually(() => p.notifications().length > 0, 'Cease');
    expect(p.notifications()).to.deep.equal([{ code: 6, subcode: 3 }]);
    expect(fsm.running).to.equal(false);
  });

  it('an incoming connection while stopped is refused with Cease/5', async () => {
    const ip = loopbackBlock();
    const { fsm, rec } = makeFsm(ip, 1, { passive: true });
    const server = await listen(ip(1), (s) => fsm.acceptIncoming(s));
    const p = await ScriptedPeer.connect(ip(2), { address: ip(1), port: port(server) });
    cleanup.push(() => p.close());
    await eventually(() => p.notifications().length > 0, 'Cease');
    expect(p.notifications()).to.deep.equal([{ code: 6, subcode: 5 }]);
    expect(rec.closed).to.deep.equal([{ kind: 'refused-while-stopped' }]);
    expect(fsm.state).to.equal('idle');
  });

  it('administrative reset: Cease/4, an admin-reset reason, and the session comes back', async () => {
    const { fsm, rec, p, connectPeer } = await established();
    fsm.reset();
    await eventually(() => rec.downs.length === 1, 'down');
    expect(rec.downs[0]).to.deep.equal({ kind: 'admin-reset' });
    await eventually(() => p.notifications().length > 0, 'Cease');
    expect(p.notifications()).to.deep.equal([{ code: 6, subcode: 4 }]);
    const again = await connectPeer();
    again.send(openFrom('10.0.0.1'));
    again.send({ type: 'keepalive' });
    await eventually(() => fsm.state === 'established', 'established again');
  });

  it('describes every reason in one line', () => {
    const reasons: PeerReason[] = [
      { kind: 'manual-stop', subcode: 2 }, { kind: 'admin-reset' }, { kind: 'refused-while-stopped' },
      { kind: 'collision', resolution: 'lost' }, { kind: 'connect-failed', target: '127.0.0.1:179', error: 'refused' },
      { kind: 'connection-lost', detail: 'socket error: reset' }, { kind: 'notification-received', code: 6, subcode: 2, data: '' },
      { kind: 'notification-sent', cause: 'protocol-error', code: 1, subcode: 2, message: 'bad length' },
      { kind: 'malformed-update', problems: ['treat-as-withdraw (bad MED)'] },
    ];
    expect(reasons.map(describeReason)).to.deep.equal([
      'stopped', 'administrative reset', 'peer is stopped', 'connection collision resolution',
      'connect to 127.0.0.1:179 failed: refused', 'socket error: reset', 'received NOTIFICATION 6/2',
      'sent NOTIFICATION 1/2: bad length', 'malformed UPDATE handled per RFC 7606: treat-as-withdraw (bad MED)',
    ]);
  });
});
