import { hostPrefixKey, requireIpv4Prefix, intToIpv4, prefixMask } from '../net/ipv4.ts';
import { MPLS_LABEL_MAX } from '../net/labels.ts';
import { BgpProtocolError, ErrorCode, UpdateSubcode } from './protocol-error.ts';
import { RD_LENGTH, decodeRd, encodeRd } from './route-distinguisher.ts';
import { decodeRouteTarget, encodeRouteTarget } from './extended-communities.ts';

/** A labelled VPN-IPv4 NLRI (RFC 4364 / RFC 8277): RD + IPv4 prefix, with its MPLS label. */
export interface VpnNlri {
  rd: string;
  prefix: string;
  label: number;
  /** See ./routes.ts VpnKey.hostKey. */
  readonly hostKey?: number | undefined;
}

/**
 * RT-constraint NLRI (RFC 4684). `routeTarget` null with prefixLength 0 is the default route (all targets).
 * Prefix lengths between 32 and 96 cover part of the target; the uncovered bytes print as zero.
 */
export interface RouteTargetNlri {
  originAs: number;
  routeTarget: string | null;
  prefixLength: number;
}

/** The label value a withdraw carries when the label does not matter (RFC 8277 §2.4). */
const WITHDRAW_LABEL_FIELD = 0x800000;

function invalidNlri(message: string): BgpProtocolError {
  return new BgpProtocolError(ErrorCode.update, UpdateSubcode.invalidNetworkField, message);
}

function prefixBytes(address: number, length: number): Buffer {
  const full = Buffer.alloc(4);
  full.writeUInt32BE(address);
  return full.subarray(0, Math.ceil(length / 8));
}

/** Reads `bits` of an IPv4 address from `bytes`, clearing bits past the prefix length. */
function readPrefix(bytes: Buffer, offset: number, bits: number): string {
  // No scratch buffer: BGP ingest reads one prefix per route.
  const size = (bits + 7) >>> 3;
  let value = 0;
  for (let i = 0; i < 4; i++) value = value * 256 + (i < size ? bytes[offset + i]! : 0);
  return `${intToIpv4((value & prefixMask(bits)) >>> 0)}/${bits}`;
}

export function encodeIpv4Prefixes(prefixes: readonly string[]): Buffer {
  return Buffer.concat(prefixes.flatMap((p) => {
    const { address, length } = requireIpv4Prefix(p);
    return [Buffer.of(length), prefixBytes(address, length)];
  }));
}

export function decodeIpv4Prefixes(bytes: Buffer): string[] {
  const out: string[] = [];
  let off = 0;
  while (off < bytes.length) {
    const bits = bytes[off]!;
    if (bits > 32) throw invalidNlri(`IPv4 prefix length ${bits} > 32`);
    const size = Math.ceil(bits / 8);
    if (off + 1 + size > bytes.length) throw invalidNlri('IPv4 prefix runs past the end of its field');
    out.push(readPrefix(bytes, off + 1, bits));
    off += 1 + size;
  }
  return out;
}

export function checkLabel(label: number): number {
  if (!Number.isInteger(label) || label < 0 || label > MPLS_LABEL_MAX) throw new RangeError(`MPLS label ${label} out of 0..${MPLS_LABEL_MAX}`);
  return label;
}

/** RD encodings by text: a feed uses few RDs for many routes, so each is parsed once. Bounded, as RDs come from peers. */
const rdCache = new Map<string, Buffer>();
const RD_CACHE_LIMIT = 4096;

/** The last RD encoded: routes come in runs of one RD. */
let lastEncodedRd = '';
let lastRdBytes: Buffer | undefined;

function cachedRd(rd: string): Buffer {
  if (rd === lastEncodedRd && lastRdBytes !== undefined) return lastRdBytes;
  let bytes = rdCache.get(rd);
  if (bytes === undefined) {
    bytes = encodeRd(rd);
    if (rdCache.size >= RD_CACHE_LIMIT) rdCache.clear();
    rdCache.set(rd, bytes);
  }
  lastEncodedRd = rd;
  lastRdBytes = bytes;
  return bytes;
}

