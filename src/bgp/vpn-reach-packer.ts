// Labelled VPN-IPv4 reachability (and its withdrawal) straight to wire bytes (RFC 4271 §4.3, RFC 4760 §3, RFC 8277): the NLRI of
// a batch encoded once, the path attributes once per attribute set, and UPDATEs of up to MAX_MESSAGE_LENGTH
// packed from both without re-encoding a route.
import { MAX_MESSAGE_LENGTH, MessageType } from './messages.ts';
import { MAX_VPN_NLRI_LENGTH, type VpnNlri, writeVpnReach, writeVpnWithdraw } from './nlri.ts';
import { AttrFlag, AttrType, type PathAttributes, encodePathAttributes } from './path-attributes.ts';

const HEADER_LENGTH = 19;
/** Withdrawn-routes length and total-path-attribute length. */
const BODY_LENGTH_FIELDS = 4;
/** AFI, SAFI, next-hop length, RD of zero + IPv4 next hop, reserved byte. */
const MP_REACH_FIXED = 3 + 1 + 12 + 1;
const AFI_IPV4 = 1;
const SAFI_MPLS_VPN = 128;

/** NLRI of a list of routes, encoded once: route i is bytes[starts[i], starts[i + 1]). */
export interface EncodedVpnNlri {
  bytes: Buffer;
  starts: Uint32Array;
}

/** Encodes every item with `write` into one buffer: item i is bytes[starts[i], starts[i + 1]). */
function encodeNlriList<T>(items: readonly T[], write: (bytes: Buffer, offset: number, item: T) => number): EncodedVpnNlri {
  const bytes = Buffer.allocUnsafe(items.length * MAX_VPN_NLRI_LENGTH);
  const starts = new Uint32Array(items.length + 1);
  let offset = 0;
  for (let i = 0; i < items.length; i++) {
    starts[i] = offset;
    offset += write(bytes, offset, items[i]!);
  }
  starts[items.length] = offset;
  return { bytes, starts };
}

/** Encodes every route's reach NLRI; throws RangeError (bad label, RD or prefix) before anything is returned. */
export function encodeVpnNlriList(routes: readonly VpnNlri[]): EncodedVpnNlri {
  return encodeNlriList(routes, writeVpnReach);
}

/** Withdraw NLRI of a list of keys (label field 0x800000), encoded once; RangeError on a bad RD or prefix. */
export function encodeVpnWithdrawList(keys: readonly { rd: string; prefix: string }[]): EncodedVpnNlri {
  return encodeNlriList(keys, writeVpnWithdraw);
}

/**
 * UPDATEs withdrawing every route of `nlri`, in order, with at most `room` bytes of NLRI each: an
 * MP_UNREACH_NLRI as the only attribute, framed as update-message.ts frames it (extended length past 255).
 */
export function packVpnWithdraw(nlri: EncodedVpnNlri, room: number): Buffer[] {
  const { bytes, starts } = nlri;
  const count = starts.length - 1;
  const messages: Buffer[] = [];
  let first = 0;
  while (first < count) {
    let end = first + 1;
    while (end < count && starts[end + 1]! - starts[first]! <= room) end++;
    const nlriLength = starts[end]! - starts[first]!;
    const value = 3 + nlriLength;
    const extended = value > 0xff;
    const attributes = (extended ? 4 : 3) + value;
    const total = HEADER_LENGTH + BODY_LENGTH_FIELDS + attributes;
    const out = updateHeader(total, attributes);
    let at = mpAttributeHeader(out, 23, AttrType.mpUnreach, value);
    at += 3;
    bytes.copy(out, at, starts[first]!, starts[end]!);
    messages.push(out);
    first = end;
  }
  return messages;
}

/** Encoded path attributes of one set, split around MP_REACH_NLRI (type 14) so that types stay in order. */
export interface AttributeBlock {
  before: Buffer;
  after: Buffer;
  /** Equal for equal encodings: groups routes whose attribute objects differ but whose bytes do not. */
  key: string;
}

