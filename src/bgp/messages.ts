import { requireIpv4, intToIpv4 } from '../net/ipv4.ts';
import {
  BgpProtocolError, ErrorCode, HeaderSubcode, OpenSubcode,
} from './protocol-error.ts';
import {
  GR_CAPABILITY_CODE, LLGR_CAPABILITY_CODE, type GracefulRestartCapability, type LongLivedGracefulRestartCapability,
  decodeGracefulRestart, decodeLongLivedGracefulRestart, encodeGracefulRestart, encodeLongLivedGracefulRestart,
} from './graceful-restart-capability.ts';
import { AS_TRANS } from './path-attributes.ts';
import { type DecodedUpdate, type UpdateParts, decodeUpdateBody, encodeUpdateBody } from './update-message.ts';

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const MessageType = { open: 1, update: 2, notification: 3, keepalive: 4, routeRefresh: 5 } as const;

export const CapabilityCode = {
  multiprotocol: 1, routeRefresh: 2, gracefulRestart: GR_CAPABILITY_CODE, fourOctetAs: 65, longLivedGracefulRestart: LLGR_CAPABILITY_CODE,
} as const;

export interface Capabilities {
  multiprotocol: { afi: number; safi: number }[];
  routeRefresh: boolean;
  /** The speaker's real ASN when it supports 4-octet AS numbers (RFC 6793). */
  fourOctetAs?: number;
  /** RFC 4724 (code 64). */
  gracefulRestart?: GracefulRestartCapability;
  /** RFC 9494 (code 71). */
  longLivedGracefulRestart?: LongLivedGracefulRestartCapability;
  /** Capabilities we do not interpret (e.g. GoBGP's FQDN 73, extended next hop 5), skipped but kept for display. */
  other: { code: number; value: string }[];
}

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-byte "My Autonomous System" field (AS_TRANS when the real ASN is 4 bytes). */
  myAs: number;
  holdTime: number;
  routerId: string;
  capabilities: Capabilities;
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313: 0 normal, 1 BoRR, 2 EoRR. */
  subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | ({ type: 'update' } & DecodedUpdate)
  | NotificationMessage
  | { type: 'keepalive' }
  | RouteRefreshMessage;

/** What the caller hands to encodeMessage; an UPDATE is given by its parts. */
export type OutgoingMessage =
  | Omit<OpenMessage, 'myAs' | 'version'> & { asn: number }
  | ({ type: 'update' } & UpdateParts)
  | Omit<NotificationMessage, 'data'> & { data?: Buffer }
  | { type: 'keepalive' }
  | Omit<RouteRefreshMessage, 'subtype'> & { subtype?: number };

function frame(type: number, body: Buffer): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`BGP message of ${length} bytes exceeds ${MAX_MESSAGE_LENGTH}`);
  const head = Buffer.alloc(HEADER_LENGTH, 0xff);
  head.writeUInt16BE(length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

function encodeCapabilities(caps: Capabilities): Buffer {
  const items: Buffer[] = [];
  for (const mp of caps.multiprotocol) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(mp.afi, 0);
    v[3] = mp.safi;
    items.push(Buffer.of(CapabilityCode.multiprotocol, 4), v);
  }
  if (caps.routeRefresh) items.push(Buffer.of(CapabilityCode.routeRefresh, 0));
  if (caps.fourOctetAs !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(caps.fourOctetAs);
    items.push(Buffer.of(CapabilityCode.fourOctetAs, 4), v);
  }
  if (caps.gracefulRestart) {
    const v = encodeGracefulRestart(caps.gracefulRestart);
    items.push(Buffer.of(CapabilityCode.gracefulRestart, v.length), v);
  }
  if (caps.longLivedGracefulRestart) {
    const v = encodeLongLivedGracefulRestart(caps.longLivedGracefulRestart);
    items.push(Buffer.of(CapabilityCode.longLivedGracefulRestart, v.length), v);
  }
  for (const o of caps.other) {
    const v = Buffer.from(o.value, 'hex');
    items.push(Buffer.of(o.code, v.length), v);
  }
  return Buffer.concat(items);
}

