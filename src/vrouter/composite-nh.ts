// The ECMP composite next-hop of every route in one vRouter's FIBs (docs/protocol.md §7.3, §7.4): the route
// entry, its members (tunnels to other computes, local interfaces, this compute's local composites expanded
// into their interfaces), the slot-stable placement on every rebuild, the member choice for a flow's hash
// and the re-evaluation of the flows whose member left. The slot rules themselves (Reorder, PickMember) are
// in composite-slots.ts, the members and their interning in composite-members.ts; packets and the creation
// of flows are in forwarding.ts.
import type { ChangeResult, VrouterTallies } from './counters.ts';
import { MAX_ECMP_MEMBERS } from '../net/ecmp.ts';
import { pickSlot, reorderSlots } from './composite-slots.ts';
import { ecmpHash, fieldMask, mod64 } from './ecmp-hash.ts';
import { FLAG_REVERSE, FLAG_USED, NO_SLOT, type FlowTable } from './flow-table.ts';
import type { InterfaceTable, LocalInterface } from './interfaces.ts';
import type { LocalComposites } from './local-composite.ts';
import { buildMaglevTable, maglevTableSize } from './maglev.ts';
import { MPLS_LABEL_MAX } from '../net/labels.ts';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.ts';
import type { HashField } from '../net/hash-fields.ts';
import { parsePrefix } from './vrf-fib.ts';
import { MAX_VRFS, type VrfTable } from './vrfs.ts';
import { ENCAP_FALLBACK_ORDER, INTERN_LIMIT, internMember, internNextHop, type Member, type RemoteNextHop } from './composite-members.ts';

export interface ControlNextHops { nextHops: RemoteNextHop[]; lbMask: number | undefined; maglev: boolean | undefined }

/**
 * A route from the control node with one remote next hop, stored in the FIB as its (shared) control record
 * until someone reads the route (a packet, a view): then it becomes a RouteEntry. At thousands of computes
 * almost every route is one, and most never carry a flow (docs/architecture.md, "Scale").
 */
export type DeferredRoute = Readonly<ControlNextHops>;
/** The VRFs of a vRouter with their FIBs of route entries (some deferred). */
export type RouteTables = VrfTable<RouteEntry, DeferredRoute>;

export interface RouteEntry {
  /** flows name their route by id: it outlives a rebuild, and a deleted route is simply not found */
  id: number;
  vrf: string;
  vrfId: number;
  net: number;
  plen: number;
  prefix: string;
  /** replaced, never changed in place: equal ones are shared between the agents of a process */
  control: Readonly<ControlNextHops> | undefined;
  localIfIds: number[];
  source: 'control' | 'local';
  ecmp: boolean;
  slots: (Member | null)[];
  /** one byte per slot; shared and read-only for a single active slot (rebuilt, never written in place) */
  active: Uint8Array;
  activeList: Int16Array;
  activeCount: number;
  maglev: boolean;
  maglevTable: Int16Array;
  /** per-slot traffic counters: empty until the route's first flow (withSlotCounters), then MAX_ECMP_MEMBERS long */
  slotFlows: Float64Array;
  slotPackets: Float64Array;
  slotBytes: Float64Array;
}

// A compute at scale holds thousands of single-next-hop routes that never carry a flow: their entries share
// these read-only arrays instead of owning 128-slot ones (docs/architecture.md, "Scale").
const NO_COUNTERS = new Float64Array(0);
const NO_MAGLEV = new Int16Array(0);
const NONE_ACTIVE = new Uint8Array(0);
const NO_ACTIVE_LIST = new Int16Array(0);
const ONE_ACTIVE = new Uint8Array([1]);
/** replaced, never changed in place, so that routes without local interfaces share one empty list */
const NO_LOCAL_IFS: number[] = Object.freeze([]) as unknown as number[];
/** the slot list of a route whose only member is an interned remote one: shared as well */
const singleSlots = new WeakMap<Member, (Member | null)[]>();
const FIRST_ACTIVE = new Int16Array([0]);

