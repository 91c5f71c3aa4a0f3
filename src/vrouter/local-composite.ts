// The local-ECMP composite (docs/protocol.md §7.1, §7.2): one MPLS label standing for several local
// interfaces that carry the same address (the VIP). Its slots are keyed by interface name and keep their
// index across updates (docs/protocol.md §7.3). Owns the composites of one vRouter and their configuration;
// not the packets that arrive with their label (forwarding.ts) nor their expansion into a route's
// composite next-hop (composite-nh.ts).
import { MAX_ECMP_MEMBERS } from '../net/ecmp.ts';
import { reorderSlots } from './composite-slots.ts';
import { localLabelProblem, type InterfaceTable } from './interfaces.ts';
import { parsePrefix } from './vrf-fib.ts';
import { MAX_VRFS, type VrfTable } from './vrfs.ts';

export interface CompositeSlot { readonly key: string }

export interface LocalComposite {
  readonly label: number;
  vrf: string;
  vrfId: number;
  prefix: string;
  net: number;
  plen: number;
  /** the key of a slot is the interface name */
  slots: (CompositeSlot | null)[];
  active: Uint8Array;
  activeList: Int16Array;
  activeCount: number;
  /** flows placed on each slot by packets that arrived with the composite label */
  slotFlows: Float64Array;
}

export interface LocalCompositeView {
  label: number;
  prefix: string;
  slots: { index: number; empty: boolean; interface?: string; active?: boolean; flows: number }[];
}

/** What is wrong with the interface list of a composite, or undefined. */
export function memberListProblem(names: unknown): string | undefined {
  if (!Array.isArray(names)) return 'interfaces is not a list';
  if (names.length === 0) return 'needs at least one interface (remove the composite instead)';
  for (const [i, n] of names.entries()) {
    if (typeof n !== 'string' || n.length === 0) return `interfaces[${i}] must be a non-empty string`;
  }
  if (new Set(names).size > MAX_ECMP_MEMBERS) return `more than ${MAX_ECMP_MEMBERS} interfaces`;
  return undefined;
}

export function newLocalComposite(label: number, vrf: string, vrfId: number, prefix: { text: string; net: number; plen: number }): LocalComposite {
  return {
    label, vrf, vrfId, prefix: prefix.text, net: prefix.net, plen: prefix.plen, slots: [], active: new Uint8Array(MAX_ECMP_MEMBERS), activeList: new Int16Array(MAX_ECMP_MEMBERS),
    activeCount: 0, slotFlows: new Float64Array(MAX_ECMP_MEMBERS),
  };
}

/** Places the new member list so that surviving interfaces keep their slot; counters of changed slots restart. */
export function placeMembers(c: LocalComposite, names: readonly string[]): void {
  const before = c.slots;
  c.slots = reorderSlots(before, names.map((key) => ({ key })));
  for (let i = 0; i < MAX_ECMP_MEMBERS; i++) {
    if ((before[i]?.key ?? null) !== (c.slots[i]?.key ?? null)) c.slotFlows[i] = 0;
  }
}

/** Recomputes which slots can take traffic: those whose interface exists on the compute. */
export function markActive(c: LocalComposite, present: (name: string) => boolean): void {
  c.active.fill(0);
  c.activeCount = 0;
  c.slots.forEach((s, i) => {
    if (s !== null && present(s.key)) {
      c.active[i] = 1;
      c.activeList[c.activeCount++] = i;
    }
  });
}

export function describeLocalComposite(c: LocalComposite): string {
  const slots = c.slots.map((s, i) => (s === null ? `[${i}] empty` : `[${i}] ${s.key}${c.active[i] === 1 ? '' : ' (absent)'}`));
  return `local composite label ${c.label} for ${c.prefix}: ${c.slots.length} slots, ${c.activeCount} active: ${slots.join('; ')}`;
}

export function viewLocalComposite(c: LocalComposite): LocalCompositeView {
  return {
    label: c.label,
    prefix: c.prefix,
    slots: c.slots.map((s, index) => (s === null
      ? { index, empty: true, flows: c.slotFlows[index] }
      : { index, empty: false, interface: s.key, active: c.active[index] === 1, flows: c.slotFlows[index] })),
  };
}

/** The local composites of one vRouter, by label. */
export class LocalComposites {
  private readonly byLabel = new Map<number, LocalComposite>();

  get(label: number): LocalComposite | undefined {
    return this.byLabel.get(label);
  }

  values(): IterableIterator<LocalComposite> {
    return this.byLabel.values();
  }

  /**
   * docs/protocol.md §7.2: creates or updates the composite of `label`. Interfaces keep their slot across
   * updates; a name not (yet) present takes a slot that stays inactive until it appears (a warning says so).
   * Activity is recomputed by the caller (`markActive`) together with the routes that expand the composite.
   */
  configure(
    label: number, vrf: string, prefix: string, interfaceNames: string[], interfaces: InterfaceTable, vrfs: VrfTable<unknown, unknown>,
  ): { error: string } | { warnings: string[] } {
    const labelProblem = localLabelProblem(label);
    if (labelProblem !== undefined) return { error: `local composite ${labelProblem}` };
    const owner = interfaces.byLabel.get(label);
    if (owner !== undefined) return { error: `local composite label ${label}: already used by interface ${owner.spec.name}` };
    if (typeof vrf !== 'string' || vrf.length === 0) return { error: `local composite label ${label}: vrf must be a non-empty string` };
    if (!vrfs.available(vrf)) return { error: `local composite label ${label}: no room for another VRF (${MAX_VRFS})` };
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') return { error: `local composite label ${label}: ${parsed}` };
    const problem = memberListProblem(interfaceNames);
    if (problem !== undefined) return { error: `local composite label ${label}: ${problem}` };
    const vrfId = vrfs.id(vrf);
    let c = this.byLabel.get(label);
    if (c === undefined) {
      c = newLocalComposite(label, vrf, vrfId, parsed);
      this.byLabel.set(label, c);
    }
    c.vrf = vrf;
    c.vrfId = vrfId;
    c.prefix = parsed.text;
    c.net = parsed.net;
    c.plen = parsed.plen;
    placeMembers(c, interfaceNames);
    const warnings = [...new Set(interfaceNames)].filter((n) => !interfaces.byName.has(n)).map((n) => `interface ${n} is not present (its slot stays inactive)`);
    return { warnings };
  }

  delete(label: number): boolean {
    return this.byLabel.delete(label);
  }

  /** After interfaces come or go: a slot is active while its interface exists. */
  markActive(present: (name: string) => boolean): void {
    for (const c of this.byLabel.values()) markActive(c, present);
  }

  list(): (LocalCompositeView & { vrf: string })[] {
    return [...this.byLabel.values()].map((c) => ({ vrf: c.vrf, ...viewLocalComposite(c) }));
  }
}
