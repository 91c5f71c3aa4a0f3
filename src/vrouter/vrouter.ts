// One compute's vRouter data plane, as the agent, the API and the tests see it: this class composes the
// pieces and keeps the public API; each job lives in its own module:
//   interfaces.ts       local interfaces (VMIs) with their floating-ips, validation, lookups
//   local-composite.ts  local-ECMP composites: one label for several local interfaces (docs/protocol.md §7.2)
//   composite-nh.ts     each route's ECMP composite next-hop: members, stable slots, rebuild, flow re-evaluation
//   forwarding.ts       the traffic path: flows, member choice, tunnel or delivery, floating-ip NAT, replies
//   views.ts            introspection: FIB, flows and counters views
//   counters.ts, vrfs.ts  the tallies and the VRF names/ids with their FIBs, shared by the above
// Configuration calls validate here or in the module that owns the input, and never throw on bad input:
// they return a ChangeResult.
import { ALL_FIELDS, fieldMask } from './ecmp-hash.ts';
import { CompositeNextHops, type DeferredRoute, type RouteEntry, type RouteTables } from './composite-nh.ts';
import { ENCAP_FALLBACK_ORDER, type RemoteNextHop } from './composite-members.ts';
import { VrouterTallies, type ChangeResult } from './counters.ts';
import { DEFAULT_FLOW_TABLE_SIZE, FlowTable } from './flow-table.ts';
import { Forwarder } from './forwarding.ts';
import { InterfaceTable, localRoutesOf, type LocalInterface, type LocalInterfaceSpec } from './interfaces.ts';
import { LocalComposites, type LocalCompositeView } from './local-composite.ts';
import { ipv4ToInt } from '../net/ipv4.ts';
import { ProxyService } from './proxy-service.ts';
import type { ConfigServiceInstance } from '../xmpp/config-stanza.ts';
import type { ForwardResult, Packet, TraceStep } from './packet.ts';
import type { HashField } from '../net/hash-fields.ts';
import type { Underlay } from './underlay.ts';
import { countersView, fibView, flowViews, type FlowFilter, type FlowView, type VrfView, type VrouterCounters } from './views.ts';
import { VrfTable } from './vrfs.ts';
import { parsePrefix } from './vrf-fib.ts';

export type { HashField } from '../net/hash-fields.ts';
export type { DropReason, ForwardResult, MemberChoice, NatRewrite, Packet, TraceStep } from './packet.ts';
export type { Underlay, UnderlayReceiver } from './underlay.ts';
export type { LocalCompositeView } from './local-composite.ts';
export type { FloatingIpSpec, LocalInterfaceSpec } from './interfaces.ts';
export type { RemoteNextHop } from './composite-members.ts';
export type { ChangeResult } from './counters.ts';
export type { FlowFilter, FlowView, RouteView, SlotView, VrfView, VrouterCounters } from './views.ts';
export { InProcessUnderlay } from './underlay.ts';
export { MplsOverUdpUnderlay } from './mpls-udp-underlay.ts';

export interface VrouterOptions {
  name: string;
  /** compute (vhost0) address, also this compute's underlay address */
  routerId: string;
  underlay: Underlay;
  /** flow entries (a connection takes two); default 512K like the vRouter */
  flowTableSize?: number;
  /** reserve the whole flow table at once (as the kernel does) instead of growing it with use */
  preallocateFlowTable?: boolean;
  flowAgingMs?: number;
  hashFields?: HashField[];
  vnHashFields?: Map<string, HashField[]>;
  excludeRouterIdFromHash?: boolean;
  /** Maglev placement of new flows for every route unless the route says otherwise */
  maglev?: boolean;
  clock?: () => number;
  /** the receiving workload answers every new connection by swapping the tuple (default true) */
  autoReply?: boolean;
  /** encapsulations in order of preference (global-vrouter-config `encapsulation-priorities`) */
  encapsulationPriorities?: string[];
}

const DEFAULT_AGING_MS = 180_000;

export class Vrouter {
  readonly name: string;
  readonly routerId: string;
  private readonly underlay: Underlay;
  private readonly clock: () => number;
  private readonly table: FlowTable;
  private readonly tallies = new VrouterTallies();
  private readonly vrfs: RouteTables;
  private readonly interfaces = new InterfaceTable();
  private readonly composites = new LocalComposites();
  private readonly nexthops: CompositeNextHops;
  private readonly forwarder: Forwarder;
  private readonly proxies: ProxyService;
  private closed = false;

