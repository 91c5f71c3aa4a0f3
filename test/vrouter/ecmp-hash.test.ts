import { expect } from 'chai';
import fc from 'fast-check';
import { ALL_FIELDS, ecmpHash, fieldMask, maskFields, mod64 } from '../../src/vrouter/ecmp-hash.ts';

// Straight transcription of docs/protocol.md §7.4 with BigInt, as the oracle for the split 32-bit implementation.
const M64 = (1n << 64n) - 1n;
function combineRef(seed: bigint, v: bigint): bigint {
  return (seed ^ ((v + 0x9e3779b9n + ((seed << 6n) & M64) + (seed >> 2n)) & M64)) & M64;
}
function hashRef(routerId: number, mask: number, f: [number, number, number, number, number]): bigint {
  let seed = 0n;
  if (routerId >= 0) seed = combineRef(seed, BigInt(routerId));
  f.forEach((v, i) => { if (mask & (1 << i)) seed = combineRef(seed, BigInt(v)); });
  return combineRef(combineRef(0n, seed & 0xffffffffn), seed >> 16n);
}

describe('vrouter/ecmp-hash', () => {
  const out = new Uint32Array(2);
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const port = fc.integer({ min: 0, max: 65535 });

  it('matches the 64-bit hash_combine formula for any tuple, router-id and field set', () => {
    fc.assert(fc.property(
      fc.integer({ min: -1, max: 0xffffffff }), fc.integer({ min: 0, max: 31 }), u32, u32, fc.integer({ min: 0, max: 255 }), port, port,
      (rid, mask, src, dst, proto, sport, dport) => {
        ecmpHash(out, rid, mask, src, dst, proto, sport, dport);
        const got = (BigInt(out[0]) << 32n) | BigInt(out[1]);
        expect(got).to.equal(hashRef(rid, mask, [src, dst, proto, sport, dport]));
      }), { numRuns: 2000 });
  });

  it('exercises the carry and high-word paths (seeds above 2^32)', () => {
    // five combines push the seed well past 32 bits; the property above covers it, this pins one value
    ecmpHash(out, 0x7f001402, ALL_FIELDS, 0x1e1e1e02, 0x1e1e1e64, 6, 40000, 80);
    const got = (BigInt(out[0]) << 32n) | BigInt(out[1]);
    expect(got).to.equal(hashRef(0x7f001402, ALL_FIELDS, [0x1e1e1e02, 0x1e1e1e64, 6, 40000, 80]));
    expect(out[0]).to.be.greaterThan(0);
  });

  it('mod64 equals BigInt modulo for divisors up to 2^20', () => {
    fc.assert(fc.property(u32, u32, fc.integer({ min: 1, max: 1 << 20 }), (hi, lo, n) => {
      expect(mod64(hi, lo, n)).to.equal(Number(((BigInt(hi) << 32n) | BigInt(lo)) % BigInt(n)));
    }), { numRuns: 2000 });
  });

  it('maps field names to a mask and back, rejecting unknown names', () => {
    expect(fieldMask(['source-ip', 'destination-port'])).to.equal(17);
    expect(maskFields(17)).to.deep.equal(['source-ip', 'destination-port']);
    expect(fieldMask(['l3-source-address'])).to.equal(undefined);
    expect(fieldMask([])).to.equal(0);
  });

  it('changes with the router-id unless it is excluded', () => {
    ecmpHash(out, 1, ALL_FIELDS, 1, 2, 6, 3, 4);
    const a = [...out];
    ecmpHash(out, 2, ALL_FIELDS, 1, 2, 6, 3, 4);
    expect([...out]).to.not.deep.equal(a);
    ecmpHash(out, -1, ALL_FIELDS, 1, 2, 6, 3, 4);
    const excluded = [...out];
    expect(excluded).to.not.deep.equal(a);
    expect((BigInt(excluded[0]) << 32n) | BigInt(excluded[1])).to.equal(hashRef(-1, ALL_FIELDS, [1, 2, 6, 3, 4]));
  });
});
