// IPv4 addresses and prefixes as text, for every layer: config, XMPP items, RIB keys, BGP NLRI and
// packets. Addresses are identities here (they key routes, sessions and flows), so only the canonical
// dotted quad is accepted: four decimal octets 0..255 without leading zeros ("01.2.3.4" is refused, where
// inet_aton and ip-num would quietly normalise it). The parser is a character loop because the data plane
// calls it per packet.
import { IPv4, IPv4CidrRange } from 'ip-num';

/** The address as an unsigned 32-bit integer, or -1 when `text` is not a canonical dotted quad. */
export function ipv4ToInt(text: string): number {
  if (typeof text !== 'string' || text.length < 7 || text.length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
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

export function intToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** `a.b.c.d/len` split and checked for syntax only (host bits may be set); null when it does not parse. */
export function parseIpv4Cidr(text: string): { address: number; length: number } | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d?)$/.test(lengthText) || Number(lengthText) > 32) return null;
  const address = ipv4ToInt(text.slice(0, slash));
  return address < 0 ? null : { address, length: Number(lengthText) };
}

/** The bits of `address` below a prefix of `length` bits (0 for a proper network address). */
export function hostBits(address: number, length: number): number {
  return length === 32 ? 0 : address % 2 ** (32 - length);
}

export function parseIPv4(text: string): IPv4 | string {
  if (ipv4ToInt(text) < 0) return `${String(text)} is not an IPv4 address`;
  return IPv4.fromDecimalDottedString(text);
}

export function isIPv4(text: string): boolean {
  return typeof parseIPv4(text) !== 'string';
}

export function parseSubnet(text: string): IPv4CidrRange | string {
  if (typeof text !== 'string') return `${String(text)} is not an IPv4 subnet`;
  const slash = text.indexOf('/');
  if (slash < 0) return `${text} is not an IPv4 subnet (expected a.b.c.d/len)`;
  const address = parseIPv4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (typeof address === 'string' || !/^(0|[1-9]\d?)$/.test(lengthText) || Number(lengthText) > 32) {
    return `${text} is not an IPv4 subnet (expected a.b.c.d/len)`;
  }
  const range = IPv4CidrRange.fromCidr(text);
  const network = range.getFirst().toString();
  if (network !== text.slice(0, slash)) return `${text} has host bits set (the network is ${network}/${lengthText})`;
  return range;
}

/** 127.0.0.0/8 is the only range nodes may use: Linux routes all of it to lo, nothing leaves the host. */
export function isLoopback(text: string): boolean {
  const address = parseIPv4(text);
  return typeof address !== 'string' && address.getValue() >> 24n === 127n;
}