/** The route's per-slot counters, allocated on first use. Call before counting a flow, packet or byte. */
export function withSlotCounters(entry: RouteEntry): RouteEntry {
  if (entry.slotFlows.length === 0) {
    entry.slotFlows = new Float64Array(MAX_ECMP_MEMBERS);
    entry.slotPackets = new Float64Array(MAX_ECMP_MEMBERS);
    entry.slotBytes = new Float64Array(MAX_ECMP_MEMBERS);
  }
  return entry;
}

/** A next-hop list as checked for a vRouter with these encapsulation priorities: shared by every agent that received it. */
interface CheckedNextHops {
  priorities: string; usable: RemoteNextHop[]; warnings: string[]; ignored: number;
  /** by load-balance mask and Maglev choice; `plain` for neither */
  controls: Map<string, Readonly<ControlNextHops>>;
  plain?: Readonly<ControlNextHops>;
  notMaglev?: Readonly<ControlNextHops>;
}
const checkedLists = new WeakMap<readonly RemoteNextHop[], CheckedNextHops>();
const membersByNextHop = new WeakMap<RemoteNextHop, { priorities: string; member: Member }>();
const parsedPrefixes = new Map<string, ReturnType<typeof parsePrefix>>();

/** parsePrefix, remembered: every agent of a VRF parses the same prefixes. */
function parsePrefixOnce(text: string): ReturnType<typeof parsePrefix> {
  let parsed = parsedPrefixes.get(text);
  if (parsed === undefined) {
    if (parsedPrefixes.size >= INTERN_LIMIT) parsedPrefixes.clear();
    parsed = parsePrefix(text);
    parsedPrefixes.set(text, parsed);
  }
  return parsed;
}

export interface CompositeNextHopsOptions {
  /** this compute's address: next-hops at it resolve locally by label */
  routerId: string;
  /** the router id as hashed, -1 when it is left out of the hash */
  hashRouterId: number;
  /** Maglev placement for routes that do not say otherwise */
  maglevDefault: boolean;
  encapPriorities: readonly string[];
  table: FlowTable;
  vrfs: RouteTables;
  interfaces: InterfaceTable;
  localComposites: LocalComposites;
  tallies: VrouterTallies;
}

export class CompositeNextHops {
  private readonly routes = new Map<number, RouteEntry>();
  /** routes stored deferred (not in `routes` until materialized) */
  private deferredCount = 0;
  private nextRouteId = 0;
  private readonly hash = new Uint32Array(2);
  private readonly priorities: string;

  constructor(private readonly o: CompositeNextHopsOptions) {
    this.priorities = o.encapPriorities.join(',');
    o.vrfs.deferWith((vrfId) => ({
      isDeferred: (value): value is DeferredRoute => !('id' in value),
      materialize: (net, plen, control) => this.materialize(vrfId, net, plen, control),
    }));
  }

  get count(): number { return this.routes.size + this.deferredCount; }

  route(id: number): RouteEntry | undefined {
    return this.routes.get(id);
  }

  // ---------------------------------------------------------------- inputs: the control node