function encodeOpenBody(open: { asn: number; holdTime: number; routerId: string; capabilities: Capabilities }): Buffer {
  const caps = encodeCapabilities(open.capabilities);
  if (caps.length > 253) throw new RangeError('capabilities do not fit one optional parameter');
  const params = caps.length > 0 ? Buffer.concat([Buffer.of(2, caps.length), caps]) : Buffer.alloc(0);
  const fixed = Buffer.alloc(10);
  fixed[0] = 4;
  fixed.writeUInt16BE(open.asn > 0xffff ? AS_TRANS : open.asn, 1);
  fixed.writeUInt16BE(open.holdTime, 3);
  fixed.writeUInt32BE(requireIpv4(open.routerId), 5);
  fixed[9] = params.length;
  return Buffer.concat([fixed, params]);
}

/** Encodes one message. `fourOctetAs` says how AS numbers go on this session (UPDATE only). */
export function encodeMessage(msg: OutgoingMessage, fourOctetAs = true): Buffer {
  switch (msg.type) {
    case 'open': return frame(MessageType.open, encodeOpenBody(msg));
    case 'update': return frame(MessageType.update, encodeUpdateBody(msg, fourOctetAs));
    case 'notification': return frame(MessageType.notification, Buffer.concat([Buffer.of(msg.code, msg.subcode), msg.data ?? Buffer.alloc(0)]));
    case 'keepalive': return frame(MessageType.keepalive, Buffer.alloc(0));
    case 'route-refresh': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(msg.afi, 0);
      b[2] = msg.subtype ?? 0;
      b[3] = msg.safi;
      return frame(MessageType.routeRefresh, b);
    }
  }
}

const MIN_LENGTH: Record<number, number> = {
  [MessageType.open]: 29,
  [MessageType.update]: 23,
  [MessageType.notification]: 21,
  [MessageType.keepalive]: 19,
  [MessageType.routeRefresh]: 23,
};

/**
 * Checks a message header and returns the total length of the message it announces.
 * Throws the RFC 4271 §6.1 header errors.
 */
export function readHeader(head: Buffer): { length: number; type: number } {
  for (let i = 0; i < 16; i++) {
    if (head[i] !== 0xff) throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.connectionNotSynchronized, 'marker is not all ones');
  }
  const length = head.readUInt16BE(16);
  const type = head[18]!;
  const lengthField = Buffer.from(head.subarray(16, 18));
  const min = MIN_LENGTH[type];
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.badMessageLength, `message length ${length} out of ${HEADER_LENGTH}..${MAX_MESSAGE_LENGTH}`, lengthField);
  }
  if (min === undefined) {
    throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.badMessageType, `unknown message type ${type}`, Buffer.of(type));
  }
  if (length < min || (type === MessageType.keepalive && length !== HEADER_LENGTH)) {
    throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.badMessageLength, `length ${length} wrong for message type ${type}`, lengthField);
  }
  return { length, type };
}

function decodeCapabilities(bytes: Buffer, caps: Capabilities): void {
  let off = 0;
  while (off < bytes.length) {
    if (off + 2 > bytes.length) throw new BgpProtocolError(ErrorCode.open, 0, 'truncated capability');
    const code = bytes[off]!;
    const len = bytes[off + 1]!;
    if (off + 2 + len > bytes.length) throw new BgpProtocolError(ErrorCode.open, 0, `capability ${code} runs past its parameter`);
    const v = bytes.subarray(off + 2, off + 2 + len);
    off += 2 + len;
    if (code === CapabilityCode.multiprotocol && len === 4) caps.multiprotocol.push({ afi: v.readUInt16BE(0), safi: v[3]! });
    else if (code === CapabilityCode.routeRefresh && len === 0) caps.routeRefresh = true;
    else if (code === CapabilityCode.fourOctetAs && len === 4) caps.fourOctetAs = v.readUInt32BE(0);
    else if (!readRestartCapability(code, v, caps)) caps.other.push({ code, value: v.toString('hex') });
  }
}

