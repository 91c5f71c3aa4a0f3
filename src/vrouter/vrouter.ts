// One compute's vRouter data plane: FIB per VRF with slot-stable ECMP composites, the flow table with
// sticky member choice, floating-ip port translation on the member's compute, and the underlay hand-off.
import { ALL_FIELDS, ecmpHash, fieldMask, maskFields, mod64 } from './ecmp-hash.ts';
import { MAX_ECMP_MEMBERS, pickSlot, reorderSlots } from './composite-slots.ts';
import { buildMaglevTable } from './maglev.ts';
import {
  DEFAULT_FLOW_TABLE_SIZE, FLAG_DNAT, FLAG_ECMP, FLAG_REVERSE, FLAG_SNAT, FLAG_USED, FlowTable, NO_SLOT,
  keyWord0, keyWord3,
} from './flow-table.ts';
import { buildPortMap, mappingKey, type PortMappingSpec } from './floating-ip-nat.ts';
import { parsePrefix, VrfFib } from './vrf-fib.ts';
import {
  describeLocalComposite, markActive, memberListProblem, newLocalComposite, placeMembers, viewLocalComposite,
  type LocalComposite, type LocalCompositeView,
} from './local-composite.ts';
import { intToIpv4, ipv4ToInt, layer4Valid, packetProblem } from './packet.ts';
import type {
  DropReason, ForwardResult, HashField, MemberChoice, NatRewrite, Packet, TraceStep, TraceStepKind,
} from './packet.ts';
import type { Underlay } from './underlay.ts';

export type { DropReason, ForwardResult, HashField, MemberChoice, NatRewrite, Packet, TraceStep } from './packet.ts';
export type { Underlay, UnderlayReceiver } from './underlay.ts';
export type { LocalCompositeView } from './local-composite.ts';
export { InProcessUnderlay } from './underlay.ts';
export { MplsOverUdpUnderlay } from './mpls-udp-underlay.ts';

export interface FloatingIpSpec {
  address: string;
  vrf: string;
  virtualNetwork: string;
  portMappingsEnable: boolean;
  portMappings: PortMappingSpec[];
  direction: 'ingress' | 'egress' | 'both';
}

export interface LocalInterfaceSpec {
  name: string;
  vrf: string;
  ip: string;
  mac: string;
  label: number;
  virtualNetwork: string;
  hashFields?: HashField[];
  floatingIps: FloatingIpSpec[];
}

export interface RemoteNextHop { address: string; label: number; encapsulations: string[] }

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

export type ChangeResult = { ok: true; warnings: string[] } | { ok: false; error: string };

export interface SlotView {
  index: number;
  empty: boolean;
  address?: string;
  label?: number;
  local?: boolean;
  interface?: string;
  /** the label of this compute's local composite the slot was expanded from (§7.3) */
  localComposite?: number;
  active?: boolean;
  encapsulation?: string;
  flows: number;
  packets: number;
  bytes: number;
}

export interface RouteView {
  prefix: string;
  source: 'control' | 'local';
  kind: 'ecmp' | 'tunnel' | 'local';
  loadBalanceFields: HashField[] | null;
  maglev: boolean;
  maglevTableSize: number;
  slots: SlotView[];
}

export interface VrfView {
  vrf: string;
  routes: RouteView[];
  /** label -> local composite of interfaces, for the composites of this VRF (present only when there are some) */
  localComposites?: LocalCompositeView[];
}

export interface FlowView {
  index: number;
  direction: 'forward' | 'reverse';
  side: 'from-workload' | 'to-workload';
  vrf: string;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** Contrail's EcmpFlow flag: the forward flow was placed on a composite and keeps its slot */
  ecmp: boolean;
  slot: number | null;
  member: { address: string; label: number } | null;
  nat: { kind: 'dnat' | 'snat'; ip: string; port: number } | null;
  packets: number;
  bytes: number;
  idleMs: number;
}

export interface FlowFilter { vrf?: string; ip?: string; direction?: 'forward' | 'reverse'; limit?: number }

export interface VrouterCounters {
  node: string;
  flows: { entries: number; capacity: number; created: number; aged: number; rehashed: number; memoryBytes: number };
  packets: { fromWorkloads: number; fromFabric: number; tunnelled: number; delivered: number; dropped: number };
  drops: Partial<Record<DropReason, number>>;
  recentDrops: { reason: DropReason; detail: string }[];
  routes: { count: number; rejectedUpdates: number; ignoredNextHops: number; lastRejection: string | null };
}

interface Member {
  readonly key: string;
  address: string;
  label: number;
  local: boolean;
  /** local interface id, -1 for a tunnel or an unresolved local label */
  ifId: number;
  /** local interface name, also when it is named by a composite but absent */
  ifName: string | undefined;
  /** label of the local composite this member was expanded from, -1 when none */
  composite: number;
  active: boolean;
  encap: string;
}

interface RouteEntry {
  id: number;
  vrf: string;
  vrfId: number;
  net: number;
  plen: number;
  prefix: string;
  control: { nextHops: RemoteNextHop[]; lbMask: number | undefined; maglev: boolean | undefined } | undefined;
  localIfIds: number[];
  source: 'control' | 'local';
  ecmp: boolean;
  slots: (Member | null)[];
  active: Uint8Array;
  activeList: Int16Array;
  activeCount: number;
  maglev: boolean;
  maglevTable: Int16Array;
  slotFlows: Float64Array;
  slotPackets: Float64Array;
  slotBytes: Float64Array;
}

interface LocalFip {
  address: string;
  addressInt: number;
  vrf: string;
  vrfId: number;
  portMappingsEnable: boolean;
  portMap: Map<number, number>;
  ingress: boolean;
}

interface LocalInterface {
  id: number;
  spec: LocalInterfaceSpec;
  ipInt: number;
  vrfId: number;
  hashMask: number | undefined;
  fips: LocalFip[];
}

/** What a reply must look like when no flow exists yet (trace mode creates none). */
interface ReplyHint { snat: { ip: number; port: number } | null; routeVrfId: number }

const DEFAULT_AGING_MS = 180_000;
const RECENT_DROPS = 32;
const SWEEP_PER_NEW_FLOW = 4;
const ENCAP_FALLBACK_ORDER = ['gre', 'udp', 'vxlan', 'native'];
const MAX_VRFS = 1 << 23;
const MAX_LABEL = 0xffffff;

function formatPacket(p: Packet): string {
  return `${p.src}:${p.sport} -> ${p.dst}:${p.dport} proto ${p.proto}`;
}

function describeMember(m: Member | null, index: number): string {
  if (m === null) return `[${index}] empty`;
  const from = m.composite >= 0 ? ` of local composite ${m.composite}` : '';
  const unresolved = m.ifName === undefined ? `local${from}, label unresolved` : `local ${m.ifName}${from}, interface absent`;
  const where = m.local ? (m.ifId >= 0 ? `local ${m.ifName}${from}` : unresolved) : `${m.encap} tunnel`;
  return `[${index}] ${m.address} label ${m.label} (${where}${m.active ? '' : ', inactive'})`;
}

export class Vrouter {
  readonly name: string;
  readonly routerId: string;
  private readonly routerIdInt: number;
  private readonly hashRouterId: number;
  private readonly underlay: Underlay;
  private readonly clock: () => number;
  private readonly agingMs: number;
  private readonly autoReply: boolean;
  private globalMask: number;
  private vnMasks = new Map<string, number>();
  private readonly maglevDefault: boolean;
  private readonly encapPriorities: string[];
  private readonly table: FlowTable;
  private readonly hashOut = new Uint32Array(2);

