// XMPP control-plane benchmark (issue 6): the REAL ControlNode in this process, its peers in a forked
// process (./xmpp-peers.ts) so that this process's CPU time and RSS are the control node's alone.
// Per size N (agents), on real TCP over loopback, every peer from its own 127.x address:
//  1. ingest   — N light publishers (real codec, no FIB; see ./light-publisher.ts) subscribe with
//                <no-ribout> and publish a fixed total of routes: route items/s (wall) and per CPU-second.
//  2. fan-out  — they subscribe to group VRFs (at most `fanGroup` per VRF) and publish R routes each, R
//                chosen for `fanDeliveries` items delivered in all: time until every subscriber holds every
//                item of its VRF, CPU, peak RSS, bytes per path both ways.
//  3. scale-out — N real VrouterAgents (config over XMPP, FIB, composite next hops) share the VIP's VN;
//                one pool member is added at a time through the config store; per agent, the time until
//                its FIB holds the VIP composite with the new member: p50/p99.
// For profiling one part: BENCH_XMPP_AGENTS=1000 (comma-separated sizes) and
// BENCH_XMPP_PHASES=light|ingest|scale-out narrow a run (ingest: phase 1 alone); `node --cpu-prof` then profiles the control node only.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { HASH_FIELDS } from '../../src/net/hash-fields.ts';
import { ControlNode } from '../../src/control/control-node.ts';
import { configSource } from '../../src/control/config-source.ts';
import { instanceTableName } from '../../src/rib/index.ts';
import { figure, percentile, type BenchFigure, type BenchOptions, type BenchSection } from './bench-section.ts';
import type { Endpoint, PeerCommand, PeerReply } from './xmpp-peers-protocol.ts';

const PEERS_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xmpp-peers.ts');
const CONTROL_ADDRESS = '127.1.0.1';
const ASN = 64512;

const TARGET_INGEST_PER_CORE = 100_000;
const TARGET_CONVERGENCE_P99_MS = 250;

interface Sizes {
  agents: number[];
  ingestRoutesTotal: number;
  /** Item deliveries in the fan-out (each publisher publishes its share): 1M at 100 agents is issue 15's case, 10,000 items per VRF. */
  fanDeliveries: number;
  /** Set by BENCH_XMPP_FAN_ROUTES: routes per publisher whatever the VRF size. */
  fanRoutesPerAgent?: number;
  fanGroup: number;
  scaleOutEvents: number;
  /** Real VrouterAgents at most; subscribers beyond them are light ones (a full agent costs ~4 MiB and its FIB holds every route). */
  realAgentsMax: number;
}

const FULL: Sizes = { agents: [100, 500, 1000], ingestRoutesTotal: 100_000, fanDeliveries: 1_000_000, fanGroup: 100, scaleOutEvents: 20, realAgentsMax: 250 };
const QUICK: Sizes = { agents: [50], ingestRoutesTotal: 10_000, fanDeliveries: 12_500, fanGroup: 50, scaleOutEvents: 5, realAgentsMax: 50 };

const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;
const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

/** Request/reply over the fork IPC channel; replies of one type come back in request order. */
class PeerProcess {
  private readonly child: ChildProcess;
  private readonly waiting: { type: PeerReply['type']; resolve: (r: PeerReply) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | null = null;

  constructor() {
    this.child = fork(PEERS_ENTRY, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: PeerReply) => this.onReply(message));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`peer process exited (${signal ?? code})`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  /** Sends a command and resolves with its reply (`expect`), without waiting for earlier ones. */
  request<T extends PeerReply['type']>(command: PeerCommand, expect: T): Promise<Extract<PeerReply, { type: T }>> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ type: expect, resolve: (r) => resolve(r as Extract<PeerReply, { type: T }>), reject });
      this.child.send(command);
    });
  }

  private onReply(message: PeerReply): void {
    if (message.type === 'error') {
      const failure = new Error(`peer process: ${message.message}`);
      for (const w of this.waiting.splice(0)) w.reject(failure);
      return;
    }
    const at = this.waiting.findIndex((w) => w.type === message.type);
    if (at >= 0) this.waiting.splice(at, 1)[0].resolve(message);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies PeerCommand);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

