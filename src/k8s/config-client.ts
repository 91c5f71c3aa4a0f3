// How kube-manager reaches the config: the small set of reads and writes it needs, over the simulation's
// config API (`/api/config/…`, which applies a write on every control node and journals it for restarts)
// or straight onto a ConfigStore (unit tests, a single control node). Owns the transport only; what to
// write is kube-manager.ts.
import type { ApiHandler } from '../api/api-router.ts';
import { ConfigError } from '../model/config-error.ts';
import type { ConfigStore } from '../model/config-store.ts';
import type { ConfigKind, ObjectOfKind } from '../model/objects.ts';
import { errorMessage } from '../api/api-error.ts';

/** A config read or write the control node refused; the message is the store's own one-line reason. */
export class ConfigWriteError extends Error {}

export interface ConfigClient {
  list<K extends ConfigKind>(kind: K): Promise<ObjectOfKind<K>[]>;
  create(kind: ConfigKind, spec: Record<string, unknown>): Promise<void>;
  update(kind: ConfigKind, name: string, patch: Record<string, unknown>): Promise<void>;
  delete(kind: ConfigKind, name: string, cascade?: boolean): Promise<void>;
}

/** Through the simulation API; `api` is looked up per call so the client can be made before the router. */
export function apiConfigClient(api: () => ApiHandler): ConfigClient {
  const call = async (method: string, path: string, body?: unknown, query = ''): Promise<unknown> => {
    const response = await api()({ method, path, query: new URLSearchParams(query), body, params: {} });
    if (!('body' in response)) throw new ConfigWriteError(`${method} ${path} answered with a stream`);
    if (response.status >= 400) {
      const error = errorMessage(response.body, `HTTP ${response.status}`);
      throw new ConfigWriteError(error);
    }
    return response.body;
  };
  const at = (kind: ConfigKind, name?: string): string => `/api/config/${kind}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  return {
    list: async (kind) => (await call('GET', at(kind))) as never,
    create: async (kind, spec) => void (await call('POST', at(kind), spec)),
    update: async (kind, name, patch) => void (await call('PATCH', at(kind, name), patch)),
    delete: async (kind, name, cascade = false) => void (await call('DELETE', at(kind, name), undefined, cascade ? 'cascade=true' : '')),
  };
}

/** Straight onto a store, with the store's refusals turned into ConfigWriteError as the API would. */
export function storeConfigClient(store: ConfigStore): ConfigClient {
  const guard = async (work: () => unknown): Promise<void> => {
    try {
      work();
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigWriteError(e.message);
      throw e;
    }
  };
  // The specs come from kube-manager's own code, already shaped; the store still checks every field.
  const create: Record<ConfigKind, (spec: Record<string, unknown>) => unknown> = {
    'virtual-network': (s) => store.createVirtualNetwork(s as never),
    'virtual-machine-interface': (s) => store.createVirtualMachineInterface(s as never),
    'instance-ip': (s) => store.createInstanceIp(s as never),
    'floating-ip': (s) => store.createFloatingIp(s as never),
    'floating-ip-pool': (s) => store.createFloatingIpPool(s as never),
    loadbalancer: (s) => store.createLoadBalancer(s as never),
    'loadbalancer-listener': (s) => store.createListener(s as never),
    'loadbalancer-pool': (s) => store.createPool(s as never),
    'loadbalancer-member': (s) => store.createMember(s as never),
    'loadbalancer-healthmonitor': (s) => store.createHealthMonitor(s as never),
    'network-policy': (s) => store.createNetworkPolicy(s as never),
  };
  return {
    list: async (kind) => store.list(kind),
    create: (kind, spec) => guard(() => create[kind](spec)),
    update: (kind, name, patch) =>
      guard(() => {
        if (kind === 'virtual-machine-interface') store.updateVirtualMachineInterface(name, patch as never);
        else if (kind === 'loadbalancer-member') store.updateMember(name, patch as never);
        else throw new ConfigWriteError(`kube-manager does not update ${kind}`);
      }),
    delete: (kind, name, cascade = false) =>
      guard(() => {
        switch (kind) {
          case 'virtual-network':
            return store.deleteVirtualNetwork(name);
          case 'virtual-machine-interface':
            return store.deleteVirtualMachineInterface(name);
          case 'instance-ip':
            return store.deleteInstanceIp(name);
          case 'floating-ip':
            return store.deleteFloatingIp(name);
          case 'loadbalancer':
            return store.deleteLoadBalancer(name, { cascade });
          case 'loadbalancer-listener':
            return store.deleteListener(name, { cascade });
          case 'loadbalancer-pool':
            return store.deletePool(name, { cascade });
          case 'loadbalancer-member':
            return store.deleteMember(name);
          default:
            throw new ConfigWriteError(`kube-manager does not delete ${kind}`);
        }
      }),
  };
}
