import { HASH_FIELDS, type HashField } from '../net/hash-fields.ts';
import { requireIpv4, isIpv4, intToIpv4 } from '../net/ipv4.ts';

/** Tunnel encapsulation ids of docs/protocol.md §6.3 (`03 0C 00000000 <id>`), by Contrail's names. */
const TUNNEL_BY_ID: Record<number, string> = {
  2: 'gre', 8: 'vxlan', 9: 'nvgre', 10: 'mpls', 11: 'mpls-o-gre', 12: 'vxlan-gpe', 13: 'udp', 16: 'native',
};
const TUNNEL_BY_NAME = new Map(Object.entries(TUNNEL_BY_ID).map(([id, name]) => [name, Number(id)]));

/** An encapsulation is its Contrail name, or the bare id when the id has none. */
export type TunnelEncap = string | number;

// The load-balance community's field bits, from the top bit down, follow the canonical field order.
const LOAD_BALANCE_BITS: readonly HashField[] = HASH_FIELDS;

export interface ExtendedCommunities {
  /** 'target:64512:8000001' (2-byte ASN), 'target:10.0.0.1:5' (IPv4), 'target:4200000000:5' (4-byte ASN). */
  routeTargets: string[];
  encapsulations: TunnelEncap[];
  originVn?: { asn: number; vnIndex: number };
  securityGroups: { asn: number; id: number }[];
  tags: { asn: number; tag: number }[];
  macMobility?: { sticky: boolean; sequence: number };
  routerMac?: string;
  loadBalance?: { fields: HashField[]; sourceBias: boolean };
  /** Communities this codec does not interpret, as 16 hex digits each, passed through unchanged. */
  other: string[];
}

export function emptyExtendedCommunities(): ExtendedCommunities {
  return { routeTargets: [], encapsulations: [], securityGroups: [], tags: [], other: [] };
}

/**
 * Encodes a route target text into its 8 bytes (also the value carried in RT-constraint NLRI, RFC 4684).
 * A 4-byte-ASN target whose ASN fits 16 bits is written 'target:100L:5' so that it round-trips.
 */
export function encodeRouteTarget(text: string): Buffer {
  const match = /^target:(.+):(\d+)$/.exec(text);
  if (!match) throw new RangeError(`bad route target ${JSON.stringify(text)}: expected target:ADMIN:NUMBER`);
  const [, admin, numberText] = match as unknown as [string, string, string];
  const assigned = Number(numberText);
  const out = Buffer.alloc(8);
  out[1] = 0x02;
  if (isIpv4(admin)) {
    if (assigned > 0xffff) throw new RangeError(`route target ${text}: number must fit 16 bits`);
    out[0] = 0x01;
    out.writeUInt32BE(requireIpv4(admin), 2);
    out.writeUInt16BE(assigned, 6);
    return out;
  }
  const forceFourOctet = admin.endsWith('L');
  const asnText = forceFourOctet ? admin.slice(0, -1) : admin;
  if (!/^\d+$/.test(asnText) || Number(asnText) > 0xffffffff) throw new RangeError(`bad route target ASN in ${text}`);
  const asn = Number(asnText);
  if (asn > 0xffff || forceFourOctet) {
    if (assigned > 0xffff) throw new RangeError(`route target ${text}: number must fit 16 bits with a 4-byte ASN`);
    out[0] = 0x02;
    out.writeUInt32BE(asn, 2);
    out.writeUInt16BE(assigned, 6);
    return out;
  }
  if (assigned > 0xffffffff) throw new RangeError(`route target ${text}: number must fit 32 bits`);
  out[0] = 0x00;
  out.writeUInt16BE(asn, 2);
  out.writeUInt32BE(assigned, 4);
  return out;
}

/** Route target text of 8 bytes, or undefined when they are not a route target. */
export function decodeRouteTarget(bytes: Buffer, offset = 0): string | undefined {
  if (bytes[offset + 1] !== 0x02) return undefined;
  switch (bytes[offset]) {
    case 0x00:
      return `target:${bytes.readUInt16BE(offset + 2)}:${bytes.readUInt32BE(offset + 4)}`;
    case 0x01:
      return `target:${intToIpv4(bytes.readUInt32BE(offset + 2))}:${bytes.readUInt16BE(offset + 6)}`;
    case 0x02:
    {
      const asn = bytes.readUInt32BE(offset + 2);
      return `target:${asn}${asn <= 0xffff ? 'L' : ''}:${bytes.readUInt16BE(offset + 6)}`;
    }
    default:
      return undefined;
  }
}

function community(type: number, subtype: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(8);
  b[0] = type;
  b[1] = subtype;
  fill(b);
  return b;
}

