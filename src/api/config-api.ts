// The config API of a control node: the LBaaS objects, VMIs, instance-ips, floating-ips and networks of
// its config store, readable and writable over REST. The store validates every field and refuses a
// change whole (ConfigError), which becomes a 4xx with the object, the field and the reason. Bodies are
// checked first against config-schemas.ts (unknown fields refused). A write answers the object as it now
// is (a delete: as it was) and the driver notices this change caused (`lbaas`), not the store's old ones.
import { haproxyConfig } from '../lbaas/haproxy-config.ts';
import { LbaasV1 } from '../lbaas/lbaas-v1.ts';
import type { ServiceInstance } from '../model/objects.ts';
import { ApiError, bodyObject, type ApiRequest, type ApiResponse, type ApiRouter } from './api-router.ts';
import { checkBody, type JsonSchema, type RouteSchema } from './request-schemas.ts';
import { createBodySchema, updateBodySchema } from './config-schemas.ts';
import { ConfigError } from '../model/config-error.ts';
import { CONFIG_KINDS, type ConfigKind } from '../model/objects.ts';
import type { ConfigStore, LbaasReport } from '../model/config-store.ts';

/** Short names users type, as neutron's verbs do (`listener`, `pool`, `member`). */
const KIND_ALIASES: Record<string, ConfigKind> = {
  network: 'virtual-network',
  vn: 'virtual-network',
  vmi: 'virtual-machine-interface',
  port: 'virtual-machine-interface',
  fip: 'floating-ip',
  'fip-pool': 'floating-ip-pool',
  lb: 'loadbalancer',
  listener: 'loadbalancer-listener',
  pool: 'loadbalancer-pool',
  member: 'loadbalancer-member',
  healthmonitor: 'loadbalancer-healthmonitor',
  policy: 'network-policy',
};

export function configKind(text: string): ConfigKind {
  const kind = KIND_ALIASES[text] ?? text;
  if (!(CONFIG_KINDS as readonly string[]).includes(kind)) {
    throw new ApiError(404, `unknown config kind '${text}'; known: ${[...CONFIG_KINDS, ...Object.keys(KIND_ALIASES)].join(', ')}`, 'not-found', 'params.kind');
  }
  return kind as ConfigKind;
}

type Spec = Record<string, unknown>;

// The store checks every field of a spec itself (types, ranges, refs), so the casts below only move
// the JSON body across the type boundary; they do not skip validation.
const CREATE: Record<ConfigKind, (store: ConfigStore, spec: Spec) => unknown> = {
  'virtual-network': (s, spec) => s.createVirtualNetwork(spec as never),
  'virtual-machine-interface': (s, spec) => s.createVirtualMachineInterface(spec as never),
  'instance-ip': (s, spec) => s.createInstanceIp(spec as never),
  'floating-ip': (s, spec) => s.createFloatingIp(spec as never),
  'floating-ip-pool': (s, spec) => s.createFloatingIpPool(spec as never),
  loadbalancer: (s, spec) => s.createLoadBalancer(spec as never),
  'loadbalancer-listener': (s, spec) => s.createListener(spec as never),
  'loadbalancer-pool': (s, spec) => s.createPool(spec as never),
  'loadbalancer-member': (s, spec) => s.createMember(spec as never),
  'loadbalancer-healthmonitor': (s, spec) => s.createHealthMonitor(spec as never),
  'network-policy': (s, spec) => s.createNetworkPolicy(spec as never),
};

const UPDATE: Record<ConfigKind, (store: ConfigStore, name: string, patch: Spec) => unknown> = {
  'virtual-network': (s, n, p) => s.updateVirtualNetwork(n, p as never),
  'virtual-machine-interface': (s, n, p) => s.updateVirtualMachineInterface(n, p as never),
  'instance-ip': (s, n, p) => s.updateInstanceIp(n, p as never),
  'floating-ip': (s, n, p) => s.updateFloatingIp(n, p as never),
  'floating-ip-pool': (_s, n) => {
    throw new ConfigError('floating-ip-pool', n, 'has nothing to change; delete it and create another');
  },
  loadbalancer: (s, n, p) => s.updateLoadBalancer(n, p as never),
  'loadbalancer-listener': (s, n, p) => s.updateListener(n, p as never),
  'loadbalancer-pool': (s, n, p) => s.updatePool(n, p as never),
  'loadbalancer-member': (s, n, p) => s.updateMember(n, p as never),
  'loadbalancer-healthmonitor': (s, n, p) => s.updateHealthMonitor(n, p as never),
  'network-policy': (s, n, p) => s.updateNetworkPolicy(n, p as never),
};