/** Capabilities 64 and 71 into `caps`; false when `code` is neither or its value is malformed (then kept as other). */
function readRestartCapability(code: number, value: Buffer, caps: Capabilities): boolean {
  if (code === CapabilityCode.gracefulRestart) {
    const gr = decodeGracefulRestart(value);
    if (gr) caps.gracefulRestart = gr;
    return gr !== undefined;
  }
  if (code === CapabilityCode.longLivedGracefulRestart) {
    const llgr = decodeLongLivedGracefulRestart(value);
    if (llgr) caps.longLivedGracefulRestart = llgr;
    return llgr !== undefined;
  }
  return false;
}

function decodeOpen(body: Buffer): OpenMessage {
  const paramsLength = body[9]!;
  if (10 + paramsLength !== body.length) throw new BgpProtocolError(ErrorCode.open, 0, `optional parameters length ${paramsLength} disagrees with the message length`);
  const caps: Capabilities = { multiprotocol: [], routeRefresh: false, other: [] };
  let off = 10;
  while (off < body.length) {
    if (off + 2 > body.length) throw new BgpProtocolError(ErrorCode.open, 0, 'truncated optional parameter');
    const type = body[off]!;
    const len = body[off + 1]!;
    if (off + 2 + len > body.length) throw new BgpProtocolError(ErrorCode.open, 0, 'optional parameter runs past the message');
    if (type !== 2) {
      throw new BgpProtocolError(ErrorCode.open, OpenSubcode.unsupportedOptionalParameter, `unsupported optional parameter ${type}`);
    }
    decodeCapabilities(body.subarray(off + 2, off + 2 + len), caps);
    off += 2 + len;
  }
  return {
    type: 'open',
    version: body[0]!,
    myAs: body.readUInt16BE(1),
    holdTime: body.readUInt16BE(3),
    routerId: intToIpv4(body.readUInt32BE(5)),
    capabilities: caps,
  };
}

/**
 * Decodes one whole message (header included). Throws only BgpProtocolError, carrying the NOTIFICATION
 * that the session must send.
 */
export function decodeMessage(bytes: Buffer, fourOctetAs = true): BgpMessage {
  if (bytes.length < HEADER_LENGTH) {
    throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.badMessageLength, `message of ${bytes.length} bytes is shorter than a header`);
  }
  const { length, type } = readHeader(bytes);
  if (length !== bytes.length) {
    throw new BgpProtocolError(ErrorCode.messageHeader, HeaderSubcode.badMessageLength, `length field ${length} but ${bytes.length} bytes`, Buffer.from(bytes.subarray(16, 18)));
  }
  const body = bytes.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.open: return decodeOpen(body);
    case MessageType.update: return { type: 'update', ...decodeUpdateBody(body, fourOctetAs) };
    case MessageType.notification: return { type: 'notification', code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
    case MessageType.keepalive: return { type: 'keepalive' };
    default:
      // RFC 7313 §5: only a wrong length is an error here; the header check guarantees ≥ 23.
      if (length !== 23) throw new BgpProtocolError(ErrorCode.routeRefresh, 1, `ROUTE-REFRESH length ${length} != 23`, Buffer.from(bytes));
      return { type: 'route-refresh', afi: body.readUInt16BE(0), subtype: body[2]!, safi: body[3]! };
  }
}

/**
 * Splits a TCP byte stream into whole messages. A header error ends the stream: the messages framed before it
 * are still returned, with the error that the session must answer.
 */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { messages: Buffer[]; error?: BgpProtocolError } {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= HEADER_LENGTH) {
      let length: number;
      try {
        ({ length } = readHeader(this.pending));
      } catch (err) {
        this.pending = Buffer.alloc(0);
        if (err instanceof BgpProtocolError) return { messages, error: err };
        throw err;
      }
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return { messages };
  }
}
