import { connect, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { type BgpMessage, type Capabilities, MessageFramer, decodeMessage, encodeMessage, type OutgoingMessage } from '../../src/bgp/messages.ts';
import { BgpSpeaker, type SpeakerConfig } from '../../src/bgp/speaker.ts';

/** Resolves on the first event whose arguments satisfy `match`; rejects after `ms`. */
export function waitForEvent<A extends unknown[]>(
  emitter: EventEmitter, event: string, match: (...args: A) => boolean = () => true, ms = 8000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out waiting for '${event}'`));
    }, ms);
    const listener = (...args: unknown[]) => {
      if (!match(...(args as A))) return;
      clearTimeout(timer);
      emitter.removeListener(event, listener);
      resolve(args as A);
    };
    emitter.on(event, listener);
  });
}

/** Polls `check` until it is true (state, not timing, is what tests assert). */
export async function eventually(check: () => boolean, what: string, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let nextSubnet = Math.floor(Math.random() * 200) + 20;
/** A fresh 127.x.y.0 block per test so that parallel or leftover sockets never collide. */
export function loopbackBlock(): (host: number) => string {
  const block = nextSubnet++;
  const second = 100 + (process.pid % 100);
  return (host) => `127.${second}.${block % 250}.${host}`;
}

export async function startSpeaker(config: Omit<SpeakerConfig, 'listen'> & { address: string }): Promise<BgpSpeaker> {
  const { address, ...rest } = config;
  const speaker = new BgpSpeaker({ ...rest, listen: { address, port: 0 } });
  await speaker.start();
  return speaker;
}

/** A hand-driven BGP endpoint on a raw socket: sends whatever the test says, records what it receives. */
export class ScriptedPeer {
  readonly received: BgpMessage[] = [];
  closed = false;
  private readonly framer = new MessageFramer();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { messages } = this.framer.push(chunk);
      for (const m of messages) {
        try {
          this.received.push(decodeMessage(m));
        } catch {
          // The speaker under test only sends what we can decode; anything else shows up as a missing message.
        }
      }
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  /** Wraps a socket the test accepted (the speaker under test dialled in). */
  static fromSocket(socket: Socket): ScriptedPeer {
    return new ScriptedPeer(socket);
  }

  static connect(from: string, to: { address: string; port: number }): Promise<ScriptedPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: to.address, port: to.port, localAddress: from });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new ScriptedPeer(socket));
      });
    });
  }

  send(msg: OutgoingMessage | Buffer): void {
    if (!this.closed) this.socket.write(Buffer.isBuffer(msg) ? msg : encodeMessage(msg));
  }

  /**
   * OPEN with inet-vpn + route-target (and `extra` capabilities, e.g. graceful restart), then KEEPALIVE once
   * the speaker's OPEN arrived; resolves when Established.
   */
  async establish(asn: number, routerId: string, holdTime = 90, extra: Partial<Capabilities> = {}): Promise<void> {
    this.send({
      type: 'open', asn, holdTime, routerId,
      capabilities: { multiprotocol: [{ afi: 1, safi: 128 }, { afi: 1, safi: 132 }], routeRefresh: true, fourOctetAs: asn, other: [], ...extra },
    });
    await eventually(() => this.received.some((m) => m.type === 'open'), 'OPEN from the speaker');
    this.send({ type: 'keepalive' });
    await eventually(() => this.received.some((m) => m.type === 'keepalive'), 'KEEPALIVE from the speaker');
  }

  notifications(): { code: number; subcode: number }[] {
    return this.received.flatMap((m) => (m.type === 'notification' ? [{ code: m.code, subcode: m.subcode }] : []));
  }

  close(): void {
    this.socket.destroy();
  }
}
