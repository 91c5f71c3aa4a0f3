/**
 * The LBaaS v1 workflow of Contrail's haproxy load balancer (docs/protocol.md §8.4) mapped onto the v2
 * objects the store holds: a v1 pool (method, protocol, subnet) and its members wait here until a VIP is
 * created for the pool; `vip-create` then makes, in one transaction, the load balancer (named after the
 * VIP, provider `opencontrail` unless given), a listener `<vip>-listener` with the VIP's protocol and
 * port, the pool and its members. Once a pool has its VIP, v1 calls act on the v2 objects directly;
 * deleting the VIP puts the pool and its members back here. Health monitors exist on their own in both.
 * Owns: the staged v1 pools and the mapping. Does not own any v2 rule (the store checks everything).
 */
import { ConfigError } from '../model/config-error.ts';
import type { ConfigStore } from '../model/config-store.ts';
import type { ListenerProtocol, PoolMethod } from '../model/objects.ts';
import { LISTENER_PROTOCOLS, POOL_METHODS, SUPPORTED_PROVIDERS } from '../model/objects.ts';
import { isIpv4, parseIpv4Prefix, ipv4ToInt, prefixMask } from '../net/ipv4.ts';

export interface V1Member {
  name?: string;
  address: string;
  port: number;
  weight?: number;
  adminState?: boolean;
}

export interface V1Pool {
  name: string;
  method: PoolMethod;
  protocol: ListenerProtocol;
  /** `--subnet-id`: the pool's subnet (CIDR) or network */
  subnet?: string;
  healthMonitor?: string;
  members: V1Member[];
}

export interface V1Vip {
  name: string;
  pool: string;
  protocol: ListenerProtocol;
  port: number;
  /** `--subnet-id`: the VIP's subnet (CIDR) or network */
  subnet: string;
  address?: string;
  provider?: string;
}

export interface V1State {
  /** pools waiting for a VIP */
  pools: V1Pool[];
  /** VIP name → its pool, for pools that have one */
  vips: Record<string, string>;
}

function fail(kind: 'loadbalancer' | 'loadbalancer-pool' | 'loadbalancer-member' | 'loadbalancer-healthmonitor', name: string, reason: string, field?: string, code: 'invalid' | 'not-found' | 'conflict' = 'invalid'): never {
  throw new ConfigError(kind, name, reason, field, code);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], kind: 'loadbalancer' | 'loadbalancer-pool', name: string, field: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) fail(kind, name, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, field);
  return value as T;
}

export class LbaasV1 {
  private readonly pools = new Map<string, V1Pool>();
  private readonly vips = new Map<string, string>();

  constructor(private readonly store: ConfigStore) {}

  state(): V1State {
    return { pools: structuredClone([...this.pools.values()]), vips: Object.fromEntries(this.vips) };
  }

  /** The network a `--subnet-id` names: a network's name, or a subnet (CIDR) one network has, or an address inside one. */
  private networkOf(subnet: string, kind: 'loadbalancer' | 'loadbalancer-pool', name: string): string {
    const networks = this.store.list('virtual-network');
    const byName = networks.find((vn) => vn.name === subnet);
    if (byName) return byName.name;
    const prefix = parseIpv4Prefix(subnet);
    const address = typeof prefix === 'string' ? (isIpv4(subnet) ? ipv4ToInt(subnet) : -1) : prefix.address;
    const found = networks.find((vn) => vn.subnets.some((s) => {
      const p = parseIpv4Prefix(s);
      return typeof p !== 'string' && address >= 0 && ((address & prefixMask(p.length)) >>> 0) === p.address;
    }));
    if (!found) fail(kind, name, `${subnet} is neither a network nor inside a subnet of one (networks: ${networks.map((vn) => `${vn.name} ${vn.subnets.join(' ')}`).join(', ') || 'none'})`, 'subnet');
    return found.name;
  }

  /** `lb-pool-create --lb-method --protocol --subnet-id NAME` */
  createPool(spec: { name: string; method?: string; protocol?: string; subnet?: string }): V1Pool {
    const name = String(spec.name ?? '');
    if (name === '') fail('loadbalancer-pool', name, 'is required', 'name');
    if (this.pools.has(name) || this.store.get('loadbalancer-pool', name)) fail('loadbalancer-pool', name, 'already exists', 'name', 'conflict');
    const pool: V1Pool = {
      name,
      method: spec.method === undefined ? 'ROUND_ROBIN' : oneOf(spec.method, POOL_METHODS, 'loadbalancer-pool', name, 'method'),
      protocol: spec.protocol === undefined ? 'HTTP' : oneOf(spec.protocol, LISTENER_PROTOCOLS, 'loadbalancer-pool', name, 'protocol'),
      members: [],
    };
    if (spec.subnet !== undefined) {
      this.networkOf(spec.subnet, 'loadbalancer-pool', name);
      pool.subnet = spec.subnet;
    }
    this.pools.set(name, pool);
    return structuredClone(pool);
  }

