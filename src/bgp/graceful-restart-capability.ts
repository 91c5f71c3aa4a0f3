// The graceful restart capabilities of an OPEN: GR (code 64, RFC 4724 §3) and long-lived GR (code 71,
// RFC 9494 §3), their values as bytes and back, and what two speakers' capabilities agree on. Owns no
// timer and no route: the peer (./peer.ts) says which families survive a session's end, the control node
// keeps and sweeps the paths (docs/protocol.md §6.7).
import { type FamilyName, familyCode, familyName } from './families.ts';

export const GR_CAPABILITY_CODE = 64;
export const LLGR_CAPABILITY_CODE = 71;

/** RFC 4724 §3: the Restart Time field is 12 bits (seconds). */
export const MAX_RESTART_TIME = 0xfff;
/** RFC 9494 §3: the Long-lived Stale Time field is 24 bits (seconds). */
export const MAX_LONG_LIVED_STALE_TIME = 0xffffff;

const RESTARTING_BIT = 0x8000;
const NOTIFICATION_BIT = 0x4000;
const FORWARDING_BIT = 0x80;

export interface GracefulRestartFamily {
  afi: number;
  safi: number;
  /** F bit: the sender kept its forwarding state for this family across the restart. */
  forwardingState: boolean;
}

/** Capability 64. */
export interface GracefulRestartCapability {
  /** R bit: the sender has restarted; its peer must not wait for its End-of-RIB before sending its own. */
  restarting: boolean;
  /** N bit (RFC 8538): a NOTIFICATION other than Hard Reset also starts graceful restart. */
  notification: boolean;
  /** Seconds the sender asks its peer to keep its routes after the session drops (0..4095). */
  restartTime: number;
  families: GracefulRestartFamily[];
}

export interface LongLivedFamily extends GracefulRestartFamily {
  /** Seconds LLGR-stale routes are kept after the restart time (0..16777215). */
  staleTime: number;
}

/** Capability 71. */
export interface LongLivedGracefulRestartCapability {
  families: LongLivedFamily[];
}

