import { requireIpv4, isIpv4, intToIpv4 } from '../net/ipv4.ts';

/**
 * Route distinguisher text forms (RFC 4364 §4.2):
 *   type 0  '64512:1'         2-byte ASN : 4-byte number
 *   type 1  '10.0.0.11:3'     IPv4 : 2-byte number (Contrail's per-compute RD)
 *   type 2  '4200000000:1'    4-byte ASN : 2-byte number; a type-2 RD whose ASN fits 16 bits prints as '100L:1'
 *   other   'raw:0003…'       any other type, kept as 8 bytes of hex so that it round-trips
 */
export const RD_LENGTH = 8;

export function encodeRd(text: string): Buffer {
  const out = Buffer.alloc(RD_LENGTH);
  if (text.startsWith('raw:')) {
    const hex = text.slice(4);
    if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new RangeError(`bad raw RD ${JSON.stringify(text)}`);
    return Buffer.from(hex, 'hex');
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new RangeError(`bad RD ${JSON.stringify(text)}: expected ADMIN:NUMBER`);
  const admin = text.slice(0, colon);
  const numberText = text.slice(colon + 1);
  if (!/^\d+$/.test(numberText)) throw new RangeError(`bad RD ${JSON.stringify(text)}: assigned number`);
  const assigned = Number(numberText);
  if (isIpv4(admin)) {
    if (assigned > 0xffff) throw new RangeError(`RD ${text}: number must fit 16 bits for an IPv4 admin`);
    out.writeUInt16BE(1, 0);
    out.writeUInt32BE(requireIpv4(admin), 2);
    out.writeUInt16BE(assigned, 6);
    return out;
  }
  const forceFourOctet = admin.endsWith('L');
  const asnText = forceFourOctet ? admin.slice(0, -1) : admin;
  if (!/^\d+$/.test(asnText)) throw new RangeError(`bad RD ${JSON.stringify(text)}: admin is neither ASN nor IPv4`);
  const asn = Number(asnText);
  if (asn > 0xffffffff) throw new RangeError(`RD ${text}: ASN out of range`);
  if (asn > 0xffff || forceFourOctet) {
    if (assigned > 0xffff) throw new RangeError(`RD ${text}: number must fit 16 bits for a 4-byte ASN`);
    out.writeUInt16BE(2, 0);
    out.writeUInt32BE(asn, 2);
    out.writeUInt16BE(assigned, 6);
    return out;
  }
  if (assigned > 0xffffffff) throw new RangeError(`RD ${text}: number must fit 32 bits`);
  out.writeUInt16BE(0, 0);
  out.writeUInt16BE(asn, 2);
  out.writeUInt32BE(assigned, 4);
  return out;
}

export function decodeRd(bytes: Buffer, offset = 0): string {
  const type = bytes.readUInt16BE(offset);
  switch (type) {
    case 0:
      return `${bytes.readUInt16BE(offset + 2)}:${bytes.readUInt32BE(offset + 4)}`;
    case 1:
      return `${intToIpv4(bytes.readUInt32BE(offset + 2))}:${bytes.readUInt16BE(offset + 6)}`;
    case 2: {
      const asn = bytes.readUInt32BE(offset + 2);
      return `${asn}${asn <= 0xffff ? 'L' : ''}:${bytes.readUInt16BE(offset + 6)}`;
    }
    default:
      return `raw:${bytes.subarray(offset, offset + RD_LENGTH).toString('hex')}`;
  }
}