  constructor(o: VrouterOptions) {
    this.name = o.name;
    this.routerId = o.routerId;
    const routerIdInt = ipv4ToInt(o.routerId);
    if (routerIdInt < 0) throw new Error(`vrouter ${o.name}: routerId ${o.routerId} is not an IPv4 address`);
    const hashRouterId = o.excludeRouterIdFromHash === true ? -1 : routerIdInt;
    this.underlay = o.underlay;
    this.clock = o.clock ?? Date.now;
    const agingMs = o.flowAgingMs ?? DEFAULT_AGING_MS;
    if (!(agingMs > 0)) throw new Error(`vrouter ${o.name}: flowAgingMs must be > 0`);
    const globalMask = this.requireMask(o.hashFields ?? null, 'hashFields') ?? ALL_FIELDS;
    const vnMasks = new Map<string, number>();
    for (const [vn, fields] of o.vnHashFields ?? []) vnMasks.set(vn, this.requireMask(fields, `vnHashFields[${vn}]`)!);
    this.table = new FlowTable(o.flowTableSize ?? DEFAULT_FLOW_TABLE_SIZE, { preallocate: o.preallocateFlowTable === true });
    this.vrfs = new VrfTable<RouteEntry, DeferredRoute>(o.name);
    const shared = { table: this.table, vrfs: this.vrfs, interfaces: this.interfaces, localComposites: this.composites, tallies: this.tallies };
    this.nexthops = new CompositeNextHops({
      ...shared, routerId: o.routerId, hashRouterId, maglevDefault: o.maglev === true,
      encapPriorities: o.encapsulationPriorities ?? ENCAP_FALLBACK_ORDER,
    });
    this.forwarder = new Forwarder({
      ...shared, name: o.name, routerId: o.routerId, hashRouterId, underlay: o.underlay, clock: this.clock, agingMs,
      autoReply: o.autoReply ?? true, globalMask, vnMasks, nexthops: this.nexthops,
      proxies: (this.proxies = new ProxyService((name, p) => this.forwarder.sendFromInterface(name, p), this.clock)),
    });
  }

  private requireMask(fields: readonly string[] | null, what: string): number | undefined {
    if (fields === null) return undefined;
    const mask = Array.isArray(fields) ? fieldMask(fields) : undefined;
    if (mask === undefined) throw new Error(`vrouter ${this.name}: ${what} has a field that is not one of source-ip, destination-ip, ip-protocol, source-port, destination-port`);
    return mask;
  }

  // ---------------------------------------------------------------- configuration: hashing

  /** Global (global-vrouter-config) and per-VN hash fields; existing flows keep the fields they were hashed with. */
  setHashFields(global: HashField[] | undefined, perNetwork: Map<string, HashField[]> = new Map()): ChangeResult {
    const globalMask = global === undefined ? ALL_FIELDS : Array.isArray(global) ? fieldMask(global) : undefined;
    if (globalMask === undefined) return this.tallies.reject(`hash fields [${String(global)}]: unknown field`);
    const vnMasks = new Map<string, number>();
    for (const [vn, fields] of perNetwork) {
      const mask = Array.isArray(fields) ? fieldMask(fields) : undefined;
      if (mask === undefined) return this.tallies.reject(`hash fields of ${vn} [${String(fields)}]: unknown field`);
      vnMasks.set(vn, mask);
    }
    this.forwarder.setHashMasks(globalMask, vnMasks);
    return { ok: true, warnings: [] };
  }

  // ---------------------------------------------------------------- configuration: interfaces

  interfaceNames(): string[] {
    return this.interfaces.names();
  }

