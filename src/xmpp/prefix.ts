// Strict dotted-quad/len syntax: Contrail rejects prefixes that do not parse (§5), and host bits set
// are accepted as the real parser masks them.
const CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

export function isIPv4Cidr(s: string): boolean {
  return CIDR.test(s);
}
