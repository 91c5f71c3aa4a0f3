// The monitor's UPDATE reader. A reflector sends a million NLRI in a few thousand UPDATEs; decoding each
// into objects (src/bgp's decodeMessage) would make the monitor, not the target, the bottleneck. This
// walks the bytes of each UPDATE (already framed by src/bgp's MessageFramer), finds MP_REACH /
// MP_UNREACH for VPNv4 and checks every NLRI against the feed plan, marking it in a bitmap.
import type { FeedPlan } from './feed.ts';
import { FIRST_PREFIX, matchRoute } from './feed.ts';

const HEADER = 19;
const ATTR_MP_REACH = 14;
const ATTR_MP_UNREACH = 15;
const EXTENDED_LENGTH = 0x10;
const AFI_IPV4 = 1;
const SAFI_VPN = 128;

export class VpnRouteCounter {
  private readonly seen: Uint8Array;
  /** Distinct planned routes received, each with the RD, label and next hop the feeder sent. */
  distinct = 0;
  /** The most distinct routes held at once (a withdraw phase brings `distinct` back to 0). */
  peakDistinct = 0;
  /** Planned routes received again (a target that re-advertises). */
  duplicates = 0;
  /** VPNv4 NLRI that are not in the plan or lost their RD, label or next hop on the way. */
  foreign = 0;
  withdrawn = 0;
  /** UPDATEs this reader could not walk (it stops at the first inconsistency in one). */
  malformed = 0;
  endOfRib = false;

  constructor(private readonly plan: FeedPlan) {
    this.seen = new Uint8Array(plan.routes);
  }

  get complete(): boolean {
    return this.distinct === this.plan.routes;
  }

  /** One whole UPDATE message, header included. */
  onUpdate(message: Buffer): void {
    if (!this.walk(message)) this.malformed++;
  }

  private walk(m: Buffer): boolean {
    if (m.length < HEADER + 4) return false;
    const withdrawnLength = m.readUInt16BE(HEADER);
    const attrLengthAt = HEADER + 2 + withdrawnLength;
    if (attrLengthAt + 2 > m.length) return false;
    const attrEnd = attrLengthAt + 2 + m.readUInt16BE(attrLengthAt);
    if (attrEnd > m.length) return false;
    let off = attrLengthAt + 2;
    let attributes = 0;
    let emptyUnreach = false;
    while (off < attrEnd) {
      if (off + 3 > attrEnd) return false;
      const flags = m[off]!;
      const type = m[off + 1]!;
      const extended = (flags & EXTENDED_LENGTH) !== 0;
      if (extended && off + 4 > attrEnd) return false;
      const length = extended ? m.readUInt16BE(off + 2) : m[off + 2]!;
      const start = off + (extended ? 4 : 3);
      const end = start + length;
      if (end > attrEnd) return false;
      attributes++;
      if (type === ATTR_MP_REACH && !this.reach(m, start, end)) return false;
      if (type === ATTR_MP_UNREACH) {
        if (end - start < 3) return false;
        if (m.readUInt16BE(start) === AFI_IPV4 && m[start + 2] === SAFI_VPN) {
          if (end - start === 3) emptyUnreach = true;
          else if (!this.unreach(m, start + 3, end)) return false;
        }
      }
      off = end;
    }
    if (emptyUnreach && attributes === 1 && withdrawnLength === 0 && attrEnd === m.length) this.endOfRib = true;
    return true;
  }

  private reach(m: Buffer, start: number, end: number): boolean {
    if (end - start < 5) return false;
    if (m.readUInt16BE(start) !== AFI_IPV4 || m[start + 2] !== SAFI_VPN) return true;
    const nhLength = m[start + 3]!;
    if (nhLength !== 12 && nhLength !== 24) return false;
    const nlriStart = start + 4 + nhLength + 1;
    if (nlriStart > end) return false;
    const nextHop = m.readUInt32BE(start + 4 + 8);
    let off = nlriStart;
    while (off < end) {
      const bits = m[off]!;
      const next = off + 1 + Math.ceil(bits / 8);
      if (next > end) return false;
      let cursor = off + 1;
      let remaining = bits;
      let label = -1;
      for (;;) {
        if (remaining < 24) return false;
        const field = (m[cursor]! << 16) | (m[cursor + 1]! << 8) | m[cursor + 2]!;
        cursor += 3;
        remaining -= 24;
        if (label < 0) label = field >>> 4;
        if ((field & 1) === 1) break;
      }
      if (remaining < 64 || remaining > 96) return false;
      const rdOffset = cursor;
      const prefixBits = remaining - 64;
      const address = readAddress(m, rdOffset + 8, prefixBits);
      const index = matchRoute(this.plan, m, rdOffset, address, prefixBits, label, nextHop);
      if (index < 0) this.foreign++;
      else if (this.seen[index] === 1) this.duplicates++;
      else {
        this.seen[index] = 1;
        if (++this.distinct > this.peakDistinct) this.peakDistinct = this.distinct;
      }
      off = next;
    }
    return true;
  }

  private unreach(m: Buffer, start: number, end: number): boolean {
    let off = start;
    while (off < end) {
      const bits = m[off]!;
      const next = off + 1 + Math.ceil(bits / 8);
      if (next > end || bits < 24 + 64) return false;
      this.withdrawn++;
      // Withdrawals carry exactly one label field (0x800000 or the old label, RFC 8277 §2.4).
      const index = readAddress(m, off + 1 + 3 + 8, bits - 24 - 64) - FIRST_PREFIX;
      if (index >= 0 && index < this.plan.routes && this.seen[index] === 1) {
        this.seen[index] = 0;
        this.distinct--;
      }
      off = next;
    }
    return true;
  }
}

function readAddress(m: Buffer, at: number, bits: number): number {
  let value = 0;
  const bytes = Math.ceil(bits / 8);
  for (let i = 0; i < 4; i++) value = value * 256 + (i < bytes ? m[at + i]! : 0);
  return value;
}