  upsertInterface(spec: LocalInterfaceSpec): ChangeResult {
    const fips = this.interfaces.validate(spec, this.vrfs, (label) => this.composites.get(label)?.prefix);
    if (typeof fips === 'string') return this.tallies.reject(`interface ${String(spec?.name)}: ${fips}`);
    const existing = this.interfaces.byName.get(spec.name);
    // the agent re-sends every interface on each config push: an unchanged one must not disturb routes or flows
    if (existing !== undefined && JSON.stringify(existing.spec) === JSON.stringify(spec)) return { ok: true, warnings: [] };
    const ifc = this.interfaces.put(spec, fips, this.vrfs.id(spec.vrf));
    // touch only the local routes that differ, so that a composite's slot order survives the update
    const before = existing === undefined ? new Map<string, [string, number]>() : localRoutesOf(existing);
    const after = localRoutesOf(ifc);
    for (const [key, [vrf, address]] of before) if (!after.has(key)) this.nexthops.removeLocalRoute(vrf, address, ifc.id);
    for (const [key, [vrf, address]] of after) if (!before.has(key)) this.nexthops.addLocalRoute(vrf, address, ifc.id);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  removeInterface(name: string): ChangeResult {
    const ifc = this.interfaces.byName.get(name);
    if (ifc === undefined) return this.tallies.reject(`interface ${String(name)}: not present`);
    this.withdrawLocalRoutes(ifc);
    this.interfaces.delete(ifc);
    this.forwarder.forgetInterface(ifc.id);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  private withdrawLocalRoutes(ifc: LocalInterface): void {
    for (const [vrf, address] of localRoutesOf(ifc).values()) this.nexthops.removeLocalRoute(vrf, address, ifc.id);
  }

  /** Slots naming an interface by label or through a local composite follow the interfaces that exist now. */
  private reresolveLocalMembers(): void {
    this.composites.markActive((name) => this.interfaces.byName.has(name));
    this.nexthops.reresolveLocalMembers();
  }

  // ---------------------------------------------------------------- configuration: local composites

  /**
   * docs/protocol.md §7.2: several local interfaces with the same address (the VIP) behind one label.
   * Interfaces keep their slot across updates; a name not (yet) present takes a slot that stays inactive
   * until it appears.
   */
  setLocalComposite(label: number, vrf: string, prefix: string, interfaceNames: string[]): ChangeResult {
    const r = this.composites.configure(label, vrf, prefix, interfaceNames, this.interfaces, this.vrfs);
    if ('error' in r) return this.tallies.reject(r.error);
    this.reresolveLocalMembers();
    return { ok: true, warnings: r.warnings };
  }

  removeLocalComposite(label: number): ChangeResult {
    if (!this.composites.delete(label)) return this.tallies.reject(`local composite label ${String(label)}: not present`);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  localComposites(): (LocalCompositeView & { vrf: string })[] {
    return this.composites.list();
  }

  // ---------------------------------------------------------------- configuration: routes from the control node

  /**
   * Installs the control node's next-hops for a prefix. A next-hop that cannot be used (bad address, a label
   * outside 1..MPLS_LABEL_MAX, no known encapsulation) is left out with a warning; none left is a withdraw.
   */
  setRoute(vrf: string, prefix: string, nextHops: RemoteNextHop[], o: { loadBalanceFields?: HashField[]; maglev?: boolean } = {}): ChangeResult {
    return this.nexthops.setControlRoute(vrf, prefix, nextHops, o);
  }

  deleteRoute(vrf: string, prefix: string): ChangeResult {
    return this.nexthops.deleteControlRoute(vrf, prefix);
  }

  /** The haproxies this compute runs (docs/protocol.md §8.4); their interfaces are programmed like any other. */
  setServiceInstances(list: readonly ConfigServiceInstance[]): void {
    this.proxies.set(list);
  }

  /** Each haproxy's open connections per server. */
  serviceInstances(): ReturnType<ProxyService['view']> {
    return this.proxies.view();
  }

  // ---------------------------------------------------------------- traffic

  /** A workload on this compute sends a packet. */
  sendFromInterface(interfaceName: string, p: Packet): ForwardResult {
    return this.forwarder.sendFromInterface(interfaceName, p);
  }

  /** sendFromInterface, then (on an asynchronous underlay) wait until every part of the outcome is known. */
  async sendFromInterfaceSettled(interfaceName: string, p: Packet): Promise<ForwardResult> {
    const r = this.sendFromInterface(interfaceName, p);
    return this.underlay.settle === undefined ? r : this.underlay.settle(r);
  }

  /**
   * A packet entering a VRF without a workload interface (as from a gateway): routed and load-balanced
   * by the global hash fields, without flow state.
   */
  sendInVrf(vrf: string, p: Packet): ForwardResult {
    return this.forwarder.sendInVrf(vrf, p);
  }

  /** The decision chain for one packet, without creating flows or counting. */
  trace(interfaceName: string, p: Packet): TraceStep[] {
    return this.forwarder.trace(interfaceName, p);
  }

  // ---------------------------------------------------------------- introspection

  /** The FIB (of one VRF); with `prefix` (exact, `a.b.c.d/len`) only that route, or a reason it is not a prefix. */
  fib(vrf?: string, prefix?: string): VrfView[] {
    if (prefix === undefined) return fibView(this.vrfs, this.composites, vrf, this.underlay.encapsulation);
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') throw new RangeError(parsed);
    return fibView(this.vrfs, this.composites, vrf, this.underlay.encapsulation, parsed);
  }

  flows(filter: FlowFilter = {}): FlowView[] {
    return flowViews(this.table, this.vrfs, this.nexthops, this.clock(), filter);
  }

  counters(): VrouterCounters {
    return countersView(this.name, this.tallies, this.table, this.nexthops.count);
  }

  /** Ages out idle flows now; returns how many connections (entry pairs) were removed. */
  ageFlows(): number {
    return this.forwarder.ageFlows();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.proxies.close();
    this.underlay.unregister(this.routerId);
  }
}
