// The peer process of the XMPP benchmark (forked by ./xmpp-fanout.ts): hosts the light publishers and
// the real VrouterAgents in a process of their own, so that the benchmark process measures the control
// node's CPU and memory alone and the two sides run on different cores, as in a deployment.
import { InProcessUnderlay } from '../../src/vrouter/underlay.ts';
import { VrouterAgent } from '../../src/vrouter/agent.ts';
import { LightPublisher, agentEntry, hostPrefix } from './light-publisher.ts';
import type { PeerCommand, PeerReply } from './xmpp-peers-protocol.ts';

/** The i-th peer's own source address: 127.2.1.1, 127.2.1.2 … 250 per third octet. */
export function peerAddress(index: number): string {
  return `127.2.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

const CONNECT_BATCH = 100;
const BATCH_UP_TIMEOUT_MS = 20_000;
/** Small per-agent flow tables: the benchmark sends no packets, and a thousand default tables would not fit. */
const AGENT_FLOW_TABLE_SIZE = 1024;

let publishers: LightPublisher[] = [];
let prepared: string[] = [];
let agents: VrouterAgent[] = [];
/** Light stand-ins for agents beyond the real ones (scale-out at sizes real agents cannot reach). */
let subscribers: LightPublisher[] = [];
const underlay = new InProcessUnderlay();
/** Per agent: the latest member count its FIB got for the watched prefix, and when. */
let fibState: { members: number; at: bigint }[] = [];
let watched: { instance: string; prefix: string } | null = null;
let armed: (bigint | null)[] | null = null;
let armedMembers: (number | null)[] = [];

function reply(message: PeerReply): void {
  process.send?.(message);
}

function instanceOf(instances: readonly string[], index: number): string {
  return instances[index % instances.length];
}

async function lightUp(count: number, host: string, port: number): Promise<number> {
  publishers = Array.from({ length: count }, (_, i) => new LightPublisher(`bench-${i}`, peerAddress(i)));
  // Batches keep the connect burst under the listen backlog (a dropped SYN costs a 1 s retransmit).
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    await Promise.all(publishers.slice(i, i + CONNECT_BATCH).map((p) => p.connect(host, port)));
  }
  return publishers.length;
}

function prepare(instances: string[], routesPerClient: number, firstOctet: number, virtualNetwork: string): { bytes: number; routes: number } {
  let bytes = 0;
  prepared = publishers.map((p, i) => {
    const entries = Array.from({ length: routesPerClient }, (_, j) =>
      agentEntry(hostPrefix(firstOctet, i * routesPerClient + j), p.address, 16 + j, virtualNetwork),
    );
    const raw = p.encodePublishes(instanceOf(instances, i), entries);
    bytes += Buffer.byteLength(raw);
    return raw;
  });
  return { bytes, routes: routesPerClient * publishers.length };
}

async function watch(instances: string[], expected: number, timeoutMs: number): Promise<PeerReply> {
  const doneAt: (bigint | null)[] = publishers.map(() => null);
  const all = Promise.all(publishers.map((p, i) => p.waitForItems(instanceOf(instances, i), expected).then((at) => (doneAt[i] = at))));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  const stats = { bytesIn: 0, itemsIn: 0, retractsIn: 0 };
  for (const p of publishers) {
    stats.bytesIn += p.bytesIn;
    stats.itemsIn += p.itemsIn;
    stats.retractsIn += p.retractsIn;
  }
  const closed = publishers.filter((p) => p.closedReason !== null).map((p) => `${p.name}: ${p.closedReason}`);
  return { type: 'delivered', doneAt, stats, closed };
}

function observeFib(agent: VrouterAgent, index: number): void {
  // Observes what the agent programs into its real vRouter: setRoute is what turns an XMPP item into
  // the composite next hop, so its arguments are exactly the FIB content; the call itself is unchanged.
  const vrouter = agent.vrouter;
  const setRoute = vrouter.setRoute.bind(vrouter);
  vrouter.setRoute = (vrf, prefix, nextHops, o) => {
    const result = setRoute(vrf, prefix, nextHops, o);
    if (watched !== null && result.ok && vrf === watched.instance && prefix === watched.prefix) {
      const at = process.hrtime.bigint();
      fibState[index] = { members: nextHops.length, at };
      if (armed !== null && armed[index] === null) {
        armed[index] = at;
        armedMembers[index] = nextHops.length;
      }
    }
    return result;
  };
}

async function agentsUp(count: number, host: string, port: number, batch: number): Promise<PeerReply> {
  fibState = Array.from({ length: count }, () => ({ members: 0, at: 0n }));
  agents = [];
  let established = 0;
  for (let i = 0; i < count; i += batch) {
    const group: VrouterAgent[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const agent = new VrouterAgent({
        name: `compute-${j}`,
        address: peerAddress(j),
        controlNodes: [{ name: 'control-1', host, port }],
        underlay,
        flowTableSize: AGENT_FLOW_TABLE_SIZE,
      });
      observeFib(agent, j);
      group.push(agent);
    }
    agents.push(...group);
    const up = Promise.all(
      group.map(
        (agent) =>
          new Promise<void>((resolve) => {
            agent.once('established', () => {
              established++;
              resolve();
            });
            agent.start();
          }),
      ),
    );
    // A batch that does not come up in time is left to reconnect on its own; settling reports who is missing.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([up, new Promise<void>((resolve) => (timer = setTimeout(resolve, BATCH_UP_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }
  return { type: 'agents-started', established, at: process.hrtime.bigint() };
}

/** Light subscribers for peers first.. (see the protocol): they stay until agents-down. */
async function lightSubscribers(first: number, count: number, host: string, port: number, instance: string, virtualNetwork: string): Promise<number> {
  const group = Array.from({ length: count }, (_, i) => new LightPublisher(`compute-${first + i}`, peerAddress(first + i)));
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    await Promise.all(group.slice(i, i + CONNECT_BATCH).map((p) => p.connect(host, port)));
  }
  group.forEach((p, i) => {
    p.subscribe(instance, 1, false);
    p.write(p.encodePublishes(instance, [agentEntry(hostPrefix(12, first + i), p.address, 16, virtualNetwork)]));
  });
  subscribers.push(...group);
  return group.length;
}

async function settled(instance: string, prefix: string, members: number, timeoutMs: number): Promise<PeerReply> {
  if (watched?.instance !== instance || watched.prefix !== prefix) throw new Error(`agents-settled for ${instance} ${prefix}, but agents-up watched another route`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const unsettled = agents.filter((_, i) => fibState[i].members !== members);
    if (unsettled.length === 0 || Date.now() > deadline) {
      const last = fibState.reduce((m, s) => (s.at > m ? s.at : m), 0n);
      const described = unsettled.slice(0, 5).map((a) => {
        const session = a.status().sessions[0];
        return `${a.name} (session ${session.established ? 'up' : 'down'}, ${session.received} routes, VIP members ${fibState[agents.indexOf(a)].members})`;
      });
      return { type: 'agents-settled', settled: agents.length - unsettled.length, at: last, unsettled: described };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function collect(timeoutMs: number): Promise<PeerReply> {
  const deadline = Date.now() + timeoutMs;
  const pending = (): boolean => (armed !== null && armed.some((t) => t === null)) || subscribers.some((p) => p.timedAt === null);
  while (pending() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const result: PeerReply = {
    type: 'collected',
    updatedAt: [...(armed ?? []), ...subscribers.map((p) => p.timedAt)],
    members: [...armedMembers, ...subscribers.map((p) => (p.timedAt === null ? null : p.timedNextHops))],
    real: armed?.length ?? 0,
  };
  armed = null;
  return result;
}

async function handle(command: PeerCommand): Promise<PeerReply | null> {
  switch (command.type) {
    case 'light-up':
      return { type: 'light-ready', connected: await lightUp(command.count, command.server.host, command.server.port) };
    case 'subscribe':
      publishers.forEach((p, i) => p.subscribe(instanceOf(command.instances, i), 1 + (i % 0xfffe), command.noRibout));
      return { type: 'subscribed' };
    case 'prepare':
      return { type: 'prepared', ...prepare(command.instances, command.routesPerClient, command.firstOctet, command.virtualNetwork) };
    case 'publish': {
      const firstWriteAt = process.hrtime.bigint();
      publishers.forEach((p, i) => p.write(prepared[i]));
      prepared = [];
      return { type: 'published', firstWriteAt, lastWriteAt: process.hrtime.bigint() };
    }
    case 'watch':
      return watch(command.instances, command.expected, command.timeoutMs);
    case 'light-down':
      for (const p of publishers) p.close();
      publishers = [];
      return { type: 'light-closed' };
    case 'agents-up':
      watched = command.watch;
      return agentsUp(command.count, command.server.host, command.server.port, command.batch);
    case 'light-subscribers':
      return {
        type: 'light-subscribed',
        connected: await lightSubscribers(command.first, command.count, command.server.host, command.server.port, command.instance, command.virtualNetwork),
      };
    case 'agents-settled':
      return settled(command.instance, command.prefix, command.members, command.timeoutMs);
    case 'arm':
      watched = { instance: command.instance, prefix: command.prefix };
      armed = agents.map(() => null);
      armedMembers = agents.map(() => null);
      for (const p of subscribers) p.armItem(command.prefix);
      return { type: 'armed' };
    case 'collect':
      return collect(command.timeoutMs);
    case 'agents-down':
      await Promise.all(agents.map((a) => a.stop()));
      agents = [];
      for (const p of subscribers) p.close();
      subscribers = [];
      return { type: 'agents-closed' };
    case 'exit':
      process.disconnect?.();
      return null;
  }
}

process.on('message', (command: PeerCommand) => {
  handle(command).then(
    (answer) => {
      if (answer !== null) reply(answer);
    },
    (e: unknown) => reply({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
