import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, MAX_MESSAGE_LENGTH, MessageFramer } from '../../src/bgp/messages.ts';
import type { VpnNlri } from '../../src/bgp/nlri.ts';
import { requireIpv4, intToIpv4 } from '../../src/net/ipv4.ts';
import { encodeFeed, encodeWithdrawFeed, feedAttributes, feedPlan, feedRoute, vpnEndOfRib } from '../../scripts/bench/bgp/feed.ts';
import { VpnRouteCounter } from '../../scripts/bench/bgp/route-counter.ts';
import { measureHarness, measureTarget } from '../../scripts/bench/bgp/measure.ts';
import { bird } from '../../scripts/bench/bgp/targets.ts';

function messagesOf(chunks: readonly Buffer[]): Buffer[] {
  const framer = new MessageFramer();
  const out: Buffer[] = [];
  for (const c of chunks) {
    const { messages, error } = framer.push(c);
    if (error) throw error;
    out.push(...messages.map((m) => Buffer.from(m)));
  }
  return out;
}

function update(nextHop: string, routes: VpnNlri[]): Buffer {
  return encodeMessage({ type: 'update', attributes: feedAttributes(), mpReach: { nextHop, nlri: { family: 'inet-vpn', routes } } });
}

const block = `127.79.${201 + (process.pid % 50)}`;

