// The control node's introspect API (what contrail-control's introspect shows: sessions, routing
// instances, routes with every path). Mounted by the simulation at /api/nodes/<name>.
import { ApiError, ApiRouter, queryInt, type ApiHandler } from './api-router.ts';
import { ref, type RouteSchema } from './request-schemas.ts';
import { RTARGET_TABLE, VPN_TABLE } from '../rib/index.ts';
import type { RouteView } from '../rib/index.ts';
import { agentItemOf } from '../control/agent-items.ts';
import type { ControlNode } from '../control/control-node.ts';

/** Accepts a routing-instance name, a VN fq-name or a table name, as users type any of them. */
export function resolveTable(node: ControlNode, name: string): string {
  if (name === VPN_TABLE || name === RTARGET_TABLE || name.endsWith('.inet.0')) return name;
  const instances = node.rib.instances();
  const byInstance = instances.find((i) => i.name === name);
  if (byInstance) return byInstance.table;
  const byNetwork = instances.find((i) => i.virtualNetwork === name);
  if (byNetwork) return byNetwork.table;
  throw new ApiError(404, `${node.name} has no routing instance or table named ${name}`, 'not-found', 'query.vrf');
}

function routeJson(route: RouteView): unknown {
  return {
    table: route.table,
    instance: route.instance,
    prefix: route.prefix,
    rd: route.rd,
    paths: route.paths.map((p) => ({
      peer: p.peer.name,
      peerKind: p.peer.kind,
      peerAddress: p.peer.address,
      rd: p.rd,
      label: p.label,
      nextHop: p.nextHop,
      best: p.best,
      multipath: p.multipath,
      // Why the path is where it is: { step: 'best' | 'ecmp' | <selection step>, detail }.
      reason: p.reason,
      replicatedFrom: p.replicatedFrom,
      localPref: p.attrs.localPref,
      med: p.attrs.med,
      sequence: p.attrs.sequence,
      asPath: p.attrs.asPath,
      encapsulations: p.attrs.encapsulations,
      virtualNetwork: p.attrs.virtualNetwork,
      routeTargets: p.attrs.routeTargets,
    })),
  };
}

export function controlNodeRoutes(node: ControlNode, table: string | null, prefix: string | null, limit: number): unknown[] {
  const tables = table ? [resolveTable(node, table)] : node.rib.tableNames();
  const out: unknown[] = [];
  for (const name of tables) {
    if (name === RTARGET_TABLE) {
      // RFC 4684 membership routes are not paths with labels: list them as they are.
      for (const m of node.rib.routeTargetMemberships()) if (!prefix || m.prefix === prefix) out.push({ table: name, ...m });
      continue;
    }
    for (const route of node.rib.routes(name)) {
      if (prefix && route.prefix !== prefix && route.prefix !== `${prefix}/32`) continue;
      out.push(routeJson(route));
      if (out.length >= limit) return out;
    }
  }
  return out;
}

const TAG = 'node: control-node';
const LIMIT = { type: 'integer', minimum: 1, description: 'at most this many (default 10000)' };
const ROUTES: RouteSchema = {
  tag: TAG,
  summary: 'routes with every path (RD, label, next hop, peer, why best or not)',
  query: {
    vrf: { type: 'string', description: 'routing instance, VN fq-name or table name' },
    table: { type: 'string', description: 'same as vrf' },
    prefix: { anyOf: [ref('ipv4'), ref('cidr')], description: 'one prefix (a.b.c.d or a.b.c.d/len)' },
    limit: LIMIT,
  },
};

/** Agent documents asked of a control node: a clear answer naming what to ask instead. */
function refuseAgentDocuments(router: ApiRouter, name: () => string): void {
  const instead: Record<string, [string, string]> = {
    '/fib': ['FIB', 'routes'],
    '/flows': ['flow table', 'routes'],
    '/workloads': ['workloads', 'config'],
    '/traffic': ['workloads to send traffic', 'traffic from a compute'],
    '/trace': ['data plane to trace', 'trace from a compute'],
  };
  for (const [path, [what, hint]] of Object.entries(instead)) {
    const refuse = (): never => {
      throw new ApiError(400, `${name()} is a control node: it has no ${what}; try ${hint}`, 'wrong-node-kind', path);
    };
    router.on('GET', path, refuse, { hidden: true }).on('POST', path, refuse, { hidden: true });
  }
}

/** The control node's router; `extend` adds config, BGP and stanza routes (node-runtime.ts). */
export function controlNodeRouter(node: ControlNode, extend?: (router: ApiRouter) => void, extraStatus?: () => object): ApiRouter {
  const router = new ApiRouter()
    .on('GET', '/status', () => ({ status: 200, body: { ...node.status(), ...extraStatus?.() } }), { tag: TAG, summary: 'a node: its kind, sessions and counters' })
    .on('GET', '/instances', () => ({ status: 200, body: node.rib.instances() }), { tag: TAG, summary: 'routing instances with their tables and route targets' })
    .on('GET', '/routes', (req) => {
      const limit = queryInt(req.query, 'limit', 10_000)!;
      return { status: 200, body: controlNodeRoutes(node, req.query.get('vrf') ?? req.query.get('table'), req.query.get('prefix'), limit) };
    }, ROUTES)
    .on('GET', '/item', (req) => {
      // What this control node sends every subscriber of the VRF for one prefix (docs/protocol.md §4.1).
      const vrf = req.query.get('vrf');
      const prefix = req.query.get('prefix');
      if (!vrf || !prefix) throw new ApiError(400, 'give vrf and prefix', 'invalid-query', vrf ? 'query.prefix' : 'query.vrf');
      const table = resolveTable(node, vrf);
      const instance = node.rib.instances().find((i) => i.table === table);
      if (!instance) throw new ApiError(400, `${vrf} is not a VRF`, 'invalid-query', 'query.vrf');
      return { status: 200, body: agentItemOf(node.rib, instance.name, prefix.includes('/') ? prefix : `${prefix}/32`) };
    }, { tag: TAG, summary: 'the XMPP item every subscriber of a VRF gets for one prefix', query: { vrf: { type: 'string' }, prefix: { type: 'string' } } });
  extend?.(router);
  refuseAgentDocuments(router, () => node.name);
  return router;
}

export function controlNodeApi(node: ControlNode, extend?: (router: ApiRouter) => void, extraStatus?: () => object): ApiHandler {
  return controlNodeRouter(node, extend, extraStatus).handler;
}