  /** `lb-member-create --address --protocol-port [--weight] POOL` */
  createMember(spec: { pool: string } & V1Member): string {
    const staged = this.pools.get(spec.pool);
    if (staged === undefined) {
      if (!this.store.get('loadbalancer-pool', spec.pool)) fail('loadbalancer-member', `${spec.pool}:${spec.address}:${spec.port}`, `pool ${spec.pool} does not exist`, 'pool', 'not-found');
      return this.store.createMember({ ...spec, ...this.memberSubnet(spec.pool) }).name;
    }
    if (!isIpv4(String(spec.address))) fail('loadbalancer-member', `${spec.pool}:${spec.address}:${spec.port}`, `${JSON.stringify(spec.address)} is not an IPv4 address`, 'address');
    if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) fail('loadbalancer-member', `${spec.pool}:${spec.address}:${spec.port}`, `${JSON.stringify(spec.port)} is not a port from 1 to 65535`, 'port');
    const name = spec.name ?? `${spec.pool}:${spec.address}:${spec.port}`;
    if (staged.members.some((m) => (m.name ?? `${spec.pool}:${m.address}:${m.port}`) === name)) fail('loadbalancer-member', name, 'already exists', 'name', 'conflict');
    const { pool: _pool, ...member } = spec;
    staged.members.push({ ...member, name });
    return name;
  }

  private memberSubnet(pool: string): { subnet?: string } {
    const subnet = this.pools.get(pool)?.subnet;
    return subnet !== undefined && parseIpv4Prefix(subnet) !== undefined && typeof parseIpv4Prefix(subnet) !== 'string' ? { subnet } : {};
  }

  deleteMember(name: string): void {
    for (const pool of this.pools.values()) {
      const index = pool.members.findIndex((m) => m.name === name);
      if (index >= 0) {
        pool.members.splice(index, 1);
        return;
      }
    }
    this.store.deleteMember(name);
  }

  /** `lb-healthmonitor-associate MONITOR POOL` (`monitor: null` disassociates) */
  associateHealthMonitor(pool: string, monitor: string | null): void {
    const staged = this.pools.get(pool);
    if (staged === undefined) {
      this.store.updatePool(pool, { healthMonitor: monitor });
      return;
    }
    if (monitor !== null && !this.store.get('loadbalancer-healthmonitor', monitor)) fail('loadbalancer-pool', pool, `loadbalancer-healthmonitor ${monitor} does not exist`, 'healthMonitor');
    if (monitor === null) delete staged.healthMonitor;
    else staged.healthMonitor = monitor;
  }

  /** `lb-vip-create --name --protocol-port --protocol --subnet-id POOL`: the v2 objects, all at once. */
  createVip(spec: V1Vip): string {
    const name = String(spec.name ?? '');
    const pool = this.pools.get(spec.pool);
    if (pool === undefined) {
      const owner = [...this.vips].find(([, p]) => p === spec.pool)?.[0];
      fail('loadbalancer', name, owner ? `pool ${spec.pool} already has VIP ${owner}` : `pool ${spec.pool} does not exist (create it with lb-pool-create)`, 'pool', owner ? 'conflict' : 'not-found');
    }
    const protocol = spec.protocol === undefined ? pool.protocol : oneOf(spec.protocol, LISTENER_PROTOCOLS, 'loadbalancer', name, 'protocol');
    const provider = spec.provider === undefined ? 'opencontrail' : oneOf(spec.provider, SUPPORTED_PROVIDERS, 'loadbalancer', name, 'provider');
    const network = this.networkOf(String(spec.subnet), 'loadbalancer', name);
    const listener = `${name}-listener`;
    this.store.batch(() => {
      this.store.createLoadBalancer({ name, provider, virtualNetwork: network, ...(spec.address === undefined ? {} : { vipAddress: spec.address }) });
      this.store.createListener({ name: listener, loadBalancer: name, protocol, port: spec.port });
      this.store.createPool({ name: pool.name, listener, protocol: pool.protocol, method: pool.method, ...(pool.healthMonitor ? { healthMonitor: pool.healthMonitor } : {}) });
      for (const member of pool.members) this.store.createMember({ ...member, pool: pool.name, ...this.memberSubnet(pool.name) });
    });
    this.pools.delete(pool.name);
    this.vips.set(name, pool.name);
    return name;
  }

  /** `lb-vip-delete`: the load balancer goes, its pool and members wait here again. */
  deleteVip(name: string): void {
    const poolName = this.vips.get(name);
    if (poolName === undefined) fail('loadbalancer', name, 'is not a v1 VIP', undefined, 'not-found');
    const pool = this.store.get('loadbalancer-pool', poolName);
    const staged: V1Pool | undefined = pool && {
      name: pool.name,
      method: pool.method,
      protocol: pool.protocol,
      ...(pool.healthMonitor ? { healthMonitor: pool.healthMonitor } : {}),
      members: this.store.list('loadbalancer-member').filter((m) => m.pool === poolName).map((m) => ({ name: m.name, address: m.address, port: m.port, weight: m.weight, adminState: m.adminState })),
    };
    this.store.deleteLoadBalancer(name, { cascade: true });
    this.vips.delete(name);
    if (staged) this.pools.set(staged.name, staged);
  }

  /** `lb-pool-delete`: only a pool without VIP (as in neutron). */
  deletePool(name: string): void {
    const vip = [...this.vips].find(([, p]) => p === name)?.[0];
    if (vip !== undefined) fail('loadbalancer-pool', name, `is in use by VIP ${vip}; delete the VIP first`, undefined, 'conflict');
    if (!this.pools.delete(name)) fail('loadbalancer-pool', name, 'does not exist', undefined, 'not-found');
  }
}
