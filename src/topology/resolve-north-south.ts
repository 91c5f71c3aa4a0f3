/**
 * The north-south sections of a topology file, checked for meaning and given their defaults: shared
 * VIPs (an active-active address on several workloads), floating-ip pools, floating IPs associated with
 * a load balancer's VIP or a shared VIP, and gateways. Called by resolve-topology.ts with its checks, so
 * that errors name the JSON path like every other section. Does not build config (config-from-topology.ts).
 */
import type { RawTopology } from './raw-topology.ts';
import type { FloatingIpPoolTopology, FloatingIpTopology, GatewaySpec, SharedVipSpec } from './topology.ts';

export interface NorthSouthChecks {
  fail(path: string, message: string): void;
  checkNode(path: string, node: { name: string; address: string }): void;
  networkExists(path: string, name: string): boolean;
  /** reserves an explicit address in a network's IPAM (reports a clash) */
  reserve(network: string, address: string, owner: string, path: string): void;
  hasWorkload(name: string): boolean;
  workloadNetwork(name: string): string | undefined;
  hasLoadBalancer(name: string): boolean;
  controlNodes: readonly string[];
  asn: number;
}

export interface NorthSouth {
  sharedVips?: SharedVipSpec[];
  floatingIpPools?: FloatingIpPoolTopology[];
  floatingIps?: FloatingIpTopology[];
  gateways?: GatewaySpec[];
}

const DEFAULT_MAX_PATHS = 16;
const DEFAULT_BUCKETS = 1024;

function unique(fail: NorthSouthChecks['fail']): (name: string, path: string) => void {
  const seen = new Map<string, string>();
  return (name, path) => {
    const owner = seen.get(name);
    if (owner !== undefined) fail(`${path}.name`, `${name} is already used by ${owner}`);
    else seen.set(name, path);
  };
}

export function resolveNorthSouth(raw: RawTopology, c: NorthSouthChecks): NorthSouth {
  const result: NorthSouth = {};
  const vipName = unique(c.fail);
  if (raw.sharedVips) {
    result.sharedVips = raw.sharedVips.map((vip, index) => {
      const path = `sharedVips[${index}]`;
      vipName(vip.name, path);
      if (c.networkExists(`${path}.network`, vip.network)) c.reserve(vip.network, vip.address, `shared VIP ${vip.name}`, `${path}.address`);
      vip.workloads.forEach((workload, workloadIndex) => {
        const at = `${path}.workloads[${workloadIndex}]`;
        if (!c.hasWorkload(workload)) c.fail(at, `${workload} is not a workload`);
        else if (c.workloadNetwork(workload) !== vip.network) c.fail(at, `${workload} is in ${c.workloadNetwork(workload)}, not in ${vip.network}`);
      });
      return { name: vip.name, network: vip.network, address: vip.address, workloads: [...vip.workloads] };
    });
  }
  const poolName = unique(c.fail);
  if (raw.floatingIpPools) {
    result.floatingIpPools = raw.floatingIpPools.map((pool, index) => {
      poolName(pool.name, `floatingIpPools[${index}]`);
      c.networkExists(`floatingIpPools[${index}].network`, pool.network);
      return { name: pool.name, network: pool.network };
    });
  }
  const pools = new Set((raw.floatingIpPools ?? []).map((pool) => pool.name));
  const vips = new Set((raw.sharedVips ?? []).map((vip) => vip.name));
  const fipName = unique(c.fail);
  if (raw.floatingIps) {
    result.floatingIps = raw.floatingIps.map((fip, index) => {
      const path = `floatingIps[${index}]`;
      fipName(fip.name, path);
      if (!pools.has(fip.pool)) c.fail(`${path}.pool`, `${fip.pool} is not a floating-ip pool (known: ${[...pools].join(', ') || 'none'})`);
      if (fip.loadBalancer !== undefined && fip.sharedVip !== undefined) c.fail(path, 'associate with loadBalancer or sharedVip, not both');
      if (fip.loadBalancer !== undefined && !c.hasLoadBalancer(fip.loadBalancer)) c.fail(`${path}.loadBalancer`, `${fip.loadBalancer} is not a load balancer`);
      if (fip.sharedVip !== undefined && !vips.has(fip.sharedVip)) c.fail(`${path}.sharedVip`, `${fip.sharedVip} is not a shared VIP`);
      return {
        name: fip.name,
        pool: fip.pool,
        ...(fip.address === undefined ? {} : { address: fip.address }),
        ...(fip.loadBalancer === undefined ? {} : { loadBalancer: fip.loadBalancer }),
        ...(fip.sharedVip === undefined ? {} : { sharedVip: fip.sharedVip }),
      };
    });
  }
  if (raw.gateways) {
    result.gateways = raw.gateways.map((gateway, index) => {
      const path = `gateways[${index}]`;
      c.checkNode(path, gateway);
      gateway.networks.forEach((network, networkIndex) => c.networkExists(`${path}.networks[${networkIndex}]`, network));
      (gateway.controlNodes ?? []).forEach((name, nodeIndex) => {
        if (!c.controlNodes.includes(name)) c.fail(`${path}.controlNodes[${nodeIndex}]`, `${name} is not a control node (known: ${c.controlNodes.join(', ')})`);
      });
      return {
        name: gateway.name,
        address: gateway.address,
        asn: gateway.asn ?? c.asn,
        networks: [...gateway.networks],
        maxPaths: gateway.maxPaths ?? DEFAULT_MAX_PATHS,
        hash: gateway.hash ?? 'stateless',
        buckets: gateway.buckets ?? DEFAULT_BUCKETS,
        controlNodes: gateway.controlNodes ?? [...c.controlNodes],
      };
    });
  }
  return result;
}
