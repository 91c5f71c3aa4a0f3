// A minimal agent that speaks Contrail's XMPP dialect byte for byte through a plain socket, for tests
// that need to misbehave (or to stop reading) in ways a real agent never would.
import net from 'node:net';
import { once } from 'node:events';
import { encodeAgentStreamOpen, encodeRoutePublish, encodeSubscribe } from '../../src/xmpp/stanza-encoder.ts';
import { makeNextHop, makeRouteEntry, type XmppRouteEntry } from '../../src/xmpp/route-entry.ts';
import { ControlNode, type ControlNodeOptions } from '../../src/control/control-node.ts';
import { configSource } from '../../src/control/config-source.ts';
import { buildConfigStore } from '../../src/topology/config-from-topology.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { TOPOLOGIES_DIR } from '../../src/scenario/runner.ts';

export const VRF = 'default-domain:demo:svc-vn:svc-vn';

/** A minimal agent that speaks the dialect byte for byte through a plain socket. */
export class RawAgent {
  received = '';
  closed = false;
  private constructor(
    readonly name: string,
    readonly socket: net.Socket,
  ) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('utf8')));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static async connect(name: string, localAddress: string, port: number, host = '127.0.12.1'): Promise<RawAgent> {
    const socket = net.connect({ host, port, localAddress });
    await once(socket, 'connect');
    const agent = new RawAgent(name, socket);
    socket.write(encodeAgentStreamOpen(name));
    await until(() => agent.received.includes('<stream:stream'), `${name} got the server header`);
    return agent;
  }

  send(raw: string): void {
    this.socket.write(raw);
  }

  subscribe(instanceId = 3): void {
    this.send(encodeSubscribe({ from: this.name, instance: VRF, instanceId }));
  }

  publish(entry: XmppRouteEntry, options: { from?: string; withdraw?: boolean } = {}): void {
    this.send(encodeRoutePublish({ from: options.from ?? this.name, instance: VRF, entry, seq: 1, withdraw: options.withdraw }));
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function route(prefix: string, address: string, label: number): XmppRouteEntry {
  return makeRouteEntry({ prefix, localPreference: 200, nextHops: [makeNextHop({ address, label, encapsulations: ['gre', 'udp'] })] });
}

/** A started control node with the default topology's config, its XMPP server on `address`, a free port. */
export async function defaultConfigControlNode(name: string, address: string, extra: Partial<ControlNodeOptions> = {}): Promise<{ control: ControlNode; port: number }> {
  const loaded = await loadTopologyFile(`${TOPOLOGIES_DIR}default.json`);
  if (!loaded.ok) throw new Error('default topology invalid');
  const control = new ControlNode({
    name,
    address,
    xmppPort: 0,
    asn: 64512,
    config: configSource(buildConfigStore(loaded.topology)),
    globals: { hashFields: loaded.topology.hashFields, encapsulationPriorities: loaded.topology.encapsulationPriorities },
    ...extra,
  });
  const { port } = (await control.start()).xmpp;
  return { control, port };
}
