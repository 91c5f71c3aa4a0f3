/** Builders for test paths: an agent's XMPP path and a BGP peer's path with sensible defaults. */
import { makePath, type AsPathSegment, type Path, type PathAttributes, type PeerRef } from '../../src/rib/path.ts';

/** An AS_PATH of one AS_SEQUENCE (none when empty). */
export function seq(...asns: number[]): AsPathSegment[] {
  return asns.length === 0 ? [] : [{ type: 'sequence', asns }];
}

export function agent(n: number): PeerRef {
  return { kind: 'xmpp', name: `compute-${n}`, address: `127.0.20.${n}` };
}

export function bgpPeer(n: number, extra: Partial<PeerRef> = {}): PeerRef {
  return { kind: 'bgp', name: `gw-${n}`, address: `127.0.30.${n}`, asn: 64512, isIbgp: true, ...extra };
}

/** An agent's path for `prefix`: next hop = the compute's address, RD = `<address>:3`, label 16 + n. */
export function agentPath(n: number, attrs: Partial<PathAttributes> = {}, prefix = '30.30.30.100/32'): Path {
  const peer = agent(n);
  return makePath({
    peer,
    rd: `${peer.address}:3`,
    prefix,
    label: 16 + n,
    nextHop: peer.address,
    attrs: { localPref: 200, encapsulations: ['gre', 'udp'], ...attrs },
  });
}

export function bgpPath(n: number, attrs: Partial<PathAttributes> = {}, peer: PeerRef = bgpPeer(n)): Path {
  return makePath({
    peer,
    rd: `${peer.address}:1`,
    prefix: '30.30.30.100/32',
    label: 100 + n,
    nextHop: peer.address,
    attrs: { localPref: 100, origin: 'igp', encapsulations: ['gre'], ...attrs },
  });
}
