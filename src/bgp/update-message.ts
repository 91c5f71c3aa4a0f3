import { ipv4ToBytes, numberToIpv4 } from './ipv4.ts';
import { AFI_IPV4, type FamilyName, familyCode, familyName } from './families.ts';
import { BgpProtocolError, ErrorCode, UpdateSubcode } from './protocol-error.ts';
import {
  type RouteTargetNlri, type VpnNlri, decodeIpv4Prefixes, decodeRouteTargetNlri, decodeVpnNlri,
  encodeIpv4Prefixes, encodeRouteTargetNlri, encodeVpnReach, encodeVpnWithdraw,
} from './nlri.ts';
import {
  AttrFlag, AttrType, EXPECTED_FLAGS, type PathAttributes, decodeKnownAttribute, defaultPathAttributes,
  encodePathAttributes, frameAttribute,
} from './path-attributes.ts';

/** NLRI of one MP_REACH / MP_UNREACH attribute, by family. Families we do not know are reported, not parsed. */
export type MpNlri =
  | { family: 'inet'; prefixes: string[] }
  | { family: 'inet-vpn'; routes: VpnNlri[] }
  | { family: 'route-target'; targets: RouteTargetNlri[] }
  | { family: 'unknown'; afi: number; safi: number };

export interface MpReach {
  /** IPv4 next hop (for inet-vpn the RD of zero in front of it is implied). */
  nextHop: string;
  nlri: MpNlri;
}

/** The parts of an UPDATE; what we send and what we decode have the same shape. */
export interface UpdateParts {
  withdrawn?: string[];
  attributes?: PathAttributes;
  /** NEXT_HOP attribute; needed with `nlri`. */
  nextHop?: string;
  nlri?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpNlri;
}

/** A malformed attribute handled as RFC 7606 allows instead of resetting the session. */
export interface AttributeProblem {
  action: 'treat-as-withdraw' | 'attribute-discard';
  attributeType: number;
  reason: string;
}

export interface DecodedUpdate extends UpdateParts {
  problems: AttributeProblem[];
  /** RFC 7606 §2: every reachable NLRI of this UPDATE must be handled as withdrawn. */
  treatAsWithdraw: boolean;
}

function mpFamilyHeader(nlri: MpNlri): Buffer {
  const { afi, safi } = nlri.family === 'unknown' ? nlri : familyCode(nlri.family);
  const b = Buffer.alloc(3);
  b.writeUInt16BE(afi, 0);
  b[2] = safi;
  return b;
}

function encodeMpNlri(nlri: MpNlri, withdraw: boolean): Buffer {
  switch (nlri.family) {
    case 'inet': return encodeIpv4Prefixes(nlri.prefixes);
    case 'inet-vpn': return withdraw ? encodeVpnWithdraw(nlri.routes) : encodeVpnReach(nlri.routes);
    case 'route-target': return encodeRouteTargetNlri(nlri.targets);
    case 'unknown': throw new RangeError(`cannot encode NLRI of AFI ${nlri.afi} SAFI ${nlri.safi}`);
  }
}

function encodeMpReach(reach: MpReach): Buffer {
  const nh = reach.nlri.family === 'inet-vpn' ? Buffer.concat([Buffer.alloc(8), ipv4ToBytes(reach.nextHop)]) : ipv4ToBytes(reach.nextHop);
  return Buffer.concat([mpFamilyHeader(reach.nlri), Buffer.of(nh.length), nh, Buffer.of(0), encodeMpNlri(reach.nlri, false)]);
}

/** Body of an UPDATE (without the 19-byte header). */
export function encodeUpdateBody(parts: UpdateParts, fourOctetAs: boolean): Buffer {
  const withdrawn = encodeIpv4Prefixes(parts.withdrawn ?? []);
  const attrs = parts.attributes ? encodePathAttributes(parts.attributes, fourOctetAs) : new Map<number, Buffer>();
  if ((parts.nlri?.length ?? 0) > 0 && parts.nextHop === undefined) throw new RangeError('UPDATE with NLRI needs a next hop');
  if ((parts.nlri?.length || parts.mpReach) && !parts.attributes) throw new RangeError('UPDATE with reachable NLRI needs path attributes');
  if (parts.nextHop !== undefined && parts.nlri?.length) {
    attrs.set(AttrType.nextHop, frameAttribute(EXPECTED_FLAGS[AttrType.nextHop]!, AttrType.nextHop, ipv4ToBytes(parts.nextHop)));
  }
  if (parts.mpReach) attrs.set(AttrType.mpReach, frameAttribute(AttrFlag.optional, AttrType.mpReach, encodeMpReach(parts.mpReach)));
  if (parts.mpUnreach) {
    const value = Buffer.concat([mpFamilyHeader(parts.mpUnreach), encodeMpNlri(parts.mpUnreach, true)]);
    attrs.set(AttrType.mpUnreach, frameAttribute(AttrFlag.optional, AttrType.mpUnreach, value));
  }
  const attrBytes = Buffer.concat([...attrs.keys()].sort((a, b) => a - b).map((k) => attrs.get(k)!));
  const nlri = encodeIpv4Prefixes(parts.nlri ?? []);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(withdrawn.length);
  const attrLen = Buffer.alloc(2);
  attrLen.writeUInt16BE(attrBytes.length);
  return Buffer.concat([head, withdrawn, attrLen, attrBytes, nlri]);
}

