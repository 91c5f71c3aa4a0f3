// IPv4 addresses and prefixes as text, the one definition every layer uses: config, XMPP items, RIB keys,
// BGP NLRI, packets. Owns parsing, formatting and the error contract; does not own what a layer does with
// a bad value (a codec refuses a message, the config store names a field, the RIB rejects one update).
//
// Addresses are identities here (they key routes, sessions and flows), so only the canonical dotted quad
// is accepted: four decimal octets 0..255 without leading zeros ("01.2.3.4" is refused, where inet_aton
// and ip-num would quietly normalise it).
//
// The error contract, one for every parser in this module:
//  * `parse…` returns the value, or a one-line reason that names the input (a string), and never throws;
//  * `require…` returns the value or throws `Ipv4SyntaxError` (a RangeError) carrying that same reason,
//    for codecs where bad text is a caller's bug or a message to refuse;
//  * `ipv4ToInt` is the per-packet fast path: -1 instead of a reason, no allocation.
import { IPv4, IPv4CidrRange } from 'ip-num';

/** A bad address or prefix; the message is the one-line reason a `parse…` function returns. */
export class Ipv4SyntaxError extends RangeError {
  override readonly name = 'Ipv4SyntaxError';
}

/** A prefix as numbers: `address` is the network address when host bits were refused. */
export interface Ipv4Prefix {
  readonly address: number;
  readonly length: number;
}

/** What a prefix parser does with bits set below the prefix length. */
export type HostBits = 'refuse' | 'allow';

/** The address as an unsigned 32-bit integer, or -1 when `text` is not a canonical dotted quad. */
export function ipv4ToInt(text: string): number {
  return typeof text === 'string' ? dottedQuadAt(text, text.length) : -1;
}

/** The canonical dotted quad in text[0, end) as a number, or -1. */
function dottedQuadAt(text: string, end: number): number {
  // A character loop rather than split/regex: the data plane calls this per packet.
  if (end < 7 || end > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * A canonical `a.b.c.d/32` as a signed 32-bit integer, or undefined for any other text. Tables of host
 * routes key on it: V8 keeps such a number inside the Map's own table, where a string key is compared
 * against the characters of the stored key (a cache miss per probe in a table of a million routes).
 */
export function hostPrefixKey(text: string): number | undefined {
  const end = text.length - 3;
  if (end < 7 || text.charCodeAt(end) !== 47 || text.charCodeAt(end + 1) !== 51 || text.charCodeAt(end + 2) !== 50) return undefined;
  const address = dottedQuadAt(text, end);
  return address < 0 ? undefined : address | 0;
}

/** The prefix length after the slash at `slash`: 0..32 without leading zeros, or -1. */
function prefixLengthAfter(text: string, slash: number): number {
  const digits = text.length - slash - 1;
  if (digits < 1 || digits > 2) return -1;
  const d0 = text.charCodeAt(slash + 1) - 48;
  if (d0 < 0 || d0 > 9) return -1;
  if (digits === 1) return d0;
  const d1 = text.charCodeAt(slash + 2) - 48;
  if (d0 === 0 || d1 < 0 || d1 > 9) return -1;
  const length = d0 * 10 + d1;
  return length > 32 ? -1 : length;
}

export function intToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function isIpv4(text: string): boolean {
  return ipv4ToInt(text) >= 0;
}

/** The address as a number, or why it is not one. */
export function parseIpv4(text: string): number | string {
  const value = ipv4ToInt(text);
  return value < 0 ? `${String(text)} is not an IPv4 address` : value;
}

export function requireIpv4(text: string): number {
  return orThrow(parseIpv4(text));
}

export function ipv4ToBytes(text: string): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(requireIpv4(text));
  return out;
}

/** The bits of `address` below a prefix of `length` bits (0 for a proper network address). */
export function hostBits(address: number, length: number): number {
  return length === 32 ? 0 : address % 2 ** (32 - length);
}

/** The netmask of a prefix length as an unsigned 32-bit number. */
export function prefixMask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/**
 * `a.b.c.d/len` as numbers, or why it is not a prefix. With `hostBits: 'refuse'` (the default; a route
 * key, a subnet) a prefix with bits set below its length is refused; with 'allow' (what Contrail's agent
 * parser accepts, docs/protocol.md §5) it parses and `address` keeps those bits.
 */
export function parseIpv4Prefix(text: string, hostBitsRule: HostBits = 'refuse'): Ipv4Prefix | string {
  if (typeof text !== 'string') return `${String(text)} is not an IPv4 prefix (expected a.b.c.d/len)`;
  // Character loops, no slices or regex: BGP and XMPP ingest parse one prefix per route.
  const slash = text.indexOf('/');
  const address = slash < 0 ? -1 : dottedQuadAt(text, slash);
  const length = address < 0 ? -1 : prefixLengthAfter(text, slash);
  if (length < 0) return `${text} is not an IPv4 prefix (expected a.b.c.d/len, len 0..32)`;
  if (hostBitsRule === 'refuse' && hostBits(address, length) !== 0) {
    return `${text} has host bits set (the network is ${intToIpv4((address & prefixMask(length)) >>> 0)}/${length})`;
  }
  return { address, length };
}

export function requireIpv4Prefix(text: string, hostBitsRule: HostBits = 'refuse'): Ipv4Prefix {
  return orThrow(parseIpv4Prefix(text, hostBitsRule));
}

export function formatIpv4Prefix(prefix: Ipv4Prefix): string {
  return `${intToIpv4(prefix.address)}/${prefix.length}`;
}

/** The address as an ip-num object (for range arithmetic in IPAM), or why it is not an address. */
export function parseIpv4Address(text: string): IPv4 | string {
  const value = parseIpv4(text);
  return typeof value === 'string' ? value : IPv4.fromNumber(value);
}

/** A subnet (a prefix without host bits) as an ip-num range, or why it is not one. */
export function parseIpv4Subnet(text: string): IPv4CidrRange | string {
  const prefix = parseIpv4Prefix(text, 'refuse');
  return typeof prefix === 'string' ? prefix : IPv4CidrRange.fromCidr(text);
}

/** 127.0.0.0/8 is the only range nodes may use: Linux routes all of it to lo, nothing leaves the host. */
export function isLoopback(text: string): boolean {
  const value = ipv4ToInt(text);
  return value >= 0 && value >>> 24 === 127;
}

function orThrow<T>(result: T | string): T {
  if (typeof result === 'string') throw new Ipv4SyntaxError(result);
  return result;
}
