// The underlay of a compute that runs in its own process: real MPLS-over-UDP datagrams (RFC 7510, UDP
// 6635) between the computes' own 127.x addresses, so computes in different processes reach each other
// the way vRouters reach each other over the fabric.
import { MplsOverUdpUnderlay } from '../vrouter/mpls-udp-underlay.ts';
import type { Underlay } from '../vrouter/underlay.ts';

export interface NodeUnderlay {
  underlay: Underlay;
  /** Resolves once the compute's socket is bound (call after the vRouter registered itself). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function nodeUnderlay(log?: (line: string) => void): NodeUnderlay {
  const underlay = new MplsOverUdpUnderlay({ log });
  return { underlay, ready: () => underlay.ready(), close: () => underlay.close() };
}