  private readonly vrfIds = new Map<string, number>();
  private readonly vrfNames: string[] = [];
  private readonly fibs: (VrfFib<RouteEntry> | undefined)[] = [];
  private readonly routes = new Map<number, RouteEntry>();
  private nextRouteId = 0;
  private readonly interfaces = new Map<number, LocalInterface>();
  private readonly ifByName = new Map<string, LocalInterface>();
  private readonly ifByLabel = new Map<number, LocalInterface>();
  private readonly composites = new Map<number, LocalComposite>();
  private nextIfId = 0;
  private nextFullSweepAt = -Infinity;
  private closed = false;

  private readonly stats = {
    created: 0, aged: 0, rehashed: 0,
    fromWorkloads: 0, fromFabric: 0, tunnelled: 0, delivered: 0, dropped: 0,
    rejectedUpdates: 0, ignoredNextHops: 0,
  };
  private lastRejection: string | null = null;
  private readonly drops = new Map<DropReason, number>();
  private readonly recentDrops: { reason: DropReason; detail: string }[] = [];

  /** Replies are generated only for the outermost delivery; a reply never triggers another one. */
  private static replyDepth = 0;

  constructor(o: VrouterOptions) {
    this.name = o.name;
    this.routerId = o.routerId;
    this.routerIdInt = ipv4ToInt(o.routerId);
    if (this.routerIdInt < 0) throw new Error(`vrouter ${o.name}: routerId ${o.routerId} is not an IPv4 address`);
    this.hashRouterId = o.excludeRouterIdFromHash === true ? -1 : this.routerIdInt;
    this.underlay = o.underlay;
    this.clock = o.clock ?? Date.now;
    this.agingMs = o.flowAgingMs ?? DEFAULT_AGING_MS;
    if (!(this.agingMs > 0)) throw new Error(`vrouter ${o.name}: flowAgingMs must be > 0`);
    this.autoReply = o.autoReply ?? true;
    this.globalMask = this.requireMask(o.hashFields ?? null, 'hashFields') ?? ALL_FIELDS;
    for (const [vn, fields] of o.vnHashFields ?? []) this.vnMasks.set(vn, this.requireMask(fields, `vnHashFields[${vn}]`)!);
    this.maglevDefault = o.maglev === true;
    this.encapPriorities = o.encapsulationPriorities ?? ENCAP_FALLBACK_ORDER;
    this.table = new FlowTable(o.flowTableSize ?? DEFAULT_FLOW_TABLE_SIZE, { preallocate: o.preallocateFlowTable === true });
    this.underlay.register(this.routerId, (label, p, from, trace) => this.receive(label, p, from, trace));
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
    if (globalMask === undefined) return this.reject(`hash fields [${String(global)}]: unknown field`);
    const vnMasks = new Map<string, number>();
    for (const [vn, fields] of perNetwork) {
      const mask = Array.isArray(fields) ? fieldMask(fields) : undefined;
      if (mask === undefined) return this.reject(`hash fields of ${vn} [${String(fields)}]: unknown field`);
      vnMasks.set(vn, mask);
    }
    this.globalMask = globalMask;
    this.vnMasks = vnMasks;
    return { ok: true, warnings: [] };
  }

  // ---------------------------------------------------------------- configuration: interfaces

  interfaceNames(): string[] {
    return [...this.ifByName.keys()];
  }