function malformedList(message: string): BgpProtocolError {
  return new BgpProtocolError(ErrorCode.update, UpdateSubcode.malformedAttributeList, message);
}

function decodeMpNlri(afi: number, safi: number, bytes: Buffer, withdraw: boolean): MpNlri {
  const family: FamilyName | undefined = familyName(afi, safi);
  switch (family) {
    case 'inet': return { family, prefixes: decodeIpv4Prefixes(bytes) };
    case 'inet-vpn': return { family, routes: decodeVpnNlri(bytes, withdraw) };
    case 'route-target': return { family, targets: decodeRouteTargetNlri(bytes) };
    case undefined: return { family: 'unknown', afi, safi };
  }
}

/** RFC 7606 §7.11: an MP_REACH we cannot walk leaves the NLRI unknown, so only a session reset is safe. */
function decodeMpReach(value: Buffer, data: Buffer): MpReach {
  const bad = (why: string) => new BgpProtocolError(ErrorCode.update, UpdateSubcode.optionalAttributeError, `MP_REACH_NLRI: ${why}`, data);
  if (value.length < 5) throw bad('shorter than its fixed fields');
  const afi = value.readUInt16BE(0);
  const safi = value[2]!;
  const nhLength = value[3]!;
  if (4 + nhLength + 1 > value.length) throw bad(`next hop length ${nhLength} runs past the attribute`);
  const nh = value.subarray(4, 4 + nhLength);
  const nlriBytes = value.subarray(4 + nhLength + 1);
  const nlri = decodeMpNlri(afi, safi, nlriBytes, false);
  let nextHop: string;
  if (nlri.family === 'unknown') nextHop = nh.toString('hex');
  else if (nlri.family === 'inet-vpn' && (nhLength === 12 || nhLength === 24)) nextHop = numberToIpv4(nh.readUInt32BE(8));
  else if (afi === AFI_IPV4 && nhLength === 4 && nlri.family !== 'inet-vpn') nextHop = numberToIpv4(nh.readUInt32BE(0));
  else throw bad(`next hop length ${nhLength} does not fit ${nlri.family}`);
  return { nextHop, nlri };
}

function decodeMpUnreach(value: Buffer, data: Buffer): MpNlri {
  if (value.length < 3) {
    throw new BgpProtocolError(ErrorCode.update, UpdateSubcode.optionalAttributeError, 'MP_UNREACH_NLRI shorter than 3 bytes', data);
  }
  return decodeMpNlri(value.readUInt16BE(0), value[2]!, value.subarray(3), true);
}

/**
 * Decodes an UPDATE body (RFC 4271 §4.3) applying RFC 7606: structural errors and unparseable NLRI throw
 * BgpProtocolError (session reset); malformed attributes give treat-as-withdraw or attribute-discard.
 */
