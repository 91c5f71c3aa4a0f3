// A gateway's API, mounted by the simulation at /api/nodes/<gateway>: its status (sessions, hash mode,
// counters), its table (each public prefix with its installed ECMP paths and, in resilient mode, the
// buckets per path), the hash mode switch, and traffic runs from many outside clients through it.
import { ApiError, ApiRouter, bodyObject, type ApiHandler } from './api-router.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { GATEWAY_HASH_MODES, type GatewayHashMode } from '../gateway/gateway-hash.ts';
import { GatewayTraffic } from '../gateway/gateway-traffic.ts';

const MAX_RUNS = 64;

function integerIn(body: Record<string, unknown>, key: string, min: number, max: number, fallback?: number): number {
  const value = body[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(400, `${key} must be an integer from ${min} to ${max}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`);
  }
  return value;
}

function destination(body: Record<string, unknown>): { address: string; port: number } {
  if (typeof body.to !== 'string' || body.to === '') throw new ApiError(400, 'to is required: "<public address>:<port>"');
  const [address, portText] = body.to.split(':');
  const port = body.port !== undefined ? integerIn(body, 'port', 0, 65535) : portText !== undefined ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ApiError(400, `give the destination port: "to": "${address}:80" or "port": 80`);
  return { address, port };
}

function protocolOf(value: unknown): number {
  if (value === undefined || value === 'tcp' || value === 6) return 6;
  if (value === 'udp' || value === 17) return 17;
  throw new ApiError(400, `protocol ${JSON.stringify(value)}: use tcp or udp`);
}

export function gatewayApi(gateway: Gateway): ApiHandler {
  const runs = new Map<string, GatewayTraffic>();
  let nextId = 1;
  const router = new ApiRouter()
    .on('GET', '/status', () => ({ status: 200, body: gateway.status() }))
    .on('GET', '/routes', () => ({
      status: 200,
      body: gateway.routes().map((route) => ({ ...route, ...(gateway.hash === 'resilient' ? { buckets: gateway.bucketCounts(route.prefix) } : {}) })),
    }))
    .on('GET', '/peers', () => ({ status: 200, body: gateway.peers() }))
    .on('PATCH', '/hash', (req) => {
      const mode = bodyObject(req).mode;
      if (!(GATEWAY_HASH_MODES as readonly unknown[]).includes(mode)) throw new ApiError(400, `mode must be one of ${GATEWAY_HASH_MODES.join(', ')}`);
      gateway.setHash(mode as GatewayHashMode);
      return { status: 200, body: { hash: gateway.hash } };
    })
    .on('POST', '/traffic', async (req) => {
      const body = bodyObject(req);
      const { address, port } = destination(body);
      let traffic: GatewayTraffic;
      try {
        traffic = new GatewayTraffic(gateway, {
          to: address,
          port,
          proto: protocolOf(body.protocol),
          flows: integerIn(body, 'count', 1, 1_000_000, 1000),
          ...(body.sources === undefined ? {} : { sources: integerIn(body, 'sources', 1, 65536) }),
          ...(typeof body.firstSource === 'string' ? { firstSource: body.firstSource } : {}),
        });
      } catch (e) {
        throw new ApiError(400, (e as Error).message);
      }
      const id = String(nextId++);
      runs.set(id, traffic);
      if (runs.size > MAX_RUNS) runs.delete(runs.keys().next().value!);
      return { status: 201, body: { id, gateway: gateway.name, hash: gateway.hash, to: `${address}:${port}`, report: await traffic.open() } };
    })
    .on('POST', '/traffic/:id/resend', async (req) => {
      const traffic = runs.get(req.params.id);
      if (!traffic) throw new ApiError(404, `no traffic run ${req.params.id} on ${gateway.name}`);
      return { status: 200, body: { id: req.params.id, hash: gateway.hash, report: await traffic.resend() } };
    });
  return router.handler;
}
