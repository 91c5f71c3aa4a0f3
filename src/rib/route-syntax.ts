/**
 * Parsing and validation of the identifiers the RIB is keyed by: IPv4 prefixes, route distinguishers
 * and route targets. Every failure is a RibError naming the offending value, so a caller (an XMPP
 * channel, a BGP peer) can reject one update and keep going.
 */

import { hostBits, ipv4ToInt, parseIpv4Cidr } from '../model/ipv4.ts';

export class RibError extends Error {
  override readonly name = 'RibError';
}

/** The address as an unsigned 32-bit number, or null when it is not a dotted-quad IPv4 address. */
export function ipv4ToNumber(address: string): number | null {
  const value = ipv4ToInt(address);
  return value < 0 ? null : value;
}

/**
 * Checks an IPv4 prefix `a.b.c.d/len` and returns it unchanged. Host bits must be zero: the prefix
 * string is the item id sent back to agents (docs/protocol.md §4), so silently masking it would answer a different id.
 */
export function checkIpv4Prefix(prefix: string): string {
  const cidr = parseIpv4Cidr(prefix);
  if (cidr === null) throw new RibError(`invalid IPv4 prefix '${prefix}': expected a.b.c.d/len with len 0..32`);
  if (hostBits(cidr.address, cidr.length) !== 0) throw new RibError(`invalid IPv4 prefix '${prefix}': host bits are set beyond /${cidr.length}`);
  return prefix;
}

/**
 * Checks a route distinguisher: type 0 `<asn16>:<n32>`, type 1 `<ipv4>:<n16>` (what an agent's path
 * gets, docs/protocol.md §6.2) or type 2 `<asn32>L:<n16>`.
 */
export function checkRouteDistinguisher(rd: string): string {
  const colon = rd.lastIndexOf(':');
  const admin = rd.slice(0, colon);
  const assignedText = rd.slice(colon + 1);
  const assigned = /^\d+$/.test(assignedText) ? Number(assignedText) : NaN;
  const ok =
    colon > 0 &&
    Number.isInteger(assigned) &&
    ((ipv4ToNumber(admin) !== null && assigned <= 0xffff) ||
      (/^\d+$/.test(admin) && Number(admin) <= 0xffff && assigned <= 0xffffffff) ||
      (/^\d+L$/.test(admin) && Number(admin.slice(0, -1)) <= 0xffffffff && assigned <= 0xffff));
  if (!ok) throw new RibError(`invalid route distinguisher '${rd}': expected <ipv4>:<0..65535>, <asn16>:<n> or <asn32>L:<n>`);
  return rd;
}

/** Checks a route target `target:<asn>:<n>` or `target:<ipv4>:<n>`. */
export function checkRouteTarget(target: string): string {
  const m = /^target:([^:]+):(\d+)$/.exec(target);
  const ok =
    m !== null &&
    ((ipv4ToNumber(m[1]) !== null && Number(m[2]) <= 0xffff) ||
      (/^\d+$/.test(m[1]) && Number(m[1]) <= 0xffffffff && Number(m[2]) <= 0xffffffff));
  if (!ok) throw new RibError(`invalid route target '${target}': expected target:<asn>:<n> or target:<ipv4>:<n>`);
  return target;
}
