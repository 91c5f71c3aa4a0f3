// The launcher: brings a whole topology up, in one process (every node with its own sockets) or as one OS
// process per node (`--processes`), and serves the simulation API (./simulation-api.ts) that the CLI and scenario scripts use.
// Nodes never reach into each other: they talk XMPP, BGP and the underlay. The launcher only starts,
// stops and inspects them, through each node's API handler (a call in-process, HTTP across processes).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ApiError, remoteHandler, serveApi, type ApiHandler, type ApiServer, type HttpHook, type RouteDescription } from '../api/api-router.ts';
import { errorMessage } from '../api/api-error.ts';
import { DEFAULT_DEADLINE_MS } from '../api/remote-handler.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { LogFn } from '../net/log.ts';
import { StanzaTap } from '../inspect/stanza-tap.ts';
import { InProcessUnderlay, type Underlay } from '../vrouter/underlay.ts';
import { nodeRouteCatalog, startCompute, startControlNode, startGateway, type NodeKind, type RunningCompute, type RunningControlNode, type RunningNode } from './node-runtime.ts';
import { CapacityError, capacityProblem } from './capacity.ts';
import { AgentThread } from './agent-thread.ts';
import { nodeUnderlay } from './underlay-choice.ts';
import { SimulationApi, type ConfigWrite, type SimulationApiHost } from './simulation-api.ts';
import type { Topology } from './topology.ts';

export type LaunchMode = 'in-process' | 'processes';

export interface SimulationOptions {
  mode?: LaunchMode;
  /** The file the topology came from; `--processes` hands it to each node (a temp copy is written otherwise). */
  topologyFile?: string;
  strict?: boolean;
  /** Also append every stanza to this JSONL file. */
  stanzaLog?: string;
  log?: LogFn;
  endOfRibQuietMs?: number;
  /** Called after each wave of computes has started (the CLI draws a progress line from it). */
  progress?: (p: StartProgress) => void;
  /** Computes started together before the next wave (default 250 in-process, 16 with --processes). */
  startWave?: number;
  /**
   * In-process: run the computes' agents in this many worker threads (round-robin), the control nodes in the
   * main thread; 0: every node in the main thread. Default (autoAgentThreads): 0 below AUTO_THREADS_FROM
   * computes, else one per core but one. Agents in threads use the MPLS-over-UDP underlay and their side of
   * each session is not in the stanza tap (the control node's side is).
   */
  agentThreads?: number;
  /** Start even when the capacity check says the box would run out of file descriptors or memory. */
  skipCapacityCheck?: boolean;
  /** Passed to each node process of `--processes` (its log lines come back here at their level). */
  logLevel?: string;
}

export interface StartProgress {
  started: number;
  total: number;
  /** Sessions of started computes that are established (in-process only; null across processes). */
  established: number | null;
}


interface NodeSlot {
  readonly name: string;
  readonly kind: NodeKind;
  readonly address: string;
  running: RunningNode | null;
  child: ChildProcess | null;
  /** The worker thread that runs this compute's agent (SimulationOptions.agentThreads). */
  thread: AgentThread | null;
  handler: ApiHandler | null;
}

const BIN = fileURLToPath(new URL('../../bin/ecmpsim.js', import.meta.url));
const CHILD_READY_TIMEOUT_MS = 20_000;

/** From this many computes the in-process launcher puts the agents in worker threads by default. */
export const AUTO_THREADS_FROM = 256;

/**
 * The default number of agent threads: none for small topologies (one thread is simplest to debug), else the
 * other cores. One per core converged faster in some runs (2,000 computes on 2 cores: 34–52 s against 45–52 s)
 * but each thread's heap costs about 160 MiB more and took peak RSS past 2 GiB: `--agent-threads` chooses.
 */
export function autoAgentThreads(topology: Topology): number {
  const computes = topology.computes.filter((c) => !c.external).length;
  return computes < AUTO_THREADS_FROM ? 0 : Math.max(1, availableParallelism() - 1);
}

export class Simulation {
  readonly topology: Topology;
  readonly mode: LaunchMode;
  readonly tap: StanzaTap;
  readonly startedAt = new Date();
  /** Worker threads running agents (0: all nodes in the main thread). */
  get agentThreads(): number {
    return this.threads.length;
  }
  private readonly slots = new Map<string, NodeSlot>();
  private readonly underlay: Underlay;
  private readonly log: LogFn;
  /** Config writes that succeeded, replayed into a control node that restarts with a fresh store. */
  private readonly journal: ConfigWrite[] = [];
  private topologyFile: string | undefined;
  private server: ApiServer | null = null;
  private stopped = false;
  private readonly threads: AgentThread[] = [];
  /** compute name → its thread, fixed at start so that a restart lands in the same one */
  private readonly threadOf = new Map<string, AgentThread>();

