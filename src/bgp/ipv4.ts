/** Dotted-quad IPv4 text ↔ 32-bit unsigned number, strict (no leading zeros games, no shorthand). */
const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p));
}

export function ipv4ToNumber(text: string): number {
  if (!isIpv4(text)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return text.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

export function ipv4ToBytes(text: string): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(ipv4ToNumber(text));
  return out;
}

/** Parses 'a.b.c.d/len' and checks that no host bits are set (a BGP prefix, not an interface address). */
export function parseIpv4Prefix(text: string): { address: number; length: number } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new RangeError(`not an IPv4 prefix (no /len): ${JSON.stringify(text)}`);
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lengthText) || Number(lengthText) > 32) {
    throw new RangeError(`bad prefix length in ${JSON.stringify(text)}`);
  }
  const length = Number(lengthText);
  const address = ipv4ToNumber(text.slice(0, slash));
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  if ((address & ~mask) >>> 0 !== 0) throw new RangeError(`host bits set in prefix ${text}`);
  return { address, length };
}
