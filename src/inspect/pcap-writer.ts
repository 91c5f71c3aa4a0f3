// Turns the stanza log into a classic libpcap capture that Wireshark/tshark decode as XMPP
// (`-d tcp.port==5269,xmpp`): each XMPP session becomes one TCP connection between the control node's
// XMPP port and an agent port derived from the compute's name, each record one or more PSH/ACK segments
// whose seq/ack numbers follow the bytes already sent each way. No handshake: tshark does not need one.
import { ipv4ToBytes } from '../net/ipv4.ts';
import type { StanzaRecord } from './stanza-tap.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Segment {
  /** Milliseconds since the epoch. */
  timeMs: number;
  from: Endpoint;
  to: Endpoint;
  payload: Uint8Array;
}

/** `ethernet`: zero MACs, as a capture on Linux `lo` looks; `raw`: bare IPv4 (LINKTYPE_RAW). */
export type LinkType = 'ethernet' | 'raw';

const LINKTYPE = { ethernet: 1, raw: 101 } as const;
const SNAPLEN = 262_144;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
/** IPv4's total-length field caps a segment; larger stanzas are split like a TCP stack would. */
export const MAX_SEGMENT_PAYLOAD = 0xffff - IPV4_HEADER - TCP_HEADER;
const TCP_PSH_ACK = 0x18;
const TCP_WINDOW = 65_535;

function checksum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}


function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`not a TCP port: ${port}`);
}

interface Direction {
  /** Sequence number of the next byte this side sends. */
  next: number;
}

/** Both directions of one TCP connection; the key orders the endpoints so either side finds it. */
function connectionKey(a: Endpoint, b: Endpoint): { key: string; aFirst: boolean } {
  const ka = `${a.address}:${a.port}`;
  const kb = `${b.address}:${b.port}`;
  return ka <= kb ? { key: `${ka}|${kb}`, aFirst: true } : { key: `${kb}|${ka}`, aFirst: false };
}

