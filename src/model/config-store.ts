/**
 * The control node's config database, as the layers above see it: every object by kind and name (and
 * uuid), changed only through transactions. Owns: the public API (reading, the per-kind create /
 * update / delete methods, batch, change events, snapshot) and wiring the parts together.
 * Does not own: storage (store/table.ts), all-or-nothing (store/transaction.ts), integrity
 * (store/reference-graph.ts + each kind's refs), per-kind rules (kinds/*.ts), or any driver: the
 * builder passes a ReconcileHook (reconcile-hook.ts), e.g. src/lbaas's native driver.
 *
 * Adding a kind: its object type in objects.ts, a module in kinds/ (spec, rules, create/update/delete),
 * one line in kinds/registry.ts, and its three methods here.
 */
import type { HashField } from '../net/hash-fields.ts';
import { IpamError } from './ipam.ts';
import {
  CONFIG_KINDS,
  type ConfigKind,
  type ConfigObject,
  type FloatingIp,
  type FloatingIpPool,
  type HealthMonitor,
  type InstanceIp,
  type Listener,
  type ListenerProtocol,
  type LoadBalancer,
  type Member,
  type ObjectOfKind,
  type Pool,
  type PoolMethod,
  type ServiceHealthCheck,
  type ServiceInstance,
  type VirtualMachineInterface,
  type VirtualNetwork,
} from './objects.ts';
import { applyReconcile, type DriverNotice, type ReconcileHook } from './reconcile-hook.ts';
import { ReferenceGraph } from './store/reference-graph.ts';
import { Table } from './store/table.ts';
import { SideTables, Transaction, type ChangeOp, type TableChange } from './store/transaction.ts';
import { createFloatingIp, deleteFloatingIp, updateFloatingIp, type FloatingIpPatch, type FloatingIpSpec } from './kinds/floating-ip.ts';
import { createFloatingIpPool, deleteFloatingIpPool, type FloatingIpPoolSpec } from './kinds/floating-ip-pool.ts';
import { createHealthMonitor, deleteHealthMonitor, updateHealthMonitor, type HealthMonitorSpec } from './kinds/health-monitor.ts';
import { createInstanceIp, deleteInstanceIp, instanceIpInterfaces, updateInstanceIp, type InstanceIpPatch, type InstanceIpSpec } from './kinds/instance-ip.ts';
import { KindContext, type DeleteOptions } from './kinds/kind-context.ts';
import { createListener, deleteListener, updateListener, type ListenerSpec } from './kinds/listener.ts';
import { createLoadBalancer, deleteLoadBalancer, updateLoadBalancer, type LoadBalancerSpec } from './kinds/load-balancer.ts';
import { createMember, deleteMember, updateMember, type MemberSpec } from './kinds/member.ts';
import { createPool, deletePool, updatePool, type PoolSpec } from './kinds/pool.ts';
import { createNetworkPolicy, deleteNetworkPolicy, updateNetworkPolicy, type NetworkPolicySpec } from './kinds/network-policy.ts';
import type { NetworkPolicy } from './network-policy.ts';
import { heldRefs, refsOf } from './kinds/registry.ts';
import { createVirtualMachineInterface, deleteVirtualMachineInterface, updateVirtualMachineInterface, type VirtualMachineInterfacePatch, type VirtualMachineInterfaceSpec } from './kinds/virtual-machine-interface.ts';
import { createVirtualNetwork, deleteVirtualNetwork, ipamOf, updateVirtualNetwork, type VirtualNetworkSpec } from './kinds/virtual-network.ts';

export type { NetworkPolicySpec };
export type { FloatingIpPatch, FloatingIpPoolSpec, InstanceIpPatch, VirtualMachineInterfacePatch };
export type { FloatingIpSpec, HealthMonitorSpec, InstanceIpSpec, ListenerSpec, LoadBalancerSpec, MemberSpec, PoolSpec, VirtualMachineInterfaceSpec, VirtualNetworkSpec };
export type { DeleteOptions, DriverNotice };
export type { ChangeOp };

export type ConfigChange = TableChange<ConfigKind>;
export type ChangeListener = (changes: readonly ConfigChange[]) => void;

