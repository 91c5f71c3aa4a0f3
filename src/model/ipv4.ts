import { IPv4, IPv4CidrRange } from 'ip-num';

// ip-num accepts things like "01.2.3.4" or a CIDR with host bits set and silently normalises them;
// config addresses are identities (they key routes and flows), so only the canonical spelling is accepted.
const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

export function parseIPv4(text: string): IPv4 | string {
  if (typeof text !== 'string' || !DOTTED_QUAD.test(text)) return `${String(text)} is not an IPv4 address`;
  if (text.split('.').some((octet) => Number(octet) > 255)) return `${text} is not an IPv4 address`;
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