function checkRange(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${value} out of 0..${max}`);
}

export function encodeGracefulRestart(cap: GracefulRestartCapability): Buffer {
  checkRange(cap.restartTime, MAX_RESTART_TIME, 'graceful restart time');
  const b = Buffer.alloc(2 + cap.families.length * 4);
  b.writeUInt16BE((cap.restarting ? RESTARTING_BIT : 0) | (cap.notification ? NOTIFICATION_BIT : 0) | cap.restartTime, 0);
  cap.families.forEach((f, i) => {
    b.writeUInt16BE(f.afi, 2 + i * 4);
    b[4 + i * 4] = f.safi;
    b[5 + i * 4] = f.forwardingState ? FORWARDING_BIT : 0;
  });
  return b;
}

/** Undefined when the value is not 2 + 4n bytes (such a capability is ignored, not negotiated). */
export function decodeGracefulRestart(value: Buffer): GracefulRestartCapability | undefined {
  if (value.length < 2 || (value.length - 2) % 4 !== 0) return undefined;
  const head = value.readUInt16BE(0);
  const families: GracefulRestartFamily[] = [];
  for (let off = 2; off < value.length; off += 4) {
    families.push({ afi: value.readUInt16BE(off), safi: value[off + 2]!, forwardingState: (value[off + 3]! & FORWARDING_BIT) !== 0 });
  }
  return {
    restarting: (head & RESTARTING_BIT) !== 0, notification: (head & NOTIFICATION_BIT) !== 0, restartTime: head & MAX_RESTART_TIME, families,
  };
}

export function encodeLongLivedGracefulRestart(cap: LongLivedGracefulRestartCapability): Buffer {
  const b = Buffer.alloc(cap.families.length * 7);
  cap.families.forEach((f, i) => {
    checkRange(f.staleTime, MAX_LONG_LIVED_STALE_TIME, 'long-lived stale time');
    const off = i * 7;
    b.writeUInt16BE(f.afi, off);
    b[off + 2] = f.safi;
    b[off + 3] = f.forwardingState ? FORWARDING_BIT : 0;
    b.writeUIntBE(f.staleTime, off + 4, 3);
  });
  return b;
}

/** Undefined when the value is not 7n bytes. */
export function decodeLongLivedGracefulRestart(value: Buffer): LongLivedGracefulRestartCapability | undefined {
  if (value.length % 7 !== 0) return undefined;
  const families: LongLivedFamily[] = [];
  for (let off = 0; off < value.length; off += 7) {
    families.push({
      afi: value.readUInt16BE(off), safi: value[off + 2]!, forwardingState: (value[off + 3]! & FORWARDING_BIT) !== 0,
      staleTime: value.readUIntBE(off + 4, 3),
    });
  }
  return { families };
}

/** What this speaker offers: GR for `families`, and LLGR when a long-lived stale time is set. */
export interface LocalGracefulRestart {
  restartTime: number;
  /** 0 or absent: no LLGR capability. */
  longLivedStaleTime?: number;
}

export function localCapabilities(
  local: LocalGracefulRestart, families: readonly FamilyName[], restarting: boolean,
): { gracefulRestart: GracefulRestartCapability; longLivedGracefulRestart?: LongLivedGracefulRestartCapability } {
  // F set: the agents keep forwarding across a control node's restart (docs/protocol.md §7.3).
  const gr = families.map((f) => ({ ...familyCode(f), forwardingState: true }));
  const llgr = local.longLivedStaleTime ? families.map((f) => ({ ...familyCode(f), forwardingState: true, staleTime: local.longLivedStaleTime! })) : [];
  return {
    gracefulRestart: { restarting, notification: false, restartTime: local.restartTime, families: gr },
    ...(llgr.length > 0 && { longLivedGracefulRestart: { families: llgr } }),
  };
}

/** What the peer's capabilities promise us, as a helper, for the families of the session. */
export interface PeerGracefulRestart {
  /** Seconds to keep the peer's routes once its session drops. */
  restartTime: number;
  /** Families whose routes survive the session's end. */
  families: FamilyName[];
  /** Families whose forwarding state the peer kept (in the OPEN of a re-established session). */
  forwarding: FamilyName[];
  /** Long-lived stale time per family, seconds (only families the peer listed in capability 71). */
  longLived: Partial<Record<FamilyName, number>>;
  restarting: boolean;
}

/**
 * GR applies to a session when both OPENs carried capability 64 (RFC 4724 §3); LLGR when both carried 71
 * too (RFC 9494 §4.2). Families: those of the session the peer listed.
 */
export function negotiateGracefulRestart(
  ours: { gracefulRestart?: GracefulRestartCapability; longLivedGracefulRestart?: LongLivedGracefulRestartCapability },
  theirs: { gracefulRestart?: GracefulRestartCapability; longLivedGracefulRestart?: LongLivedGracefulRestartCapability },
  sessionFamilies: readonly FamilyName[],
): PeerGracefulRestart | undefined {
  if (!ours.gracefulRestart || !theirs.gracefulRestart) return undefined;
  const named = (list: readonly GracefulRestartFamily[]) =>
    list.map((f) => familyName(f.afi, f.safi)).filter((f): f is FamilyName => f !== undefined && sessionFamilies.includes(f));
  const longLived: Partial<Record<FamilyName, number>> = {};
  if (ours.longLivedGracefulRestart) {
    for (const f of theirs.longLivedGracefulRestart?.families ?? []) {
      const name = familyName(f.afi, f.safi);
      if (name !== undefined && sessionFamilies.includes(name) && f.staleTime > 0) longLived[name] = f.staleTime;
    }
  }
  return {
    restartTime: theirs.gracefulRestart.restartTime,
    families: named(theirs.gracefulRestart.families),
    forwarding: named(theirs.gracefulRestart.families.filter((f) => f.forwardingState)),
    longLived,
    restarting: theirs.gracefulRestart.restarting,
  };
}
