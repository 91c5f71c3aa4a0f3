// A minimal BGP session for the benchmark's own speakers (feeder and monitor). They must cost next to
// nothing next to the target, so this is not src/bgp's BgpPeer (which decodes every UPDATE into objects
// and keeps an Adj-RIB-In): it does the OPEN / KEEPALIVE exchange with src/bgp's codec, frames the stream
// with src/bgp's MessageFramer, and hands each UPDATE's raw bytes to the caller.
import { connect as tcpConnect, type Socket } from 'node:net';
import { type FamilyName, familyCode, familyName } from '../../../src/bgp/families.ts';
import { MessageFramer, MessageType, type OpenMessage, decodeMessage, encodeMessage } from '../../../src/bgp/messages.ts';
import { CeaseSubcode, ErrorCode } from '../../../src/bgp/protocol-error.ts';

export interface HarnessSpeaker {
  readonly name: string;
  /** Source address of the connection (127.x). */
  readonly localAddress: string;
  readonly routerId: string;
  readonly asn: number;
  readonly families: readonly FamilyName[];
  /** Proposed hold time; the session sends KEEPALIVEs every third of the negotiated one. */
  readonly holdTime: number;
  /** Every UPDATE received once Established, header included; the buffer is only valid during the call. */
  readonly onUpdate?: (message: Buffer) => void;
}

const RETRY_MS = 200;

export class HarnessSession {
  /** Families both OPENs offered. */
  families: FamilyName[] = [];
  peerOpen: OpenMessage | undefined;
  updatesIn = 0;
  bytesIn = 0;
  /** Why the session ended, when it did. */
  endReason: string | undefined;
  private readonly framer = new MessageFramer();
  private phase: 'opensent' | 'openconfirm' | 'established' | 'closed' = 'opensent';
  private keepalive: NodeJS.Timeout | undefined;
  private settle: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly speaker: HarnessSpeaker, private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.end(`socket error: ${err.message}`));
    socket.on('close', () => this.end('connection closed by the target'));
  }

  /**
   * Connects from `speaker.localAddress` to host:port and resolves once Established. Refused connects and
   * sessions the target closes before Established are retried until `deadlineMs` (a daemon still starting).
   */
  static async connect(speaker: HarnessSpeaker, host: string, port: number, deadlineMs: number): Promise<HarnessSession> {
    const until = Date.now() + deadlineMs;
    let last = 'no attempt';
    while (Date.now() < until) {
      const socket = tcpConnect({ host, port, localAddress: speaker.localAddress });
      const session = new HarnessSession(speaker, socket);
      socket.once('connect', () => session.sendOpen());
      try {
        await session.established(until - Date.now());
        return session;
      } catch (e) {
        last = (e as Error).message;
        session.destroy();
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    throw new Error(`${speaker.name}: no BGP session with ${host}:${port} from ${speaker.localAddress} (${last})`);
  }

  /** A session on a connection the caller accepted (the harness-only run, where the monitor listens). */
  static async accept(speaker: HarnessSpeaker, socket: Socket, deadlineMs: number): Promise<HarnessSession> {
    const session = new HarnessSession(speaker, socket);
    session.sendOpen();
    await session.established(deadlineMs);
    return session;
  }

  get isEstablished(): boolean {
    return this.phase === 'established';
  }

  /** Writes pre-encoded messages in order, waiting for the socket to drain when its buffer is full. */
  async write(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      if (this.phase !== 'established') throw new Error(`${this.speaker.name}: session ended while sending (${this.endReason ?? 'closed'})`);
      if (!this.socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      }
    }
  }

  /** Sends Cease and closes; resolves once the socket is gone. */
  async close(): Promise<void> {
    if (this.socket.destroyed) {
      this.end('closed by the harness');
      return;
    }
    const gone = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    if (this.phase === 'established') {
      this.socket.end(encodeMessage({ type: 'notification', code: ErrorCode.cease, subcode: CeaseSubcode.administrativeShutdown }));
    } else this.socket.end();
    this.end('closed by the harness');
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await gone;
    clearTimeout(timer);
  }

  private destroy(): void {
    this.end('abandoned');
    this.socket.destroy();
  }

  private established(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out before Established')), Math.max(0, timeoutMs));
      this.settle = {
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  private sendOpen(): void {
    const s = this.speaker;
    this.socket.write(encodeMessage({
      type: 'open', asn: s.asn, holdTime: s.holdTime, routerId: s.routerId,
      capabilities: { multiprotocol: s.families.map(familyCode), routeRefresh: true, fourOctetAs: s.asn, other: [] },
    }));
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    const { messages, error } = this.framer.push(chunk);
    for (const m of messages) {
      if (this.phase === 'closed') return;
      const type = m[18];
      if (this.phase === 'established' && type === MessageType.update) {
        this.updatesIn++;
        this.speaker.onUpdate?.(m);
      } else this.onControlMessage(m);
    }
    if (error) this.fail(`unframeable stream from the target: ${error.message}`);
  }

  private onControlMessage(bytes: Buffer): void {
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      this.fail(`undecodable message from the target: ${(e as Error).message}`);
      return;
    }
    if (msg.type === 'notification') {
      this.fail(`target sent NOTIFICATION ${msg.code}/${msg.subcode}${msg.data.length ? ` (${msg.data.toString('utf8').replace(/[^\x20-\x7e]/g, '.')})` : ''}`);
      return;
    }
    if (this.phase === 'opensent' && msg.type === 'open') {
      this.peerOpen = msg;
      const theirs = msg.capabilities.multiprotocol.map((f) => familyName(f.afi, f.safi));
      this.families = this.speaker.families.filter((f) => theirs.includes(f));
      this.phase = 'openconfirm';
      this.socket.write(encodeMessage({ type: 'keepalive' }));
      const hold = Math.min(msg.holdTime, this.speaker.holdTime);
      if (hold > 0) {
        this.keepalive = setInterval(() => {
          if (!this.socket.destroyed) this.socket.write(encodeMessage({ type: 'keepalive' }));
        }, (hold * 1000) / 3);
      }
      return;
    }
    if (this.phase === 'openconfirm' && msg.type === 'keepalive') {
      this.phase = 'established';
      this.settle?.resolve();
      this.settle = undefined;
    }
  }

  private fail(reason: string): void {
    this.end(reason);
    this.socket.destroy();
  }

  private end(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.endReason = reason;
    clearInterval(this.keepalive);
    this.keepalive = undefined;
    this.settle?.reject(new Error(reason));
    this.settle = undefined;
  }
}
