import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';
import { BgpProtocolError } from '../../src/bgp/protocol-error.ts';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import type { RouteUpdate, VpnRoute } from '../../src/bgp/routes.ts';
import { ScriptedPeer, eventually, loopbackBlock, startSpeaker, waitForEvent } from './harness.ts';

const ASN = 64512;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Frames an UPDATE body given as hex, computing the lengths so that only the attribute content is wrong. */
function update(attrs: string, nlri = ''): Buffer {
  const a = hex(attrs);
  const body = Buffer.concat([hex('0000'), Buffer.of(a.length >> 8, a.length & 0xff), a, hex(nlri)]);
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = 2;
  return Buffer.concat([head, body]);
}

const MP_REACH_VPN = '80 0e 21 0001 80 0c 0000000000000000 0a00000b 00 78 000111 0001 0a00000b 0003 0a0a0064';
const ORIGIN = '40 01 01 02';
const AS_PATH = '40 02 00';
const LOCAL_PREF = '40 05 04 00000064';

function decodeUpdate(bytes: Buffer) {
  const m = decodeMessage(bytes);
  if (m.type !== 'update') throw new Error('not an UPDATE');
  return m;
}

function protocolError(fn: () => unknown): BgpProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BgpProtocolError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

const validMessages: Buffer[] = [
  update(`${ORIGIN} ${AS_PATH} ${LOCAL_PREF} ${MP_REACH_VPN} c0 10 10 0002fc00007a1205 030c000000000002`),
  update(`${ORIGIN} 40 02 0a 0202fa56ea000000fc00 40 03 04 0a000001 80 04 04 00000005 c0 08 04 fc000064 80 09 04 0a000001 80 0a 04 0a000002`, '18 0a0909'),
  update('80 0f 14 0001 80 78 800000 0001 0a00000b 0003 0a0a0064'),
  update(`${ORIGIN} ${AS_PATH} ${LOCAL_PREF} 80 0e 15 0001 84 04 0a000001 00 60 0000fc00 0002fc00007a1201`),
  encodeMessage({
    type: 'open', asn: ASN, holdTime: 90, routerId: '10.0.0.1',
    capabilities: { multiprotocol: [{ afi: 1, safi: 128 }], routeRefresh: true, fourOctetAs: ASN, other: [{ code: 73, value: '0568656c6c6f00' }] },
  }),
  encodeMessage({ type: 'notification', code: 6, subcode: 2 }),
  encodeMessage({ type: 'route-refresh', afi: 1, safi: 128 }),
];

