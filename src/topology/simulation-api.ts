// The simulation API: the routes the CLI, the scenario runner and the web view call (/api/topology,
// /api/nodes, /api/stanzas, /api/config, /api/traffic, /api/trace, /api/k8s) and how each reaches a node:
// config writes go to every control node and into the replay journal, traffic and traces to the
// workload's compute (or gateway), the rest to the named node's own API. Owns routing and aggregation;
// not the nodes' lifecycle (./launcher.ts) nor HTTP serving (../api/api-server.ts).
import { ApiError, ApiRouter, type ApiHandler, type ApiRequest, type ApiResponse } from '../api/api-router.ts';
import { errorMessage } from '../api/api-error.ts';
import { TRACE_BODY, TRAFFIC_BODY } from '../api/agent-api.ts';
import type { LogFn } from '../net/log.ts';
import type { StanzaRecord, StanzaTap } from '../inspect/stanza-tap.ts';
import { stanzaFilterFromQuery } from '../inspect/stanza-query.ts';
import { mountK8sApi, type K8sMount } from '../k8s/k8s-api.ts';
import { STANZA_QUERY, type NodeKind } from './node-runtime.ts';
import type { Topology } from './topology.ts';

/** A node as the API sees it: its handler is null while it is down. */
export interface ApiNode {
  readonly name: string;
  readonly kind: NodeKind;
  readonly address: string;
  readonly handler: ApiHandler | null;
}

/** A config write, kept to replay into a control node that starts later. */
export interface ConfigWrite {
  method: string;
  path: string;
  body: unknown;
  query: string;
}

/** What the API needs of the running simulation. */
export interface SimulationApiHost {
  readonly topology: Topology;
  readonly mode: 'in-process' | 'processes';
  readonly startedAt: Date;
  readonly tap: StanzaTap;
  readonly log: LogFn;
  nodes(): ApiNode[];
  nodeNamed(name: string): ApiNode | undefined;
  /** The node, or an ApiError 404 naming the nodes there are. */
  node(name: string): ApiNode;
  kill(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  recordConfigWrite(write: ConfigWrite): void;
}

export class SimulationApi {
  readonly router: ApiRouter;
  readonly handler: ApiHandler;
  /** kube-manager's raw streaming route (POST /api/k8s/sync), which the HTTP server offers each request. */
  readonly k8sMount: K8sMount;

  constructor(private readonly host: SimulationApiHost) {
    let mount: K8sMount | undefined;
    this.router = this.buildRouter((m) => (mount = m));
    this.handler = this.router.handler;
    this.k8sMount = mount!;
  }

  private nodeHandler(name: string): ApiHandler {
    const slot = this.host.node(name);
    if (!slot.handler) throw new ApiError(503, `${name} is down`);
    return slot.handler;
  }

  private firstControlNode(): ApiNode {
    const slot = [...this.host.nodes()].find((s) => s.kind === 'control-node' && s.handler);
    if (!slot) throw new ApiError(503, 'no control node is running');
    return slot;
  }

  /** Which compute hosts a workload (traffic and traces start at a workload). */
  computeOf(workload: string): string {
    const w = this.host.topology.workloads.find((x) => x.name === workload);
    if (!w) throw new ApiError(404, `no workload named ${workload}; workloads: ${this.host.topology.workloads.map((x) => x.name).join(', ')}`);
    return w.compute;
  }

  private async forward(name: string, req: ApiRequest, subPath: string): Promise<ApiResponse> {
    return this.nodeHandler(name)({ ...req, path: subPath, params: {}, deadlineMs: req.deadlineMs ?? deadlineOf(req, subPath) });
  }

  private async configWrite(req: ApiRequest): Promise<ApiResponse> {
    const controls = [...this.host.nodes()].filter((s) => s.kind === 'control-node' && s.handler);
    if (controls.length === 0) throw new ApiError(503, 'no control node is running');
    const subPath = req.path.replace(/^\/api/, '');
    // Every control node holds the same config (as each gets it from the config database); they apply
    // the same deterministic change, so the first answer stands for all.
    const first = await this.forward(controls[0].name, req, subPath);
    if (first.status < 300) {
      for (const other of controls.slice(1)) await this.forward(other.name, req, subPath);
      this.host.recordConfigWrite({ method: req.method, path: subPath, body: req.body, query: req.query.toString() });
    }
    return first;
  }

  /** One line per node; a node that does not answer within its deadline is listed with why, the others as usual. */
  private async nodesSummary(): Promise<unknown[]> {
    return Promise.all(
      [...this.host.nodes()].map(async (slot) => {
        let status: unknown = null;
        let error: string | undefined;
        if (slot.handler) {
          try {
            const response = await slot.handler({ method: 'GET', path: '/status', query: new URLSearchParams(), body: undefined, params: {} });
            status = 'body' in response && response.status < 400 ? response.body : null;
            if ('body' in response && response.status >= 400) error = errorMessage(response.body, `${slot.name}: status ${response.status}`);
          } catch (e) {
            error = e instanceof Error ? e.message : String(e);
          }
        }
        return { name: slot.name, kind: slot.kind, address: slot.address, alive: slot.handler !== null, status, ...(error === undefined ? {} : { error }) };
      }),
    );
  }

  private checkStanzaQuery(query: URLSearchParams): void {
    const node = query.get('node');
    if (node !== null && node !== '' && this.host.nodeNamed(node) === undefined && !this.host.topology.computes.some((c) => c.name === node)) {
      throw new ApiError(400, `query.node: no node named ${node}; nodes: ${this.host.nodes().map((n) => n.name).join(', ')}`, 'invalid-query', 'query.node');
    }
  }

