// The members of composite next hops (docs/protocol.md §7.3): remote next hops as the control node sends them,
// the members a composite's slots hold, how a view names one, and the process-wide interning that lets
// thousands of agents' FIBs share one frozen copy of each. The composite itself is ./composite-nh.ts's.

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

/**
 * Remote members and next hops are immutable values that every agent of a process receives alike (the same
 * compute, label and encapsulation): one frozen copy each, so thousands of agents' FIBs share them. Bounded:
 * the caches start over past INTERN_LIMIT entries (old copies stay valid, they are only no longer shared).
 */
export const INTERN_LIMIT = 1 << 18;
const remoteMembers = new Map<string, Member>();
const remoteNextHops = new Map<string, RemoteNextHop>();

export function internMember(address: string, label: number, encap: string): Member {
  const id = `${address}|${label}|${encap}`;
  let m = remoteMembers.get(id);
  if (m === undefined) {
    if (remoteMembers.size >= INTERN_LIMIT) remoteMembers.clear();
    m = Object.freeze({ key: `${address}|${label}`, address, label, local: false, ifId: -1, ifName: undefined, composite: -1, active: true, encap });
    remoteMembers.set(id, m);
  }
  return m;
}

export function internNextHop(address: string, label: number, encapsulations: readonly string[]): RemoteNextHop {
  const id = `${address}|${label}|${encapsulations.join(',')}`;
  let nh = remoteNextHops.get(id);
  if (nh === undefined) {
    if (remoteNextHops.size >= INTERN_LIMIT) remoteNextHops.clear();
    nh = Object.freeze({ address, label, encapsulations: Object.freeze([...encapsulations]) as string[] });
    remoteNextHops.set(id, nh);
  }
  return nh;
}

/** `encapsulation`: the underlay's own, when it carries every tunnel one way (Underlay.encapsulation). */
export function describeMember(m: Member | null, index: number, encapsulation?: string): string {
  if (m === null) return `[${index}] empty`;
  const from = m.composite >= 0 ? ` of local composite ${m.composite}` : '';
  const unresolved = m.ifName === undefined ? `local${from}, label unresolved` : `local ${m.ifName}${from}, interface absent`;
  const where = m.local ? (m.ifId >= 0 ? `local ${m.ifName}${from}` : unresolved) : `${encapsulation ?? m.encap} tunnel`;
  return `[${index}] ${m.address} label ${m.label} (${where}${m.active ? '' : ', inactive'})`;
}

