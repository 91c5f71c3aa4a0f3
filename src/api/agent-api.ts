// An agent's introspect API (what contrail-vrouter-agent's introspect and contrail-introspect-cli show:
// sessions, VRFs, routes as received, the FIB with composite next-hops and their slots, flows), plus the
// traffic and trace verbs that make its workloads send packets, and each workload's simulated health that
// its service-health-check probes see. Mounted by the simulation at /api/nodes/<compute>.
import { ApiError, ApiRouter, bodyObject, queryInt, type ApiHandler } from './api-router.ts';
import { ref, type JsonSchema, type RouteSchema } from './request-schemas.ts';
import type { Packet } from '../vrouter/packet.ts';
import { TrafficGenerator, addressRange } from '../vrouter/traffic.ts';
import type { VrouterAgent } from '../vrouter/agent.ts';

export interface LocalWorkload {
  name: string;
  network: string;
  address: string;
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17 };
/**
 * Connections in flight at once over an asynchronous underlay: small enough that a burst and its replies
 * fit the loopback sockets' receive buffers (a lost delivery report costs a report timeout).
 */
const SETTLE_WINDOW = 32;
/** Generators kept for `resend`; older ones are dropped first. */
const MAX_GENERATORS = 64;

function protocolOf(value: unknown): number {
  if (value === undefined) return 6;
  if (typeof value === 'number' && (value === 6 || value === 17)) return value;
  if (typeof value === 'string' && PROTOCOLS[value.toLowerCase()] !== undefined) return PROTOCOLS[value.toLowerCase()];
  throw new ApiError(400, `protocol ${JSON.stringify(value)}: use tcp or udp`);
}

function integerIn(body: Record<string, unknown>, key: string, min: number, max: number, fallback?: number): number {
  const value = body[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(400, `${key} must be an integer from ${min} to ${max}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`);
  }
  return value;
}

function text(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new ApiError(400, `${key} is required (a string)`);
  return value;
}

/** `"30.30.30.100"` or `"30.30.30.100:80"`; a separate `port` wins. */
function destination(body: Record<string, unknown>): { address: string; port: number } {
  const to = text(body, 'to');
  const [address, portText] = to.split(':');
  const port = body.port !== undefined ? integerIn(body, 'port', 0, 65535) : portText !== undefined ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ApiError(400, `give the destination port: "to": "${address}:80" or "port": 80`);
  return { address, port };
}

const TAG = 'node: compute';
const VRF_QUERY = { vrf: { type: 'string', description: 'routing instance or VN fq-name' } };
const ROUTE_QUERY = { ...VRF_QUERY, prefix: { anyOf: [ref('ipv4'), ref('cidr')], description: 'one prefix (a.b.c.d means a.b.c.d/32)' } };

/** `30.30.30.100` and `30.30.30.100/32` name the same route. */
function samePrefix(filter: string | null): (prefix: string) => boolean {
  if (!filter) return () => true;
  const wanted = filter.includes('/') ? filter : `${filter}/32`;
  return (prefix) => prefix === wanted;
}
const DESTINATION: Record<string, JsonSchema> = {
  from: { ...ref('configName'), description: 'the workload that sends' },
  to: { type: 'string', pattern: '^[0-9.]+(:[0-9]+)?$', description: 'a.b.c.d or a.b.c.d:port' },
  port: { type: 'integer', minimum: 0, maximum: 65535, description: 'destination port (wins over the one in to)' },
  protocol: { anyOf: [{ enum: ['tcp', 'udp', 'TCP', 'UDP'] }, { enum: [6, 17] }] },
};
/** Traffic and trace bodies (also accepted by the simulation's /api/traffic and /api/trace). */
export const TRAFFIC_BODY: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    ...DESTINATION,
    count: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'flows to open (default 1000)' },
    sources: { type: 'integer', minimum: 1, maximum: 65536, description: 'source addresses from the workload address up (default 1)' },
    sourcePorts: { enum: ['sequential', 'random'] },
    seed: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    firstSourcePort: { type: 'integer', minimum: 1, maximum: 65535 },
    firstSource: ref('ipv4', 'runs from a gateway: the first outside source address (default 198.51.100.1)'),
  },
};
export const TRACE_BODY: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: { ...DESTINATION, src: ref('ipv4', 'source address (default: the workload address)'), sport: { type: 'integer', minimum: 0, maximum: 65535 } },
};
const FLOWS: RouteSchema = {
  tag: TAG,
  summary: 'the flow table: 5-tuple, ECMP slot, member, NAT',
  query: { ...VRF_QUERY, ip: ref('ipv4'), direction: { enum: ['forward', 'reverse'] }, limit: { type: 'integer', minimum: 1 } },
};

