import { createHash, randomUUID } from 'node:crypto';
import { reconcileNativeLoadBalancers, type DriverNotice } from '../lbaas/native-driver.ts';
import { ConfigError } from './config-error.ts';
import { FieldChecks } from './field-checks.ts';
import type { IPv4, IPv4CidrRange } from 'ip-num';
import { Ipam, IpamError } from './ipam.ts';
import { parseIPv4, parseSubnet } from './ipv4.ts';
import { routeTargetFor, routingInstanceFor } from './network-identity.ts';
import {
  CONFIG_KINDS,
  HASH_FIELDS,
  INSTANCE_IP_MODES,
  LISTENER_PROTOCOLS,
  MONITOR_TYPES,
  POOL_METHODS,
  TRAFFIC_DIRECTIONS,
  type ConfigKind,
  type ConfigObject,
  type FloatingIp,
  type HashField,
  type HealthMonitor,
  type InstanceIp,
  type InstanceIpMode,
  type Listener,
  type ListenerProtocol,
  type LoadBalancer,
  type Member,
  type MonitorType,
  type ObjectOfKind,
  type Pool,
  type PoolMethod,
  type PortMapping,
  type ServiceHealthCheck,
  type TrafficDirection,
  type VirtualMachineInterface,
  type VirtualNetwork,
} from './objects.ts';

export interface VirtualNetworkSpec {
  name: string;
  subnets: string[];
  hashFields?: HashField[];
}
export interface VirtualMachineInterfaceSpec {
  name: string;
  virtualNetwork: string;
  compute?: string;
  /** default: derived from the name, locally administered (02:…) */
  mac?: string;
  hashFields?: HashField[];
}
export interface InstanceIpSpec {
  name: string;
  virtualMachineInterface: string;
  /** default: the lowest free address of the VMI's network */
  address?: string;
  mode?: InstanceIpMode;
}
export interface FloatingIpSpec {
  name: string;
  /** parent instance-ip; the FIP takes its address and network */
  instanceIp: string;
  direction?: TrafficDirection;
  portMappingsEnable?: boolean;
  portMappings?: PortMapping[];
  virtualMachineInterfaces?: string[];
}
export interface LoadBalancerSpec {
  name: string;
  provider?: string;
  virtualNetwork: string;
  /** default: allocated by the network's IPAM (ignored when an existing VIP VMI is given) */
  vipAddress?: string;
  /** An existing VIP VMI; default: the store creates `<name>-vip` with an instance-ip for the VIP. */
  virtualMachineInterface?: string;
  adminState?: boolean;
  maglev?: boolean;
}
export interface ListenerSpec {
  name: string;
  loadBalancer: string;
  protocol: ListenerProtocol;
  port: number;
  adminState?: boolean;
}
export interface PoolSpec {
  name: string;
  listener: string;
  /** default: the listener's protocol */
  protocol?: ListenerProtocol;
  method?: PoolMethod;
  healthMonitor?: string;
  adminState?: boolean;
}
export interface MemberSpec {
  /** default: `<pool>:<address>:<port>` */
  name?: string;
  pool: string;
  address: string;
  port: number;
  weight?: number;
  adminState?: boolean;
  subnet?: string;
}
export interface HealthMonitorSpec {
  name: string;
  type: MonitorType;
  delay?: number;
  timeout?: number;
  maxRetries?: number;
  urlPath?: string;
}

export type ChangeOp = 'create' | 'update' | 'delete';
export interface ConfigChange {
  readonly op: ChangeOp;
  readonly kind: ConfigKind;
  readonly name: string;
}
export type ChangeListener = (changes: readonly ConfigChange[]) => void;

export interface LbaasReport {
  readonly warnings: readonly DriverNotice[];
  readonly problems: readonly DriverNotice[];
}

export interface ConfigSnapshot {
  readonly asn: number;
  readonly objects: { [K in ConfigKind]: ObjectOfKind<K>[] };
  /** Derived by the native driver (§8.2 step 5), like its floating-ips; read-only. */
  readonly serviceHealthChecks: ServiceHealthCheck[];
  readonly lbaas: LbaasReport;
}

export interface DeleteOptions {
  /** delete the children (listeners → pools → members) in the same transaction, as neutron's cascade */
  cascade?: boolean;
}

interface Ref {
  readonly kind: ConfigKind;
  readonly name: string;
}

/** What an object points at; deletion is refused while anything points at the object. */
function refsOf(object: ConfigObject): Ref[] {
  switch (object.kind) {
    case 'virtual-network':
    case 'loadbalancer-healthmonitor':
      return [];
    case 'virtual-machine-interface':
      return [{ kind: 'virtual-network', name: object.virtualNetwork }];
    case 'instance-ip':
      return [
        { kind: 'virtual-network', name: object.virtualNetwork },
        { kind: 'virtual-machine-interface', name: object.virtualMachineInterface },
      ];
    case 'floating-ip':
      // driver-made FIPs and the member refs the driver adds are derived: they follow, never block
      return [];
    case 'loadbalancer':
      return [
        { kind: 'virtual-network', name: object.virtualNetwork },
        { kind: 'virtual-machine-interface', name: object.virtualMachineInterface },
      ];
    case 'loadbalancer-listener':
      return [{ kind: 'loadbalancer', name: object.loadBalancer }];
    case 'loadbalancer-pool':
      return [
        { kind: 'loadbalancer-listener', name: object.listener },
        ...(object.healthMonitor ? [{ kind: 'loadbalancer-healthmonitor' as const, name: object.healthMonitor }] : []),
      ];
    case 'loadbalancer-member':
      return [{ kind: 'loadbalancer-pool', name: object.pool }];
  }
}

