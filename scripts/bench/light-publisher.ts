// A load-generating XMPP peer lighter than a VrouterAgent: it speaks the Contrail dialect with the real
// codec (stanza-encoder.ts encoders, stream-framer.ts framing) over node:net, from its own 127.x source
// address, but keeps no FIB. It counts the <item>s and <retract>s it receives by scanning the framed
// stanzas instead of decoding them, so a thousand of them fit in one process next to each other.
import net from 'node:net';
import { once } from 'node:events';
import {
  KEEPALIVE, encodeAgentStreamOpen, encodeRoutePublish, encodeSubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import { makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';
import { StreamFramer } from '../../src/xmpp/stream-framer.ts';

const ITEM_ID = '<item id="';

/** The i-th /32 of a 24-bit space under `firstOctet` (10.x.y.z). */
export function hostPrefix(firstOctet: number, index: number): string {
  return `${firstOctet}.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}/32`;
}

/** A route as an agent publishes it (docs/protocol.md §3.2): one next-hop = own address, LOCAL_PREF 200. */
export function agentEntry(prefix: string, address: string, label: number, virtualNetwork: string): XmppRouteEntry {
  return makeRouteEntry({
    prefix,
    nextHops: [makeNextHop({ address, label, encapsulations: ['gre', 'udp'], virtualNetwork })],
    localPreference: 200,
    loadBalance: { fields: [], decision: 'field-hash' },
    subProtocol: 'interface',
  });
}

export class LightPublisher {
  readonly name: string;
  readonly address: string;
  private socket: net.Socket | null = null;
  private readonly framer = new StreamFramer(1 << 22);
  private seq = 0;
  private established = false;
  private onEstablished: (() => void) | null = null;
  /** Distinct item ids received per instance node (`1/1/<instance>`). */
  private readonly received = new Map<string, Set<string>>();
  private watch: { node: string; expected: number; done: (at: bigint) => void } | null = null;
  /** An item id whose next arrival is timed (see armItem). */
  private timedId: string | null = null;
  /** When the timed item last arrived after armItem, and how many next hops it carried. */
  timedAt: bigint | null = null;
  timedNextHops = 0;
  bytesIn = 0;
  itemsIn = 0;
  retractsIn = 0;
  closedReason: string | null = null;

  constructor(name: string, address: string) {
    this.name = name;
    this.address = address;
  }

  /** Connects, sends the docs/protocol.md §2.2 header and resolves once the server's header is in. */
  async connect(host: string, port: number): Promise<void> {
    const socket = net.connect({ host, port, localAddress: this.address });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => {
      this.closedReason ??= `socket error: ${e.message}`;
    });
    socket.on('close', () => {
      this.closedReason ??= 'closed by the control node';
    });
    await once(socket, 'connect');
    const up = new Promise<void>((resolve) => (this.onEstablished = resolve));
    socket.write(encodeAgentStreamOpen(this.name));
    await up;
  }

  subscribe(instance: string, instanceId: number, noRibout: boolean): void {
    this.write(encodeSubscribe({ from: this.name, instance, instanceId, noRibout }));
  }

  /** The publish + collection pairs for `entries`, encoded ahead of time so that sending costs only a write. */
  encodePublishes(instance: string, entries: readonly XmppRouteEntry[]): string {
    let out = '';
    for (const entry of entries) out += encodeRoutePublish({ from: this.name, instance, entry, seq: ++this.seq });
    return out;
  }

  write(raw: string): void {
    if (this.socket === null || this.closedReason !== null) throw new Error(`${this.name}: not connected (${this.closedReason ?? 'never connected'})`);
    this.socket.write(raw);
  }

  /** Resolves (with process.hrtime of the moment) once `expected` distinct items of `instance` are in. */
  waitForItems(instance: string, expected: number): Promise<bigint> {
    const node = `1/1/${instance}`;
    return new Promise((resolve) => {
      if ((this.received.get(node)?.size ?? 0) >= expected) return resolve(process.hrtime.bigint());
      this.watch = { node, expected, done: resolve };
    });
  }

  /** Times the next arrival of the item `id` (any instance): timedAt/timedNextHops. */
  armItem(id: string): void {
    this.timedId = id;
    this.timedAt = null;
    this.timedNextHops = 0;
  }

  itemsOf(instance: string): number {
    return this.received.get(`1/1/${instance}`)?.size ?? 0;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    for (const ev of this.framer.push(chunk)) {
      if (ev.type === 'header') {
        this.established = true;
        // docs/protocol.md §2.4: the client answers the server header with one keepalive at once.
        this.socket?.write(KEEPALIVE);
        this.onEstablished?.();
        this.onEstablished = null;
      } else if (ev.type === 'stanza') {
        this.onStanza(ev.raw);
      } else if (ev.type === 'error') {
        this.closedReason = `framing failed: ${ev.reason}`;
        this.close();
      }
    }
  }

  private onStanza(raw: string): void {
    if (!this.established || !raw.startsWith('<message')) return;
    const nodeAt = raw.indexOf('<items node="');
    if (nodeAt < 0) return;
    const nodeStart = nodeAt + '<items node="'.length;
    const node = raw.slice(nodeStart, raw.indexOf('"', nodeStart));
    let ids = this.received.get(node);
    if (ids === undefined) this.received.set(node, (ids = new Set()));
    for (let at = raw.indexOf(ITEM_ID, nodeStart); at >= 0; at = raw.indexOf(ITEM_ID, at + ITEM_ID.length)) {
      const idStart = at + ITEM_ID.length;
      const id = raw.slice(idStart, raw.indexOf('"', idStart));
      ids.add(id);
      this.itemsIn++;
      if (id === this.timedId && this.timedAt === null) {
        this.timedAt = process.hrtime.bigint();
        const end = raw.indexOf('</item>', idStart);
        for (let nh = raw.indexOf('<next-hop>', idStart); nh >= 0 && nh < end; nh = raw.indexOf('<next-hop>', nh + 10)) this.timedNextHops++;
      }
    }
    for (let at = raw.indexOf('<retract ', nodeStart); at >= 0; at = raw.indexOf('<retract ', at + 9)) this.retractsIn++;
    const watch = this.watch;
    if (watch !== null && watch.node === node && ids.size >= watch.expected) {
      this.watch = null;
      watch.done(process.hrtime.bigint());
    }
  }
}
