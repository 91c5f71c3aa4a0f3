// One worker thread of vRouter agents, seen from the main thread: starts and stops computes in it and
// reaches their API by message. With agent threads the control node keeps the main thread and the agents'
// XMPP decoding and FIB programming run on the box's other cores; the sessions are the same TCP sessions on
// the same loopback addresses (docs/architecture.md, "Scale"). Not here: what runs inside (./agent-worker.ts).
import { Worker } from 'node:worker_threads';
import type { ApiHandler } from '../api/api-router.ts';
import type { Topology } from './topology.ts';

export type ThreadRequest =
  | { kind: 'start'; id: number; name: string; log: boolean }
  | { kind: 'stop'; id: number; name: string }
  | { kind: 'api'; id: number; name: string; method: string; path: string; query: string; body: unknown }
  | { kind: 'established'; id: number };

export type ThreadReply =
  | { kind: 'done'; id: number }
  | { kind: 'api'; id: number; status: number; body: unknown }
  | { kind: 'count'; id: number; count: number }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'log'; line: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The agents' thread's young generation (semi-spaces together); V8's default on 64 bits is 32 MB at most. */
const YOUNG_GENERATION_MB = 96;
const BOOT = new URL('./agent-worker-boot.mjs', import.meta.url);

export class AgentThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(topology: Topology, private readonly log?: (line: string) => void) {
    // A larger young generation: the agents allocate per received message and item, and each scavenge costs
    // what survives it, not what it frees (docs/architecture.md, "Scale").
    this.worker = new Worker(BOOT, { workerData: { topology }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    this.worker.on('message', (reply: ThreadReply) => {
      if (reply.kind === 'log') {
        this.log?.(reply.line);
        return;
      }
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.kind === 'error') w.reject(new Error(reply.message));
      else w.resolve(reply);
    });
    const fail = (e: Error): void => {
      this.failed = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', (e) => fail(new Error(`agent thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`agent thread exited (code ${code})`)));
  }

  private call(request: DistributiveOmit<ThreadRequest, 'id'>): Promise<ThreadReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  async start(name: string): Promise<void> {
    await this.call({ kind: 'start', name, log: this.log !== undefined });
  }

  async stop(name: string): Promise<void> {
    await this.call({ kind: 'stop', name });
  }

  /** How many of this thread's agents have an established session. */
  async established(): Promise<number> {
    const reply = await this.call({ kind: 'established' });
    return reply.kind === 'count' ? reply.count : 0;
  }

  /** The API of one compute in this thread (JSON documents; streams are not carried across). */
  handler(name: string): ApiHandler {
    return async (req) => {
      const reply = await this.call({ kind: 'api', name, method: req.method, path: req.path, query: req.query.toString(), body: req.body });
      return reply.kind === 'api' ? { status: reply.status, body: reply.body } : { status: 500, body: { error: 'unexpected reply' } };
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
