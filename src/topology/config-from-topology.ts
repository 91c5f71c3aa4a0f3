import { ConfigError } from '../model/config-error.ts';
import { lbaasHook } from '../lbaas/provider-hook.ts';
import { ConfigStore } from '../model/config-store.ts';
import type { Topology } from './topology.ts';

/** A topology the store refused; `path` points into the topology file. */
export class TopologyBuildError extends Error {
  override readonly name = 'TopologyBuildError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

function at<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ConfigError) throw new TopologyBuildError(error.field ? `${path}.${error.field}` : path, error.reason);
    throw error;
  }
}

/**
 * The control node's config as the topology describes it: one VN per network (vn-index in file order
 * from 1), one VMI + instance-ip per workload (named after it), the LB objects, and the floating-ips the
 * native driver derives from them. All in one transaction: a refusal leaves no half-built store behind.
 */
export function buildConfigStore(topology: Topology): ConfigStore {
  const store = new ConfigStore({ asn: topology.asn, reconcile: lbaasHook({ computes: topology.computes.map((c) => c.name) }) });
  store.batch(() => {
    topology.networks.forEach((network, index) =>
      at(`networks[${index}]`, () =>
        store.createVirtualNetwork({ name: network.name, subnets: [...network.subnets], ...(network.hashFields ? { hashFields: [...network.hashFields] } : {}) }),
      ),
    );
    (topology.networkPolicies ?? []).forEach((policy, index) => at(`networkPolicies[${index}]`, () => store.createNetworkPolicy({ ...policy, networks: [...policy.networks], rules: [...policy.rules] })));
    topology.workloads.forEach((workload, index) =>
      at(`workloads[${index}]`, () => {
        store.createVirtualMachineInterface({
          name: workload.name,
          virtualNetwork: workload.network,
          compute: workload.compute,
          mac: workload.mac,
          ...(workload.hashFields ? { hashFields: [...workload.hashFields] } : {}),
          ...(workload.allowedAddressPairs ? { allowedAddressPairs: workload.allowedAddressPairs.map((pair) => ({ ...pair })) } : {}),
        });
        store.createInstanceIp({ name: workload.name, virtualMachineInterface: workload.name, address: workload.address });
      }),
    );
    topology.loadBalancers.forEach((lb, index) => {
      const path = `loadBalancers[${index}]`;
      at(path, () => store.createLoadBalancer({ name: lb.name, provider: lb.provider, virtualNetwork: lb.network, vipAddress: lb.vip, maglev: lb.maglev }));
      lb.listeners.forEach((listener, listenerIndex) => {
        const listenerPath = `${path}.listeners[${listenerIndex}]`;
        at(listenerPath, () => store.createListener({ name: listener.name, loadBalancer: lb.name, protocol: listener.protocol, port: listener.port }));
        const pool = listener.pool;
        const poolPath = `${listenerPath}.pool`;
        const monitorName = `${pool.name}-monitor`;
        if (pool.healthMonitor) {
          at(`${poolPath}.healthMonitor`, () => store.createHealthMonitor({ name: monitorName, ...pool.healthMonitor! }));
        }
        at(poolPath, () =>
          store.createPool({ name: pool.name, listener: listener.name, protocol: pool.protocol, method: pool.algorithm, ...(pool.healthMonitor ? { healthMonitor: monitorName } : {}) }),
        );
        pool.members.forEach((member, memberIndex) =>
          at(`${poolPath}.members[${memberIndex}]`, () => store.createMember({ ...member, pool: pool.name })),
        );
      });
    });
    buildNorthSouth(store, topology);
  });
  return store;
}

/** Shared VIPs (one active-active instance-ip on the workloads' VMIs), pools, and their floating IPs. */
function buildNorthSouth(store: ConfigStore, topology: Topology): void {
  (topology.sharedVips ?? []).forEach((vip, index) =>
    at(`sharedVips[${index}]`, () =>
      store.createInstanceIp({ name: vip.name, virtualMachineInterfaces: [...vip.workloads], address: vip.address, mode: 'active-active' }),
    ),
  );
  (topology.floatingIpPools ?? []).forEach((pool, index) =>
    at(`floatingIpPools[${index}]`, () => store.createFloatingIpPool({ name: pool.name, virtualNetwork: pool.network })),
  );
  (topology.floatingIps ?? []).forEach((fip, index) =>
    at(`floatingIps[${index}]`, () => {
      const lb = fip.loadBalancer === undefined ? undefined : store.get('loadbalancer', fip.loadBalancer);
      const fixedInstanceIp = lb ? store.instanceIpsOf(lb.virtualMachineInterface)[0]?.name : fip.sharedVip;
      store.createFloatingIp({
        name: fip.name,
        pool: fip.pool,
        ...(fip.address === undefined ? {} : { address: fip.address }),
        ...(fixedInstanceIp === undefined ? {} : { fixedInstanceIp }),
      });
    }),
  );
}