export interface LbaasReport {
  readonly warnings: readonly DriverNotice[];
  readonly problems: readonly DriverNotice[];
}

export interface ConfigSnapshot {
  readonly asn: number;
  readonly objects: { [K in ConfigKind]: ObjectOfKind<K>[] };
  /** Derived by the driver (docs/protocol.md §8.2 step 5), like its floating-ips; read-only. */
  readonly serviceHealthChecks: ServiceHealthCheck[];
  /** Derived by the proxy driver (docs/protocol.md §8.4); read-only. */
  readonly serviceInstances: ServiceInstance[];
  readonly lbaas: LbaasReport;
}

export interface ConfigStoreOptions {
  asn?: number;
  /** Runs at the end of every transaction (e.g. src/lbaas `nativeDriverHook`); `NO_RECONCILE` for none. */
  reconcile: ReconcileHook;
}

/**
 * Each public mutation is a transaction: it either applies whole, re-runs the reconcile hook and
 * notifies listeners once, or throws a ConfigError and leaves the store exactly as it was.
 */
export class ConfigStore {
  readonly asn: number;
  readonly #tx = new Transaction<ConfigKind>();
  readonly #table = new Table<ConfigObject>(CONFIG_KINDS, this.#tx);
  readonly #context: KindContext;
  readonly #reconcile: ReconcileHook;
  readonly #listeners = new Set<ChangeListener>();
  #lbaasReport: LbaasReport = { warnings: [], problems: [] };
  #serviceHealthChecks: readonly ServiceHealthCheck[] = [];
  #serviceInstances: readonly ServiceInstance[] = [];

