// An agent's introspect API (what contrail-vrouter-agent's introspect and contrail-introspect-cli show:
// sessions, VRFs, routes as received, the FIB with composite next-hops and their slots, flows), plus the
// traffic and trace verbs that make its workloads send packets, and each workload's simulated health that
// its service-health-check probes see. Mounted by the simulation at /api/nodes/<compute>.
import { ApiError, ApiRouter, bodyObject, queryInt, type ApiHandler } from './api-router.ts';
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

export function agentApi(agent: VrouterAgent, workloads: readonly LocalWorkload[], extend?: (router: ApiRouter) => void): ApiHandler {
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
    const vrfs = agent.status().vrfs;
    const vrf = vrfs.find((v) => v.instance === name || v.network === name);
    if (!vrf) throw new ApiError(404, `${agent.name} has no VRF named ${name}; it has: ${vrfs.map((v) => v.instance).join(', ') || 'none'}`);
    return vrf.instance;
  };

  const router = new ApiRouter()
    .on('GET', '/status', () => ({ status: 200, body: { kind: 'compute', ...agent.status(), counters: agent.vrouter.counters() } }))
    .on('GET', '/workloads', () => ({ status: 200, body: workloads }))
    .on('GET', '/workloads/:name/health', (req) => ({ status: 200, body: agent.workloadHealth(probedWorkload(req.params.name)) }))
    .on('POST', '/workloads/:name/health', (req) => {
      const name = probedWorkload(req.params.name);
      const body = bodyObject(req);
      if (typeof body.healthy !== 'boolean') throw new ApiError(400, `healthy must be true or false${body.healthy === undefined ? '' : `, got ${JSON.stringify(body.healthy)}`}`);
      return { status: 200, body: agent.setWorkloadHealth(name, body.healthy) };
    })
    .on('GET', '/routes', (req) => ({ status: 200, body: agent.receivedRoutes(vrfName(req.query.get('vrf'))) }))
    .on('GET', '/fib', (req) => ({ status: 200, body: agent.vrouter.fib(vrfName(req.query.get('vrf'))) }))
    // docs/protocol.md §8.4: the haproxies on this compute, their open connections and server health
    .on('GET', '/service-instances', () => ({ status: 200, body: agent.vrouter.serviceInstances() }))
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
    })
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
    })
    .on('POST', '/traffic/:id/resend', async (req) => {
      const generator = generators.get(req.params.id);
      if (!generator) throw new ApiError(404, `no traffic run ${req.params.id} on ${agent.name}`);
      return { status: 200, body: { id: req.params.id, report: await generator.resendSettled(SETTLE_WINDOW) } };
    })
    .on('DELETE', '/traffic/:id', (req) => {
      if (!generators.delete(req.params.id)) throw new ApiError(404, `no traffic run ${req.params.id} on ${agent.name}`);
      return { status: 200, body: { deleted: req.params.id } };
    })
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
    });
  extend?.(router);
  return router.handler;
}