const DELETE: Record<ConfigKind, (store: ConfigStore, name: string, cascade: boolean) => void> = {
  'virtual-network': (s, n) => s.deleteVirtualNetwork(n),
  'virtual-machine-interface': (s, n) => s.deleteVirtualMachineInterface(n),
  'instance-ip': (s, n) => s.deleteInstanceIp(n),
  'floating-ip': (s, n) => s.deleteFloatingIp(n),
  'floating-ip-pool': (s, n) => s.deleteFloatingIpPool(n),
  loadbalancer: (s, n, cascade) => s.deleteLoadBalancer(n, { cascade }),
  'loadbalancer-listener': (s, n, cascade) => s.deleteListener(n, { cascade }),
  'loadbalancer-pool': (s, n, cascade) => s.deletePool(n, { cascade }),
  'loadbalancer-member': (s, n) => s.deleteMember(n),
  'loadbalancer-healthmonitor': (s, n) => s.deleteHealthMonitor(n),
  'network-policy': (s, n) => s.deleteNetworkPolicy(n),
};

function configErrorResponse(e: unknown): ApiResponse {
  if (e instanceof ConfigError) {
    const status = { invalid: 400, 'not-found': 404, conflict: 409 }[e.code];
    const code = ({ invalid: 'invalid-config', 'not-found': 'not-found', conflict: 'conflict' } as const)[e.code];
    const details = { kind: e.kind, name: e.objectName, field: e.field, reason: e.reason };
    return { status, body: { error: { ...details, code, message: e.message, path: e.field ? `body.${e.field}` : e.objectName } } };
  }
  throw e;
}

/** The notices in `after` that `before` did not have: what this one change caused. */
function newNotices(before: LbaasReport, after: LbaasReport): LbaasReport {
  const had = (list: readonly unknown[]): Set<string> => new Set(list.map((n) => JSON.stringify(n)));
  const oldWarnings = had(before.warnings);
  const oldProblems = had(before.problems);
  return {
    warnings: after.warnings.filter((n) => !oldWarnings.has(JSON.stringify(n))),
    problems: after.problems.filter((n) => !oldProblems.has(JSON.stringify(n))),
  };
}

function guarded(work: () => ApiResponse): ApiResponse {
  try {
    return work();
  } catch (e) {
    return configErrorResponse(e);
  }
}

function lookup(store: ConfigStore, req: ApiRequest): unknown {
  const kind = configKind(req.params.kind);
  const object = store.get(kind, req.params.name) ?? store.getByUuid(req.params.name);
  if (!object || object.kind !== kind) throw new ApiError(404, `no ${kind} named ${req.params.name}`);
  return object;
}

const WRITE_ANSWER: JsonSchema = {
  type: 'object',
  properties: {
    object: { type: 'object', description: 'the object as it is now (after a delete: as it was)' },
    lbaas: { type: 'object', description: 'warnings and problems of the native driver caused by this change' },
  },
};

/** The document's entry per kind: the generic `:kind` routes serve them, these say what each kind takes. */
function documentKinds(router: ApiRouter): void {
  for (const kind of CONFIG_KINDS) {
    router
      .document('POST', `/config/${kind}`, { summary: `create a ${kind}`, tag: 'config', body: createBodySchema(kind), response: WRITE_ANSWER, created: true })
      .document('PATCH', `/config/${kind}/:name`, { summary: `update a ${kind}`, tag: 'config', body: updateBodySchema(kind), response: WRITE_ANSWER });
  }
}

/** docs/protocol.md §8.4: the proxy driver's service instances (derived, read-only) and each one's haproxy.cfg. */
function serviceInstance(store: ConfigStore, name: string): ServiceInstance {
  const found = store.serviceInstances().find((si) => si.name === name || si.loadBalancer === name || si.uuid === name);
  if (!found) throw new ApiError(404, `no service-instance named ${name} (nor one of a load balancer so named); service instances: ${store.serviceInstances().map((si) => si.name).join(', ') || 'none'}`);
  return found;
}

/** One v1 workflow per store: its staged pools live as long as the store (a restarted node replays the writes). */
const V1 = new WeakMap<ConfigStore, LbaasV1>();

function v1Of(store: ConfigStore): LbaasV1 {
  let v1 = V1.get(store);
  if (!v1) V1.set(store, (v1 = new LbaasV1(store)));
  return v1;
}

