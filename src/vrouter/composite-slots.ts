// The slot rules of an ECMP composite next-hop, as pure functions: slot-stable member lists
// (docs/protocol.md §7.3, CompositeNHKey::Reorder) and the member pick rule (docs/protocol.md §7.4,
// PickMember). Used by the route composites (composite-nh.ts, which owns entries, rebuilds and flow
// re-evaluation) and by the local composites (local-composite.ts).
import { mod64 } from './ecmp-hash.ts';

export const MAX_ECMP_MEMBERS = 128;

export interface Keyed { readonly key: string }

/**
 * Places `next` into slots so that members already in `prev` keep their index, members gone from `next`
 * leave a hole (null), and each new member fills the first hole or is appended. Duplicate keys in `next`
 * are merged (the first occurrence wins).
 */
export function reorderSlots<T extends Keyed>(prev: readonly (Keyed | null)[], next: readonly T[]): (T | null)[] {
  const byKey = new Map<string, T>();
  for (const m of next) if (!byKey.has(m.key)) byKey.set(m.key, m);
  const slots: (T | null)[] = prev.map((m) => (m !== null && byKey.has(m.key) ? byKey.get(m.key)! : null));
  const placed = new Set<string>();
  for (const m of slots) if (m !== null) placed.add(m.key);
  let hole = slots.indexOf(null);
  for (const m of byKey.values()) {
    if (placed.has(m.key)) continue;
    placed.add(m.key);
    if (hole >= 0) {
      slots[hole] = m;
      hole = slots.indexOf(null, hole + 1);
    } else {
      slots.push(m);
    }
  }
  return slots;
}

/**
 * Contrail's member choice: slot hash % slots if that slot is active, else active[hash % activeCount].
 * Returns -1 when no slot is active.
 */
export function pickSlot(hashHi: number, hashLo: number, slotCount: number, active: Uint8Array, activeList: Int16Array, activeCount: number): number {
  if (slotCount === 0 || activeCount === 0) return -1;
  const i = mod64(hashHi, hashLo, slotCount);
  if (active[i] === 1) return i;
  return activeList[mod64(hashHi, hashLo, activeCount)];
}
