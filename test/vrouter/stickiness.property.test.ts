import { expect } from 'chai';
import fc from 'fast-check';
import { TrafficGenerator } from '../../src/vrouter/traffic.ts';
import { buildWorld, CLIENT_IP, memberName, VIP, VRF } from './lb-fixture.ts';

const COMPUTES = 6;

describe('vrouter: stickiness property over random member changes (fast-check)', () => {
  it('a flow keeps its member while that member stays; otherwise it moves to a current member; slots never shift', () => {
    fc.assert(fc.property(
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: COMPUTES - 1 }), { minLength: 1, maxLength: COMPUTES }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (updates, maglev) => {
        const w = buildWorld({ memberComputes: COMPUTES, flowTableSize: 4096, maglev });
        try {
          const g = new TrafficGenerator({ vrouter: w.client, interfaceName: 'client', vip: VIP, port: 80, flows: 200, sourceAddresses: [CLIENT_IP], sourcePorts: 'random', seed: 11 });
          w.setVipMembers(updates[0]);
          g.open();
          let slots = w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.slots.map((s) => s.address ?? null);
          for (const next of updates.slice(1)) {
            const before = g.memberPerFlow();
            w.setVipMembers(next);
            g.resend();
            const after = g.memberPerFlow();
            const current = new Set(next.map((i) => `${memberName(i)}/web-${i}`));
            before.forEach((b, i) => {
              expect(after[i]).to.not.equal(undefined);
              if (current.has(b!)) expect(after[i]).to.equal(b);
              else expect(current.has(after[i]!)).to.equal(true);
            });
            const nowSlots = w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.slots.map((s) => s.address ?? null);
            if (next.length > 1 && slots.length > 1) {
              const addresses = new Set(next.map((i) => `127.0.20.${i + 2}`));
              slots.forEach((a, i) => { if (a !== null && addresses.has(a)) expect(nowSlots[i]).to.equal(a); });
            }
            slots = nowSlots;
          }
        } finally {
          void w.close();
        }
      }), { numRuns: 25 });
  });
});