/** docs/protocol.md §8.4: the v1 LBaaS workflow (pool, members, health monitor, VIP) onto the v2 objects. */
function mountLbaasV1(router: ApiRouter, store: ConfigStore): void {
  const v1 = v1Of(store);
  const answer = (status: number, body: object): ApiResponse => ({ status, body: { ...body, v1: v1.state(), lbaas: store.lbaasReport } });
  router
    .on('GET', '/config/lbaas-v1', () => ({ status: 200, body: v1.state() }))
    .on('POST', '/config/lbaas-v1/pool', (req) => guarded(() => answer(201, { pool: v1.createPool(bodyObject(req) as never) })))
    .on('POST', '/config/lbaas-v1/member', (req) => guarded(() => answer(201, { member: v1.createMember(bodyObject(req) as never) })))
    .on('POST', '/config/lbaas-v1/vip', (req) => guarded(() => answer(201, { vip: v1.createVip(bodyObject(req) as never) })))
    .on('POST', '/config/lbaas-v1/healthmonitor-associate', (req) => {
      const body = bodyObject(req);
      return guarded(() => {
        v1.associateHealthMonitor(String(body.pool), body.healthMonitor === null ? null : String(body.healthMonitor));
        return answer(200, { pool: String(body.pool) });
      });
    })
    .on('DELETE', '/config/lbaas-v1/vip/:name', (req) => guarded(() => (v1.deleteVip(req.params.name), answer(200, { deleted: req.params.name }))))
    .on('DELETE', '/config/lbaas-v1/pool/:name', (req) => guarded(() => (v1.deletePool(req.params.name), answer(200, { deleted: req.params.name }))))
    .on('DELETE', '/config/lbaas-v1/member/:name', (req) => guarded(() => (v1.deleteMember(req.params.name), answer(200, { deleted: req.params.name }))));
}

export function mountConfigApi(router: ApiRouter, store: ConfigStore): void {
  const write = (work: () => { object: unknown; deleted?: unknown }, status: number): ApiResponse =>
    guarded(() => {
      const before = store.lbaasReport;
      const answer = work();
      return { status, body: { ...answer, lbaas: newNotices(before, store.lbaasReport) } };
    });
  const byKind: RouteSchema = { tag: 'config' };
  mountLbaasV1(router, store);
  router
    .on('GET', '/config/service-instance', () => ({ status: 200, body: store.serviceInstances() }))
    .on('GET', '/config/service-instance/:name', (req) => ({ status: 200, body: serviceInstance(store, req.params.name) }))
    .on('GET', '/config/service-instance/:name/haproxy', (req) => ({ status: 200, body: { name: serviceInstance(store, req.params.name).name, config: haproxyConfig(serviceInstance(store, req.params.name)) } }));
  router
    .on('GET', '/config', () => ({ status: 200, body: store.snapshot() }), { summary: 'every config object, the derived service health checks and the driver report', tag: 'config' })
    .on('GET', '/config/:kind', (req) => ({ status: 200, body: store.list(configKind(req.params.kind)) }), { ...byKind, summary: 'the objects of one kind (kind or its short alias)' })
    .on('GET', '/config/:kind/:name', (req) => ({ status: 200, body: lookup(store, req) }), { ...byKind, summary: 'one object by name or uuid' })
    .on('POST', '/config/:kind', (req) => {
      const kind = configKind(req.params.kind);
      checkBody({ body: createBodySchema(kind) }, req.body);
      const spec = bodyObject(req);
      return write(() => ({ object: CREATE[kind](store, spec) }), 201);
    }, { ...byKind, summary: 'create an object of any kind (see the per-kind entries for bodies)', created: true, response: WRITE_ANSWER })
    .on('PATCH', '/config/:kind/:name', (req) => {
      const kind = configKind(req.params.kind);
      checkBody({ body: updateBodySchema(kind) }, req.body);
      const patch = bodyObject(req);
      return write(() => ({ object: UPDATE[kind](store, req.params.name, patch) }), 200);
    }, { ...byKind, summary: 'update an object of any kind', response: WRITE_ANSWER })
    .on('DELETE', '/config/:kind/:name', (req) => {
      const kind = configKind(req.params.kind);
      const cascade = req.query.get('cascade') === 'true';
      return write(() => {
        const object = store.get(kind, req.params.name) ?? null;
        DELETE[kind](store, req.params.name, cascade);
        return { deleted: { kind, name: req.params.name }, object };
      }, 200);
    }, { ...byKind, summary: 'delete an object (cascade=true: with its children)', query: { cascade: { enum: ['true', 'false'] } }, response: WRITE_ANSWER });
  documentKinds(router);
}