/** Control-node documents asked of a compute: a clear answer naming what to ask instead. */
function refuseControlDocuments(router: ApiRouter, name: () => string): void {
  for (const path of ['/instances', '/item', '/bgp/*rest', '/config', '/config/*rest']) {
    const refuse = (): never => {
      throw new ApiError(400, `${name()} is a compute: it has no ${path.split('/')[1]}; ask a control node (routes and fib work here)`, 'wrong-node-kind', path);
    };
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) router.on(method, path, refuse, { hidden: true });
  }
}

export function agentApi(agent: VrouterAgent, workloads: readonly LocalWorkload[], extend?: (router: ApiRouter) => void): ApiHandler {
  return agentRouter(agent, workloads, extend).handler;
}

/** The agent's router; `extend` adds the stanza route (node-runtime.ts). */
export function agentRouter(agent: VrouterAgent, workloads: readonly LocalWorkload[], extend?: (router: ApiRouter) => void): ApiRouter {
  const generators = new Map<string, TrafficGenerator>();
  let nextId = 1;

  const workload = (name: string): LocalWorkload => {
    const w = workloads.find((x) => x.name === name);
    if (!w) throw new ApiError(404, `${agent.name} hosts no workload named ${name}; it hosts: ${workloads.map((x) => x.name).join(', ') || 'none'}`);
    return w;
  };

  /** Health applies to every local VMI: the topology's workloads and those added through the config API. */
  const probedWorkload = (name: string): string => {
    if (workloads.some((w) => w.name === name) || agent.hasInterface(name)) return name;
    throw new ApiError(404, `${agent.name} hosts no workload named ${name}; it hosts: ${workloads.map((x) => x.name).join(', ') || 'none'}`);
  };

  /** VRF names as users type them: the routing instance or the VN fq-name. */
  const vrfName = (name: string | null): string | undefined => {
    if (!name) return undefined;
    const vrfs = agent.vrfs();
    const vrf = vrfs.find((v) => v.instance === name || v.network === name);
    if (!vrf) throw new ApiError(404, `${agent.name} has no VRF named ${name}; it has: ${vrfs.map((v) => v.instance).join(', ') || 'none'}`);
    return vrf.instance;
  };

  const router = new ApiRouter()
    .on('GET', '/status', () => ({ status: 200, body: { kind: 'compute', ...agent.status(), counters: agent.vrouter.counters() } }), { tag: TAG, summary: 'a node: its kind, sessions and counters' })
    .on('GET', '/workloads', () => ({ status: 200, body: workloads }), { tag: TAG, summary: "the topology's workloads on this compute" })
    .on('GET', '/workloads/:name/health', (req) => ({ status: 200, body: agent.workloadHealth(probedWorkload(req.params.name)) }), { tag: TAG, summary: "a workload's simulated health, as its health-check probes see it" })
    .on('POST', '/workloads/:name/health', (req) => {
      const name = probedWorkload(req.params.name);
      const body = bodyObject(req);
      if (typeof body.healthy !== 'boolean') throw new ApiError(400, `healthy must be true or false${body.healthy === undefined ? '' : `, got ${JSON.stringify(body.healthy)}`}`);
      return { status: 200, body: agent.setWorkloadHealth(name, body.healthy) };
    }, { tag: TAG, summary: "set a workload's simulated health", body: { type: 'object', additionalProperties: false, required: ['healthy'], properties: { healthy: { type: 'boolean' } } } })
    .on('GET', '/routes', (req) => {
      const wanted = samePrefix(req.query.get('prefix'));
      return { status: 200, body: agent.receivedRoutes(vrfName(req.query.get('vrf'))).filter((r) => wanted(r.prefix)) };
    }, { tag: TAG, summary: 'routes as received from the control nodes', query: ROUTE_QUERY })
    .on('GET', '/fib', (req) => {
      const filter = req.query.get('prefix');
      const prefix = filter ? (filter.includes('/') ? filter : `${filter}/32`) : undefined;
      try {
        const vrfs = agent.vrouter.fib(vrfName(req.query.get('vrf')), prefix);
        // With a prefix, VRFs without that route are left out.
        return { status: 200, body: prefix === undefined ? vrfs : vrfs.filter((v) => v.routes.length > 0) };
      } catch (e) {
        if (e instanceof RangeError) throw new ApiError(400, `prefix: ${e.message}`, undefined, 'query.prefix');
        throw e;
      }
    }, { tag: TAG, summary: 'the FIB: next hops, ECMP composites and their slots', query: ROUTE_QUERY })
    // docs/protocol.md §8.4: the haproxies on this compute, their open connections and server health
    .on('GET', '/service-instances', () => ({ status: 200, body: agent.vrouter.serviceInstances() }), { tag: TAG, summary: 'the haproxies on this compute (opencontrail provider): connections and server health' })
    .on('GET', '/flows', (req) => {
      const direction = req.query.get('direction');
      return {
        status: 200,
        body: agent.vrouter.flows({
          vrf: vrfName(req.query.get('vrf')),
          ip: req.query.get('ip') ?? undefined,
          direction: direction === 'forward' || direction === 'reverse' ? direction : undefined,
          limit: queryInt(req.query, 'limit', 1000),
        }),
      };
    }, FLOWS)
    .on('POST', '/traffic', async (req) => {
      const body = bodyObject(req);
      const from = workload(text(body, 'from'));
      const { address, port } = destination(body);
      const flows = integerIn(body, 'count', 1, 1_000_000, 1000);
      const sources = body.sources === undefined ? 1 : integerIn(body, 'sources', 1, 65536);
      const order = body.sourcePorts === 'random' ? 'random' : 'sequential';
      const generator = new TrafficGenerator({
        vrouter: agent.vrouter,
        interfaceName: from.name,
        vip: address,
        port,
        proto: protocolOf(body.protocol),
        flows,
        // More than one source address stands for clients behind the workload (hashing on source IP).
        sourceAddresses: sources === 1 ? [from.address] : addressRange(from.address, sources),
        sourcePorts: order,
        addressOrder: order,
        seed: body.seed === undefined ? 1 : integerIn(body, 'seed', 0, 0xffffffff),
        ...(body.firstSourcePort === undefined ? {} : { firstSourcePort: integerIn(body, 'firstSourcePort', 1, 65535) }),
      });
      const id = String(nextId++);
      generators.set(id, generator);
      if (generators.size > MAX_GENERATORS) generators.delete(generators.keys().next().value!);
      return { status: 201, body: { id, compute: agent.name, from: from.name, to: `${address}:${port}`, report: await generator.openSettled(SETTLE_WINDOW) } };
    }, { tag: TAG, summary: 'open flows from a local workload and report where they went', body: TRAFFIC_BODY, created: true })
    .on('POST', '/traffic/:id/resend', async (req) => {
      const generator = generators.get(req.params.id);
      if (!generator) throw new ApiError(404, `no traffic run ${req.params.id} on ${agent.name}`);
      return { status: 200, body: { id: req.params.id, report: await generator.resendSettled(SETTLE_WINDOW) } };
    }, { tag: TAG, summary: 'send the same flows again (stickiness check)' })
    .on('DELETE', '/traffic/:id', (req) => {
      if (!generators.delete(req.params.id)) throw new ApiError(404, `no traffic run ${req.params.id} on ${agent.name}`);
      return { status: 200, body: { deleted: req.params.id } };
    }, { tag: TAG, summary: 'forget a traffic run' })
    .on('POST', '/trace', (req) => {
      const body = bodyObject(req);
      const from = workload(text(body, 'from'));
      const { address, port } = destination(body);
      const packet: Packet = {
        src: typeof body.src === 'string' ? body.src : from.address,
        dst: address,
        proto: protocolOf(body.protocol),
        sport: body.sport === undefined ? 40000 : integerIn(body, 'sport', 0, 65535),
        dport: port,
      };
      return { status: 200, body: { packet, steps: agent.vrouter.trace(from.name, packet) } };
    }, { tag: TAG, summary: 'trace one packet through the data plane, step by step', body: TRACE_BODY });
  extend?.(router);
  refuseControlDocuments(router, () => agent.name);
  return router;
}