let lostSessionsLogged = 0;

function newControlNode(store: ConfigStore, log: (line: string) => void): ControlNode {
  return new ControlNode({
    name: 'control-1',
    address: CONTROL_ADDRESS,
    xmppPort: 0,
    asn: ASN,
    config: configSource(store),
    globals: { hashFields: [...HASH_FIELDS], encapsulationPriorities: ['MPLSoGRE', 'MPLSoUDP', 'VXLAN'] },
    log: (line) => {
      // Protocol violations always; lost sessions only the first few (a reconnect storm would flood).
      if (line.includes('closing session')) log(line);
      else if (line.includes(' down: ') && lostSessionsLogged++ < 5) log(line);
    },
  });
}

/**
 * Resolves with the hrtime at which the VRF `instance` holds `count` routes (its table starts empty). The
 * listener runs in the control node's process for every RIB change: it reads the table's size rather than
 * keeping a set of the changed prefixes, which cost ~4 % of the ingest window.
 */
function waitForTableRoutes(control: ControlNode, instance: string, count: number): Promise<bigint> {
  const table = instanceTableName(instance);
  return new Promise((resolve) => {
    const stop = control.onRouteChange((changes) => {
      let touched = false;
      for (const c of changes) if (c.table === table) touched = true;
      if (touched && (control.rib.instance(instance)?.routeCount ?? 0) >= count) {
        stop();
        resolve(process.hrtime.bigint());
      }
    });
  });
}