  setControlRoute(vrf: string, prefix: string, nextHops: RemoteNextHop[], o: { loadBalanceFields?: HashField[]; maglev?: boolean }): ChangeResult {
    const tallies = this.o.tallies;
    if (typeof vrf !== 'string' || vrf.length === 0) return tallies.reject(`route ${String(prefix)}: vrf must be a non-empty string`);
    const knownVrf = this.o.vrfs.idOf(vrf);
    if (knownVrf === undefined && !this.o.vrfs.available(vrf)) return tallies.reject(`route ${String(prefix)}: no room for another VRF (${MAX_VRFS})`);
    const parsed = parsePrefixOnce(prefix);
    if (typeof parsed === 'string') return tallies.reject(`route in ${vrf}: ${parsed}`);
    if (!Array.isArray(nextHops)) return tallies.reject(`route ${prefix} in ${vrf}: next-hops is not a list`);
    const checked = this.checkNextHops(nextHops);
    tallies.ignoredNextHops += checked.ignored;
    // copied only when there is something to say: most routes have no warning
    const warnings = checked.warnings.length === 0 ? [] : [...checked.warnings];
    const usable = checked.usable;
    let lbMask: number | undefined;
    if (o.loadBalanceFields !== undefined) {
      lbMask = Array.isArray(o.loadBalanceFields) ? fieldMask(o.loadBalanceFields) : undefined;
      if (lbMask === undefined) warnings.push('load-balance fields ignored: unknown field');
    }
    if (usable.length === 0) {
      warnings.push('no usable next-hop: treated as a withdraw');
      this.deleteControlRoute(vrf, prefix);
      return { ok: true, warnings };
    }
    const control = this.sharedControl(checked, lbMask, o.maglev);
    const fib = this.o.vrfs.fibFor(knownVrf ?? this.o.vrfs.id(vrf));
    const stored = fib.peek(parsed.net, parsed.plen);
    if ((stored === undefined || !('id' in stored)) && this.deferrable(control)) {
      if (stored === undefined) this.deferredCount++;
      fib.set(parsed.net, parsed.plen, control);
      return { ok: true, warnings };
    }
    const entry = this.entryFor(vrf, parsed.net, parsed.plen, parsed.text);
    entry.control = control;
    this.rebuild(entry);
    return { ok: true, warnings };
  }

  /** A single tunnel to another compute: nothing of this compute (interfaces, composites) enters its entry. */
  private deferrable(control: DeferredRoute): boolean {
    return control.nextHops.length === 1 && control.nextHops[0]!.address !== this.o.routerId;
  }

  /** The entry of a deferred route, built as setControlRoute would have built it. */
  private materialize(vrfId: number, net: number, plen: number, control: DeferredRoute): RouteEntry {
    this.deferredCount--;
    const entry = this.newEntry(this.o.vrfs.nameOf(vrfId)!, vrfId, net, plen, `${intToIpv4(net)}/${plen}`);
    entry.control = control;
    this.rebuild(entry);
    return entry;
  }

  deleteControlRoute(vrf: string, prefix: string): ChangeResult {
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return this.o.tallies.reject(`route delete in ${String(vrf)}: ${parsed}`);
    const vrfId = this.o.vrfs.idOf(vrf);
    const fib = vrfId === undefined ? undefined : this.o.vrfs.fib(vrfId);
    const stored = fib?.peek(parsed.net, parsed.plen);
    if (stored !== undefined && !('id' in stored)) {
      fib!.delete(parsed.net, parsed.plen);
      this.deferredCount--;
      return { ok: true, warnings: [] };
    }
    const entry = stored;
    if (entry === undefined || entry.control === undefined) return { ok: true, warnings: [`${prefix} in ${vrf}: no control-node route to delete`] };
    entry.control = undefined;
    this.rebuild(entry);
    return { ok: true, warnings: [] };
  }

  /** The control record for these next hops, load-balance mask and Maglev choice: one per process. */
  private sharedControl(checked: CheckedNextHops, lbMask: number | undefined, maglev: boolean | undefined): Readonly<ControlNextHops> {
    if (lbMask === undefined && maglev === undefined) {
      return (checked.plain ??= Object.freeze({ nextHops: checked.usable, lbMask, maglev }));
    }
    // what an agent passes for nearly every route: no hash fields of its own, not Maglev
    if (lbMask === undefined && maglev === false) {
      return (checked.notMaglev ??= Object.freeze({ nextHops: checked.usable, lbMask, maglev }));
    }
    const key = `${lbMask}|${maglev}`;
    let control = checked.controls.get(key);
    if (control === undefined) checked.controls.set(key, (control = Object.freeze({ nextHops: checked.usable, lbMask, maglev })));
    return control;
  }

