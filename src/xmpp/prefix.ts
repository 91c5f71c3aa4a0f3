// Contrail rejects prefixes that do not parse (§5); host bits set are accepted, as the real parser masks them.
import { parseIpv4Cidr } from '../model/ipv4.ts';

export function isIPv4Cidr(s: string): boolean {
  return parseIpv4Cidr(s) !== null;
}