describe('bgp bad input: RFC 7606 decisions of the decoder', () => {
  it('treat-as-withdraw: bad ORIGIN value, keeping the NLRI so it can be withdrawn', () => {
    const u = decodeUpdate(update(`40 01 01 05 ${AS_PATH} ${MP_REACH_VPN}`));
    expect(u.treatAsWithdraw).to.equal(true);
    expect(u.mpReach?.nlri).to.deep.include({ family: 'inet-vpn' });
  });
  it('treat-as-withdraw: malformed AS_PATH, COMMUNITIES length, flags conflict, missing AS_PATH', () => {
    for (const attrs of [
      `${ORIGIN} 40 02 04 0205fc00 ${MP_REACH_VPN}`,
      `${ORIGIN} ${AS_PATH} c0 08 03 000000 ${MP_REACH_VPN}`,
      `${ORIGIN} ${AS_PATH} 80 05 04 00000064 ${MP_REACH_VPN}`,
      `${ORIGIN} ${MP_REACH_VPN}`,
      `${ORIGIN} ${AS_PATH} c0 10 04 00020000 ${MP_REACH_VPN}`,
    ]) {
      expect(decodeUpdate(update(attrs)).treatAsWithdraw, attrs).to.equal(true);
    }
  });
  it('treat-as-withdraw: an attribute overrunning the list after a parsed MP_REACH (RFC 7606 §4)', () => {
    // LOCAL_PREF claims 9 bytes where 4 remain: the VPN NLRI was already located, so it is withdrawn, no reset.
    const u = decodeUpdate(update(`${ORIGIN} ${AS_PATH} ${MP_REACH_VPN} 40 05 09 00000064`));
    expect(u.treatAsWithdraw).to.equal(true);
    expect(u.problems.map((p) => [p.action, p.attributeType])).to.deep.equal([['treat-as-withdraw', 5]]);
    expect(u.mpReach?.nlri).to.deep.include({ family: 'inet-vpn' });
    // Before any MP attribute the NLRI cannot be located: still a session reset.
    expect(protocolError(() => decodeMessage(update(`${ORIGIN} ${AS_PATH} 40 05 09 00000064`, '18 0a0909'))).subcode).to.equal(1);
  });
  it('attribute-discard: bad ATOMIC_AGGREGATE or AGGREGATOR, repeated attribute', () => {
    for (const attrs of [
      `${ORIGIN} ${AS_PATH} 40 06 01 00 ${MP_REACH_VPN}`,
      `${ORIGIN} ${AS_PATH} c0 07 03 000000 ${MP_REACH_VPN}`,
      `${ORIGIN} ${ORIGIN} ${AS_PATH} ${MP_REACH_VPN}`,
    ]) {
      const u = decodeUpdate(update(attrs));
      expect(u.treatAsWithdraw, attrs).to.equal(false);
      expect(u.problems.map((p) => p.action), attrs).to.deep.equal(['attribute-discard']);
    }
  });
  it('keeps an unknown optional transitive attribute and drops an unknown optional non-transitive one', () => {
    const u = decodeUpdate(update(`${ORIGIN} ${AS_PATH} c0 f3 02 abcd 80 f4 01 00 ${MP_REACH_VPN}`));
    expect(u.attributes!.unknown).to.deep.equal([{ flags: 0xc0, type: 0xf3, value: 'abcd' }]);
  });
  it('session reset with the right code/subcode otherwise', () => {
    const cases: [Buffer, number, number][] = [
      [hex(`${'ff'.repeat(15)}fe 0013 04`), 1, 1],
      [hex(`${'ff'.repeat(16)} 1400 04`), 1, 2],
      [hex(`${'ff'.repeat(16)} 0014 04 00`), 1, 2],
      [hex(`${'ff'.repeat(16)} 0013 09`), 1, 3],
      [update(`${ORIGIN} ${AS_PATH} ${MP_REACH_VPN} ${MP_REACH_VPN}`), 3, 1],
      [update(`${ORIGIN} 40 02 09 00`), 3, 1],
      [update(`${ORIGIN} ${AS_PATH} 40 63 01 00`), 3, 2],
      [update(`${ORIGIN} ${AS_PATH} 40 03 04 0a000001`, '21 0a0a0a0a0a'), 3, 10],
      [update(`${ORIGIN} ${AS_PATH} 80 0e 0c 0001 80 07 00000000000000 00`), 3, 9],
      [update(`${ORIGIN} ${AS_PATH} 40 0e 21 0001 80 0c 0000000000000000 0a00000b 00 78 000111 0001 0a00000b 0003 0a0a0064`), 3, 4],
      [hex(`${'ff'.repeat(16)} 001d 01 04 fc00 005a 0a000001 05`), 2, 0],
      [hex(`${'ff'.repeat(16)} 0021 01 04 fc00 005a 0a000001 04 03 02 0000`), 2, 4],
      [hex(`${'ff'.repeat(16)} 0018 05 00010080 00`), 7, 1],
    ];
    for (const [bytes, code, subcode] of cases) {
      const err = protocolError(() => decodeMessage(bytes));
      expect([err.code, err.subcode], `${bytes.toString('hex')}: ${err.message}`).to.deep.equal([code, subcode]);
    }
  });

  it('property: arbitrary bytes only ever raise BgpProtocolError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const withHeader = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.of(0, 19 + bytes.length > 255 ? 0 : 19 + bytes.length), Buffer.from(bytes)]);
      for (const b of [Buffer.from(bytes), withHeader]) {
        try {
          decodeMessage(b);
        } catch (err) {
          if (!(err instanceof BgpProtocolError)) throw err;
        }
      }
    }), { numRuns: 2000 });
  });

  it('property: mutated valid messages only ever raise BgpProtocolError', () => {
    const mutation = fc.record({
      base: fc.integer({ min: 0, max: validMessages.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 6 }),
      fixLength: fc.boolean(),
    });
    fc.assert(fc.property(mutation, ({ base, edits, fixLength }) => {
      const bytes = [...validMessages[base]!];
      for (const [pos, value, op] of edits) {
        const i = 19 + (pos % Math.max(1, bytes.length - 19));
        if (op === 'set') bytes[i] = value;
        else if (op === 'insert') bytes.splice(i, 0, value);
        else bytes.splice(i, 1);
      }
      const b = Buffer.from(bytes);
      if (fixLength && b.length >= 19) b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
      try {
        decodeMessage(b);
      } catch (err) {
        if (!(err instanceof BgpProtocolError)) throw err;
      }
    }), { numRuns: 5000 });
  });
});

