// MPLS-over-UDP payload (RFC 7510): one label stack entry (RFC 3032) followed by an IPv4 packet with a
// TCP or UDP header, so that capture tools decode the datagram on UDP port 6635.
import type { Packet } from './packet.ts';
import { intToIpv4, ipv4ToInt } from './packet.ts';

export const MPLS_OVER_UDP_PORT = 6635;
/** An MPLS label is 20 bits (RFC 3032): anything larger cannot be put on the wire. */
export const MPLS_LABEL_MAX = 0xfffff;
/** Labels 0-15 are reserved (RFC 3032); the vRouter hands out labels from 16 (docs/protocol.md §7.1). */
export const MPLS_FIRST_UNRESERVED_LABEL = 16;
/**
 * Delivery reports between simulated computes travel as label 15 (reserved, never a vRouter label,
 * docs/protocol.md §7.1)
 * followed by JSON, so they cannot be mistaken for data and capture tools still see MPLS.
 */
export const REPORT_LABEL = 15;
const LABEL_ENTRY = 4;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const DEFAULT_TTL = 64;
/** payload bytes carried at most, whatever `bytes` says: keeps datagrams under a loopback-friendly size */
const MAX_PAYLOAD = 1400;

function ipChecksum(buf: Buffer, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function l4HeaderLength(proto: number): number {
  return proto === 6 ? TCP_HEADER : proto === 17 ? UDP_HEADER : 4; // other protocols: just the two ports
}

/**
 * `ident` goes into the IPv4 Identification field: the sender's handle for the delivery report. A label
 * outside 0..MPLS_LABEL_MAX throws: masking it would send another label than the one asked for.
 */
export function encodeMplsOverUdp(label: number, p: Packet, ident = 0): Buffer {
  if (!Number.isInteger(label) || label < 0 || label > MPLS_LABEL_MAX) {
    throw new RangeError(`MPLS label ${String(label)} out of 0..${MPLS_LABEL_MAX} (labels are 20 bits)`);
  }
  const l4 = l4HeaderLength(p.proto);
  const payload = Math.max(0, Math.min(MAX_PAYLOAD, (p.bytes ?? 0) - IPV4_HEADER - l4));
  const ipLength = IPV4_HEADER + l4 + payload;
  const buf = Buffer.alloc(LABEL_ENTRY + ipLength);
  // label (20 bits) | traffic class 0 | bottom of stack | TTL
  buf.writeUInt32BE((label * 4096 + 0x100 + DEFAULT_TTL) >>> 0, 0);
  const ip = LABEL_ENTRY;
  buf.writeUInt8(0x45, ip);
  buf.writeUInt16BE(ipLength, ip + 2);
  buf.writeUInt16BE(ident & 0xffff, ip + 4);
  buf.writeUInt16BE(0x4000, ip + 6); // don't fragment
  buf.writeUInt8(DEFAULT_TTL, ip + 8);
  buf.writeUInt8(p.proto, ip + 9);
  buf.writeUInt32BE(ipv4ToInt(p.src) >>> 0, ip + 12);
  buf.writeUInt32BE(ipv4ToInt(p.dst) >>> 0, ip + 16);
  buf.writeUInt16BE(ipChecksum(buf, ip, IPV4_HEADER), ip + 10);
  const l4At = ip + IPV4_HEADER;
  buf.writeUInt16BE(p.sport, l4At);
  buf.writeUInt16BE(p.dport, l4At + 2);
  if (p.proto === 6) {
    buf.writeUInt8(5 << 4, l4At + 12); // data offset 5 words
    buf.writeUInt8(0x02, l4At + 13); // SYN: every generated packet stands for a connection's packets
    buf.writeUInt16BE(65535, l4At + 14);
  } else if (p.proto === 17) {
    buf.writeUInt16BE(UDP_HEADER + payload, l4At + 4);
  }
  return buf;
}

export type DecodedDatagram =
  | { label: number; packet: Packet; ident: number }
  | { report: { ident: number; result: unknown } }
  | { error: string };

export function encodeReport(ident: number, result: unknown): Buffer {
  const body = Buffer.from(JSON.stringify({ ident, result }));
  const buf = Buffer.alloc(LABEL_ENTRY + body.length);
  buf.writeUInt32BE((REPORT_LABEL * 4096 + 0x100 + DEFAULT_TTL) >>> 0, 0);
  body.copy(buf, LABEL_ENTRY);
  return buf;
}

export function decodeMplsOverUdp(buf: Buffer): DecodedDatagram {
  if (buf.length >= LABEL_ENTRY && buf.readUInt32BE(0) >>> 12 === REPORT_LABEL) {
    try {
      const parsed: unknown = JSON.parse(buf.subarray(LABEL_ENTRY).toString('utf8'));
      const ident = (parsed as { ident?: unknown } | null)?.ident;
      if (typeof ident !== 'number') return { error: 'delivery report without an ident' };
      return { report: { ident, result: (parsed as { result?: unknown }).result } };
    } catch (err) {
      return { error: `delivery report is not JSON: ${(err as Error).message}` };
    }
  }
  if (buf.length < LABEL_ENTRY + IPV4_HEADER + 4) return { error: `datagram of ${buf.length} bytes is too short` };
  const entry = buf.readUInt32BE(0);
  if ((entry & 0x100) === 0) return { error: 'label stacks deeper than one entry are not used by the vRouter underlay' };
  const label = entry >>> 12;
  const ip = LABEL_ENTRY;
  const versionIhl = buf.readUInt8(ip);
  if (versionIhl >> 4 !== 4) return { error: `IP version ${versionIhl >> 4} is not 4` };
  const ihl = (versionIhl & 15) * 4;
  if (ihl < IPV4_HEADER || buf.length < ip + ihl + 4) return { error: `IPv4 header length ${ihl} does not fit the datagram` };
  const totalLength = buf.readUInt16BE(ip + 2);
  if (totalLength > buf.length - ip) return { error: `IPv4 total length ${totalLength} exceeds the datagram` };
  const proto = buf.readUInt8(ip + 9);
  const l4At = ip + ihl;
  return {
    label,
    ident: buf.readUInt16BE(ip + 4),
    packet: {
      src: intToIpv4(buf.readUInt32BE(ip + 12)),
      dst: intToIpv4(buf.readUInt32BE(ip + 16)),
      proto,
      sport: buf.readUInt16BE(l4At),
      dport: buf.readUInt16BE(l4At + 2),
      bytes: totalLength,
    },
  };
}