  /**
   * The usable next hops of a list (interned), the warnings for the others and how many were ignored; the
   * same list object (as ReceivedRoutes hands it to every agent of the process) is checked once.
   */
  private checkNextHops(nextHops: readonly RemoteNextHop[]): CheckedNextHops {
    const known = checkedLists.get(nextHops);
    if (known !== undefined && known.priorities === this.priorities) return known;
    const checked: CheckedNextHops = { priorities: this.priorities, usable: [], warnings: [], ignored: 0, controls: new Map() };
    for (const [i, nh] of nextHops.entries()) {
      const why = this.nextHopProblem(nh);
      if (why !== undefined) {
        checked.warnings.push(`next-hop[${i}] ignored: ${why}`);
        checked.ignored++;
      } else {
        checked.usable.push(internNextHop(nh.address, nh.label, nh.encapsulations ?? []));
      }
    }
    if (checked.usable.length > MAX_ECMP_MEMBERS) {
      checked.warnings.push(`${checked.usable.length} next-hops: only the first ${MAX_ECMP_MEMBERS} are installed`);
      checked.ignored += checked.usable.length - MAX_ECMP_MEMBERS;
      checked.usable.length = MAX_ECMP_MEMBERS;
    }
    checkedLists.set(nextHops, checked);
    return checked;
  }

  private nextHopProblem(nh: RemoteNextHop): string | undefined {
    if (nh === null || typeof nh !== 'object') return 'not an object';
    if (ipv4ToInt(nh.address) < 0) return `address ${String(nh.address)} is not an IPv4 address`;
    if (!Number.isInteger(nh.label) || nh.label < 0 || nh.label > MPLS_LABEL_MAX) return `label ${String(nh.label)} is not 0..${MPLS_LABEL_MAX} (MPLS labels are 20 bits)`;
    if (nh.label === 0) return 'label 0 (the agent ignores such paths)';
    if (nh.encapsulations !== undefined && !Array.isArray(nh.encapsulations)) return 'encapsulations is not a list';
    if (this.chooseEncap(nh.encapsulations ?? []) === undefined) return `no known encapsulation in [${nh.encapsulations.join(', ')}]`;
    return undefined;
  }

  /** First advertised encapsulation in priority order; an empty list with a label means MPLSoGRE (docs/protocol.md §5). */
  private chooseEncap(advertised: readonly string[]): string | undefined {
    if (advertised.length === 0) return 'gre';
    for (const e of this.o.encapPriorities) if (advertised.includes(e)) return e;
    for (const e of ENCAP_FALLBACK_ORDER) if (advertised.includes(e)) return e;
    return undefined;
  }

  // ---------------------------------------------------------------- inputs: local interfaces

  addLocalRoute(vrf: string, address: number, ifId: number): void {
    const entry = this.entryFor(vrf, address, 32, `${intToIpv4(address)}/32`);
    if (!entry.localIfIds.includes(ifId)) entry.localIfIds = [...entry.localIfIds, ifId];
    this.rebuild(entry);
  }

  removeLocalRoute(vrf: string, address: number, ifId: number): void {
    const vrfId = this.o.vrfs.idOf(vrf);
    const entry = vrfId === undefined ? undefined : this.o.vrfs.fib(vrfId)?.get(address, 32);
    if (entry === undefined) return;
    entry.localIfIds = entry.localIfIds.filter((id) => id !== ifId);
    this.rebuild(entry);
  }

  /** Control-node next-hops at this compute's own address resolve by label: rebuilt after interface or composite changes. */
  reresolveLocalMembers(): void {
    for (const entry of [...this.routes.values()]) {
      if (entry.control?.nextHops.some((nh) => nh.address === this.o.routerId)) this.rebuild(entry);
    }
  }

  // ---------------------------------------------------------------- the composite

  /** Slot for a flow hash (two 32-bit halves): the Maglev table when enabled, else Contrail's rule (-1: no active member). */
  chooseSlot(entry: RouteEntry, hash: Uint32Array): number {
    const hi = hash[0];
    const lo = hash[1];
    if (entry.maglevTable.length > 0) return entry.maglevTable[mod64(hi, lo, entry.maglevTable.length)];
    return pickSlot(hi, lo, entry.slots.length, entry.active, entry.activeList, entry.activeCount);
  }