/** A deterministic initial sequence number per endpoint, so that two connections don't look alike. */
function initialSequence(e: Endpoint): number {
  return fnv1a(`${e.address}:${e.port}`);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

export class PcapWriter {
  private readonly records: Buffer[] = [];
  private readonly connections = new Map<string, [Direction, Direction]>();
  private frames = 0;

  constructor(private readonly linkType: LinkType = 'ethernet') {}

  get frameCount(): number {
    return this.frames;
  }

  /** Distinct TCP connections (endpoint pairs) written so far. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Appends `payload` sent from `from` to `to`, split into segments of at most MAX_SEGMENT_PAYLOAD bytes. */
  addSegment(s: Segment): void {
    if (!Number.isFinite(s.timeMs) || s.timeMs < 0) throw new RangeError(`not a capture time: ${s.timeMs}`);
    checkPort(s.from.port);
    checkPort(s.to.port);
    const src = ipv4ToBytes(s.from.address);
    const dst = ipv4ToBytes(s.to.address);
    const { key, aFirst } = connectionKey(s.from, s.to);
    let conn = this.connections.get(key);
    if (!conn) {
      const fromDir = { next: initialSequence(s.from) };
      const toDir = { next: initialSequence(s.to) };
      conn = aFirst ? [fromDir, toDir] : [toDir, fromDir];
      this.connections.set(key, conn);
    }
    const [mine, theirs] = aFirst ? conn : [conn[1], conn[0]];
    const payload = Buffer.from(s.payload.buffer, s.payload.byteOffset, s.payload.byteLength);
    let at = 0;
    do {
      const chunk = payload.subarray(at, at + MAX_SEGMENT_PAYLOAD);
      this.push(s.timeMs, this.frame(src, s.from.port, dst, s.to.port, mine.next, theirs.next, chunk));
      mine.next = (mine.next + chunk.length) >>> 0;
      at += chunk.length;
    } while (at < payload.length);
  }

  /** The whole capture: global header then every frame in the order added. */
  toBuffer(): Buffer {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeInt32LE(0, 8); // timestamps are UTC
    header.writeUInt32LE(0, 12);
    header.writeUInt32LE(SNAPLEN, 16);
    header.writeUInt32LE(LINKTYPE[this.linkType], 20);
    return Buffer.concat([header, ...this.records]);
  }

  private frame(src: Buffer, sport: number, dst: Buffer, dport: number, seq: number, ack: number, payload: Buffer): Buffer {
    const tcp = Buffer.alloc(TCP_HEADER);
    tcp.writeUInt16BE(sport, 0);
    tcp.writeUInt16BE(dport, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt32BE(ack, 8);
    tcp[12] = (TCP_HEADER / 4) << 4;
    tcp[13] = TCP_PSH_ACK;
    tcp.writeUInt16BE(TCP_WINDOW, 14);
    const tcpLength = TCP_HEADER + payload.length;
    const pseudo = Buffer.concat([src, dst, Buffer.from([0, 6, tcpLength >> 8, tcpLength & 0xff])]);
    tcp.writeUInt16BE(checksum([pseudo, tcp, payload]), 16);

    const ip = Buffer.alloc(IPV4_HEADER);
    ip[0] = 0x45;
    ip.writeUInt16BE(IPV4_HEADER + tcpLength, 2);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(checksum([ip]), 10);

    const link = this.linkType === 'ethernet' ? [Buffer.alloc(12), Buffer.from([0x08, 0x00])] : [];
    return Buffer.concat([...link, ip, tcp, payload]);
  }

  private push(timeMs: number, frame: Buffer): void {
    const h = Buffer.alloc(16);
    const seconds = Math.floor(timeMs / 1000);
    h.writeUInt32LE(seconds >>> 0, 0);
    h.writeUInt32LE(Math.round((timeMs - seconds * 1000) * 1000), 4);
    h.writeUInt32LE(frame.length, 8);
    h.writeUInt32LE(frame.length, 12);
    this.records.push(h, frame);
    this.frames += 1;
  }
}

// ---- the stanza log as a capture ----

/** What a capture needs from GET /api/topology. */
export interface CaptureTopology {
  controlNodes: readonly { name: string; address: string; xmppPort: number }[];
  computes: readonly { name: string; address: string; xmppServers?: readonly string[] }[];
}

export type CaptureRecord = Pick<StanzaRecord, 'seq' | 'time' | 'node' | 'peer' | 'direction' | 'raw'>;

export interface StanzaCapture {
  pcap: Buffer;
  frames: number;
  /** TCP connections written (a reconnect starts a new one). */
  connections: number;
  /** Records left out, each with why. */
  skipped: { seq: number; reason: string }[];
}

const EPHEMERAL_FIRST = 32_768;
const EPHEMERAL_COUNT = 60_999 - EPHEMERAL_FIRST + 1;

/** The agent's source port: stable per compute, moved on by `generation` for each reconnect. */
export function agentPort(compute: string, generation = 0): number {
  return EPHEMERAL_FIRST + ((fnv1a(compute) + generation) % EPHEMERAL_COUNT);
}

interface Session {
  control: { name: string; address: string; xmppPort: number };
  compute: { name: string; address: string };
  agentToControl: boolean;
}

/**
 * Writes `records` (seq order) as a capture. Each stanza appears once: where the log holds both views
 * of a session (the control node's and the agent's, as in-process simulations record), the control
 * node's is kept, because the agent's log names its peer only by the shared control-node JID.
 */
export function stanzaCapture(records: readonly CaptureRecord[], topology: CaptureTopology, linkType: LinkType = 'ethernet'): StanzaCapture {
  const controls = new Map(topology.controlNodes.map((c) => [c.name, c]));
  const computes = new Map(topology.computes.map((c) => [c.name, c]));
  const seenFromControl = new Set<string>();
  for (const r of records) if (controls.has(r.node)) seenFromControl.add(r.peer);

  const skipped: StanzaCapture['skipped'] = [];
  const writer = new PcapWriter(linkType);
  const generations = new Map<string, { generation: number; carried: boolean }>();

  const sessionOf = (r: CaptureRecord): Session | string => {
    const control = controls.get(r.node);
    if (control) {
      const compute = computes.get(r.peer);
      if (!compute) return `peer ${r.peer} of ${r.node} is not a compute of the topology`;
      return { control, compute, agentToControl: r.direction === 'in' };
    }
    const compute = computes.get(r.node);
    if (!compute) return `node ${r.node} is not in the topology`;
    if (seenFromControl.has(r.node)) return 'mirror';
    const servers = compute.xmppServers ?? [];
    if (servers.length !== 1) {
      return `${r.node} talks to ${servers.length} control nodes and its log does not say which one this was; select the control node's view (--node <control node>)`;
    }
    const only = controls.get(servers[0] as string);
    if (!only) return `${r.node}'s control node ${servers[0]} is not in the topology`;
    return { control: only, compute, agentToControl: r.direction === 'out' };
  };

  for (const r of records) {
    const session = sessionOf(r);
    if (session === 'mirror') continue;
    if (typeof session === 'string') {
      skipped.push({ seq: r.seq, reason: session });
      continue;
    }
    const timeMs = Date.parse(r.time);
    if (Number.isNaN(timeMs)) {
      skipped.push({ seq: r.seq, reason: `time ${JSON.stringify(r.time)} is not a date` });
      continue;
    }
    const key = `${session.control.name}|${session.compute.name}`;
    const state = generations.get(key) ?? { generation: 0, carried: false };
    // The agent opens every session with a stream header: a second one means a reconnect.
    if (session.agentToControl && state.carried && r.raw.trimStart().startsWith('<stream:stream')) state.generation += 1;
    state.carried = true;
    generations.set(key, state);
    const control = { address: session.control.address, port: session.control.xmppPort };
    const agent = { address: session.compute.address, port: agentPort(session.compute.name, state.generation) };
    try {
      writer.addSegment({
        timeMs,
        from: session.agentToControl ? agent : control,
        to: session.agentToControl ? control : agent,
        payload: Buffer.from(r.raw, 'utf8'),
      });
    } catch (e) {
      skipped.push({ seq: r.seq, reason: (e as Error).message });
    }
  }
  return { pcap: writer.toBuffer(), frames: writer.frameCount, connections: writer.connectionCount, skipped };
}
