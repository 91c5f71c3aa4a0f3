// The ECMP composite next-hop of every route in one vRouter's FIBs (docs/protocol.md §7.3, §7.4): the route
// entry, its members (tunnels to other computes, local interfaces, this compute's local composites expanded
// into their interfaces), the slot-stable placement on every rebuild, the member choice for a flow's hash
// and the re-evaluation of the flows whose member left. The slot rules themselves (Reorder, PickMember) are
// in composite-slots.ts; packets and the creation of flows are in forwarding.ts.
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

export interface RemoteNextHop { address: string; label: number; encapsulations: string[] }

/** Encapsulations known to the vRouter, in the order used when the configured priorities name none of them. */
export const ENCAP_FALLBACK_ORDER = ['gre', 'udp', 'vxlan', 'native'];

export interface Member {
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

export interface RouteEntry {
  /** flows name their route by id: it outlives a rebuild, and a deleted route is simply not found */
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

/** `encapsulation`: the underlay's own, when it carries every tunnel one way (Underlay.encapsulation). */
export function describeMember(m: Member | null, index: number, encapsulation?: string): string {
  if (m === null) return `[${index}] empty`;
  const from = m.composite >= 0 ? ` of local composite ${m.composite}` : '';
  const unresolved = m.ifName === undefined ? `local${from}, label unresolved` : `local ${m.ifName}${from}, interface absent`;
  const where = m.local ? (m.ifId >= 0 ? `local ${m.ifName}${from}` : unresolved) : `${encapsulation ?? m.encap} tunnel`;
  return `[${index}] ${m.address} label ${m.label} (${where}${m.active ? '' : ', inactive'})`;
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
  vrfs: VrfTable<RouteEntry>;
  interfaces: InterfaceTable;
  localComposites: LocalComposites;
  tallies: VrouterTallies;
}

export class CompositeNextHops {
  private readonly routes = new Map<number, RouteEntry>();
  private nextRouteId = 0;
  private readonly hash = new Uint32Array(2);

  constructor(private readonly o: CompositeNextHopsOptions) {}

  get count(): number { return this.routes.size; }

  route(id: number): RouteEntry | undefined {
    return this.routes.get(id);
  }

  // ---------------------------------------------------------------- inputs: the control node

  setControlRoute(vrf: string, prefix: string, nextHops: RemoteNextHop[], o: { loadBalanceFields?: HashField[]; maglev?: boolean }): ChangeResult {
    const tallies = this.o.tallies;
    if (typeof vrf !== 'string' || vrf.length === 0) return tallies.reject(`route ${String(prefix)}: vrf must be a non-empty string`);
    if (!this.o.vrfs.available(vrf)) return tallies.reject(`route ${String(prefix)}: no room for another VRF (${MAX_VRFS})`);
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return tallies.reject(`route in ${vrf}: ${parsed}`);
    if (!Array.isArray(nextHops)) return tallies.reject(`route ${prefix} in ${vrf}: next-hops is not a list`);
    const warnings: string[] = [];
    const usable: RemoteNextHop[] = [];
    for (const [i, nh] of nextHops.entries()) {
      const why = this.nextHopProblem(nh);
      if (why !== undefined) {
        warnings.push(`next-hop[${i}] ignored: ${why}`);
        tallies.ignoredNextHops++;
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
      this.deleteControlRoute(vrf, prefix);
      return { ok: true, warnings };
    }
    if (usable.length > MAX_ECMP_MEMBERS) {
      warnings.push(`${usable.length} next-hops: only the first ${MAX_ECMP_MEMBERS} are installed`);
      tallies.ignoredNextHops += usable.length - MAX_ECMP_MEMBERS;
      usable.length = MAX_ECMP_MEMBERS;
    }
    const entry = this.entryFor(vrf, parsed.net, parsed.plen, parsed.text);
    entry.control = { nextHops: usable, lbMask, maglev: o.maglev };
    this.rebuild(entry);
    return { ok: true, warnings };
  }

  deleteControlRoute(vrf: string, prefix: string): ChangeResult {
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return this.o.tallies.reject(`route delete in ${String(vrf)}: ${parsed}`);
    const vrfId = this.o.vrfs.idOf(vrf);
    const entry = vrfId === undefined ? undefined : this.o.vrfs.fib(vrfId)?.get(parsed.net, parsed.plen);
    if (entry === undefined || entry.control === undefined) return { ok: true, warnings: [`${prefix} in ${vrf}: no control-node route to delete`] };
    entry.control = undefined;
    this.rebuild(entry);
    return { ok: true, warnings: [] };
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
    if (!entry.localIfIds.includes(ifId)) entry.localIfIds.push(ifId);
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
    const { routerId, interfaces } = this.o;
    if (entry.control !== undefined) {
      const members: Member[] = [];
      for (const nh of entry.control.nextHops) {
        if (nh.address !== routerId) {
          members.push({
            key: `${nh.address}|${nh.label}`, address: nh.address, label: nh.label, local: false, ifId: -1, ifName: undefined,
            composite: -1, active: true, encap: this.chooseEncap(nh.encapsulations)!,
          });
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
    entry.slots = entry.ecmp ? reorderSlots(oldSlots, members) : [members[0]];
    entry.activeCount = 0;
    entry.active.fill(0);
    entry.slots.forEach((m, i) => {
      if (m !== null && m.active) {
        entry.active[i] = 1;
        entry.activeList[entry.activeCount++] = i;
      }
    });
    entry.maglev = entry.control?.maglev ?? this.o.maglevDefault;
    const activeMembers = entry.slots.flatMap((m, slot) => (m !== null && m.active ? [{ slot, key: m.key }] : []));
    // the size follows N but keeps the old table's size where it still fits (maglev.ts: a size change reshuffles)
    const previousSize = entry.maglevTable.length > 0 ? entry.maglevTable.length : undefined;
    entry.maglevTable = entry.maglev && entry.ecmp && activeMembers.length > 0
      ? buildMaglevTable(activeMembers, maglevTableSize(activeMembers.length, previousSize))
      : new Int16Array(0);

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
      if (slot >= 0) entry.slotFlows[slot]++;
      this.o.tallies.rehashed++;
    }
  }
}