  private constructor(
    topology: Topology,
    private readonly options: SimulationOptions,
  ) {
    this.topology = topology;
    this.mode = options.mode ?? 'in-process';
    this.log = options.log ?? (() => {});
    this.tap = new StanzaTap({ jsonlPath: options.stanzaLog });
    this.underlay = new InProcessUnderlay();
    this.topologyFile = options.topologyFile;
    const threads = this.mode === 'in-process' ? Math.max(0, Math.floor(options.agentThreads ?? autoAgentThreads(topology))) : 0;
    for (let i = 0; i < threads; i++) this.threads.push(new AgentThread(topology, options.log));
    for (const c of topology.controlNodes) {
      this.slots.set(c.name, { name: c.name, kind: 'control-node', address: c.address, running: null, child: null, thread: null, handler: null });
    }
    for (const c of topology.computes) {
      if (c.external) continue;
      if (this.threads.length > 0) this.threadOf.set(c.name, this.threads[this.threadOf.size % this.threads.length]);
      this.slots.set(c.name, { name: c.name, kind: 'compute', address: c.address, running: null, child: null, thread: null, handler: null });
    }
    for (const g of topology.gateways ?? []) {
      this.slots.set(g.name, { name: g.name, kind: 'gateway', address: g.address, running: null, child: null, thread: null, handler: null });
    }
  }

  static async start(topology: Topology, options: SimulationOptions = {}): Promise<Simulation> {
    if (!options.skipCapacityCheck) {
      const problem = capacityProblem(topology, options.mode ?? 'in-process');
      if (problem) throw new CapacityError(problem);
    }
    const sim = new Simulation(topology, options);
    try {
      // Control nodes first, so that agents find a listener on their first connect.
      for (const slot of sim.slots.values()) if (slot.kind === 'control-node') await sim.startNode(slot);
      await sim.startComputes([...sim.slots.values()].filter((s) => s.kind === 'compute'));
      await Promise.all([...sim.slots.values()].filter((s) => s.kind === 'gateway').map((s) => sim.startNode(s)));
    } catch (e) {
      await sim.stop();
      throw e;
    }
    return sim;
  }

  // ---- node lifecycle ----

  /**
   * Computes start in waves: thousands of agents connecting in the same instant overflow the control node's
   * accept queue and its first table walks, and thousands of child processes would spawn at once. Topologies
   * of one wave start as before.
   */
  private async startComputes(computes: NodeSlot[]): Promise<void> {
    const wave = Math.max(1, this.options.startWave ?? (this.mode === 'processes' ? 16 : 250));
    for (let i = 0; i < computes.length; i += wave) {
      const batch = computes.slice(i, i + wave);
      await Promise.all(batch.map((s) => this.startNode(s)));
      // in-process, a wave only yields to the event loop: the control node accepts and answers the wave's
      // connects before the next one comes (waiting for every session would serialise bring-up)
      if (this.mode === 'in-process' && i + wave < computes.length) await new Promise((resolve) => setImmediate(resolve));
      this.options.progress?.({ started: i + batch.length, total: computes.length, established: this.establishedCount(computes) });
    }
  }

  private establishedCount(computes: NodeSlot[]): number | null {
    if (this.mode !== 'in-process') return null;
    let n = 0;
    for (const slot of computes) {
      const agent = slot.running && 'agent' in slot.running ? (slot.running as RunningCompute).agent : undefined;
      if (agent?.connected) n++;
    }
    return n;
  }

  private async startNode(slot: NodeSlot): Promise<void> {
    const thread = this.threadOf.get(slot.name);
    if (slot.kind === 'gateway') {
      await this.startGatewayNode(slot);
    } else if (this.mode === 'processes') {
      await this.spawnNode(slot);
    } else if (thread && slot.kind === 'compute') {
      await thread.start(slot.name);
      slot.thread = thread;
      slot.handler = thread.handler(slot.name);
    } else {
      const deps = { tap: this.tap, log: this.log, strict: this.options.strict, endOfRibQuietMs: this.options.endOfRibQuietMs };
      slot.running =
        slot.kind === 'control-node'
          ? await startControlNode(this.topology, slot.name, deps)
          : await startCompute(this.topology, slot.name, this.underlay, deps);
      slot.handler = slot.running.handler;
    }
    if (slot.kind === 'control-node') await this.replayJournal(slot);
    this.log(`${slot.name} started`);
  }

