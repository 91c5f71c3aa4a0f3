// A byte-level XMPP peer for tests: plain node:net, no codec, so tests see exactly what is on the wire.
import net from 'node:net';

export class RawPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    // Each write() leaves as its own TCP segment, so tests control how stanzas are split.
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => { /* the close promise reports the end */ });
    this.closed = new Promise((resolve) => socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
      resolve();
    }));
  }

  static connect(port: number, localAddress: string, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, localAddress }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  static wrap(socket: net.Socket): RawPeer {
    return new RawPeer(socket);
  }

  get text(): string {
    return this.received.toString('utf8');
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Resolves once `pred` holds on the received text; rejects after `ms` (a safety net, not an assert). */
  async until(pred: (text: string) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.text)) {
      if (this.socket.destroyed && !pred(this.text)) throw new Error(`peer closed before condition; got ${JSON.stringify(this.text.slice(0, 300))}`);
      if (Date.now() > deadline) throw new Error(`condition not met; got ${JSON.stringify(this.text.slice(0, 300))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
