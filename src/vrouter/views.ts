// Introspection of one vRouter: the view types the agent API, the CLI and scenarios read (FIB with each
// route's composite slots, flows, counters) and the builders that produce them from the live state.
// Read-only: nothing here changes a table or a counter.
import type { VrouterTallies } from './counters.ts';
import type { CompositeNextHops, RouteEntry, RouteTables } from './composite-nh.ts';
import { maskFields } from './ecmp-hash.ts';
import { FLAG_DNAT, FLAG_ECMP, FLAG_REVERSE, FLAG_SNAT, FLAG_USED, NO_SLOT, type FlowTable } from './flow-table.ts';
import { viewLocalComposite, type LocalCompositeView, type LocalComposites } from './local-composite.ts';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.ts';
import type { DropReason } from './packet.ts';
import type { HashField } from '../net/hash-fields.ts';
import type { ParsedPrefix } from './vrf-fib.ts';

export interface SlotView {
  index: number;
  empty: boolean;
  address?: string;
  label?: number;
  local?: boolean;
  interface?: string;
  /** the label of this compute's local composite the slot was expanded from (docs/protocol.md §7.3) */
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

/**
 * Each VRF (or the one named) with routes or local composites, routes sorted by prefix; with `prefix`, only that
 * route. `encapsulation`: the underlay's own, when it carries every tunnel one way (see Underlay.encapsulation).
 */
export function fibView(
  vrfs: RouteTables, localComposites: LocalComposites, vrf?: string, encapsulation?: string, prefix?: ParsedPrefix,
): VrfView[] {
  const out: VrfView[] = [];
  for (const [id, name] of vrfs.entries()) {
    if (vrf !== undefined && vrf !== name) continue;
    const fib = vrfs.fib(id);
    if (prefix !== undefined) {
      // one route, looked up: a poll of one prefix on thousands of agents must not build every FIB's view
      const entry = fib?.get(prefix.net, prefix.plen);
      if (entry !== undefined) out.push({ vrf: name, routes: [routeView(entry, encapsulation)] });
      continue;
    }
    const composites = [...localComposites.values()].filter((c) => c.vrfId === id).sort((a, b) => a.label - b.label);
    if ((fib === undefined || fib.size === 0) && composites.length === 0) continue;
    const routes = [...(fib?.routes() ?? [])].map((e) => routeView(e, encapsulation)).sort((a, b) => a.prefix.localeCompare(b.prefix));
    const view: VrfView = { vrf: name, routes };
    if (composites.length > 0) view.localComposites = composites.map(viewLocalComposite);
    out.push(view);
  }
  return out;
}

export function routeView(e: RouteEntry, encapsulation?: string): RouteView {
  const lb = e.control?.lbMask;
  return {
    prefix: e.prefix,
    source: e.source,
    kind: e.ecmp ? 'ecmp' : e.slots[0]?.local === true ? 'local' : 'tunnel',
    loadBalanceFields: lb === undefined ? null : maskFields(lb),
    maglev: e.maglevTable.length > 0,
    maglevTableSize: e.maglevTable.length,
    slots: e.slots.map((m, index) => {
      const counters = { flows: e.slotFlows[index] ?? 0, packets: e.slotPackets[index] ?? 0, bytes: e.slotBytes[index] ?? 0 };
      if (m === null) return { index, empty: true, ...counters };
      const view: SlotView = {
        index, empty: false, address: m.address, label: m.label, local: m.local, active: e.active[index] === 1,
        encapsulation: m.local ? m.encap : (encapsulation ?? m.encap), ...counters,
      };
      if (m.ifName !== undefined) view.interface = m.ifName;
      if (m.composite >= 0) view.localComposite = m.composite;
      return view;
    }),
  };
}

/** Flow entries in table order, at most `filter.limit` (default 1000). */
export function flowViews(
  t: FlowTable, vrfs: RouteTables, nexthops: CompositeNextHops, now: number, filter: FlowFilter = {},
): FlowView[] {
  const limit = filter.limit ?? 1000;
  const ip = filter.ip === undefined ? -1 : ipv4ToInt(filter.ip);
  const out: FlowView[] = [];
  for (let i = 0; i < t.slotCount && out.length < limit; i++) {
    const flags = t.flags[i];
    if ((flags & FLAG_USED) === 0) continue;
    const reverse = (flags & FLAG_REVERSE) !== 0;
    if (filter.direction !== undefined && (filter.direction === 'reverse') !== reverse) continue;
    const vrf = vrfs.nameOf(t.key(i, 0) >>> 9)!;
    if (filter.vrf !== undefined && filter.vrf !== vrf) continue;
    if (ip >= 0 && t.key(i, 1) !== ip && t.key(i, 2) !== ip) continue;
    const stage = (t.key(i, 0) >>> 8) & 1;
    const slot = t.slot[i] === NO_SLOT ? null : t.slot[i];
    const route = stage === 0 && !reverse ? nexthops.route(t.target[i]) : undefined;
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

export function countersView(node: string, s: VrouterTallies, table: FlowTable, routeCount: number): VrouterCounters {
  return {
    node,
    flows: { entries: table.size, capacity: table.capacity, created: s.created, aged: s.aged, rehashed: s.rehashed, memoryBytes: table.memoryBytes() },
    packets: { fromWorkloads: s.fromWorkloads, fromFabric: s.fromFabric, tunnelled: s.tunnelled, delivered: s.delivered, dropped: s.dropped },
    drops: Object.fromEntries(s.drops),
    recentDrops: [...s.recentDrops],
    routes: { count: routeCount, rejectedUpdates: s.rejectedUpdates, ignoredNextHops: s.ignoredNextHops, lastRejection: s.lastRejection },
  };
}
