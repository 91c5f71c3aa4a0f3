// What the control node keeps per BGP neighbour besides the session itself (../bgp/peer.ts): its configured
// families, its RT-constraint wishes, loop counts and export backlog, shared by the export side
// (./bgp-exporter.ts) and the import side (./bgp-importer.ts). It holds state only; it decides nothing.
import type { FamilyName } from '../bgp/families.ts';
import type { BgpPeer } from '../bgp/peer.ts';
import type { PeerRef, VpnExportEntry } from '../rib/index.ts';

/** Peers whose exports are marked on the RIB's routes (one bit each, ./bgp-exporter.ts); the rest keep a table. */
export const EXPORT_MARK_PEERS = 30;

/** RFC 4684: a membership NLRI covering the whole target (origin AS + 8 bytes) is 96 bits long. */
export const FULL_TARGET_BITS = 96;

export interface PeerRecord {
  readonly peer: BgpPeer;
  readonly configuredFamilies: readonly FamilyName[];
  /** RT-constraint NLRI by which the peer asked for every target (default route, or a partial target). */
  readonly wantsAll: Set<string>;
  remoteRouterId: string | undefined;
  /** VPN routes refused by the loop checks (own originator id, own cluster id, own AS in the path). */
  loopsRejected: number;
  /** While the peer does not keep up (its socket holds too much unsent): the routes to decide once it drains. */
  backlog: Set<VpnExportEntry> | null;
  /** This peer's bit in the RIB routes' export marks; 0: its Adj-RIB-Out keeps its own table. */
  readonly exportBit: number;
  /** How many routes carry this peer's bit (its Adj-RIB-Out size). */
  exportedCount: number;
}

/** How the RIB names a BGP neighbour's paths. */
export function peerRef(record: PeerRecord): PeerRef {
  const { peer } = record;
  return {
    kind: 'bgp', name: peer.name, address: peer.address, asn: peer.asn, isIbgp: peer.isIbgp,
    ...(record.remoteRouterId !== undefined && { routerId: record.remoteRouterId }),
  };
}
