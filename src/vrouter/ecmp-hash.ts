// Contrail's ECMP flow hash (docs/protocol.md §7.4): boost hash_combine on a 64-bit size_t, computed in two 32-bit halves
// so the per-packet path needs no BigInt.
import type { HashField } from '../net/hash-fields.ts';

export const FIELD_SOURCE_IP = 1;
export const FIELD_DESTINATION_IP = 2;
export const FIELD_PROTOCOL = 4;
export const FIELD_SOURCE_PORT = 8;
export const FIELD_DESTINATION_PORT = 16;
export const ALL_FIELDS = 31;

const FIELD_BITS: Record<HashField, number> = {
  'source-ip': FIELD_SOURCE_IP,
  'destination-ip': FIELD_DESTINATION_IP,
  'ip-protocol': FIELD_PROTOCOL,
  'source-port': FIELD_SOURCE_PORT,
  'destination-port': FIELD_DESTINATION_PORT,
};

export const HASH_FIELDS: readonly HashField[] = Object.keys(FIELD_BITS) as HashField[];

/** Bit mask of the enabled fields; undefined when the list names an unknown field. */
export function fieldMask(fields: readonly string[]): number | undefined {
  let mask = 0;
  for (const f of fields) {
    const bit = (FIELD_BITS as Record<string, number | undefined>)[f];
    if (bit === undefined) return undefined;
    mask |= bit;
  }
  return mask;
}

export function maskFields(mask: number): HashField[] {
  return HASH_FIELDS.filter((f) => (mask & FIELD_BITS[f]) !== 0);
}

const TWO32 = 4294967296;
const GOLDEN = 0x9e3779b9;

// Result registers of combine(); module scope keeps the hot path allocation-free.
let outHi = 0;
let outLo = 0;

/** seed ^= v + 0x9e3779b9 + (seed << 6) + (seed >> 2), all modulo 2^64. */
function combine(seedHi: number, seedLo: number, vHi: number, vLo: number): void {
  const shlHi = ((seedHi << 6) | (seedLo >>> 26)) >>> 0;
  const shlLo = (seedLo << 6) >>> 0;
  const shrHi = seedHi >>> 2;
  const shrLo = ((seedLo >>> 2) | (seedHi << 30)) >>> 0;
  const loSum = vLo + GOLDEN + shlLo + shrLo; // exact in a double (< 2^34)
  const lo = loSum >>> 0;
  const carry = (loSum - lo) / TWO32;
  const hi = (vHi + shlHi + shrHi + carry) >>> 0;
  outHi = (seedHi ^ hi) >>> 0;
  outLo = (seedLo ^ lo) >>> 0;
}

/**
 * The 64-bit hash of a 5-tuple, written into out[0] (high word) and out[1] (low word).
 * routerId < 0 leaves the router-id out (`flow_hash_excl_rid`).
 */
export function ecmpHash(
  out: Uint32Array, routerId: number, mask: number,
  src: number, dst: number, proto: number, sport: number, dport: number,
): void {
  let hi = 0;
  let lo = 0;
  if (routerId >= 0) { combine(hi, lo, 0, routerId); hi = outHi; lo = outLo; }
  if (mask & FIELD_SOURCE_IP) { combine(hi, lo, 0, src); hi = outHi; lo = outLo; }
  if (mask & FIELD_DESTINATION_IP) { combine(hi, lo, 0, dst); hi = outHi; lo = outLo; }
  if (mask & FIELD_PROTOCOL) { combine(hi, lo, 0, proto); hi = outHi; lo = outLo; }
  if (mask & FIELD_SOURCE_PORT) { combine(hi, lo, 0, sport); hi = outHi; lo = outLo; }
  if (mask & FIELD_DESTINATION_PORT) { combine(hi, lo, 0, dport); hi = outHi; lo = outLo; }
  // final = combine(combine(0, seed & 0xFFFFFFFF), seed >> 16)
  const shiftedHi = hi >>> 16;
  const shiftedLo = ((lo >>> 16) | (hi << 16)) >>> 0;
  combine(0, 0, 0, lo);
  combine(outHi, outLo, shiftedHi, shiftedLo);
  out[0] = outHi;
  out[1] = outLo;
}

/** (hi * 2^32 + lo) mod n for 1 <= n < 2^21, exact in doubles. */
export function mod64(hi: number, lo: number, n: number): number {
  return ((hi % n) * (TWO32 % n) + (lo % n)) % n;
}