describe('bgp bad input on live sessions', function () {
  this.timeout(30000);
  let speaker: BgpSpeaker | undefined;
  let other: BgpSpeaker | undefined;
  const scripted: ScriptedPeer[] = [];
  afterEach(async () => {
    scripted.splice(0).forEach((p) => p.close());
    await Promise.all([speaker?.stop(), other?.stop()]);
    speaker = other = undefined;
  });

  const route: VpnRoute = {
    rd: '10.0.0.21:1', prefix: '30.30.30.0/24', label: 40, nextHop: '10.0.0.21',
    attrs: defaultPathAttributes({ localPref: 100, extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:1'] } }),
  };

  /** The speaker under test, a healthy real peer (another speaker) with one route, and a scripted bad peer. */
  async function setup() {
    const ip = loopbackBlock();
    speaker = await startSpeaker({ asn: ASN, routerId: '10.0.0.1', address: ip(1) });
    other = await startSpeaker({ asn: ASN, routerId: '10.0.0.3', address: ip(3) });
    speaker.addPeer({ address: ip(2), asn: ASN, passive: true, idleHoldMs: 50 });
    speaker.addPeer({ address: ip(3), asn: ASN, passive: true });
    other.addPeer({ address: ip(1), port: speaker.listenAddress()!.port, asn: ASN, connectRetryMs: 200 });
    other.advertise('all', [route]);
    const s = speaker;
    await eventually(() => s.peer(ip(3))!.adjRibIn().vpn.length === 1, 'healthy peer route');
    const healthyUnaffected = () => {
      const status = s.peer(ip(3))!.status();
      expect(status.state).to.equal('established');
      expect(status.counters.establishedTransitions).to.equal(1);
      expect(s.peer(ip(3))!.adjRibIn().vpn).to.deep.equal([route]);
    };
    const badPeer = async () => {
      const p = await ScriptedPeer.connect(ip(2), s.listenAddress()!);
      scripted.push(p);
      await p.establish(ASN, '10.0.0.2');
      await eventually(() => s.peer(ip(2))!.state === 'established', 'scripted peer established');
      return p;
    };
    return { speaker: s, ip, healthyUnaffected, badPeer };
  }

  it('treat-as-withdraw removes the earlier route and keeps the session', async () => {
    const { speaker, ip, healthyUnaffected, badPeer } = await setup();
    const p = await badPeer();
    const learned = waitForEvent<[unknown, RouteUpdate]>(speaker, 'update', (_p, u) => u.reach.length === 1 && u.reach[0]!.rd === '10.0.0.11:3');
    p.send(update(`${ORIGIN} ${AS_PATH} ${LOCAL_PREF} ${MP_REACH_VPN}`));
    await learned;
    const withdrawn = waitForEvent<[unknown, RouteUpdate]>(speaker, 'update', (_p, u) => u.withdraw.length === 1);
    p.send(update(`40 01 01 07 ${AS_PATH} ${LOCAL_PREF} ${MP_REACH_VPN}`));
    expect((await withdrawn)[1].withdraw).to.deep.equal([{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32' }]);
    const status = speaker.peer(ip(2))!.status();
    expect(status.state).to.equal('established');
    expect(status.counters.malformedUpdates).to.equal(1);
    expect(status.lastError).to.match(/treat-as-withdraw/);
    healthyUnaffected();
  });

  it('an overrun after MP_REACH withdraws the route and keeps the session', async () => {
    const { speaker, ip, healthyUnaffected, badPeer } = await setup();
    const p = await badPeer();
    const learned = waitForEvent<[unknown, RouteUpdate]>(speaker, 'update', (_p, u) => u.reach.length === 1 && u.reach[0]!.rd === '10.0.0.11:3');
    p.send(update(`${ORIGIN} ${AS_PATH} ${LOCAL_PREF} ${MP_REACH_VPN}`));
    await learned;
    const withdrawn = waitForEvent<[unknown, RouteUpdate]>(speaker, 'update', (_p, u) => u.withdraw.length === 1);
    p.send(update(`${ORIGIN} ${AS_PATH} ${MP_REACH_VPN} 40 05 09 00000064`));
    expect((await withdrawn)[1].withdraw).to.deep.equal([{ rd: '10.0.0.11:3', prefix: '10.10.0.100/32' }]);
    expect(speaker.peer(ip(2))!.status().state).to.equal('established');
    expect(p.notifications()).to.deep.equal([]);
    healthyUnaffected();
  });

  it('a broken attribute list gets NOTIFICATION 3/1, only that session drops', async () => {
    const { speaker, healthyUnaffected, badPeer } = await setup();
    const p = await badPeer();
    const down = waitForEvent(speaker, 'peer-down');
    p.send(update(`${ORIGIN} 40 02 09 00`));
    await down;
    await eventually(() => p.notifications().length > 0, 'NOTIFICATION');
    expect(p.notifications()).to.deep.equal([{ code: 3, subcode: 1 }]);
    healthyUnaffected();
  });

  it('property: random and mutated messages never escape a session; other peers are unaffected', async () => {
    const { speaker, ip, healthyUnaffected, badPeer } = await setup();
    const samples = fc.sample(fc.record({
      base: fc.integer({ min: 0, max: validMessages.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      random: fc.uint8Array({ minLength: 1, maxLength: 60 }),
      useRandom: fc.boolean(),
    }), { numRuns: 12, seed: 7 });
    for (const s of samples) {
      const p = await badPeer();
      let bytes: Buffer;
      if (s.useRandom) bytes = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.of(0, 19 + s.random.length, 2), Buffer.from(s.random)]);
      else {
        bytes = Buffer.from(validMessages[s.base]!);
        for (const [pos, value] of s.edits) bytes[19 + (pos % (bytes.length - 19))] = value;
      }
      p.send(bytes);
      p.send({ type: 'keepalive' });
      // Either the session survives the message or the speaker answered it with a NOTIFICATION.
      await eventually(() => p.closed || p.notifications().length > 0 || speaker.peer(ip(2))!.status().counters.keepalivesIn >= 2, 'speaker handled the message');
      p.close();
      await eventually(() => speaker.peer(ip(2))!.state !== 'established', 'scripted session closed');
    }
    healthyUnaffected();
  });
});