  private entryFor(vrf: string, net: number, plen: number, prefix: string): RouteEntry {
    const vrfId = this.o.vrfs.id(vrf);
    const fib = this.o.vrfs.fibFor(vrfId);
    let entry = fib.get(net, plen);
    if (entry === undefined) {
      entry = this.newEntry(vrf, vrfId, net, plen, prefix);
      fib.set(net, plen, entry);
    }
    return entry;
  }

  private newEntry(vrf: string, vrfId: number, net: number, plen: number, prefix: string): RouteEntry {
    const entry: RouteEntry = {
      id: this.nextRouteId++, vrf, vrfId, net, plen, prefix, control: undefined, localIfIds: NO_LOCAL_IFS, source: 'local',
      ecmp: false, slots: [], active: NONE_ACTIVE, activeList: NO_ACTIVE_LIST,
      activeCount: 0, maglev: false, maglevTable: NO_MAGLEV,
      slotFlows: NO_COUNTERS, slotPackets: NO_COUNTERS, slotBytes: NO_COUNTERS,
    };
    this.routes.set(entry.id, entry);
    return entry;
  }

  private membersOf(entry: RouteEntry): Member[] {
    const { routerId, interfaces } = this.o;
    if (entry.control !== undefined) {
      const members: Member[] = [];
      for (const nh of entry.control.nextHops) {
        if (nh.address !== routerId) {
          members.push(this.remoteMember(nh));
          continue;
        }
        // docs/protocol.md §7.3: the own compute's label is looked up locally; a local composite is expanded into its interfaces
        const composite = this.o.localComposites.get(nh.label);
        if (composite === undefined) {
          const ifc = interfaces.byLabel.get(nh.label);
          members.push(ifc === undefined ? this.unresolvedMember(nh.label) : this.localMember(ifc, -1));
          continue;
        }
        const before = members.length;
        for (const s of composite.slots) {
          if (s === null) continue;
          const ifc = interfaces.byName.get(s.key);
          members.push(ifc === undefined
            ? { ...this.unresolvedMember(nh.label), key: `local|${s.key}`, ifName: s.key, composite: nh.label }
            : this.localMember(ifc, nh.label));
        }
        if (members.length === before) members.push(this.unresolvedMember(nh.label));
      }
      if (members.length > MAX_ECMP_MEMBERS) {
        this.o.tallies.ignoredNextHops += members.length - MAX_ECMP_MEMBERS;
        members.length = MAX_ECMP_MEMBERS;
      }
      return members;
    }
    return entry.localIfIds.map((id) => this.localMember(interfaces.byId.get(id)!, -1));
  }

  /** Local members are keyed by interface, so a slot survives the switch between an interface label and a composite label. */
  private localMember(ifc: LocalInterface, composite: number): Member {
    return {
      key: `local|${ifc.spec.name}`, address: this.o.routerId, label: ifc.spec.label, local: true, ifId: ifc.id, ifName: ifc.spec.name,
      composite, active: true, encap: 'local',
    };
  }

  private unresolvedMember(label: number): Member {
    return {
      key: `${this.o.routerId}|${label}`, address: this.o.routerId, label, local: true, ifId: -1, ifName: undefined, composite: -1,
      active: false, encap: 'local',
    };
  }