  /**
   * Gateways run in the launcher's process in both modes: in-process on the shared underlay; with
   * `--processes` on their own MPLS-over-UDP socket, reaching the computes' processes as they reach each other.
   */
  private async startGatewayNode(slot: NodeSlot): Promise<void> {
    const deps = { log: this.log };
    if (this.mode === 'processes') {
      const own = nodeUnderlay(this.log);
      const running = await startGateway(this.topology, slot.name, own.underlay, deps);
      await own.ready();
      slot.running = { ...running, stop: async () => { await running.stop(); await own.close(); } };
    } else {
      slot.running = await startGateway(this.topology, slot.name, this.underlay, deps);
    }
    slot.handler = slot.running.handler;
  }

  private async spawnNode(slot: NodeSlot): Promise<void> {
    const file = this.ensureTopologyFile();
    const args = [BIN, 'node', slot.name, '--topology', file, '--api-port', '0', '--parent-pid', String(process.pid)];
    if (this.options.strict) args.push('--strict');
    if (this.options.endOfRibQuietMs !== undefined) args.push('--end-of-rib-quiet-ms', String(this.options.endOfRibQuietMs));
    if (this.options.logLevel !== undefined) args.push('--log-level', this.options.logLevel);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    slot.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.log(`[${slot.name}] ${chunk.toString().trimEnd()}`, 'warn'));
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${slot.name} did not come up within ${CHILD_READY_TIMEOUT_MS} ms`)), CHILD_READY_TIMEOUT_MS);
      lines.on('line', (line) => {
        let message: { event?: string; api?: string; line?: string; level?: string };
        try {
          message = JSON.parse(line);
        } catch {
          this.log(`[${slot.name}] ${line}`);
          return;
        }
        if (message.event === 'ready' && message.api) {
          clearTimeout(timer);
          resolve(message.api);
        } else if (message.event === 'log' && message.line) {
          this.log(`[${slot.name}] ${message.line}`, isLevel(message.level) ? message.level : 'info');
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${slot.name} exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
    child.once('exit', () => {
      if (slot.child === child) {
        slot.child = null;
        slot.handler = null;
      }
    });
    const api = await ready;
    // Every call to the node process has a deadline (docs/api.md §Deadlines): a stopped node answers 504.
    slot.handler = remoteHandler(api, { name: slot.name, deadlineMs: DEFAULT_DEADLINE_MS });
  }

  private ensureTopologyFile(): string {
    if (this.topologyFile) return this.topologyFile;
    const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-'));
    this.topologyFile = path.join(dir, 'topology.json');
    writeFileSync(this.topologyFile, JSON.stringify(this.topology, null, 2));
    return this.topologyFile;
  }

  private async stopNode(slot: NodeSlot, how: 'graceful' | 'kill'): Promise<void> {
    if (slot.thread) {
      const thread = slot.thread;
      slot.thread = null;
      slot.handler = null;
      await thread.stop(slot.name);
    }
    if (slot.running) {
      const running = slot.running;
      slot.running = null;
      slot.handler = null;
      await running.stop({ abrupt: how === 'kill' });
    }
    if (slot.child) {
      const child = slot.child;
      slot.child = null;
      slot.handler = null;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
  }

  private async replayJournal(slot: NodeSlot): Promise<void> {
    for (const entry of this.journal) {
      const response = await slot.handler!({
        method: entry.method,
        path: entry.path,
        query: new URLSearchParams(entry.query),
        body: entry.body,
        params: {},
      });
      if (response.status >= 400) this.log(`${slot.name}: replaying ${entry.method} ${entry.path} failed (${response.status}): ${'body' in response ? errorMessage(response.body, '') : ''}`, 'warn');
    }
  }

  private slot(name: string): NodeSlot {
    const slot = this.slots.get(name);
    if (!slot) throw new ApiError(404, `no node named ${name}; nodes: ${[...this.slots.keys()].join(', ')}`);
    return slot;
  }

  /** The OS process of a node in `--processes` mode (undefined in-process or when it is down). */
  processId(name: string): number | undefined {
    return this.slot(name).child?.pid;
  }

  /** In-process only: a running compute's agent (undefined when down or in another process). */
  agentOf(name: string): RunningCompute['agent'] | undefined {
    const running = this.slots.get(name)?.running;
    return running !== null && running !== undefined && 'agent' in running ? (running as RunningCompute).agent : undefined;
  }

  /** In-process only: a running control node's config store. */
  storeOf(name: string): RunningControlNode['store'] | undefined {
    const running = this.slots.get(name)?.running;
    return running !== null && running !== undefined && 'store' in running ? (running as RunningControlNode).store : undefined;
  }

  isAlive(name: string): boolean {
    return this.slot(name).handler !== null;
  }

  /** Ends the node abruptly (a compute or control node failure): its sockets close, its peers notice. */
  async kill(name: string): Promise<void> {
    const slot = this.slot(name);
    if (!slot.handler) throw new ApiError(409, `${name} is not running`);
    await this.stopNode(slot, 'kill');
    this.log(`${name} killed`);
  }

  async restart(name: string): Promise<void> {
    const slot = this.slot(name);
    if (slot.handler) await this.stopNode(slot, 'graceful');
    await this.startNode(slot);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server?.close();
    const slots = [...this.slots.values()];
    // Agents first: a control node going away first would make every agent log a lost session.
    await Promise.all(slots.filter((s) => s.kind === 'gateway').map((s) => this.stopNode(s, 'graceful')));
    await Promise.all(slots.filter((s) => s.kind === 'compute').map((s) => this.stopNode(s, 'graceful')));
    await Promise.all(slots.filter((s) => s.kind === 'control-node').map((s) => this.stopNode(s, 'graceful')));
    await Promise.all(this.threads.map((t) => t.close()));
    await this.tap.close();
  }

  // ---- the simulation API ----

  /** `hook` answers what is not the JSON API (the web view at `/`); kube-manager's streaming sync comes first. */
  async serve(host = '127.0.0.1', port = 0, hook?: HttpHook, options: { logger?: FastifyBaseLogger } = {}): Promise<string> {
    const k8s = this.routes.k8sMount;
    const rawRequests: HttpHook = Object.assign((req: Parameters<HttpHook>[0], res: Parameters<HttpHook>[1]) => (k8s?.rawRequest(req, res) ?? false) || (hook?.(req, res) ?? false), {
      routes: hook?.routes,
    });
    this.server = await serveApi(this.api, host, port, { hook: rawRequests, routes: () => this.routeCatalog(), title: `ecmpsim: ${this.topology.name}`, logger: options.logger });
    return this.server.url;
  }

  /** Every route of the simulation API with its schema: its own, each node kind's below /api/nodes/:node, the config API at /api/config. */
  routeCatalog(): RouteDescription[] {
    const nodes = nodeRouteCatalog();
    const below = (prefix: string, routes: RouteDescription[]): RouteDescription[] => routes.map((r) => ({ ...r, pattern: `${prefix}${r.pattern}` }));
    const config = nodes.controlNode.filter((r) => r.pattern.startsWith('/config'));
    return [
      ...this.routes.router.describe(),
      ...below('/api', config).map((r) => ({ ...r, schema: { ...r.schema, tag: 'config' } })),
      ...below('/api/nodes/:node', nodes.controlNode),
      ...below('/api/nodes/:node', nodes.compute),
    ];
  }

  get apiUrl(): string | null {
    return this.server?.url ?? null;
  }

  /** The routes, reaching the nodes through this simulation (./simulation-api.ts). */
  private readonly routes = new SimulationApi(this.apiHost());

  readonly api: ApiHandler = this.routes.handler;

  /** Which compute hosts a workload (traffic and traces start at a workload). */
  computeOf(workload: string): string {
    return this.routes.computeOf(workload);
  }

  private apiHost(): SimulationApiHost {
    // getters: the API is built while fields initialise, before the constructor has set topology, tap and log
    const sim = this;
    return {
      get topology() { return sim.topology; },
      get mode() { return sim.mode; },
      get startedAt() { return sim.startedAt; },
      get tap() { return sim.tap; },
      get log() { return sim.log; },
      nodes: () => [...sim.slots.values()],
      nodeNamed: (name) => sim.slots.get(name),
      node: (name) => sim.slot(name),
      kill: (name) => sim.kill(name),
      restart: (name) => sim.restart(name),
      recordConfigWrite: (write) => sim.journal.push(write),
    };
  }

}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

function isLevel(level: unknown): level is (typeof LEVELS)[number] {
  return typeof level === 'string' && (LEVELS as readonly string[]).includes(level);
}