  private async stanzas(req: ApiRequest): Promise<ApiResponse> {
    this.checkStanzaQuery(req.query);
    const filter = stanzaFilterFromQuery(req.query);
    const follow = req.query.get('follow') === 'true' || req.query.get('follow') === '1';
    if (this.host.mode === 'in-process') {
      if (follow) return { status: 200, stream: (emit) => this.host.tap.follow(filter, emit) };
      return { status: 200, body: this.host.tap.list(filter) };
    }
    const collect = async (): Promise<StanzaRecord[]> => {
      const all: StanzaRecord[] = [];
      for (const slot of this.host.nodes()) {
        if (!slot.handler || (filter.node && filter.node !== slot.name)) continue;
        // A node that does not answer in time is left out of this answer rather than holding it up.
        const response = await slot.handler({ ...req, path: '/stanzas', params: {} }).catch((e: unknown) => {
          this.host.log(`stanzas: ${e instanceof Error ? e.message : String(e)}`, 'warn');
          return null;
        });
        if (response && 'body' in response && Array.isArray(response.body)) all.push(...(response.body as StanzaRecord[]));
      }
      return all.sort((a, b) => a.time.localeCompare(b.time));
    };
    if (!follow) {
      const all = await collect();
      return { status: 200, body: filter.limit ? all.slice(-filter.limit) : all };
    }
    return {
      status: 200,
      stream: (emit) => {
        const seen = new Set<string>();
        let active = true;
        const poll = async (): Promise<void> => {
          while (active) {
            for (const r of await collect().catch(() => [])) {
              const key = `${r.node}|${r.seq}`;
              if (seen.has(key)) continue;
              seen.add(key);
              emit(r);
            }
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        };
        void poll();
        return () => {
          active = false;
        };
      },
    };
  }

  private buildRouter(mounted: (mount: K8sMount) => void): ApiRouter {
    const tag = 'simulation';
    const node = { tag, query: {} };
    const router = new ApiRouter()
      .on('GET', '/api', () => ({
        status: 200,
        body: {
          simulation: this.host.topology.name,
          mode: this.host.mode,
          startedAt: this.host.startedAt.toISOString(),
          resources: ['/api/topology', '/api/nodes', '/api/nodes/<node>/…', '/api/stanzas', '/api/config', '/api/traffic', '/api/trace', '/api/openapi.json'],
        },
      }), { tag, summary: 'what runs and where to look' })
      .on('GET', '/api/topology', () => ({ status: 200, body: this.host.topology }), { tag, summary: 'the resolved topology' })
      .on('GET', '/api/nodes', async () => ({ status: 200, body: await this.nodesSummary() }), {
        tag,
        summary: "every node with its status; a node that does not answer within 2 s is listed with an error naming it",
      })
      .on('POST', '/api/nodes/:node/kill', async (req) => {
        await this.host.kill(req.params.node);
        return { status: 200, body: { killed: req.params.node } };
      }, { ...node, summary: 'end a node abruptly (its sessions drop)' })
      .on('POST', '/api/nodes/:node/restart', async (req) => {
        await this.host.restart(req.params.node);
        return { status: 200, body: { restarted: req.params.node } };
      }, { ...node, summary: 'stop a node gracefully (if running) and start it again' })
      .on('GET', '/api/stanzas', (req) => this.stanzas(req), { tag, summary: 'the stanza log of every node (follow=true: an NDJSON stream)', query: STANZA_QUERY })
      .on('GET', '/api/config', (req) => this.forward(this.firstControlNode().name, req, '/config'))
      .on('GET', '/api/config/*rest', (req) => this.forward(this.firstControlNode().name, req, `/config/${req.params.rest}`))
      .on('POST', '/api/config/*rest', (req) => this.configWrite(req))
      .on('PATCH', '/api/config/*rest', (req) => this.configWrite(req))
      .on('DELETE', '/api/config/*rest', (req) => this.configWrite(req))
      .on('POST', '/api/traffic', (req) => this.workloadRequest(req, '/traffic'), { tag, summary: 'open flows from a workload (on its compute)', body: TRAFFIC_BODY, created: true })
      .on('POST', '/api/trace', (req) => this.workloadRequest(req, '/trace'), { tag, summary: 'trace one packet from a workload', body: TRACE_BODY });
    mounted(mountK8sApi(router, () => ({ topology: this.host.topology, api: this.handler, log: this.host.log })));
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      router.on(method, '/api/nodes/:node', (req) => this.forward(req.params.node, req, '/status'), method === 'GET' ? { ...node, summary: "a node's status" } : { hidden: true });
      router.on(method, '/api/nodes/:node/*rest', (req) => this.forward(req.params.node, req, `/${req.params.rest}`));
    }
    return router;
  }

  private async workloadRequest(req: ApiRequest, subPath: string): Promise<ApiResponse> {
    const body = req.body as { from?: unknown } | undefined;
    if (!body || typeof body.from !== 'string') throw new ApiError(400, 'the body needs "from": the name of the workload (or gateway) that sends');
    // outside clients' traffic starts at a gateway
    if (subPath === '/traffic' && this.host.nodeNamed(body.from)?.kind === 'gateway') return this.forward(body.from, req, subPath);
    return this.forward(this.computeOf(body.from), req, subPath);
  }
}

/** Calls that do real work get longer than the 2 s default: a traffic run, a restart. */
function deadlineOf(req: ApiRequest, subPath: string): number | undefined {
  if (/^\/traffic(\/|$)/.test(subPath)) {
    const count = (req.body as { count?: unknown } | undefined)?.count;
    return 10_000 + (typeof count === 'number' ? count : 1000) * 5;
  }
  return undefined;
}