  constructor(options: ConfigStoreOptions) {
    const asn = options.asn ?? 64512;
    if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) throw new RangeError(`asn must be an integer from 1 to 4294967295, got ${asn}`);
    if (typeof options.reconcile !== 'function') throw new TypeError('ConfigStore needs a reconcile hook (NO_RECONCILE for none)');
    this.asn = asn;
    this.#reconcile = options.reconcile;
    const sides = new SideTables(this.#tx);
    const graph = new ReferenceGraph<ConfigObject>(this.#table, { refsOf, heldRefs: () => heldRefs(this.#context) });
    this.#context = new KindContext(asn, this.#table, this.#tx, graph, sides);
  }

  // ---- reading ----

  get<K extends ConfigKind>(kind: K, name: string): ObjectOfKind<K> | undefined {
    return this.#table.get(kind, name);
  }

  getByUuid(uuid: string): ConfigObject | undefined {
    return this.#table.getByUuid(uuid);
  }

  list<K extends ConfigKind>(kind: K): ObjectOfKind<K>[] {
    return this.#table.list(kind);
  }

  /** Instance-ips of a VMI, in creation order. */
  instanceIpsOf(vmi: string): InstanceIp[] {
    return this.#context.instanceIpsOf(vmi);
  }

  /** What the agent of `compute` needs: its VMIs, every FIP and service-health-check attached to one of them. */
  configForCompute(compute: string): {
    virtualMachineInterfaces: VirtualMachineInterface[];
    instanceIps: InstanceIp[];
    floatingIps: FloatingIp[];
    serviceHealthChecks: ServiceHealthCheck[];
  } {
    const vmis = this.list('virtual-machine-interface').filter((vmi) => vmi.compute === compute);
    const names = new Set(vmis.map((vmi) => vmi.name));
    return {
      virtualMachineInterfaces: vmis,
      instanceIps: this.list('instance-ip').filter((iip) => instanceIpInterfaces(iip).some((vmi) => names.has(vmi))),
      floatingIps: this.list('floating-ip').filter((fip) => fip.virtualMachineInterfaces.some((vmi) => names.has(vmi))),
      serviceHealthChecks: this.serviceHealthChecks().filter((check) => check.virtualMachineInterfaces.some((vmi) => names.has(vmi))),
    };
  }

  /**
   * The service-health-checks the driver derived (docs/protocol.md §8.2 step 5), in monitor creation
   * order. They change only together with the objects they come from, so a change event always announces them.
   */
  serviceHealthChecks(): ServiceHealthCheck[] {
    return [...this.#serviceHealthChecks];
  }

  /** The haproxy service instances of `opencontrail` load balancers (docs/protocol.md §8.4), in LB creation order. */
  serviceInstances(): ServiceInstance[] {
    return [...this.#serviceInstances];
  }

  /** The lowest address the network's IPAM would hand out next. */
  nextFreeAddress(virtualNetwork: string): string | undefined {
    return ipamOf(this.#context, virtualNetwork)?.nextFree();
  }

  get lbaasReport(): LbaasReport {
    return this.#lbaasReport;
  }

  /** Plain JSON (safe to serialise as is). */
  snapshot(): ConfigSnapshot {
    const objects = Object.fromEntries(CONFIG_KINDS.map((kind) => [kind, structuredClone(this.list(kind))]));
    return {
      asn: this.asn,
      objects: objects as ConfigSnapshot['objects'],
      serviceHealthChecks: structuredClone(this.serviceHealthChecks()),
      serviceInstances: structuredClone(this.serviceInstances()),
      lbaas: structuredClone(this.#lbaasReport),
    };
  }

  /** Called once per committed transaction with what changed (derived floating-ips included). */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs several mutations as one transaction: all or nothing, one reconcile, one change event. */
  batch<T>(work: () => T): T {
    return this.#transaction(work);
  }

  // ---- per-kind mutations (rules in kinds/*.ts) ----

  createVirtualNetwork(spec: VirtualNetworkSpec): VirtualNetwork {
    return this.#transaction(() => createVirtualNetwork(this.#context, spec));
  }
  updateVirtualNetwork(name: string, patch: { hashFields?: HashField[] | null }): VirtualNetwork {
    return this.#transaction(() => updateVirtualNetwork(this.#context, name, patch));
  }
  deleteVirtualNetwork(name: string): void {
    this.#transaction(() => deleteVirtualNetwork(this.#context, name));
  }

  createVirtualMachineInterface(spec: VirtualMachineInterfaceSpec): VirtualMachineInterface {
    return this.#transaction(() => createVirtualMachineInterface(this.#context, spec));
  }
  /** `compute: null` unbinds the VMI (e.g. while its VM migrates). */
  updateVirtualMachineInterface(name: string, patch: VirtualMachineInterfacePatch): VirtualMachineInterface {
    return this.#transaction(() => updateVirtualMachineInterface(this.#context, name, patch));
  }
  deleteVirtualMachineInterface(name: string): void {
    this.#transaction(() => deleteVirtualMachineInterface(this.#context, name));
  }

  createInstanceIp(spec: InstanceIpSpec): InstanceIp {
    return this.#transaction(() => createInstanceIp(this.#context, spec));
  }
  /** Scale-out / scale-in of a shared active-active address: a new `virtualMachineInterfaces` list. */
  updateInstanceIp(name: string, patch: InstanceIpPatch): InstanceIp {
    return this.#transaction(() => updateInstanceIp(this.#context, name, patch));
  }
  deleteInstanceIp(name: string): void {
    this.#transaction(() => deleteInstanceIp(this.#context, name));
  }

  /** User-created floating-ips; the driver's own are read-only. */
  createFloatingIp(spec: FloatingIpSpec): FloatingIp {
    return this.#transaction(() => createFloatingIp(this.#context, spec));
  }
  updateFloatingIp(name: string, patch: FloatingIpPatch): FloatingIp {
    return this.#transaction(() => updateFloatingIp(this.#context, name, patch));
  }
  deleteFloatingIp(name: string): void {
    this.#transaction(() => deleteFloatingIp(this.#context, name));
  }

  /** A pool of public addresses (its network's IPAM) for floating-ips. */
  createFloatingIpPool(spec: FloatingIpPoolSpec): FloatingIpPool {
    return this.#transaction(() => createFloatingIpPool(this.#context, spec));
  }
  deleteFloatingIpPool(name: string): void {
    this.#transaction(() => deleteFloatingIpPool(this.#context, name));
  }

  createLoadBalancer(spec: LoadBalancerSpec): LoadBalancer {
    return this.#transaction(() => createLoadBalancer(this.#context, spec));
  }
  /** adminState false suspends the LB: the driver drops its FIPs until it is enabled again (docs/protocol.md §8.2 step 4). */
  updateLoadBalancer(name: string, patch: { adminState?: boolean; maglev?: boolean }): LoadBalancer {
    return this.#transaction(() => updateLoadBalancer(this.#context, name, patch));
  }
  deleteLoadBalancer(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => deleteLoadBalancer(this.#context, name, options));
  }

  createListener(spec: ListenerSpec): Listener {
    return this.#transaction(() => createListener(this.#context, spec));
  }
  updateListener(name: string, patch: { protocol?: ListenerProtocol; port?: number; adminState?: boolean }): Listener {
    return this.#transaction(() => updateListener(this.#context, name, patch));
  }
  deleteListener(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => deleteListener(this.#context, name, options));
  }

  createPool(spec: PoolSpec): Pool {
    return this.#transaction(() => createPool(this.#context, spec));
  }
  /** `healthMonitor: null` detaches the monitor. */
  updatePool(name: string, patch: { method?: PoolMethod; healthMonitor?: string | null; adminState?: boolean }): Pool {
    return this.#transaction(() => updatePool(this.#context, name, patch));
  }
  deletePool(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => deletePool(this.#context, name, options));
  }

  createMember(spec: MemberSpec): Member {
    return this.#transaction(() => createMember(this.#context, spec));
  }
  updateMember(name: string, patch: { port?: number; weight?: number; adminState?: boolean }): Member {
    return this.#transaction(() => updateMember(this.#context, name, patch));
  }
  deleteMember(name: string): void {
    this.#transaction(() => deleteMember(this.#context, name));
  }

  createHealthMonitor(spec: HealthMonitorSpec): HealthMonitor {
    return this.#transaction(() => createHealthMonitor(this.#context, spec));
  }
  updateHealthMonitor(name: string, patch: Partial<Omit<HealthMonitorSpec, 'name'>>): HealthMonitor {
    return this.#transaction(() => updateHealthMonitor(this.#context, name, patch));
  }
  deleteHealthMonitor(name: string): void {
    this.#transaction(() => deleteHealthMonitor(this.#context, name));
  }

  createNetworkPolicy(spec: NetworkPolicySpec): NetworkPolicy {
    return this.#transaction(() => createNetworkPolicy(this.#context, spec));
  }
  updateNetworkPolicy(name: string, patch: Partial<Omit<NetworkPolicySpec, 'name'>>): NetworkPolicy {
    return this.#transaction(() => updateNetworkPolicy(this.#context, name, patch));
  }
  deleteNetworkPolicy(name: string): void {
    this.#transaction(() => deleteNetworkPolicy(this.#context, name));
  }

  // ---- internals ----

  #transaction<T>(work: () => T): T {
    return this.#tx.run(work, {
      beforeCommit: () => this.#runReconcile(),
      afterCommit: (changes) => this.#notify(changes),
      translateError: (error) => (error instanceof IpamError ? new TypeError(`IPAM refused a change the store had checked: ${error.message}`) : error),
    });
  }

  #runReconcile(): void {
    const result = applyReconcile(this.#context, this.#reconcile);
    const report = this.#lbaasReport;
    const healthChecks = this.#serviceHealthChecks;
    const instances = this.#serviceInstances;
    this.#lbaasReport = { warnings: result.warnings, problems: result.problems };
    this.#serviceHealthChecks = result.serviceHealthChecks;
    this.#serviceInstances = result.serviceInstances ?? [];
    this.#tx.onUndo(() => {
      this.#lbaasReport = report;
      this.#serviceHealthChecks = healthChecks;
      this.#serviceInstances = instances;
    });
  }

  #notify(changes: readonly ConfigChange[]): void {
    let failure: unknown;
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch (error) {
        failure ??= error;
      }
    }
    // the change is committed and every listener has seen it; the first listener bug still surfaces
    if (failure !== undefined) throw failure;
  }
}
