import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { type BgpMessage, type OutgoingMessage, MessageFramer, MessageType, decodeMessage, encodeMessage } from './messages.ts';
import { BgpProtocolError, ErrorCode } from './protocol-error.ts';

export type ConnectionPhase = 'opensent' | 'openconfirm' | 'established';
export type Direction = 'outgoing' | 'incoming';

export interface ConnectionEvents {
  message: [BgpMessage];
  'protocol-error': [BgpProtocolError];
  'hold-expired': [];
  closed: [string];
  wire: ['in' | 'out', Buffer];
}

/** Hold time used between sending OPEN and receiving the peer's (RFC 4271 §8.2.2 suggests 4 minutes). */
export const OPEN_HOLD_SECONDS = 240;
const SOCKET_LINGER_MS = 1000;

/**
 * One TCP connection of a BGP peer: framing, decoding, hold and keepalive timers. It makes no protocol
 * decisions; the peer's FSM does, from the events this emits. Every exit path ends in exactly one 'closed'.
 */
export class BgpConnection extends EventEmitter<ConnectionEvents> {
  phase: ConnectionPhase = 'opensent';
  /** How AS numbers are encoded once both OPENs are known (RFC 6793). */
  fourOctetAs = true;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  private readonly framer = new MessageFramer();
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private holdSeconds = 0;
  private closed = false;
  private reading = true;
  private corked = false;

  constructor(private readonly socket: Socket, readonly direction: Direction) {
    super();
    this.localAddress = stripV4Mapped(socket.localAddress ?? '');
    this.remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.finish(`socket error: ${err.message}`));
    socket.on('close', () => this.finish('connection closed by peer'));
    socket.on('end', () => this.finish('connection closed by peer'));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  send(msg: OutgoingMessage): void {
    if (this.closed) return;
    this.sendEncoded(encodeMessage(msg, this.fourOctetAs));
  }

  /** Sends one complete, already encoded message (header included). */
  sendEncoded(bytes: Buffer): void {
    if (this.closed) return;
    this.emit('wire', 'out', bytes);
    // The messages of one turn leave in one writev instead of one syscall each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(bytes);
    const type = bytes[18];
    if (type !== MessageType.keepalive && type !== MessageType.notification) this.restartKeepalive();
  }

  /** Bytes accepted for sending that the kernel has not taken yet. */
  get unsentBytes(): number {
    return this.closed ? 0 : this.socket.writableLength;
  }

  /** Calls `listener` once the socket has written out what it holds; never if the connection closes first. */
  onceDrained(listener: () => void): void {
    if (!this.closed) this.socket.once('drain', listener);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** (Re)arms the hold timer; 0 disables it (RFC 4271 §4.2: hold time 0 means no keepalives). */
  armHold(seconds: number): void {
    this.holdSeconds = seconds;
    this.restartHold();
  }

  /** Starts sending KEEPALIVEs every hold/3 seconds. */
  startKeepalives(): void {
    this.restartKeepalive();
  }

  /** Sends a NOTIFICATION if given, then closes. Later data from the peer is ignored. */
  close(reason: string, notification?: { code: number; subcode: number; data?: Buffer }): void {
    if (this.closed) return;
    this.reading = false;
    if (notification) this.send({ type: 'notification', ...notification });
    this.socket.end();
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    clearTimeout(this.holdTimer);
    clearTimeout(this.keepaliveTimer);
    // After end() the NOTIFICATION may still be in flight: give it a moment, but never wait on a peer that does not read.
    if (this.socket.writableEnded) setTimeout(() => this.socket.destroy(), SOCKET_LINGER_MS).unref();
    else this.socket.destroy();
    this.emit('closed', reason);
  }

  private restartHold(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.holdSeconds > 0 && !this.closed) {
      this.holdTimer = setTimeout(() => this.emit('hold-expired'), this.holdSeconds * 1000);
    }
  }

  private restartKeepalive(): void {
    clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (this.phase === 'opensent' || this.holdSeconds === 0 || this.closed) return;
    this.keepaliveTimer = setTimeout(() => {
      this.send({ type: 'keepalive' });
      this.restartKeepalive();
    }, (this.holdSeconds * 1000) / 3);
  }

  private onData(chunk: Buffer): void {
    if (!this.reading) return;
    this.emit('wire', 'in', chunk);
    const { messages, error } = this.framer.push(chunk);
    for (const bytes of messages) {
      if (!this.reading) return;
      let msg: BgpMessage;
      try {
        msg = decodeMessage(bytes, this.fourOctetAs);
      } catch (err) {
        this.emit('protocol-error', err instanceof BgpProtocolError ? err : internalError(err));
        return;
      }
      if (msg.type === 'update' || msg.type === 'keepalive') this.restartHold();
      this.emit('message', msg);
    }
    if (error && this.reading) this.emit('protocol-error', error);
  }
}

/** A decoder bug must cost this session only: report it as a Cease rather than crash the process. */
function internalError(err: unknown): BgpProtocolError {
  const text = err instanceof Error ? err.message : String(err);
  return new BgpProtocolError(ErrorCode.cease, 0, `internal error while decoding: ${text}`);
}

export function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