function sessionBytes(control: ControlNode): { in: number; out: number } {
  let bytesIn = 0;
  let bytesOut = 0;
  for (const channel of control.agentChannels()) {
    const s = channel.session.stats();
    bytesIn += s.bytesIn;
    bytesOut += s.bytesOut;
  }
  return { in: bytesIn, out: bytesOut };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

const rssMiB = (): number => process.memoryUsage().rss / (1 << 20);

/** Resets this process's peak RSS (VmHWM) so that peakRssMiB() covers one phase; false where /proc lacks it. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** VmHWM of this process (MiB): the peak since the last resetPeakRss. */
function peakRssMiB(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Phases 1 and 2 on one control node with N light publishers. */
async function lightPhases(n: number, sizes: Sizes, peers: PeerProcess, o: BenchOptions, ingestOnly = false): Promise<BenchFigure[]> {
  const label = `${n} agents`;
  const groups = Math.ceil(n / sizes.fanGroup);
  const store = new ConfigStore({ asn: ASN, reconcile: nativeDriverHook });
  store.batch(() => {
    store.createVirtualNetwork({ name: 'default-domain:bench:ingest', subnets: ['172.16.0.0/24'] });
    for (let g = 0; g < groups; g++) store.createVirtualNetwork({ name: `default-domain:bench:fan-${g}`, subnets: [`172.17.${g}.0/24`] });
  });
  const ingestVn = store.get('virtual-network', 'default-domain:bench:ingest')!;
  const fanVns = Array.from({ length: groups }, (_, g) => store.get('virtual-network', `default-domain:bench:fan-${g}`)!);
  const control = newControlNode(store, o.log);
  const { xmpp } = await control.start();
  const server: Endpoint = { host: xmpp.address, port: xmpp.port };
  const figures: BenchFigure[] = [];
  try {
    await peers.request({ type: 'light-up', count: n, server }, 'light-ready');

    // ---- 1. ingest (no-ribout: the control node only decodes, validates and stores) ----
    const perClient = Math.max(1, Math.floor(sizes.ingestRoutesTotal / n));
    const total = perClient * n;
    await peers.request({ type: 'subscribe', instances: [ingestVn.routingInstance], noRibout: true }, 'subscribed');
    await peers.request({ type: 'prepare', instances: [ingestVn.routingInstance], routesPerClient: perClient, firstOctet: 10, virtualNetwork: ingestVn.name }, 'prepared');
    await sleep(200);
    const ingested = waitForTableRoutes(control, ingestVn.routingInstance, total);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await peers.request({ type: 'publish' }, 'published');
    const tDone = await ingested;
    const split = process.cpuUsage(cpu0);
    const cpu = (split.user + split.system) / 1e6;
    const wallS = ms(t0, tDone) / 1000;
    o.log(`${label}: ingest ${total} routes in ${(wallS * 1000).toFixed(0)} ms, ${cpu.toFixed(2)} CPU-s (system ${(split.system / 1e6).toFixed(2)})`);
    figures.push(
      figure('ingest.routes', label, total, 'route items', { note: `${perClient} per publisher, subscribed with no-ribout` }),
      figure('ingest.rate', label, total / wallS, 'route items/s'),
      figure('ingest.ratePerCore', label, total / cpu, 'route items/CPU-s', { target: { op: '>=', value: TARGET_INGEST_PER_CORE } }),
      figure('ingest.cpuSeconds', label, cpu, 's'),
    );
    if (ingestOnly) {
      await peers.request({ type: 'light-down' }, 'light-closed');
      return figures;
    }

    // ---- 2. fan-out ----
    const fanInstances = fanVns.map((vn) => vn.routingInstance);
    const perGroup = Math.ceil(n / groups);
    // n subscribers each receive perGroup × r items.
    const r = sizes.fanRoutesPerAgent ?? Math.max(1, Math.floor(sizes.fanDeliveries / (n * perGroup)));
    await peers.request({ type: 'subscribe', instances: fanInstances, noRibout: false }, 'subscribed');
    await peers.request({ type: 'prepare', instances: fanInstances, routesPerClient: r, firstOctet: 11, virtualNetwork: fanVns[0].name }, 'prepared');
    await sleep(200);
    const bytes0 = sessionBytes(control);
    const peakReset = resetPeakRss();
    // Each group holds perGroup publishers (n is a multiple of groups at every size used here).
    const expected = perGroup * r;
    const stored = Promise.all(fanInstances.map((ri) => waitForTableRoutes(control, ri, perGroup * r)));
    const cpu1 = process.cpuUsage();
    const t1 = process.hrtime.bigint();
    const delivered = peers.request({ type: 'watch', instances: fanInstances, expected, timeoutMs: 300_000 }, 'delivered');
    await peers.request({ type: 'publish' }, 'published');
    const storedAt = (await stored).reduce((m, t) => (t > m ? t : m), 0n);
    const result = await delivered;
    const fanCpu = cpuSeconds(cpu1);
    const fanPeak = peakReset ? peakRssMiB() : null;
    const bytes1 = sessionBytes(control);
    const done = result.doneAt.filter((t): t is bigint => t !== null);
    const incomplete = result.doneAt.length - done.length;
    const lastAt = done.reduce((m, t) => (t > m ? t : m), 0n);
    const perSubscriberMs = done.map((t) => ms(t1, t));
    const itemsDelivered = n * expected;
    // Issue 15: 100 subscribed agents × 10,000 items each within 500 MB peak and 3 CPU-s.
    const issueCase = n === 100 && expected === 10_000;
    const routes = n * r;
    o.log(`${label}: fan-out ${itemsDelivered} items in ${ms(t1, lastAt).toFixed(0)} ms (${incomplete} incomplete)`);
    if (result.closed.length > 0) o.log(`${label}: sessions closed: ${result.closed.slice(0, 3).join('; ')}`);
    figures.push(
      figure('fanout.itemsDelivered', label, itemsDelivered, 'items', { note: `${groups} VRF(s) of ${perGroup} subscribers × ${r} routes each` }),
      figure('fanout.allStoredMs', label, ms(t1, storedAt), 'ms', { note: 'publish → every path in the RIB' }),
      figure('fanout.allDeliveredMs', label, incomplete === 0 ? ms(t1, lastAt) : null, 'ms', {
        note: incomplete === 0 ? 'publish → every subscriber holds every item' : `${incomplete} subscribers incomplete at the timeout`,
      }),
      figure('fanout.subscriberDoneP50Ms', label, percentile(perSubscriberMs, 50), 'ms'),
      figure('fanout.subscriberDoneP99Ms', label, percentile(perSubscriberMs, 99), 'ms'),
      figure('fanout.deliveredRate', label, incomplete === 0 ? itemsDelivered / (ms(t1, lastAt) / 1000) : null, 'items/s'),
      figure('fanout.cpuSeconds', label, fanCpu, 's', { note: 'control node, publish → last subscriber done', ...(issueCase ? { target: { op: '<=', value: 3 } } : {}) }),
      figure('fanout.peakRssMiB', label, fanPeak, 'MiB', { note: 'control node VmHWM over the fan-out (reset at its start)', ...(issueCase ? { target: { op: '<=', value: 500 } } : {}) }),
      figure('fanout.bytesInPerPath', label, (bytes1.in - bytes0.in) / routes, 'B', { note: 'publish + collection pair' }),
      figure('fanout.bytesOutPerItem', label, (bytes1.out - bytes0.out) / itemsDelivered, 'B', { note: 'message framing amortised over ≤ 32 items' }),
      figure('controlNode.rssMiB', `${label}, light publishers`, rssMiB(), 'MiB', { note: `${total + routes} VRF paths + their bgp.l3vpn.0 copies` }),
    );
    await peers.request({ type: 'light-down' }, 'light-closed');
  } finally {
    await control.stop();
  }
  return figures;
}

/** Phase 3: real agents (plus light subscribers beyond realAgentsMax), one member added at a time. */
async function scaleOutPhase(n: number, sizes: Sizes, peers: PeerProcess, o: BenchOptions): Promise<BenchFigure[]> {
  const label = `${n} agents`;
  const vnName = 'default-domain:bench:svc-vn';
  const real = Math.min(n, sizes.realAgentsMax);
  const light = n - real;
  const events = Math.min(sizes.scaleOutEvents, real - 2);
  const store = new ConfigStore({ asn: ASN, reconcile: nativeDriverHook });
  const addresses: string[] = [];
  store.batch(() => {
    store.createVirtualNetwork({ name: vnName, subnets: ['10.128.0.0/16'] });
    for (let i = 0; i < real; i++) {
      store.createVirtualMachineInterface({ name: `vm-${i}`, virtualNetwork: vnName, compute: `compute-${i}` });
      addresses.push(store.createInstanceIp({ name: `vm-${i}`, virtualMachineInterface: `vm-${i}` }).address);
    }
    store.createLoadBalancer({ name: 'lb1', virtualNetwork: vnName });
    store.createListener({ name: 'listener1', loadBalancer: 'lb1', protocol: 'TCP', port: 80 });
    store.createPool({ name: 'pool1', listener: 'listener1' });
    store.createMember({ pool: 'pool1', address: addresses[0], port: 8080 });
    store.createMember({ pool: 'pool1', address: addresses[1], port: 8080 });
  });
  const instance = store.get('virtual-network', vnName)!.routingInstance;
  const vip = `${store.get('loadbalancer', 'lb1')!.vipAddress}/32`;
  const control = newControlNode(store, o.log);
  const { xmpp } = await control.start();
  const figures: BenchFigure[] = [];
  try {
    const tUp = process.hrtime.bigint();
    const cpuUp = process.cpuUsage();
    const server = { host: xmpp.address, port: xmpp.port };
    const started = await peers.request({ type: 'agents-up', count: real, server, batch: 50, watch: { instance, prefix: vip } }, 'agents-started');
    if (light > 0) {
      await peers.request({ type: 'light-subscribers', first: real, count: light, server, instance, virtualNetwork: vnName }, 'light-subscribed');
    }
    const settled = await peers.request({ type: 'agents-settled', instance, prefix: vip, members: 2, timeoutMs: 300_000 }, 'agents-settled');
    if (settled.settled < real) throw new Error(`only ${settled.settled}/${real} agents got the VIP (e.g. ${settled.unsettled.join(', ')})`);
    // The bring-up fan-out (N² items) drains and every session's End-of-RIB (docs/protocol.md §4.3, sent after a quiet
    // period) goes out before the first event, so events are measured alone.
    let sent = -1;
    for (;;) {
      const status = control.status();
      if (status.reflection.itemsSent === sent && status.agents.every((a) => a.endOfRibSent)) break;
      sent = status.reflection.itemsSent;
      await sleep(1000);
    }
    const upCpu = cpuSeconds(cpuUp);
    o.log(`${label}: ${started.established} agents + ${light} light subscribers up, VIP on every FIB after ${ms(tUp, settled.at).toFixed(0)} ms`);
    figures.push(
      figure('scaleOut.realAgents', label, real, 'agents', { note: light > 0 ? `+ ${light} light subscribers (real codec, no FIB) in the same VRF` : 'every subscriber is a full VrouterAgent' }),
      figure('bringup.vipOnEveryFibMs', label, ms(tUp, settled.at), 'ms', { note: 'agents start → every FIB has the 2-member VIP composite' }),
      figure('bringup.cpuSeconds', label, upCpu, 's', { note: `control node; ${n} client routes reflected to ${n} subscribers (${n * n} items)` }),
      figure('controlNode.rssMiB', `${label}, real agents`, rssMiB(), 'MiB'),
    );

    const latencies: number[] = [];
    const delivered: number[] = [];
    const configMs: number[] = [];
    const ribMs: number[] = [];
    const eventMedians: number[] = [];
    // When the control node's RIB takes the new member's path: splits the latency into the part up to
    // the control node (config push, the member agent's publish) and the part after it (reflection,
    // TCP, the agents' decode and FIB update).
    let ribAt: bigint | null = null;
    const stopWatchingRib = control.onRouteChange((changes) => {
      if (ribAt === null && changes.some((c) => c.instance === instance && c.prefix === vip)) ribAt = process.hrtime.bigint();
    });
    let wrongMembers = 0;
    let missing = 0;
    const cpuEvents = process.cpuUsage();
    for (let k = 0; k < events; k++) {
      await peers.request({ type: 'arm', instance, prefix: vip }, 'armed');
      ribAt = null;
      const t0 = process.hrtime.bigint();
      store.createMember({ pool: 'pool1', address: addresses[k + 2], port: 8080 });
      configMs.push(ms(t0, process.hrtime.bigint()));
      const collected = await peers.request({ type: 'collect', timeoutMs: 10_000 }, 'collected');
      if (ribAt !== null) ribMs.push(ms(t0, ribAt));
      const thisEvent: number[] = [];
      collected.updatedAt.forEach((at, i) => {
        if (at === null) missing++;
        else (i < collected.real ? latencies : delivered).push(ms(t0, at));
        if (at !== null && i < collected.real) thisEvent.push(ms(t0, at));
        if (at !== null && collected.members[i] !== k + 3) wrongMembers++;
      });
      eventMedians.push(percentile(thisEvent, 50) ?? Number.NaN);
      await sleep(50);
    }
    stopWatchingRib();
    const eventCpu = cpuSeconds(cpuEvents);
    const p99 = percentile(latencies, 99);
    o.log(`${label}: scale-out p50 ${percentile(latencies, 50)?.toFixed(1)} ms, p99 ${p99?.toFixed(1)} ms (${missing} missing, ${wrongMembers} wrong)`);
    figures.push(
      figure('scaleOut.p50Ms', label, percentile(latencies, 50), 'ms', { note: `${events} member additions × ${real} real agents' FIBs` }),
      figure('scaleOut.p99Ms', label, missing === 0 ? p99 : null, 'ms', {
        target: { op: '<=', value: TARGET_CONVERGENCE_P99_MS },
        ...(missing > 0 ? { note: `${missing} updates missing after 10 s` } : {}),
      }),
      figure('scaleOut.maxMs', label, latencies.length > 0 ? Math.max(...latencies) : null, 'ms'),
      figure('scaleOut.slowestEventMedianMs', label, Math.max(...eventMedians), 'ms', {
        note: `per-event medians: ${eventMedians.map((m) => m.toFixed(0)).join(', ')} — one slow event for everyone points at a pause, not at fan-out`,
      }),
      ...(light > 0
        ? [
            figure('scaleOut.lightDeliveredP50Ms', label, percentile(delivered, 50), 'ms', { note: `item received by the ${light} light subscribers` }),
            figure('scaleOut.lightDeliveredP99Ms', label, percentile(delivered, 99), 'ms'),
          ]
        : []),
      figure('scaleOut.memberPathInRibP50Ms', label, percentile(ribMs, 50), 'ms', { note: 'config write → the member agent\'s VIP path is in the control node\'s RIB' }),
      figure('scaleOut.memberPathInRibP99Ms', label, percentile(ribMs, 99), 'ms'),
      figure('scaleOut.configWriteP50Ms', label, percentile(configMs, 50), 'ms', { note: 'store.createMember → returns (includes config push to every agent)' }),
      figure('scaleOut.wrongMemberCount', label, wrongMembers, 'updates', { note: 'FIB updates whose composite did not have the expected member count' }),
      figure('scaleOut.cpuSecondsPerEvent', label, eventCpu / events, 's', { note: 'control node' }),
    );
    await peers.request({ type: 'agents-down' }, 'agents-closed');
  } finally {
    await control.stop();
  }
  return figures;
}

function sizesFromEnvironment(base: Sizes): Sizes {
  const agents = process.env.BENCH_XMPP_AGENTS?.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 3);
  const fanRoutes = process.env.BENCH_XMPP_FAN_ROUTES === undefined ? undefined : Number(process.env.BENCH_XMPP_FAN_ROUTES);
  if (fanRoutes !== undefined && (!Number.isInteger(fanRoutes) || fanRoutes < 1)) throw new Error(`BENCH_XMPP_FAN_ROUTES: ${process.env.BENCH_XMPP_FAN_ROUTES} is not a route count`);
  return { ...base, ...(agents && agents.length > 0 ? { agents } : {}), ...(fanRoutes !== undefined ? { fanRoutesPerAgent: fanRoutes } : {}) };
}

export async function run(o: BenchOptions): Promise<BenchSection> {
  const sizes = sizesFromEnvironment(o.quick ? QUICK : FULL);
  const phases = process.env.BENCH_XMPP_PHASES ?? 'light,scale-out';
  const figures: BenchFigure[] = [];
  const notes: string[] = [
    'The control node runs in the benchmark process; every peer runs in one forked process, so CPU and RSS are the control node\'s and the two sides use different cores.',
    'Ingest and fan-out use light publishers (real stanza codec and framer over node:net, no FIB, received items counted by scanning); scale-out uses full VrouterAgents.',
    'Each peer connects from its own 127.2.x.y address to the control node on 127.1.0.1; real TCP over loopback.',
    'Scale-out latency is measured from the config write (store.createMember) to the moment each agent programs the VIP composite into its vRouter (observed at Vrouter.setRoute).',
  ];
  const peers = new PeerProcess();
  try {
    for (const n of sizes.agents) {
      if (phases.includes('light') || phases.includes('ingest')) {
        o.log(`${n} agents: light publishers`);
        figures.push(...(await lightPhases(n, sizes, peers, o, !phases.includes('light'))));
      }
      if (phases.includes('scale-out')) {
        o.log(`${n} agents: real agents, scale-out`);
        figures.push(...(await scaleOutPhase(n, sizes, peers, o)));
      }
    }
  } finally {
    await peers.close();
  }
  return {
    name: 'xmpp',
    title: 'XMPP fan-out: control-node ingest, reflection and scale-out convergence',
    params: { ...sizes, phases, controlNode: CONTROL_ADDRESS, peers: '127.2.x.y', transport: 'TCP over loopback' },
    figures,
    notes,
  };
}