function checkUint(value: number, bits: 16 | 32, what: string): number {
  const max = bits === 16 ? 0xffff : 0xffffffff;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${value} does not fit ${bits} bits`);
  return value;
}

export function encodeExtendedCommunities(ec: ExtendedCommunities): Buffer {
  const parts: Buffer[] = [];
  for (const rt of ec.routeTargets) parts.push(encodeRouteTarget(rt));
  for (const encap of ec.encapsulations) {
    const id = typeof encap === 'number' ? encap : TUNNEL_BY_NAME.get(encap);
    if (id === undefined) throw new RangeError(`unknown tunnel encapsulation ${JSON.stringify(encap)}`);
    parts.push(community(0x03, 0x0c, (b) => b.writeUInt16BE(checkUint(id, 16, 'tunnel encapsulation'), 6)));
  }
  if (ec.originVn) {
    const { asn, vnIndex } = ec.originVn;
    if (asn > 0xffff) {
      parts.push(community(0x82, 0x71, (b) => {
        b.writeUInt32BE(checkUint(asn, 32, 'origin-vn ASN'), 2);
        b.writeUInt16BE(checkUint(vnIndex, 16, 'origin-vn index with a 4-byte ASN'), 6);
      }));
    } else {
      parts.push(community(0x80, 0x71, (b) => {
        b.writeUInt16BE(checkUint(asn, 16, 'origin-vn ASN'), 2);
        b.writeUInt32BE(checkUint(vnIndex, 32, 'origin-vn index'), 4);
      }));
    }
  }
  for (const sg of ec.securityGroups) {
    parts.push(community(0x80, 0x04, (b) => {
      b.writeUInt16BE(checkUint(sg.asn, 16, 'security-group ASN'), 2);
      b.writeUInt32BE(checkUint(sg.id, 32, 'security-group id'), 4);
    }));
  }
  for (const tag of ec.tags) {
    parts.push(community(0x80, 0x84, (b) => {
      b.writeUInt16BE(checkUint(tag.asn, 16, 'tag ASN'), 2);
      b.writeUInt32BE(checkUint(tag.tag, 32, 'tag'), 4);
    }));
  }
  if (ec.macMobility) {
    const { sticky, sequence } = ec.macMobility;
    parts.push(community(0x06, 0x00, (b) => {
      b[2] = sticky ? 0x01 : 0x00;
      b.writeUInt32BE(checkUint(sequence, 32, 'mac-mobility sequence'), 4);
    }));
  }
  if (ec.routerMac !== undefined) {
    const mac = ec.routerMac;
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new RangeError(`bad router MAC ${JSON.stringify(mac)}`);
    parts.push(community(0x06, 0x03, (b) => Buffer.from(mac.replaceAll(':', ''), 'hex').copy(b, 2)));
  }
  if (ec.loadBalance) {
    const { fields, sourceBias } = ec.loadBalance;
    parts.push(community(0x03, 0xaa, (b) => {
      for (const f of fields) b[2] = b[2]! | (0x80 >> LOAD_BALANCE_BITS.indexOf(f));
      b[4] = sourceBias ? 0x80 : 0x00;
    }));
  }
  for (const hex of ec.other) {
    if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new RangeError(`bad raw extended community ${JSON.stringify(hex)}`);
    parts.push(Buffer.from(hex, 'hex'));
  }
  return Buffer.concat(parts);
}

/** Decodes a whole EXTENDED_COMMUNITIES value; the caller has checked that its length is a multiple of 8. */
export function decodeExtendedCommunities(value: Buffer): ExtendedCommunities {
  const ec = emptyExtendedCommunities();
  for (let off = 0; off + 8 <= value.length; off += 8) {
    const b = value.subarray(off, off + 8);
    const type = b[0]!;
    const subtype = b[1]!;
    const rt = decodeRouteTarget(b);
    if (rt !== undefined) ec.routeTargets.push(rt);
    else if (type === 0x03 && subtype === 0x0c && b.readUInt32BE(2) === 0) {
      const id = b.readUInt16BE(6);
      ec.encapsulations.push(TUNNEL_BY_ID[id] ?? id);
    } else if (type === 0x80 && subtype === 0x71 && !ec.originVn) {
      ec.originVn = { asn: b.readUInt16BE(2), vnIndex: b.readUInt32BE(4) };
    } else if (type === 0x82 && subtype === 0x71 && !ec.originVn) {
      ec.originVn = { asn: b.readUInt32BE(2), vnIndex: b.readUInt16BE(6) };
    } else if (type === 0x80 && subtype === 0x04) {
      ec.securityGroups.push({ asn: b.readUInt16BE(2), id: b.readUInt32BE(4) });
    } else if (type === 0x80 && subtype === 0x84) {
      ec.tags.push({ asn: b.readUInt16BE(2), tag: b.readUInt32BE(4) });
    } else if (type === 0x06 && subtype === 0x00 && b[3] === 0 && (b[2]! & 0xfe) === 0 && !ec.macMobility) {
      ec.macMobility = { sticky: b[2] === 1, sequence: b.readUInt32BE(4) };
    } else if (type === 0x06 && subtype === 0x03 && ec.routerMac === undefined) {
      ec.routerMac = [...b.subarray(2, 8)].map((x) => x.toString(16).padStart(2, '0')).join(':');
    } else if (type === 0x03 && subtype === 0xaa && isCanonicalLoadBalance(b) && !ec.loadBalance) {
      ec.loadBalance = {
        fields: LOAD_BALANCE_BITS.filter((_, i) => (b[2]! & (0x80 >> i)) !== 0),
        sourceBias: b[4] === 0x80,
      };
    } else {
      ec.other.push(b.toString('hex'));
    }
  }
  return ec;
}

/** Only the bits we model may be set; anything else goes to `other` so that it is not lost. */
function isCanonicalLoadBalance(b: Buffer): boolean {
  return (b[2]! & 0x07) === 0 && b[3] === 0 && (b[4] === 0 || b[4] === 0x80) && b.readUInt16BE(5) === 0 && b[7] === 0;
}
