// BGP's view of IPv4 text: throwing conversions for the codec, where a bad address is a caller's bug or
// a message to refuse (the parsing itself is the model's, shared by every layer).
import { hostBits, intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../model/ipv4.ts';

export function isIpv4(text: string): boolean {
  return ipv4ToInt(text) >= 0;
}

export function ipv4ToNumber(text: string): number {
  const value = ipv4ToInt(text);
  if (value < 0) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return value;
}

export const numberToIpv4 = intToIpv4;

export function ipv4ToBytes(text: string): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(ipv4ToNumber(text));
  return out;
}

/** Parses 'a.b.c.d/len' and checks that no host bits are set (a BGP prefix, not an interface address). */
export function parseIpv4Prefix(text: string): { address: number; length: number } {
  const cidr = parseIpv4Cidr(text);
  if (cidr === null) throw new RangeError(`not an IPv4 prefix (a.b.c.d/len): ${JSON.stringify(text)}`);
  if (hostBits(cidr.address, cidr.length) !== 0) throw new RangeError(`host bits set in prefix ${text}`);
  return cidr;
}