export function encodeAttributeBlock(attrs: PathAttributes, fourOctetAs: boolean): AttributeBlock {
  const framed = encodePathAttributes(attrs, fourOctetAs);
  const types = [...framed.keys()].sort((a, b) => a - b);
  const before = Buffer.concat(types.filter((t) => t < AttrType.mpReach).map((t) => framed.get(t)!));
  const after = Buffer.concat(types.filter((t) => t > AttrType.mpReach).map((t) => framed.get(t)!));
  return { before, after, key: `${before.length}:${before.toString('latin1')}${after.toString('latin1')}` };
}

/** Length of the UPDATE that carries `nlriLength` bytes of NLRI with these attributes. */
export function vpnReachMessageLength(block: AttributeBlock, nlriLength: number): number {
  const value = MP_REACH_FIXED + nlriLength;
  const framing = value > 0xff ? 4 : 3;
  return HEADER_LENGTH + BODY_LENGTH_FIELDS + block.before.length + framing + value + block.after.length;
}

/**
 * UPDATEs for the routes `indexes` (into `nlri`) sharing one attribute set and next hop, in order, each
 * as full as MAX_MESSAGE_LENGTH allows. Throws RangeError if one route alone would not fit.
 */
export function packVpnReach(block: AttributeBlock, nextHop: number, nlri: EncodedVpnNlri, indexes: readonly number[]): Buffer[] {
  const { starts } = nlri;
  // Counted with the extended length form of MP_REACH_NLRI, which any message of more than a few routes needs.
  const room = MAX_MESSAGE_LENGTH - (vpnReachMessageLength(block, 0xff) - 0xff);
  const messages: Buffer[] = [];
  let first = 0;
  while (first < indexes.length) {
    let end = first;
    let used = 0;
    while (end < indexes.length) {
      const k = indexes[end]!;
      const size = starts[k + 1]! - starts[k]!;
      if (used + size > room) {
        if (end === first) throw new RangeError(`a route with these attributes does not fit a BGP message (${vpnReachMessageLength(block, size)} bytes)`);
        break;
      }
      used += size;
      end++;
    }
    messages.push(vpnReachMessage(block, nextHop, nlri, indexes, first, end, used));
    first = end;
  }
  return messages;
}

function vpnReachMessage(
  block: AttributeBlock, nextHop: number, nlri: EncodedVpnNlri, indexes: readonly number[], first: number, end: number, nlriLength: number,
): Buffer {
  const total = vpnReachMessageLength(block, nlriLength);
  const value = MP_REACH_FIXED + nlriLength;
  const out = updateHeader(total, total - HEADER_LENGTH - BODY_LENGTH_FIELDS);
  let at = mpAttributeHeader(out, 23 + block.before.copy(out, 23), AttrType.mpReach, value);
  out[at + 3] = 12;
  out.fill(0, at + 4, at + 12);
  out.writeUInt32BE(nextHop, at + 12);
  out[at + 16] = 0;
  at += MP_REACH_FIXED;
  const { bytes, starts } = nlri;
  for (let i = first; i < end; i++) {
    const k = indexes[i]!;
    at += bytes.copy(out, at, starts[k]!, starts[k + 1]!);
  }
  block.after.copy(out, at);
  return out;
}

/** An UPDATE with no withdrawn routes and `attributes` bytes of path attributes; the caller fills them in. */
function updateHeader(total: number, attributes: number): Buffer {
  const out = Buffer.allocUnsafe(total);
  out.fill(0xff, 0, 16);
  out.writeUInt16BE(total, 16);
  out[18] = MessageType.update;
  out.writeUInt16BE(0, 19);
  out.writeUInt16BE(attributes, 21);
  return out;
}

/**
 * Writes an MP_REACH/MP_UNREACH attribute's flags, type and length (extended past 255, RFC 4271 §4.3) and
 * its AFI/SAFI (IPv4, MPLS-labeled VPN) at `at`; returns the offset of the AFI, so the caller's fields follow at +3.
 */
function mpAttributeHeader(out: Buffer, at: number, type: number, value: number): number {
  const extended = value > 0xff;
  out[at++] = AttrFlag.optional | (extended ? AttrFlag.extendedLength : 0);
  out[at++] = type;
  if (extended) {
    out.writeUInt16BE(value, at);
    at += 2;
  } else out[at++] = value;
  out.writeUInt16BE(AFI_IPV4, at);
  out[at + 2] = SAFI_MPLS_VPN;
  return at;
}