/** Longest reach NLRI of one labelled VPN-IPv4 route: length, label, RD, 4 address bytes. */
export const MAX_VPN_NLRI_LENGTH = 1 + 3 + RD_LENGTH + 4;

/**
 * Writes one reach NLRI at `offset` (room for MAX_VPN_NLRI_LENGTH needed) and returns its length. Throws
 * RangeError on a bad label, RD or prefix: encoding is the validation.
 */
export function writeVpnReach(out: Buffer, offset: number, route: VpnNlri): number {
  return writeVpn(out, offset, route, (checkLabel(route.label) << 4) | 1);
}

/** Writes one withdraw NLRI (label field 0x800000) at `offset`; see writeVpnReach. */
export function writeVpnWithdraw(out: Buffer, offset: number, key: { rd: string; prefix: string; readonly hostKey?: number | undefined }): number {
  return writeVpn(out, offset, key, WITHDRAW_LABEL_FIELD);
}

function writeVpn(out: Buffer, offset: number, route: { rd: string; prefix: string; readonly hostKey?: number | undefined }, field: number): number {
  // A host route (nearly every one) is read without the general parser's result object, or its text at all.
  const host = route.hostKey ?? hostPrefixKey(route.prefix);
  const { address, length } = host === undefined ? requireIpv4Prefix(route.prefix) : { address: host >>> 0, length: 32 };
  const rd = cachedRd(route.rd);
  out[offset] = 24 + 64 + length;
  out[offset + 1] = (field >>> 16) & 0xff;
  out[offset + 2] = (field >>> 8) & 0xff;
  out[offset + 3] = field & 0xff;
  rd.copy(out, offset + 4);
  const bytes = Math.ceil(length / 8);
  for (let i = 0; i < bytes; i++) out[offset + 12 + i] = (address >>> (24 - 8 * i)) & 0xff;
  return 12 + bytes;
}

/** The routes' NLRI in one buffer (no buffer per route: a withdraw of a million routes encodes each once). */
function encodeVpnList(routes: readonly { rd: string; prefix: string; label?: number }[], field: (i: number) => number): Buffer {
  const out = Buffer.allocUnsafe(routes.length * MAX_VPN_NLRI_LENGTH);
  let offset = 0;
  for (let i = 0; i < routes.length; i++) offset += writeVpn(out, offset, routes[i]!, field(i));
  return out.subarray(0, offset);
}

/** Reach NLRI: one label with the bottom-of-stack bit (`label << 4 | 1`). */
export function encodeVpnReach(routes: readonly VpnNlri[]): Buffer {
  return encodeVpnList(routes, (i) => (checkLabel(routes[i]!.label) << 4) | 1);
}

/** Withdrawn NLRI carry the RFC 8277 compatibility label field 0x800000. */
export function encodeVpnWithdraw(routes: readonly { rd: string; prefix: string }[]): Buffer {
  return encodeVpnList(routes, () => WITHDRAW_LABEL_FIELD);
}

/**
 * Decodes VPN-IPv4 NLRI. Exactly one label field is read, whatever its bottom-of-stack bit says: we never
 * negotiate the Multiple Labels capability, and without it RFC 8277 §2.2 says the NLRI carries one label and
 * the S bit is ignored (reading on to the S bit would take the RD for a second label and lose the prefix).
 * In a withdraw the field is skipped: peers put 0x800000 or the old label there (RFC 8277 §2.4).
 */