  upsertInterface(spec: LocalInterfaceSpec): ChangeResult {
    const fips = this.interfaceProblem(spec);
    if (typeof fips === 'string') return this.reject(`interface ${String(spec?.name)}: ${fips}`);
    const existing = this.ifByName.get(spec.name);
    // the agent re-sends every interface on each config push: an unchanged one must not disturb routes or flows
    if (existing !== undefined && JSON.stringify(existing.spec) === JSON.stringify(spec)) return { ok: true, warnings: [] };
    const ifc: LocalInterface = {
      id: existing?.id ?? this.nextIfId++,
      spec: { ...spec, floatingIps: spec.floatingIps.map((f) => ({ ...f, portMappings: [...f.portMappings] })) },
      ipInt: ipv4ToInt(spec.ip),
      vrfId: this.vrfId(spec.vrf),
      hashMask: spec.hashFields === undefined ? undefined : fieldMask(spec.hashFields),
      fips,
    };
    if (existing !== undefined && existing.spec.label !== spec.label) this.ifByLabel.delete(existing.spec.label);
    this.interfaces.set(ifc.id, ifc);
    this.ifByName.set(spec.name, ifc);
    this.ifByLabel.set(spec.label, ifc);
    // touch only the local routes that differ, so that a composite's slot order survives the update
    const before = existing === undefined ? new Map<string, [string, number]>() : this.localRoutesOf(existing);
    const after = this.localRoutesOf(ifc);
    for (const [key, [vrf, address]] of before) if (!after.has(key)) this.removeLocalRoute(vrf, address, ifc.id);
    for (const [key, [vrf, address]] of after) if (!before.has(key)) this.addLocalRoute(vrf, address, ifc.id);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  removeInterface(name: string): ChangeResult {
    const ifc = this.ifByName.get(name);
    if (ifc === undefined) return this.reject(`interface ${String(name)}: not present`);
    this.withdrawLocalRoutes(ifc);
    this.ifByName.delete(name);
    this.ifByLabel.delete(ifc.spec.label);
    this.interfaces.delete(ifc.id);
    this.removeFlowsOfInterface(ifc.id);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  /** The floating-ips in usable form, or what is wrong with the spec. */
  private interfaceProblem(spec: LocalInterfaceSpec): LocalFip[] | string {
    if (spec === null || typeof spec !== 'object') return 'spec is not an object';
    if (typeof spec.name !== 'string' || spec.name.length === 0) return 'name must be a non-empty string';
    if (typeof spec.vrf !== 'string' || spec.vrf.length === 0) return 'vrf must be a non-empty string';
    const vrfs = [spec.vrf, ...(Array.isArray(spec.floatingIps) ? spec.floatingIps.map((f) => f?.vrf) : [])];
    if (new Set(vrfs.filter((v) => typeof v === 'string' && !this.vrfIds.has(v))).size + this.vrfNames.length > MAX_VRFS) {
      return `no room for another VRF (${MAX_VRFS})`;
    }
    if (ipv4ToInt(spec.ip) < 0) return `ip ${String(spec.ip)} is not an IPv4 address`;
    if (!Number.isInteger(spec.label) || spec.label < 16 || spec.label > MAX_LABEL) return `label ${String(spec.label)} must be 16..${MAX_LABEL} (0-15 are reserved)`;
    const owner = this.ifByLabel.get(spec.label);
    if (owner !== undefined && owner.spec.name !== spec.name) return `label ${spec.label} is already used by interface ${owner.spec.name}`;
    const composite = this.composites.get(spec.label);
    if (composite !== undefined) return `label ${spec.label} is already used by the local composite for ${composite.prefix}`;
    if (spec.hashFields !== undefined && (!Array.isArray(spec.hashFields) || fieldMask(spec.hashFields) === undefined)) return 'hashFields has an unknown field';
    if (!Array.isArray(spec.floatingIps)) return 'floatingIps is not a list';
    const fips: LocalFip[] = [];
    for (const [i, f] of spec.floatingIps.entries()) {
      const addressInt = ipv4ToInt(f?.address);
      if (addressInt < 0) return `floatingIps[${i}].address ${String(f?.address)} is not an IPv4 address`;
      if (typeof f.vrf !== 'string' || f.vrf.length === 0) return `floatingIps[${i}].vrf must be a non-empty string`;
      if (!['ingress', 'egress', 'both'].includes(f.direction)) return `floatingIps[${i}].direction ${String(f.direction)} is not ingress, egress or both`;
      const portMap = buildPortMap(f.portMappings);
      if (typeof portMap === 'string') return `floatingIps[${i}].${portMap}`;
      fips.push({
        address: f.address, addressInt, vrf: f.vrf, vrfId: this.vrfId(f.vrf), portMappingsEnable: f.portMappingsEnable === true,
        portMap, ingress: f.direction !== 'egress',
      });
    }
    return fips;
  }

  /** The /32 routes an interface installs: its own address, and each ingress floating-ip in the FIP's VRF. */
  private localRoutesOf(ifc: LocalInterface): Map<string, [string, number]> {
    const routes = new Map<string, [string, number]>([[`${ifc.spec.vrf}|${ifc.ipInt}`, [ifc.spec.vrf, ifc.ipInt]]]);
    for (const fip of ifc.fips) if (fip.ingress) routes.set(`${fip.vrf}|${fip.addressInt}`, [fip.vrf, fip.addressInt]);
    return routes;
  }

  private withdrawLocalRoutes(ifc: LocalInterface): void {
    for (const [vrf, address] of this.localRoutesOf(ifc).values()) this.removeLocalRoute(vrf, address, ifc.id);
  }

  private addLocalRoute(vrf: string, address: number, ifId: number): void {
    const entry = this.entryFor(vrf, address, 32, `${intToIpv4(address)}/32`);
    if (!entry.localIfIds.includes(ifId)) entry.localIfIds.push(ifId);
    this.rebuild(entry);
  }

  private removeLocalRoute(vrf: string, address: number, ifId: number): void {
    const vrfId = this.vrfIds.get(vrf);
    const entry = vrfId === undefined ? undefined : this.fibs[vrfId]?.get(address, 32);
    if (entry === undefined) return;
    entry.localIfIds = entry.localIfIds.filter((id) => id !== ifId);
    this.rebuild(entry);
  }

  // ---------------------------------------------------------------- configuration: local composites

  /**
   * §7.2: several local interfaces with the same address (the VIP) behind one label. Interfaces keep their
   * slot across updates; a name not (yet) present takes a slot that stays inactive until it appears.
   */
  setLocalComposite(label: number, vrf: string, prefix: string, interfaceNames: string[]): ChangeResult {
    if (!Number.isInteger(label) || label < 16 || label > MAX_LABEL) return this.reject(`local composite label ${String(label)} must be 16..${MAX_LABEL} (0-15 are reserved)`);
    const owner = this.ifByLabel.get(label);
    if (owner !== undefined) return this.reject(`local composite label ${label}: already used by interface ${owner.spec.name}`);
    if (typeof vrf !== 'string' || vrf.length === 0) return this.reject(`local composite label ${label}: vrf must be a non-empty string`);
    if (!this.vrfAvailable(vrf)) return this.reject(`local composite label ${label}: no room for another VRF (${MAX_VRFS})`);
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return this.reject(`local composite label ${label}: ${parsed}`);
    const problem = memberListProblem(interfaceNames);
    if (problem !== undefined) return this.reject(`local composite label ${label}: ${problem}`);
    const vrfId = this.vrfId(vrf);
    let c = this.composites.get(label);
    if (c === undefined) {
      c = newLocalComposite(label, vrf, vrfId, parsed);
      this.composites.set(label, c);
    }
    c.vrf = vrf;
    c.vrfId = vrfId;
    c.prefix = parsed.text;
    c.net = parsed.net;
    c.plen = parsed.plen;
    placeMembers(c, interfaceNames);
    const warnings = [...new Set(interfaceNames)].filter((n) => !this.ifByName.has(n)).map((n) => `interface ${n} is not present (its slot stays inactive)`);
    this.reresolveLocalMembers();
    return { ok: true, warnings };
  }

  removeLocalComposite(label: number): ChangeResult {
    if (!this.composites.delete(label)) return this.reject(`local composite label ${String(label)}: not present`);
    this.reresolveLocalMembers();
    return { ok: true, warnings: [] };
  }

  localComposites(): (LocalCompositeView & { vrf: string })[] {
    return [...this.composites.values()].map((c) => ({ vrf: c.vrf, ...viewLocalComposite(c) }));
  }

  /** Control-node next-hops at this compute's own address resolve by label; re-resolve after interface changes. */
  private reresolveLocalMembers(): void {
    for (const c of this.composites.values()) markActive(c, (name) => this.ifByName.has(name));
    for (const entry of [...this.routes.values()]) {
      if (entry.control?.nextHops.some((nh) => nh.address === this.routerId)) this.rebuild(entry);
    }
  }

  private removeFlowsOfInterface(ifId: number): void {
    const t = this.table;
    // a connection of this interface has its towards-workload entry (stage 1) pointing at it
    t.removeWhere((i) => {
      const towards = ((t.key(i, 0) >>> 8) & 1) === 1 ? i : t.partner[i];
      return towards >= 0 && t.target[towards] === ifId;
    });
  }

  // ---------------------------------------------------------------- configuration: routes from the control node

  setRoute(vrf: string, prefix: string, nextHops: RemoteNextHop[], o: { loadBalanceFields?: HashField[]; maglev?: boolean } = {}): ChangeResult {
    if (typeof vrf !== 'string' || vrf.length === 0) return this.reject(`route ${String(prefix)}: vrf must be a non-empty string`);
    if (!this.vrfAvailable(vrf)) return this.reject(`route ${String(prefix)}: no room for another VRF (${MAX_VRFS})`);
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return this.reject(`route in ${vrf}: ${parsed}`);
    if (!Array.isArray(nextHops)) return this.reject(`route ${prefix} in ${vrf}: next-hops is not a list`);
    const warnings: string[] = [];
    const usable: RemoteNextHop[] = [];
    for (const [i, nh] of nextHops.entries()) {
      const why = this.nextHopProblem(nh);
      if (why !== undefined) {
        warnings.push(`next-hop[${i}] ignored: ${why}`);
        this.stats.ignoredNextHops++;
      } else {
        usable.push({ address: nh.address, label: nh.label, encapsulations: [...(nh.encapsulations ?? [])] });
      }
    }
    let lbMask: number | undefined;
    if (o.loadBalanceFields !== undefined) {
      lbMask = Array.isArray(o.loadBalanceFields) ? fieldMask(o.loadBalanceFields) : undefined;
      if (lbMask === undefined) warnings.push('load-balance fields ignored: unknown field');
    }
    if (usable.length === 0) {
      warnings.push('no usable next-hop: treated as a withdraw');
      this.deleteRoute(vrf, prefix);
      return { ok: true, warnings };
    }
    if (usable.length > MAX_ECMP_MEMBERS) {
      warnings.push(`${usable.length} next-hops: only the first ${MAX_ECMP_MEMBERS} are installed`);
      this.stats.ignoredNextHops += usable.length - MAX_ECMP_MEMBERS;
      usable.length = MAX_ECMP_MEMBERS;
    }
    const entry = this.entryFor(vrf, parsed.net, parsed.plen, parsed.text);
    entry.control = { nextHops: usable, lbMask, maglev: o.maglev };
    this.rebuild(entry);
    return { ok: true, warnings };
  }

  deleteRoute(vrf: string, prefix: string): ChangeResult {
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return this.reject(`route delete in ${String(vrf)}: ${parsed}`);
    const vrfId = this.vrfIds.get(vrf);
    const entry = vrfId === undefined ? undefined : this.fibs[vrfId]?.get(parsed.net, parsed.plen);
    if (entry === undefined || entry.control === undefined) return { ok: true, warnings: [`${prefix} in ${vrf}: no control-node route to delete`] };
    entry.control = undefined;
    this.rebuild(entry);
    return { ok: true, warnings: [] };
  }

  private nextHopProblem(nh: RemoteNextHop): string | undefined {
    if (nh === null || typeof nh !== 'object') return 'not an object';
    if (ipv4ToInt(nh.address) < 0) return `address ${String(nh.address)} is not an IPv4 address`;
    if (!Number.isInteger(nh.label) || nh.label < 0 || nh.label > MAX_LABEL) return `label ${String(nh.label)} is not 0..${MAX_LABEL}`;
    if (nh.label === 0) return 'label 0 (the agent ignores such paths)';
    if (nh.encapsulations !== undefined && !Array.isArray(nh.encapsulations)) return 'encapsulations is not a list';
    if (this.chooseEncap(nh.encapsulations ?? []) === undefined) return `no known encapsulation in [${nh.encapsulations.join(', ')}]`;
    return undefined;
  }

  /** First advertised encapsulation in priority order; an empty list with a label means MPLSoGRE (§5). */
  private chooseEncap(advertised: readonly string[]): string | undefined {
    if (advertised.length === 0) return 'gre';
    for (const e of this.encapPriorities) if (advertised.includes(e)) return e;
    for (const e of ENCAP_FALLBACK_ORDER) if (advertised.includes(e)) return e;
    return undefined;
  }

  private reject(error: string): ChangeResult {
    this.stats.rejectedUpdates++;
    this.lastRejection = error;
    return { ok: false, error };
  }

  private vrfAvailable(name: string): boolean {
    return this.vrfIds.has(name) || this.vrfNames.length < MAX_VRFS;
  }

  /** Callers have checked vrfAvailable: the id space is 23 bits of the flow key. */
  private vrfId(name: string): number {
    let id = this.vrfIds.get(name);
    if (id === undefined) {
      if (this.vrfNames.length >= MAX_VRFS) throw new Error(`vrouter ${this.name}: more than ${MAX_VRFS} VRFs`);
      id = this.vrfNames.length;
      this.vrfIds.set(name, id);
      this.vrfNames.push(name);
    }
    return id;
  }

  private entryFor(vrf: string, net: number, plen: number, prefix: string): RouteEntry {
    const vrfId = this.vrfId(vrf);
    let fib = this.fibs[vrfId];
    if (fib === undefined) { fib = new VrfFib<RouteEntry>(); this.fibs[vrfId] = fib; }
    let entry = fib.get(net, plen);
    if (entry === undefined) {
      entry = {
        id: this.nextRouteId++, vrf, vrfId, net, plen, prefix, control: undefined, localIfIds: [], source: 'local',
        ecmp: false, slots: [], active: new Uint8Array(MAX_ECMP_MEMBERS), activeList: new Int16Array(MAX_ECMP_MEMBERS),
        activeCount: 0, maglev: false, maglevTable: new Int16Array(0),
        slotFlows: new Float64Array(MAX_ECMP_MEMBERS), slotPackets: new Float64Array(MAX_ECMP_MEMBERS),
        slotBytes: new Float64Array(MAX_ECMP_MEMBERS),
      };
      fib.set(net, plen, entry);
      this.routes.set(entry.id, entry);
    }
    return entry;
  }

  private membersOf(entry: RouteEntry): Member[] {
    if (entry.control !== undefined) {
      const members: Member[] = [];
      for (const nh of entry.control.nextHops) {
        if (nh.address !== this.routerId) {
          members.push({
            key: `${nh.address}|${nh.label}`, address: nh.address, label: nh.label, local: false, ifId: -1, ifName: undefined,
            composite: -1, active: true, encap: this.chooseEncap(nh.encapsulations)!,
          });
          continue;
        }
        // §7.3: the own compute's label is looked up locally; a local composite is expanded into its interfaces
        const composite = this.composites.get(nh.label);
        if (composite === undefined) {
          const ifc = this.ifByLabel.get(nh.label);
          members.push(ifc === undefined ? this.unresolvedMember(nh.label) : this.localMember(ifc, -1));
          continue;
        }
        const before = members.length;
        for (const s of composite.slots) {
          if (s === null) continue;
          const ifc = this.ifByName.get(s.key);
          members.push(ifc === undefined
            ? { ...this.unresolvedMember(nh.label), key: `local|${s.key}`, ifName: s.key, composite: nh.label }
            : this.localMember(ifc, nh.label));
        }
        if (members.length === before) members.push(this.unresolvedMember(nh.label));
      }
      if (members.length > MAX_ECMP_MEMBERS) {
        this.stats.ignoredNextHops += members.length - MAX_ECMP_MEMBERS;
        members.length = MAX_ECMP_MEMBERS;
      }
      return members;
    }
    return entry.localIfIds.map((id) => this.localMember(this.interfaces.get(id)!, -1));
  }

  /** Local members are keyed by interface, so a slot survives the switch between an interface label and a composite label. */
  private localMember(ifc: LocalInterface, composite: number): Member {
    return {
      key: `local|${ifc.spec.name}`, address: this.routerId, label: ifc.spec.label, local: true, ifId: ifc.id, ifName: ifc.spec.name,
      composite, active: true, encap: 'local',
    };
  }

  private unresolvedMember(label: number): Member {
    return {
      key: `${this.routerId}|${label}`, address: this.routerId, label, local: true, ifId: -1, ifName: undefined, composite: -1,
      active: false, encap: 'local',
    };
  }

  /** Recomputes a route's composite after any input change and moves only the flows whose member left. */
  private rebuild(entry: RouteEntry): void {
    const oldSlots = entry.slots;
    const members = this.membersOf(entry);
    if (members.length === 0) {
      this.fibs[entry.vrfId]!.delete(entry.net, entry.plen);
      this.routes.delete(entry.id); // flows holding this id look the route up again on their next packet
      entry.slots = [];
      return;
    }
    entry.source = entry.control !== undefined ? 'control' : 'local';
    const distinct = new Set(members.map((m) => m.key)).size;
    entry.ecmp = distinct > 1;
    entry.slots = entry.ecmp ? reorderSlots(oldSlots, members) : [members[0]];
    entry.activeCount = 0;
    entry.active.fill(0);
    entry.slots.forEach((m, i) => {
      if (m !== null && m.active) {
        entry.active[i] = 1;
        entry.activeList[entry.activeCount++] = i;
      }
    });
    entry.maglev = entry.control?.maglev ?? this.maglevDefault;
    const activeMembers = entry.slots.flatMap((m, slot) => (m !== null && m.active ? [{ slot, key: m.key }] : []));
    entry.maglevTable = entry.maglev && entry.ecmp ? buildMaglevTable(activeMembers) : new Int16Array(0);

    // old slot -> new slot of the same still-active member, -1 when the member left or went inactive
    const remap = new Int16Array(Math.max(oldSlots.length, 1)).fill(-1);
    let moved = false;
    oldSlots.forEach((m, i) => {
      if (m === null) return;
      const j = entry.slots.findIndex((n) => n !== null && n.key === m.key);
      remap[i] = j >= 0 && entry.active[j] === 1 ? j : -1;
      if (remap[i] !== i) moved = true;
    });
    for (let i = 0; i < MAX_ECMP_MEMBERS; i++) {
      const before = oldSlots[i] ?? null;
      const after = entry.slots[i] ?? null;
      if (before?.key !== after?.key) {
        entry.slotFlows[i] = 0; entry.slotPackets[i] = 0; entry.slotBytes[i] = 0;
      }
    }
    if (moved) this.reevaluateFlows(entry, remap);
  }

  private reevaluateFlows(entry: RouteEntry, remap: Int16Array): void {
    const t = this.table;
    const stage0Forward = FLAG_USED;
    for (let i = 0; i < t.slotCount; i++) {
      if ((t.flags[i] & (FLAG_USED | FLAG_REVERSE)) !== stage0Forward || t.target[i] !== entry.id) continue;
      if (((t.key(i, 0) >>> 8) & 1) !== 0) continue;
      const s = t.slot[i];
      if (s === NO_SLOT) continue;
      const mapped = s < remap.length ? remap[s] : -1;
      if (mapped === s) continue;
      if (mapped >= 0) { t.slot[i] = mapped; continue; }
      this.hashStoredKey(i);
      const slot = this.chooseSlot(entry);
      t.slot[i] = slot < 0 ? NO_SLOT : slot;
      if (slot >= 0) entry.slotFlows[slot]++;
      this.stats.rehashed++;
    }
  }

  private hashStoredKey(i: number): void {
    const t = this.table;
    const k3 = t.key(i, 3);
    ecmpHash(this.hashOut, this.hashRouterId, t.hashMask[i], t.key(i, 1), t.key(i, 2), t.key(i, 0) & 255, k3 >>> 16, k3 & 0xffff);
  }

  /** Slot for the hash in hashOut: the Maglev table when enabled, else Contrail's rule. */
  private chooseSlot(entry: RouteEntry): number {
    const hi = this.hashOut[0];
    const lo = this.hashOut[1];
    if (entry.maglevTable.length > 0) return entry.maglevTable[mod64(hi, lo, entry.maglevTable.length)];
    return pickSlot(hi, lo, entry.slots.length, entry.active, entry.activeList, entry.activeCount);
  }

  private maskFor(ifc: LocalInterface, entry: RouteEntry): number {
    return ifc.hashMask ?? this.vnMasks.get(ifc.spec.virtualNetwork) ?? entry.control?.lbMask ?? this.globalMask;
  }

  // ---------------------------------------------------------------- traffic

  /** A workload on this compute sends a packet. */
  sendFromInterface(interfaceName: string, p: Packet): ForwardResult {
    return this.fromWorkload(interfaceName, p, undefined, undefined);
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
    const problem = packetProblem(p);
    if (problem !== undefined) return this.dropped('bad-packet', problem, undefined);
    const vrfId = this.vrfIds.get(vrf);
    if (vrfId === undefined || (this.fibs[vrfId]?.size ?? 0) === 0) {
      return this.dropped('unknown-vrf', `vrf ${String(vrf)} is not known on ${this.name}`, undefined);
    }
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    const route = this.lookupRoute(vrfId, dst, vrf, undefined);
    if (!('id' in route)) return route;
    ecmpHash(this.hashOut, this.hashRouterId, route.control?.lbMask ?? this.globalMask, src, dst, p.proto, p.sport, p.dport);
    const slot = this.chooseSlot(route);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, undefined);
    return this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', p, undefined);
  }

  /** The decision chain for one packet, without creating flows or counting. */
  trace(interfaceName: string, p: Packet): TraceStep[] {
    const steps: TraceStep[] = [];
    this.fromWorkload(interfaceName, p, steps, undefined);
    return steps;
  }

  /** Callers test `trace` first so that the detail text is only built when tracing. */
  private step(trace: TraceStep[], step: TraceStepKind, detail: string): void {
    trace.push({ node: this.name, step, detail });
  }

  private dropped(reason: DropReason, detail: string, trace: TraceStep[] | undefined): ForwardResult {
    if (trace === undefined) {
      this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
      this.stats.dropped++;
      this.recentDrops.push({ reason, detail });
      if (this.recentDrops.length > RECENT_DROPS) this.recentDrops.shift();
    }
    if (trace !== undefined) this.step(trace, 'drop', `${reason}: ${detail}`);
    return { delivered: false, node: this.name, drop: { reason, detail }, hops: [this.name] };
  }

  private fromWorkload(interfaceName: string, p: Packet, trace: TraceStep[] | undefined, hint: ReplyHint | undefined): ForwardResult {
    if (trace === undefined) this.stats.fromWorkloads++;
    const ifc = this.ifByName.get(interfaceName);
    if (ifc === undefined) return this.dropped('unknown-interface', `no local interface named ${String(interfaceName)}`, trace);
    const src = ipv4ToInt(p?.src);
    const dst = ipv4ToInt(p?.dst);
    if (src < 0 || dst < 0 || !layer4Valid(p)) return this.dropped('bad-packet', packetProblem(p) ?? 'malformed packet', trace);
    if (trace !== undefined) this.step(trace, 'interface', `${ifc.spec.name} (vrf ${ifc.spec.vrf}) sends ${formatPacket(p)}`);
    const k0 = keyWord0(ifc.vrfId, 0, p.proto);
    const k3 = keyWord3(p.sport, p.dport);
    const now = this.clock();
    const fi = this.liveFlow(k0, src, dst, k3, now, trace);
    const t = this.table;
    if (fi >= 0) {
      if (trace === undefined) {
        t.touch(fi, now);
        t.packets[fi]++;
        t.bytes[fi] += p.bytes ?? 0;
      }
      if ((t.flags[fi] & FLAG_REVERSE) !== 0) {
        if (trace !== undefined) this.step(trace, 'flow', `reverse flow #${fi} (reply of a connection towards this workload)`);
        const snat = (t.flags[fi] & FLAG_SNAT) !== 0 ? { ip: t.natIp[fi], port: t.natPort[fi] } : null;
        return this.routeReply(ifc, p, snat, t.routeVrf[fi], trace);
      }
      return this.forwardExisting(fi, ifc, p, src, dst, trace);
    }
    if (hint !== undefined) {
      if (trace !== undefined) this.step(trace, 'flow', 'reverse flow (would be created with the forward flow)');
      return this.routeReply(ifc, p, hint.snat, hint.routeVrfId, trace);
    }
    return this.forwardNew(ifc, p, src, dst, k0, k3, now, trace);
  }

  /** Entry for the key unless it has aged out (then it is removed, outside trace mode). */
  private liveFlow(k0: number, k1: number, k2: number, k3: number, now: number, trace: TraceStep[] | undefined): number {
    const t = this.table;
    const fi = t.lookup(k0, k1, k2, k3);
    if (fi < 0 || !t.isExpired(fi, now, this.agingMs)) return fi;
    if (trace === undefined) {
      t.removePair(fi);
      this.stats.aged++;
    }
    return -1;
  }

  private lookupRoute(vrfId: number, dst: number, vrfName: string, trace: TraceStep[] | undefined): RouteEntry | ForwardResult {
    const fib = this.fibs[vrfId];
    if (fib === undefined || fib.size === 0) return this.dropped('unknown-vrf', `vrf ${vrfName} has no routes on ${this.name}`, trace);
    const entry = fib.lookup(dst);
    if (entry === undefined) return this.dropped('no-route', `no route to ${intToIpv4(dst)} in vrf ${vrfName}`, trace);
    if (trace !== undefined) {
      const kind = entry.ecmp ? 'ECMP composite' : entry.slots[0]?.local === true ? 'local interface' : 'tunnel';
      this.step(trace, 'route', `${entry.prefix} in ${vrfName} from ${entry.source === 'control' ? 'the control node' : 'a local interface'}: ${kind}`);
    }
    return entry;
  }

  private forwardNew(
    ifc: LocalInterface, p: Packet, src: number, dst: number, k0: number, k3: number, now: number, trace: TraceStep[] | undefined,
  ): ForwardResult {
    const route = this.lookupRoute(ifc.vrfId, dst, ifc.spec.vrf, trace);
    if (!('id' in route)) return route;
    const mask = this.maskFor(ifc, route);
    ecmpHash(this.hashOut, this.hashRouterId, mask, src, dst, p.proto, p.sport, p.dport);
    const slot = this.chooseSlot(route);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    const by = route.maglevTable.length > 0 ? 'maglev' : 'hash';
    this.traceComposite(route, trace);
    if (route.ecmp) {
      const h = this.hashOut;
      if (trace !== undefined) this.step(trace, 'slot', `new flow: hash(${maskFields(mask).join(',')}) = 0x${h[0].toString(16).padStart(8, '0')}${h[1].toString(16).padStart(8, '0')} -> slot ${slot} by ${by === 'maglev' ? `Maglev table of ${route.maglevTable.length}` : `hash % ${route.slots.length}${route.active[mod64(h[0], h[1], route.slots.length)] === 1 ? '' : ' (hole: fall back to active slots)'}`}`);
    }
    if (trace === undefined) {
      const t = this.table;
      const rk0 = keyWord0(ifc.vrfId, 1, p.proto);
      const rk3 = keyWord3(p.dport, p.sport);
      let fi = t.insertPair(k0, src, dst, k3, rk0, dst, src, rk3, now);
      if (fi < 0 && now >= this.nextFullSweepAt) {
        this.nextFullSweepAt = now + Math.min(1000, this.agingMs);
        this.stats.aged += t.sweep(now, this.agingMs);
        fi = t.insertPair(k0, src, dst, k3, rk0, dst, src, rk3, now);
      }
      if (fi < 0) return this.dropped('flow-table-full', `flow table full (${t.size}/${t.capacity} entries)`, trace);
      t.slot[fi] = slot;
      t.hashMask[fi] = mask;
      t.target[fi] = route.id;
      if (route.ecmp) t.flags[fi] |= FLAG_ECMP;
      t.packets[fi] = 1;
      t.bytes[fi] = p.bytes ?? 0;
      t.target[t.partner[fi]] = ifc.id;
      route.slotFlows[slot]++;
      this.stats.created++;
      this.stats.aged += t.sweep(now, this.agingMs, SWEEP_PER_NEW_FLOW);
    }
    return this.toMember(route, slot, by, p, trace);
  }

  private forwardExisting(fi: number, ifc: LocalInterface, p: Packet, src: number, dst: number, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.table;
    let route = this.routes.get(t.target[fi]);
    let slot = t.slot[fi];
    if (route !== undefined && slot !== NO_SLOT && slot < route.slots.length && route.active[slot] === 1) {
      this.traceComposite(route, trace);
      if (trace !== undefined) this.step(trace, 'flow', `existing forward flow #${fi}: stored slot ${slot}`);
      return this.toMember(route, slot, 'flow', p, trace);
    }
    // the route went away or the stored member is gone: choose again and remember the new choice
    const found = this.lookupRoute(ifc.vrfId, dst, ifc.spec.vrf, trace);
    if (!('id' in found)) return found;
    route = found;
    ecmpHash(this.hashOut, this.hashRouterId, t.hashMask[fi], src, dst, p.proto, p.sport, p.dport);
    const chosen = this.chooseSlot(route);
    if (chosen < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    this.traceComposite(route, trace);
    if (trace !== undefined) this.step(trace, 'flow', `existing forward flow #${fi}: member gone, re-hashed to slot ${chosen}`);
    slot = chosen;
    if (trace === undefined) {
      t.target[fi] = route.id;
      t.slot[fi] = slot;
      route.slotFlows[slot]++;
      this.stats.rehashed++;
    }
    return this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', p, trace);
  }

  private traceComposite(route: RouteEntry, trace: TraceStep[] | undefined): void {
    if (trace !== undefined && route.ecmp) {
      if (trace !== undefined) this.step(trace, 'composite', `${route.slots.length} slots, ${route.activeCount} active: ${route.slots.map(describeMember).join('; ')}`);
    }
  }

  private toMember(route: RouteEntry, slot: number, by: MemberChoice['by'], p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const m = route.slots[slot]!;
    if (trace === undefined) {
      route.slotPackets[slot]++;
      route.slotBytes[slot] += p.bytes ?? 0;
    }
    const choice: MemberChoice | undefined = route.ecmp ? { slot, address: m.address, label: m.label, local: m.local, by } : undefined;
    if (trace !== undefined) {
      const here = m.composite >= 0 ? ` (this compute: ${m.ifName}, expanded from local composite ${m.composite})` : m.local ? ` (this compute: ${m.ifName})` : '';
      this.step(trace, 'label', `slot ${slot}: ${m.address} label ${m.label}${here}`);
    }
    let result: ForwardResult;
    if (m.local) {
      const ifc = this.interfaces.get(m.ifId)!;
      result = this.towardsWorkload(ifc, p, trace);
    } else {
      if (trace !== undefined) this.step(trace, 'tunnel', `${m.encap.toUpperCase()} to ${m.address} with label ${m.label}`);
      if (trace === undefined) this.stats.tunnelled++;
      const remote = this.underlay.send(this.routerId, m.address, m.label, p, trace);
      if (remote.hops.length === 0) {
        // the underlay found no compute at that address: the drop happens here
        result = this.dropped(remote.drop?.reason ?? 'unknown-compute', remote.drop?.detail ?? `nothing at ${m.address}`, trace);
      } else {
        result = { ...remote, hops: [this.name, ...remote.hops] };
      }
    }
    return choice === undefined ? result : { ...result, member: choice };
  }

  /** A reply leaving a workload: un-NAT (source back to VIP:listener-port) and route towards the client. */
  private routeReply(ifc: LocalInterface, p: Packet, snat: { ip: number; port: number } | null, routeVrfId: number, trace: TraceStep[] | undefined): ForwardResult {
    let out = p;
    let nat: NatRewrite | undefined;
    if (snat !== null) {
      out = { ...p, src: intToIpv4(snat.ip), sport: snat.port };
      nat = { kind: 'snat', from: { ip: p.src, port: p.sport }, to: { ip: out.src, port: out.sport } };
      if (trace !== undefined) this.step(trace, 'nat', `reverse flow un-NAT: source ${p.src}:${p.sport} -> ${out.src}:${out.sport}`);
    }
    const vrfName = this.vrfNames[routeVrfId] ?? ifc.spec.vrf;
    const route = this.lookupRoute(routeVrfId, ipv4ToInt(out.dst), vrfName, trace);
    if (!('id' in route)) return route;
    ecmpHash(this.hashOut, this.hashRouterId, this.maskFor(ifc, route), ipv4ToInt(out.src), ipv4ToInt(out.dst), out.proto, out.sport, out.dport);
    const slot = this.chooseSlot(route);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    const result = this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', out, trace);
    return nat === undefined ? result : { ...result, nat: [nat, ...(result.nat ?? [])] };
  }

  /** A labelled packet from the fabric. */
  private receive(label: number, p: Packet, from: string, trace: TraceStep[] | undefined): ForwardResult {
    if (trace === undefined) this.stats.fromFabric++;
    if (ipv4ToInt(p?.src) < 0 || ipv4ToInt(p?.dst) < 0 || !layer4Valid(p)) return this.dropped('bad-packet', packetProblem(p) ?? 'malformed packet', trace);
    if (trace !== undefined) this.step(trace, 'mpls', `from ${from} with label ${label}`);
    const composite = this.composites.get(label);
    if (composite !== undefined) return this.receiveOnComposite(composite, p, trace);
    const ifc = this.ifByLabel.get(label);
    if (ifc === undefined) return this.dropped('unknown-label', `label ${String(label)} maps to no interface on ${this.name}`, trace);
    if (trace !== undefined) this.step(trace, 'remote', `label ${label} -> interface ${ifc.spec.name} (${ifc.spec.ip})`);
    return this.towardsWorkload(ifc, p, trace);
  }

  /**
   * A packet with a local composite's label: an existing connection stays on its interface while that
   * interface is an active member (§7.5); a new one is hashed over the members by the rule of §7.4.
   */
  private receiveOnComposite(c: LocalComposite, p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.table;
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    if (trace !== undefined) this.step(trace, 'composite', describeLocalComposite(c));
    const fi = this.liveFlow(keyWord0(c.vrfId, 1, p.proto), src, dst, keyWord3(p.sport, p.dport), this.clock(), trace);
    if (fi >= 0 && (t.flags[fi] & FLAG_REVERSE) === 0) {
      const held = this.interfaces.get(t.target[fi]);
      const slot = held === undefined ? -1 : c.slots.findIndex((s) => s !== null && s.key === held.spec.name);
      if (held !== undefined && slot >= 0 && c.active[slot] === 1) {
        if (trace !== undefined) this.step(trace, 'flow', `existing flow #${fi} stays on slot ${slot} (${held.spec.name})`);
        return this.towardsWorkload(held, p, trace);
      }
      // the connection's interface left the composite: it is placed again like a new one
      if (trace !== undefined) this.step(trace, 'flow', `existing flow #${fi}: its interface left the composite, re-hashed`);
      if (trace === undefined) {
        t.removePair(fi);
        this.stats.rehashed++;
      }
    }
    ecmpHash(this.hashOut, this.hashRouterId, this.compositeMask(c), src, dst, p.proto, p.sport, p.dport);
    const slot = pickSlot(this.hashOut[0], this.hashOut[1], c.slots.length, c.active, c.activeList, c.activeCount);
    if (slot < 0) return this.dropped('no-active-member', `local composite label ${c.label} has no active member`, trace);
    const ifc = this.ifByName.get(c.slots[slot]!.key)!;
    if (trace !== undefined) this.step(trace, 'slot', `new flow: hash -> slot ${slot} of local composite ${c.label}: interface ${ifc.spec.name} (${ifc.spec.ip})`);
    const flowsBefore = this.stats.created;
    const result = this.towardsWorkload(ifc, p, trace);
    if (this.stats.created > flowsBefore) c.slotFlows[slot]++;
    return result;
  }

  /** Fabric packets have no sending interface: the members' VN fields, else the route's load-balance, else global. */
  private compositeMask(c: LocalComposite): number {
    for (const s of c.slots) {
      const ifc = s === null ? undefined : this.ifByName.get(s.key);
      const vn = ifc?.spec.floatingIps.find((f) => f.vrf === c.vrf)?.virtualNetwork ?? ifc?.spec.virtualNetwork;
      const mask = vn === undefined ? undefined : this.vnMasks.get(vn);
      if (mask !== undefined) return mask;
    }
    return this.fibs[c.vrfId]?.get(c.net, c.plen)?.control?.lbMask ?? this.globalMask;
  }

  /** A packet for a local workload: destination NAT when it targets a floating-ip (the VIP) on the interface. */
  private towardsWorkload(ifc: LocalInterface, p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.table;
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    let fip: LocalFip | undefined;
    if (dst !== ifc.ipInt) {
      fip = ifc.fips.find((f) => f.addressInt === dst && f.ingress);
      if (fip === undefined) return this.dropped('not-for-interface', `${p.dst} is neither the address nor an ingress floating-ip of ${ifc.spec.name}`, trace);
    }
    const vrfId = fip?.vrfId ?? ifc.vrfId;
    const k0 = keyWord0(vrfId, 1, p.proto);
    const k3 = keyWord3(p.sport, p.dport);
    const now = this.clock();
    let fi = this.liveFlow(k0, src, dst, k3, now, trace);
    if (fi >= 0 && (t.flags[fi] & FLAG_REVERSE) === 0 && t.target[fi] !== ifc.id) {
      // the connection was placed on another interface (the sender now names this one): it starts over here
      if (trace !== undefined) this.step(trace, 'flow', `flow #${fi} belongs to another interface: replaced`);
      else t.removePair(fi);
      fi = -1;
    }
    if (fi >= 0) {
      if (trace === undefined) {
        t.touch(fi, now);
        t.packets[fi]++;
        t.bytes[fi] += p.bytes ?? 0;
      }
      const reverse = (t.flags[fi] & FLAG_REVERSE) !== 0;
      if (trace !== undefined) this.step(trace, 'flow', `existing ${reverse ? 'reverse' : 'forward'} flow #${fi}`);
      let out = p;
      let nat: NatRewrite | undefined;
      if ((t.flags[fi] & FLAG_DNAT) !== 0) {
        out = { ...p, dst: intToIpv4(t.natIp[fi]), dport: t.natPort[fi] };
        nat = { kind: 'dnat', from: { ip: p.dst, port: p.dport }, to: { ip: out.dst, port: out.dport } };
        if (trace !== undefined) this.step(trace, 'nat', `DNAT ${p.dst}:${p.dport} -> ${out.dst}:${out.dport}`);
      }
      const rev = t.partner[fi];
      const hint: ReplyHint = { snat: (t.flags[rev] & FLAG_SNAT) !== 0 ? { ip: t.natIp[rev], port: t.natPort[rev] } : null, routeVrfId: t.routeVrf[rev] };
      return this.deliver(ifc, out, nat, !reverse, hint, trace);
    }
    let out = p;
    let nat: NatRewrite | undefined;
    if (fip !== undefined) {
      let dport = p.dport;
      if (fip.portMappingsEnable) {
        const mapped = fip.portMap.get(mappingKey(p.proto, p.dport));
        if (mapped === undefined) {
          return this.dropped('port-map-drop', `floating-ip ${fip.address} has no port mapping for protocol ${p.proto} port ${p.dport}`, trace);
        }
        dport = mapped;
      }
      out = { ...p, dst: ifc.spec.ip, dport };
      nat = { kind: 'dnat', from: { ip: p.dst, port: p.dport }, to: { ip: out.dst, port: out.dport } };
      if (trace !== undefined) this.step(trace, 'nat', `floating-ip ${fip.address}${fip.portMappingsEnable ? ' port-mapped' : ''}: DNAT ${p.dst}:${p.dport} -> ${out.dst}:${out.dport}`);
    }
    if (trace === undefined) {
      const rk0 = keyWord0(ifc.vrfId, 0, p.proto);
      const rk3 = keyWord3(out.dport, p.sport);
      let f = t.insertPair(k0, src, dst, k3, rk0, ifc.ipInt, src, rk3, now);
      if (f < 0 && now >= this.nextFullSweepAt) {
        this.nextFullSweepAt = now + Math.min(1000, this.agingMs);
        this.stats.aged += t.sweep(now, this.agingMs);
        f = t.insertPair(k0, src, dst, k3, rk0, ifc.ipInt, src, rk3, now);
      }
      if (f < 0) return this.dropped('flow-table-full', `flow table full (${t.size}/${t.capacity} entries)`, trace);
      const r = t.partner[f];
      t.target[f] = ifc.id;
      t.packets[f] = 1;
      t.bytes[f] = p.bytes ?? 0;
      t.routeVrf[r] = vrfId;
      if (fip !== undefined) {
        t.flags[f] |= FLAG_DNAT;
        t.natIp[f] = ifc.ipInt;
        t.natPort[f] = out.dport;
        t.flags[r] |= FLAG_SNAT;
        t.natIp[r] = dst;
        t.natPort[r] = p.dport;
      }
      this.stats.created++;
    }
    const hint: ReplyHint = { snat: fip !== undefined ? { ip: dst, port: p.dport } : null, routeVrfId: vrfId };
    return this.deliver(ifc, out, nat, true, hint, trace);
  }

  private deliver(ifc: LocalInterface, out: Packet, nat: NatRewrite | undefined, answer: boolean, hint: ReplyHint, trace: TraceStep[] | undefined): ForwardResult {
    if (trace !== undefined) this.step(trace, 'deliver', `to ${ifc.spec.name}: ${formatPacket(out)}`);
    if (trace === undefined) this.stats.delivered++;
    const result: ForwardResult = { delivered: true, node: this.name, interface: ifc.spec.name, packet: out, hops: [this.name] };
    if (nat !== undefined) result.nat = [nat];
    if (answer && this.autoReply && Vrouter.replyDepth === 0) {
      const reply: Packet = { src: out.dst, dst: out.src, proto: out.proto, sport: out.dport, dport: out.sport };
      if (out.bytes !== undefined) reply.bytes = out.bytes;
      if (trace !== undefined) this.step(trace, 'reply', `${ifc.spec.name} answers ${formatPacket(reply)}`);
      Vrouter.replyDepth++;
      try {
        result.reply = this.fromWorkload(ifc.spec.name, reply, trace, hint);
      } finally {
        Vrouter.replyDepth--;
      }
    }
    return result;
  }

  // ---------------------------------------------------------------- introspection

  fib(vrf?: string): VrfView[] {
    const out: VrfView[] = [];
    this.vrfNames.forEach((name, id) => {
      if (vrf !== undefined && vrf !== name) return;
      const fib = this.fibs[id];
      const composites = [...this.composites.values()].filter((c) => c.vrfId === id).sort((a, b) => a.label - b.label);
      if ((fib === undefined || fib.size === 0) && composites.length === 0) return;
      const routes = [...(fib?.routes() ?? [])].map((e) => this.routeView(e)).sort((a, b) => a.prefix.localeCompare(b.prefix));
      const view: VrfView = { vrf: name, routes };
      if (composites.length > 0) view.localComposites = composites.map(viewLocalComposite);
      out.push(view);
    });
    return out;
  }

  private routeView(e: RouteEntry): RouteView {
    const lb = e.control?.lbMask;
    return {
      prefix: e.prefix,
      source: e.source,
      kind: e.ecmp ? 'ecmp' : e.slots[0]?.local === true ? 'local' : 'tunnel',
      loadBalanceFields: lb === undefined ? null : maskFields(lb),
      maglev: e.maglevTable.length > 0,
      maglevTableSize: e.maglevTable.length,
      slots: e.slots.map((m, index) => {
        const counters = { flows: e.slotFlows[index], packets: e.slotPackets[index], bytes: e.slotBytes[index] };
        if (m === null) return { index, empty: true, ...counters };
        const view: SlotView = {
          index, empty: false, address: m.address, label: m.label, local: m.local, active: e.active[index] === 1,
          encapsulation: m.encap, ...counters,
        };
        if (m.ifName !== undefined) view.interface = m.ifName;
        if (m.composite >= 0) view.localComposite = m.composite;
        return view;
      }),
    };
  }

  flows(filter: FlowFilter = {}): FlowView[] {
    const t = this.table;
    const limit = filter.limit ?? 1000;
    const ip = filter.ip === undefined ? -1 : ipv4ToInt(filter.ip);
    const now = this.clock();
    const out: FlowView[] = [];
    for (let i = 0; i < t.slotCount && out.length < limit; i++) {
      const flags = t.flags[i];
      if ((flags & FLAG_USED) === 0) continue;
      const reverse = (flags & FLAG_REVERSE) !== 0;
      if (filter.direction !== undefined && (filter.direction === 'reverse') !== reverse) continue;
      const vrf = this.vrfNames[t.key(i, 0) >>> 9];
      if (filter.vrf !== undefined && filter.vrf !== vrf) continue;
      if (ip >= 0 && t.key(i, 1) !== ip && t.key(i, 2) !== ip) continue;
      const stage = (t.key(i, 0) >>> 8) & 1;
      const slot = t.slot[i] === NO_SLOT ? null : t.slot[i];
      const route = stage === 0 && !reverse ? this.routes.get(t.target[i]) : undefined;
      const member = slot !== null && route?.slots[slot] ? { address: route.slots[slot]!.address, label: route.slots[slot]!.label } : null;
      const natKind = (flags & FLAG_DNAT) !== 0 ? 'dnat' : (flags & FLAG_SNAT) !== 0 ? 'snat' : null;
      out.push({
        index: i, direction: reverse ? 'reverse' : 'forward', side: stage === 0 ? 'from-workload' : 'to-workload', vrf,
        proto: t.key(i, 0) & 255, src: intToIpv4(t.key(i, 1)), dst: intToIpv4(t.key(i, 2)), sport: t.key(i, 3) >>> 16, dport: t.key(i, 3) & 0xffff,
        ecmp: (flags & FLAG_ECMP) !== 0, slot, member, nat: natKind === null ? null : { kind: natKind, ip: intToIpv4(t.natIp[i]), port: t.natPort[i] },
        packets: t.packets[i], bytes: t.bytes[i], idleMs: now - t.lastSeen[i],
      });
    }
    return out;
  }

  counters(): VrouterCounters {
    const s = this.stats;
    return {
      node: this.name,
      flows: { entries: this.table.size, capacity: this.table.capacity, created: s.created, aged: s.aged, rehashed: s.rehashed, memoryBytes: this.table.memoryBytes() },
      packets: { fromWorkloads: s.fromWorkloads, fromFabric: s.fromFabric, tunnelled: s.tunnelled, delivered: s.delivered, dropped: s.dropped },
      drops: Object.fromEntries(this.drops),
      recentDrops: [...this.recentDrops],
      routes: { count: this.routes.size, rejectedUpdates: s.rejectedUpdates, ignoredNextHops: s.ignoredNextHops, lastRejection: this.lastRejection },
    };
  }

  /** Ages out idle flows now; returns how many connections (entry pairs) were removed. */
  ageFlows(): number {
    const removed = this.table.sweep(this.clock(), this.agingMs);
    this.stats.aged += removed;
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.underlay.unregister(this.routerId);
  }
}