describe('bench/bgp harness', () => {
  describe('feed', () => {
    it('encodes exactly the planned routes, full UPDATEs within 4096 bytes, decodable by the codec', () => {
      const plan = feedPlan(1234, 7);
      const feed = encodeFeed(plan);
      const messages = messagesOf(feed.chunks);
      expect(messages).to.have.length(feed.updates);
      const got = new Map<string, VpnNlri & { nextHop: string }>();
      for (const m of messages) {
        expect(m.length).to.be.at.most(MAX_MESSAGE_LENGTH);
        const u = decodeMessage(m);
        if (u.type !== 'update' || u.mpReach?.nlri.family !== 'inet-vpn') throw new Error('not a VPNv4 UPDATE');
        expect(u.attributes?.extCommunities.routeTargets).to.deep.equal(['target:64512:8000001']);
        expect(u.attributes?.localPref).to.equal(100);
        for (const r of u.mpReach.nlri.routes) got.set(`${r.rd}|${r.prefix}`, { ...r, nextHop: u.mpReach.nextHop });
      }
      expect(got.size).to.equal(1234);
      for (let i = 0; i < 1234; i++) {
        const want = feedRoute(plan, i);
        expect(got.get(`${want.rd}|${want.prefix}`)).to.deep.equal(want);
      }
      expect(new Set([...got.values()].map((r) => r.rd)).size).to.equal(7);
    });

    it('packs many NLRI per UPDATE', () => {
      const feed = encodeFeed(feedPlan(10_000, 1));
      expect(feed.updates).to.be.at.most(Math.ceil(10_000 / 200));
    });

    it('rejects plans it cannot address', () => {
      expect(() => feedPlan(0)).to.throw(RangeError);
      expect(() => feedPlan(2 ** 25)).to.throw(RangeError);
      expect(() => feedPlan(10, 0)).to.throw(RangeError);
    });
  });

  describe('VpnRouteCounter', () => {
    it('counts a whole feed once and recognises End-of-RIB', () => {
      const plan = feedPlan(5000, 100);
      const counter = new VpnRouteCounter(plan);
      for (const m of messagesOf(encodeFeed(plan).chunks)) counter.onUpdate(m);
      expect({ distinct: counter.distinct, complete: counter.complete, endOfRib: counter.endOfRib }).to.deep.equal({ distinct: 5000, complete: true, endOfRib: false });
      counter.onUpdate(vpnEndOfRib());
      expect(counter.endOfRib).to.equal(true);
      expect({ duplicates: counter.duplicates, foreign: counter.foreign, malformed: counter.malformed }).to.deep.equal({ duplicates: 0, foreign: 0, malformed: 0 });
    });

    it('agrees with the codec on any mix of planned, repeated and altered routes', () => {
      const plan = feedPlan(300, 3);
      const alteration = fc.constantFrom('none', 'label', 'rd', 'next-hop', 'prefix-length');
      fc.assert(fc.property(fc.array(fc.record({ index: fc.integer({ min: 0, max: 299 }), alter: alteration }), { minLength: 1, maxLength: 200 }), (picks) => {
        const counter = new VpnRouteCounter(plan);
        const expected = new Set<number>();
        let foreign = 0;
        let duplicates = 0;
        for (const { index, alter } of picks) {
          const r = feedRoute(plan, index);
          const route: VpnNlri = { rd: r.rd, prefix: r.prefix, label: r.label };
          let nextHop = r.nextHop;
          if (alter === 'label') route.label = r.label + 1;
          if (alter === 'rd') route.rd = '64512:1';
          if (alter === 'next-hop') nextHop = '10.9.9.9';
          if (alter === 'prefix-length') route.prefix = `${intToIpv4((requireIpv4(r.prefix.split('/')[0]!) & ~1) >>> 0)}/31`;
          counter.onUpdate(update(nextHop, [route]));
          if (alter !== 'none') foreign++;
          else if (expected.has(index)) duplicates++;
          else expected.add(index);
        }
        expect(counter.distinct).to.equal(expected.size);
        expect(counter.foreign).to.equal(foreign);
        expect(counter.duplicates).to.equal(duplicates);
        expect(counter.malformed).to.equal(0);
      }), { numRuns: 100 });
    });

    it('forgets withdrawn routes', () => {
      const plan = feedPlan(10, 1);
      const counter = new VpnRouteCounter(plan);
      const routes = Array.from({ length: 10 }, (_, i) => feedRoute(plan, i));
      counter.onUpdate(update(routes[0]!.nextHop, routes));
      expect(counter.complete).to.equal(true);
      counter.onUpdate(encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: routes.slice(0, 3) } }));
      expect({ distinct: counter.distinct, withdrawn: counter.withdrawn, complete: counter.complete }).to.deep.equal({ distinct: 7, withdrawn: 3, complete: false });
    });

    it('counts a truncated UPDATE as malformed instead of throwing', () => {
      const plan = feedPlan(10, 1);
      const counter = new VpnRouteCounter(plan);
      const whole = update(feedRoute(plan, 0).nextHop, [feedRoute(plan, 0), feedRoute(plan, 1)]);
      const cut = Buffer.from(whole.subarray(0, whole.length - 3));
      cut.writeUInt16BE(cut.length, 16);
      counter.onUpdate(cut);
      expect(counter.malformed).to.equal(1);
    });
  });

  describe('runs over loopback', () => {
    it('moves a feed from feeder to monitor through the harness alone', async () => {
      const plan = feedPlan(5000, 100);
      const r = await measureHarness({ target: `${block}.1`, feeder: `${block}.2`, monitor: `${block}.3` }, plan, { announce: encodeFeed(plan), withdraw: encodeWithdrawFeed(plan) }, 10_000);
      expect(r.error).to.equal(undefined);
      expect({ ok: r.ok, received: r.received, foreign: r.foreign, withdrawn: r.withdrawn }).to.deep.equal({ ok: true, received: 5000, foreign: 0, withdrawn: 5000 });
      expect(r.withdrawSeconds).to.be.a('number');
    });

    it('gets every route reflected by BIRD with RD, label and next hop intact', async function () {
      if (bird.missing()) this.skip();
      const plan = feedPlan(2000, 10);
      const r = await measureTarget(bird, { target: `${block}.11`, feeder: `${block}.12`, monitor: `${block}.13` }, plan, { announce: encodeFeed(plan) }, 15_000);
      expect(r.error).to.equal(undefined);
      expect({ ok: r.ok, received: r.received, foreign: r.foreign, duplicates: r.duplicates }).to.deep.equal({ ok: true, received: 2000, foreign: 0, duplicates: 0 });
      expect(r.peakRssBytes).to.be.a('number').and.at.least(r.baselineRssBytes!);
    });
  });
});