export function decodeUpdateBody(body: Buffer, fourOctetAs: boolean): DecodedUpdate {
  if (body.length < 4) throw malformedList('UPDATE shorter than its two length fields');
  const withdrawnLength = body.readUInt16BE(0);
  if (2 + withdrawnLength + 2 > body.length) throw malformedList(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  const withdrawn = decodeIpv4Prefixes(body.subarray(2, 2 + withdrawnLength));
  const attrStart = 2 + withdrawnLength + 2;
  const attrLength = body.readUInt16BE(2 + withdrawnLength);
  if (attrStart + attrLength > body.length) throw malformedList(`total path attribute length ${attrLength} exceeds the message`);
  const attrBytes = body.subarray(attrStart, attrStart + attrLength);
  const nlri = decodeIpv4Prefixes(body.subarray(attrStart + attrLength));

  const result: DecodedUpdate = { problems: [], treatAsWithdraw: false };
  if (withdrawn.length) result.withdrawn = withdrawn;
  if (nlri.length) result.nlri = nlri;
  const attributes = defaultPathAttributes();
  const seen = new Set<number>();
  const problem = (action: AttributeProblem['action'], attributeType: number, reason: string) => {
    result.problems.push({ action, attributeType, reason });
    if (action === 'treat-as-withdraw') result.treatAsWithdraw = true;
  };

  // RFC 7606 §4: an attribute list that cannot be walked to its end is a session reset only while the NLRI
  // cannot be located; once an MP_REACH or MP_UNREACH has been parsed they can, and the UPDATE is handled as
  // treat-as-withdraw (its reachable NLRI withdrawn, the rest of the list ignored).
  const listBroken = (type: number, reason: string): boolean => {
    if (result.mpReach === undefined && result.mpUnreach === undefined) throw malformedList(reason);
    problem('treat-as-withdraw', type, reason);
    return true;
  };
  let off = 0;
  while (off < attrBytes.length) {
    if (off + 3 > attrBytes.length && listBroken(0, 'truncated path attribute header')) break;
    const flags = attrBytes[off]!;
    const type = attrBytes[off + 1]!;
    const extended = (flags & AttrFlag.extendedLength) !== 0;
    if (extended && off + 4 > attrBytes.length && listBroken(type, 'truncated path attribute header')) break;
    const length = extended ? attrBytes.readUInt16BE(off + 2) : attrBytes[off + 2]!;
    const valueStart = off + (extended ? 4 : 3);
    if (valueStart + length > attrBytes.length && listBroken(type, `attribute ${type} length ${length} runs past the attribute list`)) break;
    const value = attrBytes.subarray(valueStart, valueStart + length);
    const whole = attrBytes.subarray(off, valueStart + length);
    off = valueStart + length;

    if (seen.has(type)) {
      if (type === AttrType.mpReach || type === AttrType.mpUnreach) throw malformedList(`attribute ${type} appears twice`);
      problem('attribute-discard', type, 'repeated attribute');
      continue;
    }
    seen.add(type);
    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      if ((flags & AttrFlag.optional) === 0) {
        throw new BgpProtocolError(ErrorCode.update, UpdateSubcode.unrecognizedWellKnownAttribute, `unrecognized well-known attribute ${type}`, Buffer.from(whole));
      }
      if (flags & AttrFlag.transitive) attributes.unknown.push({ flags, type, value: value.toString('hex') });
      continue;
    }
    const flagsOk = (flags & (AttrFlag.optional | AttrFlag.transitive)) === expected;
    if (type === AttrType.mpReach || type === AttrType.mpUnreach) {
      if (!flagsOk) throw new BgpProtocolError(ErrorCode.update, UpdateSubcode.attributeFlagsError, `attribute ${type} flags 0x${flags.toString(16)}`, Buffer.from(whole));
      if (type === AttrType.mpReach) result.mpReach = decodeMpReach(value, Buffer.from(whole));
      else result.mpUnreach = decodeMpUnreach(value, Buffer.from(whole));
      continue;
    }
    // RFC 7606 §7.6/§7.7: broken ATOMIC_AGGREGATE / AGGREGATOR affect nothing but themselves.
    const minor = type === AttrType.atomicAggregate || type === AttrType.aggregator;
    if (!flagsOk) {
      problem(minor ? 'attribute-discard' : 'treat-as-withdraw', type, `flags 0x${flags.toString(16)} conflict with the attribute's definition`);
      continue;
    }
    if (type === AttrType.nextHop) {
      if (length === 4) result.nextHop = numberToIpv4(value.readUInt32BE());
      else problem('treat-as-withdraw', type, `NEXT_HOP length ${length} != 4`);
      continue;
    }
    const decoded = decodeKnownAttribute(type, value, fourOctetAs);
    if (decoded.ok) decoded.apply(attributes);
    else problem(minor ? 'attribute-discard' : 'treat-as-withdraw', type, decoded.reason);
  }

  if (attrLength > 0) result.attributes = attributes;
  const reachable = nlri.length > 0 || result.mpReach !== undefined;
  if (reachable) {
    const missing: number[] = [];
    if (!seen.has(AttrType.origin)) missing.push(AttrType.origin);
    if (!seen.has(AttrType.asPath)) missing.push(AttrType.asPath);
    if (nlri.length > 0 && !seen.has(AttrType.nextHop)) missing.push(AttrType.nextHop);
    for (const type of missing) problem('treat-as-withdraw', type, `missing well-known attribute ${type}`);
  }
  return result;
}