  /** Recomputes a route's composite after any input change and moves only the flows whose member left. */
  private rebuild(entry: RouteEntry): void {
    const oldSlots = entry.slots;
    const members = this.membersOf(entry);
    if (members.length === 0) {
      this.o.vrfs.fib(entry.vrfId)!.delete(entry.net, entry.plen);
      this.routes.delete(entry.id); // flows holding this id look the route up again on their next packet
      entry.slots = [];
      return;
    }
    entry.source = entry.control !== undefined ? 'control' : 'local';
    const distinct = new Set(members.map((m) => m.key)).size;
    entry.ecmp = distinct > 1;
    entry.slots = entry.ecmp ? reorderSlots(oldSlots, members) : this.singleSlot(members[0]);
    entry.activeCount = 0;
    if (entry.slots.length === 1 && entry.slots[0]!.active) {
      entry.active = ONE_ACTIVE;
      entry.activeList = FIRST_ACTIVE;
      entry.activeCount = 1;
    } else {
      entry.active = new Uint8Array(entry.slots.length);
      entry.activeList = new Int16Array(entry.slots.length);
      entry.slots.forEach((m, i) => {
        if (m !== null && m.active) {
          entry.active[i] = 1;
          entry.activeList[entry.activeCount++] = i;
        }
      });
    }
    entry.maglev = entry.control?.maglev ?? this.o.maglevDefault;
    const activeMembers = entry.ecmp && entry.maglev ? entry.slots.flatMap((m, slot) => (m !== null && m.active ? [{ slot, key: m.key }] : [])) : [];
    // the size follows N but keeps the old table's size where it still fits (maglev.ts: a size change reshuffles)
    const previousSize = entry.maglevTable.length > 0 ? entry.maglevTable.length : undefined;
    entry.maglevTable = entry.maglev && entry.ecmp && activeMembers.length > 0
      ? buildMaglevTable(activeMembers, maglevTableSize(activeMembers.length, previousSize))
      : NO_MAGLEV;

    // old slot -> new slot of the same still-active member, -1 when the member left or went inactive
    const remap = new Int16Array(Math.max(oldSlots.length, 1)).fill(-1);
    let moved = false;
    oldSlots.forEach((m, i) => {
      if (m === null) return;
      const j = entry.slots.findIndex((n) => n !== null && n.key === m.key);
      remap[i] = j >= 0 && entry.active[j] === 1 ? j : -1;
      if (remap[i] !== i) moved = true;
    });
    for (let i = 0; i < entry.slotFlows.length; i++) {
      const before = oldSlots[i] ?? null;
      const after = entry.slots[i] ?? null;
      if (before?.key !== after?.key) {
        entry.slotFlows[i] = 0; entry.slotPackets[i] = 0; entry.slotBytes[i] = 0;
      }
    }
    if (moved) this.reevaluateFlows(entry, remap);
  }

  /** The interned member of a remote next hop; remembered per (interned) next hop for these priorities. */
  private remoteMember(nh: RemoteNextHop): Member {
    const known = membersByNextHop.get(nh);
    if (known !== undefined && known.priorities === this.priorities) return known.member;
    const member = internMember(nh.address, nh.label, this.chooseEncap(nh.encapsulations)!);
    if (Object.isFrozen(nh)) membersByNextHop.set(nh, { priorities: this.priorities, member });
    return member;
  }

  private singleSlot(m: Member): (Member | null)[] {
    if (!Object.isFrozen(m)) return [m];
    let slots = singleSlots.get(m);
    if (slots === undefined) singleSlots.set(m, (slots = Object.freeze([m]) as (Member | null)[]));
    return slots;
  }

  /** Forward flows of the route: kept on a surviving member's (new) slot, re-hashed with their stored fields otherwise. */
  private reevaluateFlows(entry: RouteEntry, remap: Int16Array): void {
    const t = this.o.table;
    const stage0Forward = FLAG_USED;
    for (let i = 0; i < t.slotCount; i++) {
      if ((t.flags[i] & (FLAG_USED | FLAG_REVERSE)) !== stage0Forward || t.target[i] !== entry.id) continue;
      if (((t.key(i, 0) >>> 8) & 1) !== 0) continue;
      const s = t.slot[i];
      if (s === NO_SLOT) continue;
      const mapped = s < remap.length ? remap[s] : -1;
      if (mapped === s) continue;
      if (mapped >= 0) { t.slot[i] = mapped; continue; }
      const k3 = t.key(i, 3);
      ecmpHash(this.hash, this.o.hashRouterId, t.hashMask[i], t.key(i, 1), t.key(i, 2), t.key(i, 0) & 255, k3 >>> 16, k3 & 0xffff);
      const slot = this.chooseSlot(entry, this.hash);
      t.slot[i] = slot < 0 ? NO_SLOT : slot;
      if (slot >= 0) withSlotCounters(entry).slotFlows[slot]++;
      this.o.tallies.rehashed++;
    }
  }
}
