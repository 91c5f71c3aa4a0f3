import { ipv4ToBytes, intToIpv4 } from '../net/ipv4.ts';
import {
  type ExtendedCommunities, decodeExtendedCommunities, emptyExtendedCommunities, encodeExtendedCommunities,
} from './extended-communities.ts';

/** Path attribute type codes (RFC 4271, 1997, 4360, 4456, 4760). */
export const AttrType = {
  origin: 1, asPath: 2, nextHop: 3, med: 4, localPref: 5, atomicAggregate: 6, aggregator: 7, communities: 8,
  originatorId: 9, clusterList: 10, mpReach: 14, mpUnreach: 15, extCommunities: 16,
} as const;

export const AttrFlag = { optional: 0x80, transitive: 0x40, partial: 0x20, extendedLength: 0x10 } as const;

/** Optional/transitive bits each known attribute must carry. */
export const EXPECTED_FLAGS: Readonly<Record<number, number>> = {
  [AttrType.origin]: AttrFlag.transitive,
  [AttrType.asPath]: AttrFlag.transitive,
  [AttrType.nextHop]: AttrFlag.transitive,
  [AttrType.med]: AttrFlag.optional,
  [AttrType.localPref]: AttrFlag.transitive,
  [AttrType.atomicAggregate]: AttrFlag.transitive,
  [AttrType.aggregator]: AttrFlag.optional | AttrFlag.transitive,
  [AttrType.communities]: AttrFlag.optional | AttrFlag.transitive,
  [AttrType.originatorId]: AttrFlag.optional,
  [AttrType.clusterList]: AttrFlag.optional,
  [AttrType.mpReach]: AttrFlag.optional,
  [AttrType.mpUnreach]: AttrFlag.optional,
  [AttrType.extCommunities]: AttrFlag.optional | AttrFlag.transitive,
};

export type Origin = 'igp' | 'egp' | 'incomplete';
const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';
const SEGMENT_TYPES: readonly AsPathSegmentType[] = ['set', 'sequence', 'confed-sequence', 'confed-set'];

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

/** An optional transitive attribute this codec does not interpret; forwarded with the Partial bit set. */
export interface UnknownAttribute {
  flags: number;
  type: number;
  /** hex */
  value: string;
}

/** The attributes of a path, without next hop and NLRI (those belong to the route or the MP attributes). */
export interface PathAttributes {
  origin: Origin;
  asPath: AsPathSegment[];
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** 'high:low', e.g. '64512:100'. */
  communities: string[];
  extCommunities: ExtendedCommunities;
  /** RFC 4456 route reflection. */
  originatorId?: string;
  clusterList: string[];
  unknown: UnknownAttribute[];
}

export function defaultPathAttributes(overrides: Partial<PathAttributes> = {}): PathAttributes {
  return {
    origin: 'incomplete', asPath: [], communities: [], extCommunities: emptyExtendedCommunities(),
    clusterList: [], unknown: [], ...overrides,
  };
}

/** AS number used in 2-byte fields for ASNs that do not fit (RFC 6793). */
export const AS_TRANS = 23456;