export function decodeVpnNlri(bytes: Buffer, withdraw: boolean): VpnNlri[] {
  const out: VpnNlri[] = [];
  let off = 0;
  // Senders group routes by RD: one string for a run of equal RDs, shared by every table that keeps the route.
  let lastRdAt = -1;
  let lastRd = '';
  while (off < bytes.length) {
    const bits = bytes[off]!;
    const end = off + 1 + Math.ceil(bits / 8);
    if (end > bytes.length) throw invalidNlri('VPN-IPv4 NLRI runs past the end of its field');
    if (bits < 24) throw invalidNlri(`VPN-IPv4 NLRI length ${bits} too short for its label`);
    let cursor = off + 1;
    const label = ((bytes[cursor]! << 16) | (bytes[cursor + 1]! << 8) | bytes[cursor + 2]!) >>> 4;
    cursor += 3;
    let remaining = bits - 24;
    if (remaining < 64) throw invalidNlri(`VPN-IPv4 NLRI length ${bits} too short for a route distinguisher`);
    remaining -= 64;
    if (remaining > 32) throw invalidNlri(`VPN-IPv4 NLRI length ${bits}: IPv4 prefix of ${remaining} bits`);
    if (lastRdAt < 0 || !sameBytes(bytes, lastRdAt, cursor, RD_LENGTH)) {
      lastRd = decodeRd(bytes, cursor);
      lastRdAt = cursor;
    }
    const rd = lastRd;
    cursor += RD_LENGTH;
    if (withdraw && remaining === 32) out.push(new WithdrawnHost(rd, bytes.readInt32BE(cursor)));
    else out.push({ rd, prefix: readPrefix(bytes, cursor, remaining), label: withdraw ? 0 : label });
    off = end;
  }
  return out;
}

/**
 * A withdrawn /32 as decoded: its address as a number (hostPrefixKey) for the tables that look it up, and its
 * prefix text made only when something reads it (a withdrawal of a million routes needs none of them).
 */
class WithdrawnHost implements VpnNlri {
  readonly label = 0;
  readonly #host: number;
  #prefix: string | undefined = undefined;

  constructor(readonly rd: string, host: number) {
    this.#host = host;
  }

  get prefix(): string {
    return (this.#prefix ??= `${intToIpv4(this.#host >>> 0)}/32`);
  }

  get hostKey(): number {
    return this.#host;
  }

  toJSON(): VpnNlri {
    return { rd: this.rd, prefix: this.prefix, label: 0 };
  }
}

/** bytes[a, a + n) equals bytes[b, b + n): a loop, cheaper than Buffer.compare's call for 8 bytes. */
function sameBytes(bytes: Buffer, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

export function encodeRouteTargetNlri(items: readonly RouteTargetNlri[]): Buffer {
  return Buffer.concat(items.map((item) => {
    if (item.routeTarget === null || item.prefixLength === 0) return Buffer.of(0);
    if (item.prefixLength < 32 || item.prefixLength > 96) throw new RangeError(`RT NLRI prefix length ${item.prefixLength} not in 32..96`);
    const asn = Buffer.alloc(4);
    asn.writeUInt32BE(item.originAs);
    const target = item.routeTarget.startsWith('raw:') ? Buffer.from(item.routeTarget.slice(4), 'hex') : encodeRouteTarget(item.routeTarget);
    if (target.length !== 8) throw new RangeError(`bad raw route target ${item.routeTarget}`);
    const body = Buffer.concat([asn, target]);
    return Buffer.concat([Buffer.of(item.prefixLength), body.subarray(0, Math.ceil(item.prefixLength / 8))]);
  }));
}

export function decodeRouteTargetNlri(bytes: Buffer): RouteTargetNlri[] {
  const out: RouteTargetNlri[] = [];
  let off = 0;
  while (off < bytes.length) {
    const bits = bytes[off]!;
    if (bits === 0) {
      out.push({ originAs: 0, routeTarget: null, prefixLength: 0 });
      off += 1;
      continue;
    }
    if (bits < 32 || bits > 96) throw invalidNlri(`RT-constraint NLRI length ${bits} not 0 or 32..96`);
    const size = Math.ceil(bits / 8);
    if (off + 1 + size > bytes.length) throw invalidNlri('RT-constraint NLRI runs past the end of its field');
    const body = Buffer.alloc(12);
    bytes.copy(body, 0, off + 1, off + 1 + size);
    const partial = bits % 8;
    if (partial !== 0) body[size - 1] = body[size - 1]! & (0xff << (8 - partial));
    out.push({
      originAs: body.readUInt32BE(0),
      routeTarget: decodeRouteTarget(body, 4) ?? `raw:${body.subarray(4).toString('hex')}`,
      prefixLength: bits,
    });
    off += 1 + size;
  }
  return out;
}