function macFromName(name: string): string {
  const bytes = createHash('sha1').update(name).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The control node's config database: every object by kind and name (and uuid), checked on every change.
 * Each public mutation is a transaction: it either applies whole, re-runs the native driver and notifies
 * listeners once, or throws a ConfigError and leaves the store exactly as it was.
 */
export class ConfigStore {
  readonly asn: number;
  readonly #objects = new Map<ConfigKind, Map<string, ConfigObject>>(CONFIG_KINDS.map((kind) => [kind, new Map()]));
  readonly #byUuid = new Map<string, Ref>();
  readonly #ipams = new Map<string, Ipam>();
  /** What users attached to their own FIPs; the driver adds member VMIs on top. */
  readonly #userFipRefs = new Map<string, readonly string[]>();
  /** VIP VMIs (and their instance-ips) the store made for a load balancer, removed with it. */
  readonly #vipOwnedBy = new Map<string, string>();
  readonly #listeners = new Set<ChangeListener>();
  #lbaasReport: LbaasReport = { warnings: [], problems: [] };
  #serviceHealthChecks: readonly ServiceHealthCheck[] = [];
  #undo: (() => void)[] | undefined;
  #changes: ConfigChange[] = [];

  constructor(options: { asn?: number } = {}) {
    const asn = options.asn ?? 64512;
    if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) throw new RangeError(`asn must be an integer from 1 to 4294967295, got ${asn}`);
    this.asn = asn;
  }

  // ---- reading ----

  get<K extends ConfigKind>(kind: K, name: string): ObjectOfKind<K> | undefined {
    return this.#map(kind).get(name) as ObjectOfKind<K> | undefined;
  }

  getByUuid(uuid: string): ConfigObject | undefined {
    const ref = this.#byUuid.get(uuid);
    return ref ? this.#map(ref.kind).get(ref.name) : undefined;
  }

  list<K extends ConfigKind>(kind: K): ObjectOfKind<K>[] {
    return [...this.#map(kind).values()] as ObjectOfKind<K>[];
  }

  /** Instance-ips of a VMI, in creation order. */
  instanceIpsOf(vmi: string): InstanceIp[] {
    return this.list('instance-ip').filter((iip) => iip.virtualMachineInterface === vmi);
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
      instanceIps: this.list('instance-ip').filter((iip) => names.has(iip.virtualMachineInterface)),
      floatingIps: this.list('floating-ip').filter((fip) => fip.virtualMachineInterfaces.some((vmi) => names.has(vmi))),
      serviceHealthChecks: this.serviceHealthChecks().filter((check) => check.virtualMachineInterfaces.some((vmi) => names.has(vmi))),
    };
  }

  /**
   * The service-health-checks the native driver derived (§8.2 step 5), in monitor creation order. They
   * change only together with the objects they come from, so a change event always announces them.
   */
  serviceHealthChecks(): ServiceHealthCheck[] {
    return [...this.#serviceHealthChecks];
  }

  /** The lowest address the network's IPAM would hand out next. */
  nextFreeAddress(virtualNetwork: string): string | undefined {
    return this.#ipams.get(virtualNetwork)?.nextFree();
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
      lbaas: structuredClone(this.#lbaasReport),
    };
  }

  /** Called once per committed transaction with what changed (derived floating-ips included). */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs several mutations as one transaction: all or nothing, one driver run, one change event. */
  batch<T>(work: () => T): T {
    return this.#transaction(work);
  }

  // ---- virtual-network ----

  createVirtualNetwork(spec: VirtualNetworkSpec): VirtualNetwork {
    return this.#transaction(() => {
      const check = new FieldChecks('virtual-network', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('virtual-network', name);
      if (!Array.isArray(spec.subnets)) check.fail('subnets', 'must be a list of CIDR subnets');
      spec.subnets.forEach((subnet, index) => check.subnet(subnet, `subnets[${index}]`));
      const problems = Ipam.subnetProblems(spec.subnets);
      if (problems.length > 0) check.fail('subnets', problems.join('; '));
      const hashFields = spec.hashFields === undefined ? undefined : check.listOf(spec.hashFields, HASH_FIELDS, 'hashFields');
      const used = new Set(this.list('virtual-network').map((vn) => vn.vnIndex));
      let vnIndex = 1;
      while (used.has(vnIndex)) vnIndex++;
      const vn: VirtualNetwork = {
        kind: 'virtual-network',
        uuid: randomUUID(),
        name,
        subnets: [...spec.subnets],
        vnIndex,
        routeTarget: routeTargetFor(this.asn, vnIndex),
        routingInstance: routingInstanceFor(name),
        ...(hashFields ? { hashFields } : {}),
      };
      this.#put(vn);
      this.#ipams.set(name, new Ipam(vn.subnets));
      this.#onUndo(() => this.#ipams.delete(name));
      return vn;
    });
  }

  updateVirtualNetwork(name: string, patch: { hashFields?: HashField[] | null }): VirtualNetwork {
    return this.#transaction(() => {
      const vn = this.#existing('virtual-network', name);
      const check = new FieldChecks('virtual-network', name);
      const { hashFields: _old, ...rest } = vn;
      const hashFields = patch.hashFields === undefined ? vn.hashFields : patch.hashFields === null ? undefined : check.listOf(patch.hashFields, HASH_FIELDS, 'hashFields');
      const updated: VirtualNetwork = { ...rest, ...(hashFields ? { hashFields } : {}) };
      this.#put(updated);
      return updated;
    });
  }

  deleteVirtualNetwork(name: string): void {
    this.#transaction(() => {
      this.#existing('virtual-network', name);
      this.#refuseIfUsed('virtual-network', name);
      const ipam = this.#ipams.get(name) as Ipam;
      this.#ipams.delete(name);
      this.#onUndo(() => this.#ipams.set(name, ipam));
      this.#remove('virtual-network', name);
    });
  }

  // ---- virtual-machine-interface ----

  createVirtualMachineInterface(spec: VirtualMachineInterfaceSpec): VirtualMachineInterface {
    return this.#transaction(() => {
      const check = new FieldChecks('virtual-machine-interface', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('virtual-machine-interface', name);
      const network = check.name(spec.virtualNetwork, 'virtualNetwork');
      this.#mustExist('virtual-machine-interface', name, 'virtualNetwork', 'virtual-network', network);
      const compute = spec.compute === undefined ? undefined : check.name(spec.compute, 'compute');
      const mac = spec.mac === undefined ? macFromName(name) : check.mac(spec.mac, 'mac');
      const clash = this.list('virtual-machine-interface').find((vmi) => vmi.virtualNetwork === network && vmi.mac === mac);
      if (clash) check.fail('mac', `${mac} is already used by ${clash.name} in ${network}`);
      const hashFields = spec.hashFields === undefined ? undefined : check.listOf(spec.hashFields, HASH_FIELDS, 'hashFields');
      const vmi: VirtualMachineInterface = {
        kind: 'virtual-machine-interface',
        uuid: randomUUID(),
        name,
        mac,
        virtualNetwork: network,
        ...(compute ? { compute } : {}),
        ...(hashFields ? { hashFields } : {}),
      };
      this.#put(vmi);
      return vmi;
    });
  }

  /** `compute: null` unbinds the VMI (e.g. while its VM migrates). */
  updateVirtualMachineInterface(name: string, patch: { compute?: string | null; hashFields?: HashField[] | null }): VirtualMachineInterface {
    return this.#transaction(() => {
      const vmi = this.#existing('virtual-machine-interface', name);
      const check = new FieldChecks('virtual-machine-interface', name);
      const { compute: _c, hashFields: _h, ...rest } = vmi;
      const compute = patch.compute === undefined ? vmi.compute : patch.compute === null ? undefined : check.name(patch.compute, 'compute');
      if (compute !== undefined && this.#vipOwnedBy.has(name)) check.fail('compute', `is the VIP interface of ${this.#vipOwnedBy.get(name)} and is bound to no compute`);
      const hashFields = patch.hashFields === undefined ? vmi.hashFields : patch.hashFields === null ? undefined : check.listOf(patch.hashFields, HASH_FIELDS, 'hashFields');
      const updated: VirtualMachineInterface = { ...rest, ...(compute ? { compute } : {}), ...(hashFields ? { hashFields } : {}) };
      this.#put(updated);
      return updated;
    });
  }

  deleteVirtualMachineInterface(name: string): void {
    this.#transaction(() => {
      this.#existing('virtual-machine-interface', name);
      this.#refuseIfUsed('virtual-machine-interface', name);
      this.#remove('virtual-machine-interface', name);
    });
  }

  // ---- instance-ip ----

  createInstanceIp(spec: InstanceIpSpec): InstanceIp {
    return this.#transaction(() => {
      const check = new FieldChecks('instance-ip', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('instance-ip', name);
      const vmiName = check.name(spec.virtualMachineInterface, 'virtualMachineInterface');
      const vmi = this.#mustExist('instance-ip', name, 'virtualMachineInterface', 'virtual-machine-interface', vmiName);
      const mode = spec.mode === undefined ? 'active-standby' : check.oneOf(spec.mode, INSTANCE_IP_MODES, 'mode');
      const ipam = this.#ipams.get(vmi.virtualNetwork) as Ipam;
      const owner = `instance-ip ${name}`;
      let address: string;
      if (spec.address === undefined) {
        address = ipam.nextFree() ?? check.fail('address', `no free address left in ${vmi.virtualNetwork} (${ipam.subnets.join(', ')})`);
      } else {
        address = check.address(spec.address, 'address');
        const problem = ipam.problemWith(address);
        if (problem) check.fail('address', problem);
      }
      this.#reserve(vmi.virtualNetwork, address, owner);
      const iip: InstanceIp = { kind: 'instance-ip', uuid: randomUUID(), name, address, mode, virtualNetwork: vmi.virtualNetwork, virtualMachineInterface: vmiName };
      this.#put(iip);
      return iip;
    });
  }

  updateInstanceIp(name: string, patch: { mode?: InstanceIpMode }): InstanceIp {
    return this.#transaction(() => {
      const iip = this.#existing('instance-ip', name);
      const check = new FieldChecks('instance-ip', name);
      const updated: InstanceIp = { ...iip, mode: patch.mode === undefined ? iip.mode : check.oneOf(patch.mode, INSTANCE_IP_MODES, 'mode') };
      this.#put(updated);
      return updated;
    });
  }

  deleteInstanceIp(name: string): void {
    this.#transaction(() => {
      const iip = this.#existing('instance-ip', name);
      const child = this.list('floating-ip').find((fip) => fip.userCreated && fip.parentInstanceIp === name);
      if (child) throw new ConfigError('instance-ip', name, `floating-ip ${child.name} is its child; delete it first`, undefined, 'conflict');
      this.#refuseIfUsed('instance-ip', name);
      this.#release(iip.virtualNetwork, iip.address);
      this.#remove('instance-ip', name);
    });
  }

  // ---- floating-ip (user-created; the driver's own FIPs are read-only) ----

  createFloatingIp(spec: FloatingIpSpec): FloatingIp {
    return this.#transaction(() => {
      const check = new FieldChecks('floating-ip', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('floating-ip', name);
      const parentName = check.name(spec.instanceIp, 'instanceIp');
      const parent = this.#mustExist('floating-ip', name, 'instanceIp', 'instance-ip', parentName);
      const fields = this.#floatingIpFields(check, spec, undefined);
      const fip: FloatingIp = {
        kind: 'floating-ip',
        uuid: randomUUID(),
        name,
        address: parent.address,
        virtualNetwork: parent.virtualNetwork,
        parentInstanceIp: parentName,
        direction: fields.direction,
        portMappingsEnable: fields.portMappingsEnable,
        portMappings: fields.portMappings,
        virtualMachineInterfaces: fields.refs,
        userCreated: true,
      };
      this.#setUserFipRefs(name, fields.refs);
      this.#put(fip);
      return this.get('floating-ip', name) as FloatingIp;
    });
  }

  updateFloatingIp(name: string, patch: Partial<Omit<FloatingIpSpec, 'name' | 'instanceIp'>>): FloatingIp {
    return this.#transaction(() => {
      const fip = this.#existing('floating-ip', name);
      const check = new FieldChecks('floating-ip', name);
      if (!fip.userCreated) check.fail(undefined, `is managed by the native driver of loadbalancer ${fip.loadBalancer}; change the load balancer instead`);
      const fields = this.#floatingIpFields(check, patch, fip);
      this.#setUserFipRefs(name, fields.refs);
      this.#put({ ...fip, direction: fields.direction, portMappingsEnable: fields.portMappingsEnable, portMappings: fields.portMappings, virtualMachineInterfaces: fields.refs });
      return this.get('floating-ip', name) as FloatingIp;
    });
  }

  deleteFloatingIp(name: string): void {
    this.#transaction(() => {
      const fip = this.#existing('floating-ip', name);
      if (!fip.userCreated) throw new ConfigError('floating-ip', name, `is managed by the native driver of loadbalancer ${fip.loadBalancer}; delete the load balancer instead`, undefined, 'conflict');
      this.#setUserFipRefs(name, undefined);
      this.#remove('floating-ip', name);
    });
  }

  // ---- loadbalancer ----

  createLoadBalancer(spec: LoadBalancerSpec): LoadBalancer {
    return this.#transaction(() => {
      const check = new FieldChecks('loadbalancer', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('loadbalancer', name);
      const provider = spec.provider ?? 'native';
      if (provider !== 'native') {
        check.fail('provider', `${JSON.stringify(provider)} is not supported: this simulator implements only the native (ECMP) load balancer, provider "native"`);
      }
      const network = check.name(spec.virtualNetwork, 'virtualNetwork');
      this.#mustExist('loadbalancer', name, 'virtualNetwork', 'virtual-network', network);
      const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
      const maglev = spec.maglev === undefined ? false : check.boolean(spec.maglev, 'maglev');
      let vmiName: string;
      let vipAddress: string;
      if (spec.virtualMachineInterface !== undefined) {
        vmiName = check.name(spec.virtualMachineInterface, 'virtualMachineInterface');
        const vmi = this.#mustExist('loadbalancer', name, 'virtualMachineInterface', 'virtual-machine-interface', vmiName);
        if (vmi.virtualNetwork !== network) check.fail('virtualMachineInterface', `${vmiName} is in ${vmi.virtualNetwork}, not in ${network}`);
        const other = this.list('loadbalancer').find((lb) => lb.virtualMachineInterface === vmiName);
        if (other) check.fail('virtualMachineInterface', `${vmiName} is already the VIP interface of loadbalancer ${other.name}`);
        const iip = this.instanceIpsOf(vmiName)[0] ?? check.fail('virtualMachineInterface', `${vmiName} has no instance-ip to serve as the VIP`);
        if (spec.vipAddress !== undefined && spec.vipAddress !== iip.address) {
          check.fail('vipAddress', `${String(spec.vipAddress)} differs from ${iip.address}, the address of ${vmiName}`);
        }
        vipAddress = iip.address;
      } else {
        vmiName = `${name}-vip`;
        if (this.get('virtual-machine-interface', vmiName)) check.fail('name', `the VIP interface name ${vmiName} is already taken by another virtual-machine-interface`);
        if (this.get('instance-ip', vmiName)) check.fail('name', `the VIP instance-ip name ${vmiName} is already taken`);
        if (spec.vipAddress !== undefined) check.address(spec.vipAddress, 'vipAddress');
        this.#attributed('loadbalancer', name, 'vipAddress', () => {
          this.createVirtualMachineInterface({ name: vmiName, virtualNetwork: network });
          this.createInstanceIp({ name: vmiName, virtualMachineInterface: vmiName, ...(spec.vipAddress === undefined ? {} : { address: spec.vipAddress }) });
        });
        this.#vipOwnedBy.set(vmiName, name);
        this.#onUndo(() => this.#vipOwnedBy.delete(vmiName));
        vipAddress = this.instanceIpsOf(vmiName)[0].address;
      }
      const lb: LoadBalancer = { kind: 'loadbalancer', uuid: randomUUID(), name, provider: 'native', vipAddress, virtualNetwork: network, virtualMachineInterface: vmiName, adminState, maglev };
      this.#put(lb);
      return lb;
    });
  }

  /** adminState false suspends the LB: the driver drops its FIPs until it is enabled again (§8.2 step 4). */
  updateLoadBalancer(name: string, patch: { adminState?: boolean; maglev?: boolean }): LoadBalancer {
    return this.#transaction(() => {
      const lb = this.#existing('loadbalancer', name);
      const check = new FieldChecks('loadbalancer', name);
      const updated: LoadBalancer = {
        ...lb,
        adminState: patch.adminState === undefined ? lb.adminState : check.boolean(patch.adminState, 'adminState'),
        maglev: patch.maglev === undefined ? lb.maglev : check.boolean(patch.maglev, 'maglev'),
      };
      this.#put(updated);
      return updated;
    });
  }

  deleteLoadBalancer(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => {
      const lb = this.#existing('loadbalancer', name);
      if (options.cascade) {
        for (const listener of this.list('loadbalancer-listener').filter((candidate) => candidate.loadBalancer === name)) {
          this.deleteListener(listener.name, options);
        }
      }
      this.#refuseIfUsed('loadbalancer', name);
      this.#remove('loadbalancer', name);
      const vmiName = lb.virtualMachineInterface;
      if (this.#vipOwnedBy.get(vmiName) === name) {
        this.#vipOwnedBy.delete(vmiName);
        this.#onUndo(() => this.#vipOwnedBy.set(vmiName, name));
        // user FIPs attached to the VIP interface keep it (and its instance-ip) alive
        const attached = [...this.#userFipRefs.values()].some((refs) => refs.includes(vmiName));
        if (!attached) {
          for (const iip of this.instanceIpsOf(vmiName)) this.deleteInstanceIp(iip.name);
          this.deleteVirtualMachineInterface(vmiName);
        }
      }
    });
  }

  // ---- listener ----

  createListener(spec: ListenerSpec): Listener {
    return this.#transaction(() => {
      const check = new FieldChecks('loadbalancer-listener', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('loadbalancer-listener', name);
      const lbName = check.name(spec.loadBalancer, 'loadBalancer');
      this.#mustExist('loadbalancer-listener', name, 'loadBalancer', 'loadbalancer', lbName);
      const protocol = check.oneOf(spec.protocol, LISTENER_PROTOCOLS, 'protocol');
      const port = check.port(spec.port, 'port');
      this.#refusePortClash(check, lbName, port, name);
      const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
      const listener: Listener = { kind: 'loadbalancer-listener', uuid: randomUUID(), name, loadBalancer: lbName, protocol, port, adminState };
      this.#put(listener);
      return listener;
    });
  }

  updateListener(name: string, patch: { protocol?: ListenerProtocol; port?: number; adminState?: boolean }): Listener {
    return this.#transaction(() => {
      const listener = this.#existing('loadbalancer-listener', name);
      const check = new FieldChecks('loadbalancer-listener', name);
      const port = patch.port === undefined ? listener.port : check.port(patch.port, 'port');
      this.#refusePortClash(check, listener.loadBalancer, port, name);
      const updated: Listener = {
        ...listener,
        protocol: patch.protocol === undefined ? listener.protocol : check.oneOf(patch.protocol, LISTENER_PROTOCOLS, 'protocol'),
        port,
        adminState: patch.adminState === undefined ? listener.adminState : check.boolean(patch.adminState, 'adminState'),
      };
      this.#put(updated);
      return updated;
    });
  }

  deleteListener(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => {
      this.#existing('loadbalancer-listener', name);
      if (options.cascade) {
        for (const pool of this.list('loadbalancer-pool').filter((candidate) => candidate.listener === name)) this.deletePool(pool.name, options);
      }
      this.#refuseIfUsed('loadbalancer-listener', name);
      this.#remove('loadbalancer-listener', name);
    });
  }

  // ---- pool ----

  createPool(spec: PoolSpec): Pool {
    return this.#transaction(() => {
      const check = new FieldChecks('loadbalancer-pool', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('loadbalancer-pool', name);
      const listenerName = check.name(spec.listener, 'listener');
      const listener = this.#mustExist('loadbalancer-pool', name, 'listener', 'loadbalancer-listener', listenerName);
      const other = this.list('loadbalancer-pool').find((pool) => pool.listener === listenerName);
      if (other) check.fail('listener', `${listenerName} already has pool ${other.name} (one pool per listener)`);
      const protocol = spec.protocol === undefined ? listener.protocol : check.oneOf(spec.protocol, LISTENER_PROTOCOLS, 'protocol');
      const method = spec.method === undefined ? 'ROUND_ROBIN' : check.oneOf(spec.method, POOL_METHODS, 'method');
      const healthMonitor = this.#optionalMonitor(check, name, spec.healthMonitor);
      const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
      const pool: Pool = { kind: 'loadbalancer-pool', uuid: randomUUID(), name, listener: listenerName, protocol, method, adminState, ...(healthMonitor ? { healthMonitor } : {}) };
      this.#put(pool);
      return pool;
    });
  }

  /** `healthMonitor: null` detaches the monitor. */
  updatePool(name: string, patch: { method?: PoolMethod; healthMonitor?: string | null; adminState?: boolean }): Pool {
    return this.#transaction(() => {
      const pool = this.#existing('loadbalancer-pool', name);
      const check = new FieldChecks('loadbalancer-pool', name);
      const { healthMonitor: _old, ...rest } = pool;
      const healthMonitor = patch.healthMonitor === undefined ? pool.healthMonitor : patch.healthMonitor === null ? undefined : this.#optionalMonitor(check, name, patch.healthMonitor);
      const updated: Pool = {
        ...rest,
        method: patch.method === undefined ? pool.method : check.oneOf(patch.method, POOL_METHODS, 'method'),
        adminState: patch.adminState === undefined ? pool.adminState : check.boolean(patch.adminState, 'adminState'),
        ...(healthMonitor ? { healthMonitor } : {}),
      };
      this.#put(updated);
      return updated;
    });
  }

  deletePool(name: string, options: DeleteOptions = {}): void {
    this.#transaction(() => {
      this.#existing('loadbalancer-pool', name);
      if (options.cascade) {
        for (const member of this.list('loadbalancer-member').filter((candidate) => candidate.pool === name)) this.deleteMember(member.name);
      }
      this.#refuseIfUsed('loadbalancer-pool', name);
      this.#remove('loadbalancer-pool', name);
    });
  }

  // ---- member ----

  createMember(spec: MemberSpec): Member {
    return this.#transaction(() => {
      const provisional = spec?.name ?? `${String(spec?.pool)}:${String(spec?.address)}:${String(spec?.port)}`;
      const check = new FieldChecks('loadbalancer-member', provisional);
      const poolName = check.name(spec.pool, 'pool');
      const address = check.address(spec.address, 'address');
      const port = check.port(spec.port, 'port');
      const name = spec.name === undefined ? `${poolName}:${address}:${port}` : check.name(spec.name);
      this.#mustBeNew('loadbalancer-member', name);
      this.#mustExist('loadbalancer-member', name, 'pool', 'loadbalancer-pool', poolName);
      const twin = this.list('loadbalancer-member').find((member) => member.pool === poolName && member.address === address && member.port === port);
      if (twin) check.fail('address', `${address} port ${port} is already member ${twin.name} of pool ${poolName}`);
      const weight = spec.weight === undefined ? 1 : check.integer(spec.weight, 'weight', 0, 256);
      const adminState = spec.adminState === undefined ? true : check.boolean(spec.adminState, 'adminState');
      let subnet: string | undefined;
      if (spec.subnet !== undefined) {
        subnet = check.subnet(spec.subnet, 'subnet');
        if (!(parseSubnet(subnet) as IPv4CidrRange).contains(parseIPv4(address) as IPv4)) check.fail('subnet', `${address} is not inside ${subnet}`);
      }
      const member: Member = { kind: 'loadbalancer-member', uuid: randomUUID(), name, pool: poolName, address, port, weight, adminState, ...(subnet ? { subnet } : {}) };
      this.#put(member);
      return member;
    });
  }

  updateMember(name: string, patch: { port?: number; weight?: number; adminState?: boolean }): Member {
    return this.#transaction(() => {
      const member = this.#existing('loadbalancer-member', name);
      const check = new FieldChecks('loadbalancer-member', name);
      const updated: Member = {
        ...member,
        port: patch.port === undefined ? member.port : check.port(patch.port, 'port'),
        weight: patch.weight === undefined ? member.weight : check.integer(patch.weight, 'weight', 0, 256),
        adminState: patch.adminState === undefined ? member.adminState : check.boolean(patch.adminState, 'adminState'),
      };
      this.#put(updated);
      return updated;
    });
  }

  deleteMember(name: string): void {
    this.#transaction(() => {
      this.#existing('loadbalancer-member', name);
      this.#remove('loadbalancer-member', name);
    });
  }

  // ---- health monitor ----

  createHealthMonitor(spec: HealthMonitorSpec): HealthMonitor {
    return this.#transaction(() => {
      const check = new FieldChecks('loadbalancer-healthmonitor', String(spec?.name));
      const name = check.name(spec.name);
      this.#mustBeNew('loadbalancer-healthmonitor', name);
      this.#put(this.#monitorFields(check, name, spec, undefined));
      return this.get('loadbalancer-healthmonitor', name) as HealthMonitor;
    });
  }

  updateHealthMonitor(name: string, patch: Partial<Omit<HealthMonitorSpec, 'name'>>): HealthMonitor {
    return this.#transaction(() => {
      const monitor = this.#existing('loadbalancer-healthmonitor', name);
      const check = new FieldChecks('loadbalancer-healthmonitor', name);
      this.#put(this.#monitorFields(check, name, patch, monitor));
      return this.get('loadbalancer-healthmonitor', name) as HealthMonitor;
    });
  }

  deleteHealthMonitor(name: string): void {
    this.#transaction(() => {
      this.#existing('loadbalancer-healthmonitor', name);
      this.#refuseIfUsed('loadbalancer-healthmonitor', name);
      this.#remove('loadbalancer-healthmonitor', name);
    });
  }

  // ---- internals ----

  #map(kind: ConfigKind): Map<string, ConfigObject> {
    const map = this.#objects.get(kind);
    if (!map) throw new TypeError(`unknown config kind ${JSON.stringify(kind)}`);
    return map;
  }

  #existing<K extends ConfigKind>(kind: K, name: string): ObjectOfKind<K> {
    const object = this.get(kind, name);
    if (!object) throw new ConfigError(kind, String(name), 'does not exist', undefined, 'not-found');
    return object;
  }

  #mustBeNew(kind: ConfigKind, name: string): void {
    if (this.#map(kind).has(name)) throw new ConfigError(kind, name, 'already exists', 'name', 'conflict');
  }

  #mustExist<K extends ConfigKind>(kind: ConfigKind, name: string, field: string, refKind: K, refName: string): ObjectOfKind<K> {
    const target = this.get(refKind, refName);
    if (!target) throw new ConfigError(kind, name, `${refKind} ${refName} does not exist`, field);
    return target;
  }

  #refuseIfUsed(kind: ConfigKind, name: string): void {
    const users: string[] = [];
    for (const map of this.#objects.values()) {
      for (const object of map.values()) {
        if (refsOf(object).some((ref) => ref.kind === kind && ref.name === name)) users.push(`${object.kind} ${object.name}`);
      }
    }
    for (const [fip, refs] of this.#userFipRefs) {
      const parent = this.get('floating-ip', fip)?.parentInstanceIp;
      if ((kind === 'virtual-machine-interface' && refs.includes(name)) || (kind === 'instance-ip' && parent === name)) users.push(`floating-ip ${fip}`);
    }
    if (users.length > 0) throw new ConfigError(kind, name, `is still used by ${users.join(', ')}`, undefined, 'conflict');
  }

  #refusePortClash(check: FieldChecks, lbName: string, port: number, self: string): void {
    const clash = this.list('loadbalancer-listener').find((listener) => listener.loadBalancer === lbName && listener.port === port && listener.name !== self);
    if (clash) check.fail('port', `${port} is already used by listener ${clash.name} of loadbalancer ${lbName}`);
  }

  #optionalMonitor(check: FieldChecks, name: string, monitor: unknown): string | undefined {
    if (monitor === undefined) return undefined;
    const monitorName = check.name(monitor, 'healthMonitor');
    this.#mustExist('loadbalancer-pool', name, 'healthMonitor', 'loadbalancer-healthmonitor', monitorName);
    return monitorName;
  }

  #monitorFields(check: FieldChecks, name: string, spec: Partial<HealthMonitorSpec>, current: HealthMonitor | undefined): HealthMonitor {
    const type = spec.type === undefined && current ? current.type : check.oneOf(spec.type, MONITOR_TYPES, 'type');
    const urlPath = spec.urlPath === undefined ? current?.urlPath : check.text(spec.urlPath, 'urlPath');
    if (urlPath !== undefined && type !== 'HTTP' && type !== 'HTTPS') check.fail('urlPath', `applies only to HTTP and HTTPS monitors, not ${type}`);
    const delay = spec.delay === undefined ? (current?.delay ?? 5) : check.integer(spec.delay, 'delay', 1, 86400);
    const timeout = spec.timeout === undefined ? (current?.timeout ?? 5) : check.integer(spec.timeout, 'timeout', 1, 86400);
    const maxRetries = spec.maxRetries === undefined ? (current?.maxRetries ?? 3) : check.integer(spec.maxRetries, 'maxRetries', 1, 10);
    return { kind: 'loadbalancer-healthmonitor', uuid: current?.uuid ?? randomUUID(), name, type, delay, timeout, maxRetries, ...(urlPath ? { urlPath } : {}) };
  }

  #floatingIpFields(check: FieldChecks, spec: Partial<FloatingIpSpec>, current: FloatingIp | undefined) {
    const direction = spec.direction === undefined ? (current?.direction ?? 'both') : check.oneOf(spec.direction, TRAFFIC_DIRECTIONS, 'direction');
    const portMappingsEnable = spec.portMappingsEnable === undefined ? (current?.portMappingsEnable ?? false) : check.boolean(spec.portMappingsEnable, 'portMappingsEnable');
    let portMappings: PortMapping[] = current ? [...current.portMappings] : [];
    if (spec.portMappings !== undefined) {
      if (!Array.isArray(spec.portMappings)) check.fail('portMappings', 'must be a list of {protocol, srcPort, dstPort}');
      portMappings = spec.portMappings.map((mapping, index) => {
        const field = `portMappings[${index}]`;
        if (typeof mapping !== 'object' || mapping === null) check.fail(field, 'must be {protocol, srcPort, dstPort}');
        const protocol = typeof mapping.protocol === 'string' ? mapping.protocol.toUpperCase() : mapping.protocol;
        return {
          protocol: check.oneOf(protocol, ['TCP', 'UDP', 'SCTP', 'ICMP', 'ICMP6'], `${field}.protocol`),
          srcPort: check.port(mapping.srcPort, `${field}.srcPort`),
          dstPort: check.port(mapping.dstPort, `${field}.dstPort`),
        };
      });
      const seen = new Set<string>();
      portMappings.forEach((mapping, index) => {
        const key = `${mapping.protocol}/${mapping.srcPort}`;
        if (seen.has(key)) check.fail(`portMappings[${index}]`, `${mapping.protocol} port ${mapping.srcPort} is mapped twice`);
        seen.add(key);
      });
    }
    let refs = current ? [...(this.#userFipRefs.get(current.name) ?? [])] : [];
    if (spec.virtualMachineInterfaces !== undefined) {
      refs = check.names(spec.virtualMachineInterfaces, 'virtualMachineInterfaces');
      refs.forEach((vmi, index) => {
        if (!this.get('virtual-machine-interface', vmi)) check.fail(`virtualMachineInterfaces[${index}]`, `virtual-machine-interface ${vmi} does not exist`);
      });
    }
    return { direction, portMappingsEnable, portMappings, refs };
  }

  #setUserFipRefs(name: string, refs: readonly string[] | undefined): void {
    const previous = this.#userFipRefs.get(name);
    if (refs) this.#userFipRefs.set(name, refs);
    else this.#userFipRefs.delete(name);
    this.#onUndo(() => (previous ? this.#userFipRefs.set(name, previous) : this.#userFipRefs.delete(name)));
  }

  /** Runs `work` with any ConfigError re-attributed to `kind name` / `field`: the caller's request, not the nested object, was wrong. */
  #attributed(kind: ConfigKind, name: string, field: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(kind, name, error.reason, field, error.code);
      throw error;
    }
  }

  #reserve(network: string, address: string, owner: string): void {
    const ipam = this.#ipams.get(network) as Ipam;
    ipam.reserve(address, owner);
    this.#onUndo(() => ipam.release(address));
  }

  #release(network: string, address: string): void {
    const ipam = this.#ipams.get(network);
    const owner = ipam?.ownerOf(address);
    if (!ipam || owner === undefined) return;
    ipam.release(address);
    this.#onUndo(() => ipam.reserve(address, owner));
  }

  #put(object: ConfigObject): void {
    const map = this.#map(object.kind);
    const previous = map.get(object.name);
    if (previous && sameJson(previous, object)) return;
    map.set(object.name, object);
    if (previous) this.#byUuid.delete(previous.uuid);
    this.#byUuid.set(object.uuid, { kind: object.kind, name: object.name });
    this.#changes.push({ op: previous ? 'update' : 'create', kind: object.kind, name: object.name });
    this.#onUndo(() => {
      this.#byUuid.delete(object.uuid);
      if (previous) {
        map.set(previous.name, previous);
        this.#byUuid.set(previous.uuid, { kind: previous.kind, name: previous.name });
      } else {
        map.delete(object.name);
      }
    });
  }

  #remove(kind: ConfigKind, name: string): void {
    const map = this.#map(kind);
    const previous = map.get(name);
    if (!previous) return;
    const entries = [...map.entries()];
    map.delete(name);
    this.#byUuid.delete(previous.uuid);
    this.#changes.push({ op: 'delete', kind, name });
    this.#onUndo(() => {
      // restore the original order: "first member wins" depends on it
      map.clear();
      for (const [key, value] of entries) map.set(key, value);
      this.#byUuid.set(previous.uuid, { kind, name });
    });
  }

  #onUndo(step: () => void): void {
    this.#undo?.push(step);
  }

  #transaction<T>(work: () => T): T {
    if (this.#undo) return work();
    this.#undo = [];
    this.#changes = [];
    const report = this.#lbaasReport;
    const healthChecks = this.#serviceHealthChecks;
    let result: T;
    try {
      result = work();
      this.#runNativeDriver();
    } catch (error) {
      for (const step of this.#undo.reverse()) step();
      this.#undo = undefined;
      this.#changes = [];
      this.#lbaasReport = report;
      this.#serviceHealthChecks = healthChecks;
      if (error instanceof IpamError) throw new TypeError(`IPAM refused a change the store had checked: ${error.message}`);
      throw error;
    }
    this.#undo = undefined;
    const changes = coalesce(this.#changes);
    this.#changes = [];
    if (changes.length > 0) this.#notify(changes);
    return result;
  }

  #runNativeDriver(): void {
    const result = reconcileNativeLoadBalancers({
      virtualNetworks: this.list('virtual-network'),
      virtualMachineInterfaces: this.list('virtual-machine-interface'),
      instanceIps: this.list('instance-ip'),
      floatingIps: this.list('floating-ip'),
      userFloatingIpRefs: this.#userFipRefs,
      loadBalancers: this.list('loadbalancer'),
      listeners: this.list('loadbalancer-listener'),
      pools: this.list('loadbalancer-pool'),
      members: this.list('loadbalancer-member'),
      healthMonitors: this.list('loadbalancer-healthmonitor'),
    });
    const wanted = new Set(result.floatingIps.map((fip) => fip.name));
    for (const fip of this.list('floating-ip')) if (!wanted.has(fip.name)) this.#remove('floating-ip', fip.name);
    for (const fip of result.floatingIps) this.#put(fip);
    this.#lbaasReport = { warnings: result.warnings, problems: result.problems };
    this.#serviceHealthChecks = result.serviceHealthChecks;
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

/** One entry per object: create+update → create, create+delete → nothing, delete+create → update. */
function coalesce(changes: readonly ConfigChange[]): ConfigChange[] {
  const first = new Map<string, ConfigChange>();
  const last = new Map<string, ConfigChange>();
  for (const change of changes) {
    const key = `${change.kind}\u0000${change.name}`;
    if (!first.has(key)) first.set(key, change);
    last.set(key, change);
  }
  const result: ConfigChange[] = [];
  for (const [key, start] of first) {
    const end = last.get(key) as ConfigChange;
    let op: ChangeOp;
    if (start.op === 'create') {
      if (end.op === 'delete') continue;
      op = 'create';
    } else {
      op = end.op === 'delete' ? 'delete' : 'update';
    }
    result.push({ op, kind: start.kind, name: start.name });
  }
  return result;
}