/** Wraps a value in attribute framing, choosing the extended length form only when needed. */
export function frameAttribute(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new RangeError(`attribute ${type} too long (${value.length} bytes)`);
  const extended = value.length > 0xff;
  const head = Buffer.alloc(extended ? 4 : 3);
  head[0] = (flags & ~AttrFlag.extendedLength) | (extended ? AttrFlag.extendedLength : 0);
  head[1] = type;
  if (extended) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

function uint32(value: number, what: string): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${what} ${value} does not fit 32 bits`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

export function encodeAsPath(segments: readonly AsPathSegment[], fourOctetAs: boolean): Buffer {
  const size = fourOctetAs ? 4 : 2;
  return Buffer.concat(segments.flatMap((seg) => {
    const chunks: Buffer[] = [];
    // A segment holds at most 255 ASNs; longer runs are split into consecutive segments of the same type.
    for (let i = 0; i < seg.asns.length; i += 255) {
      const asns = seg.asns.slice(i, i + 255);
      const b = Buffer.alloc(2 + asns.length * size);
      b[0] = SEGMENT_TYPES.indexOf(seg.type) + 1;
      b[1] = asns.length;
      asns.forEach((asn, j) => {
        uint32(asn, 'ASN');
        if (fourOctetAs) b.writeUInt32BE(asn, 2 + j * 4);
        else b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + j * 2);
      });
      chunks.push(b);
    }
    return chunks;
  }));
}

/** Returns undefined when the bytes are not a well-formed AS_PATH (RFC 7606 §7.2: treat-as-withdraw). */
export function decodeAsPath(value: Buffer, fourOctetAs: boolean): AsPathSegment[] | undefined {
  const size = fourOctetAs ? 4 : 2;
  const out: AsPathSegment[] = [];
  let off = 0;
  while (off < value.length) {
    if (off + 2 > value.length) return undefined;
    const type = SEGMENT_TYPES[value[off]! - 1];
    const count = value[off + 1]!;
    if (type === undefined || count === 0 || off + 2 + count * size > value.length) return undefined;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      asns.push(fourOctetAs ? value.readUInt32BE(off + 2 + i * 4) : value.readUInt16BE(off + 2 + i * 2));
    }
    out.push({ type, asns });
    off += 2 + count * size;
  }
  return out;
}

function encodeCommunity(text: string): Buffer {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) throw new RangeError(`bad community ${JSON.stringify(text)}: expected N:N (16 bits each)`);
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Number(m[1]), 0);
  b.writeUInt16BE(Number(m[2]), 2);
  return b;
}

/**
 * Encodes every attribute except MP_REACH/MP_UNREACH and NEXT_HOP, which the UPDATE codec places.
 * Returns them keyed by type code so that the caller can emit the whole set in ascending order.
 */
export function encodePathAttributes(attrs: PathAttributes, fourOctetAs: boolean): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const put = (type: number, value: Buffer, flags = EXPECTED_FLAGS[type]!) => out.set(type, frameAttribute(flags, type, value));
  const origin = ORIGINS.indexOf(attrs.origin);
  if (origin < 0) throw new RangeError(`bad origin ${JSON.stringify(attrs.origin)}`);
  put(AttrType.origin, Buffer.of(origin));
  put(AttrType.asPath, encodeAsPath(attrs.asPath, fourOctetAs));
  if (attrs.med !== undefined) put(AttrType.med, uint32(attrs.med, 'MED'));
  if (attrs.localPref !== undefined) put(AttrType.localPref, uint32(attrs.localPref, 'LOCAL_PREF'));
  if (attrs.atomicAggregate) put(AttrType.atomicAggregate, Buffer.alloc(0));
  if (attrs.aggregator) {
    const { asn, address } = attrs.aggregator;
    const asnBytes = fourOctetAs ? uint32(asn, 'aggregator ASN') : uint32(asn > 0xffff ? AS_TRANS : asn, 'aggregator ASN').subarray(2);
    put(AttrType.aggregator, Buffer.concat([asnBytes, ipv4ToBytes(address)]));
  }
  if (attrs.communities.length > 0) put(AttrType.communities, Buffer.concat(attrs.communities.map(encodeCommunity)));
  if (attrs.originatorId !== undefined) put(AttrType.originatorId, ipv4ToBytes(attrs.originatorId));
  if (attrs.clusterList.length > 0) put(AttrType.clusterList, Buffer.concat(attrs.clusterList.map(ipv4ToBytes)));
  const ext = encodeExtendedCommunities(attrs.extCommunities);
  if (ext.length > 0) put(AttrType.extCommunities, ext);
  for (const u of attrs.unknown) {
    if (out.has(u.type) || EXPECTED_FLAGS[u.type] !== undefined || u.type === AttrType.mpReach) {
      throw new RangeError(`unknown attribute ${u.type} collides with a known one`);
    }
    if (!/^([0-9a-fA-F]{2})*$/.test(u.value)) throw new RangeError(`attribute ${u.type}: value is not hex`);
    put(u.type, Buffer.from(u.value, 'hex'), u.flags | AttrFlag.partial);
  }
  return out;
}

/** Outcome of decoding one known attribute's value: a setter for the result, or why it is malformed. */
export type AttributeDecode = { ok: true; apply: (attrs: PathAttributes) => void } | { ok: false; reason: string };

function fixed(value: Buffer, length: number, name: string, apply: (a: PathAttributes) => void): AttributeDecode {
  return value.length === length ? { ok: true, apply } : { ok: false, reason: `${name} length ${value.length} != ${length}` };
}

/** Decodes the value of a known non-MP attribute other than NEXT_HOP. */
export function decodeKnownAttribute(type: number, value: Buffer, fourOctetAs: boolean): AttributeDecode {
  switch (type) {
    case AttrType.origin: {
      const origin = ORIGINS[value[0] ?? 255];
      if (value.length !== 1 || origin === undefined) return { ok: false, reason: `bad ORIGIN ${value.toString('hex')}` };
      return { ok: true, apply: (a) => { a.origin = origin; } };
    }
    case AttrType.asPath: {
      const asPath = decodeAsPath(value, fourOctetAs);
      if (!asPath) return { ok: false, reason: 'malformed AS_PATH' };
      return { ok: true, apply: (a) => { a.asPath = asPath; } };
    }
    case AttrType.med:
      return fixed(value, 4, 'MED', (a) => { a.med = value.readUInt32BE(); });
    case AttrType.localPref:
      return fixed(value, 4, 'LOCAL_PREF', (a) => { a.localPref = value.readUInt32BE(); });
    case AttrType.atomicAggregate:
      return fixed(value, 0, 'ATOMIC_AGGREGATE', (a) => { a.atomicAggregate = true; });
    case AttrType.aggregator:
      return fixed(value, fourOctetAs ? 8 : 6, 'AGGREGATOR', (a) => {
        a.aggregator = fourOctetAs
          ? { asn: value.readUInt32BE(0), address: intToIpv4(value.readUInt32BE(4)) }
          : { asn: value.readUInt16BE(0), address: intToIpv4(value.readUInt32BE(2)) };
      });
    case AttrType.communities:
      if (value.length === 0 || value.length % 4 !== 0) return { ok: false, reason: `COMMUNITIES length ${value.length}` };
      return {
        ok: true,
        apply: (a) => {
          a.communities = [];
          for (let i = 0; i < value.length; i += 4) a.communities.push(`${value.readUInt16BE(i)}:${value.readUInt16BE(i + 2)}`);
        },
      };
    case AttrType.originatorId:
      return fixed(value, 4, 'ORIGINATOR_ID', (a) => { a.originatorId = intToIpv4(value.readUInt32BE()); });
    case AttrType.clusterList:
      if (value.length === 0 || value.length % 4 !== 0) return { ok: false, reason: `CLUSTER_LIST length ${value.length}` };
      return {
        ok: true,
        apply: (a) => {
          a.clusterList = [];
          for (let i = 0; i < value.length; i += 4) a.clusterList.push(intToIpv4(value.readUInt32BE(i)));
        },
      };
    case AttrType.extCommunities:
      if (value.length % 8 !== 0) return { ok: false, reason: `EXTENDED_COMMUNITIES length ${value.length}` };
      return { ok: true, apply: (a) => { a.extCommunities = decodeExtendedCommunities(value); } };
    default:
      return { ok: false, reason: `attribute ${type} is not decoded here` };
  }
}
