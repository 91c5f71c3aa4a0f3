// Generates the topology the scale bench (and `ecmpsim` users rehearsing a big cluster) runs: one control
// node, N computes each hosting one workload in one network, and a native LB whose pool has M members on
// the first M workloads. Addresses come from the bench's own loopback range (127.8.0.0/13), so a run
// never collides with the shipped topologies. Not here: starting or measuring anything (./scale-run.ts).
import type { RawTopology } from '../../../src/topology/raw-topology.ts';

export const SCALE_NETWORK = 'default-domain:scale:vn';
export const SCALE_VIP = '10.8.255.250';
export const SCALE_LISTENER_PORT = 80;

export interface ScaleTopologyOptions {
  computes: number;
  members: number;
  /** Control node address (default 127.8.0.1). */
  controlAddress?: string;
  /** Second octet of the first compute address (default 9: 127.9.0.1 onwards); tests take another range than the bench. */
  computeOctet?: number;
  xmppPort?: number;
  bgpPort?: number;
  holdTimeSeconds?: number;
}

export function computeAddress(n: number, octet = 9): string {
  // 127.9.0.1 … 127.15.x.y: 254 per /24, 7 × 256 × 254 ≈ 455k addresses.
  const third = Math.floor(n / 254);
  return `127.${octet + Math.floor(third / 256)}.${third % 256}.${(n % 254) + 1}`;
}

/** Workload n's address in 10.8.0.0/16 (host part n + 16: the IPAM keeps the first ones; 10.8.255.250 is the VIP). */
export function workloadAddress(n: number): string {
  const host = n + 16;
  return `10.8.${host >> 8}.${host & 255}`;
}

export function computeName(n: number): string {
  return `compute-${n + 1}`;
}

export function workloadName(n: number): string {
  return `w-${n + 1}`;
}

export function memberAddresses(topologyMembers: number, extra = 0): string[] {
  return Array.from({ length: topologyMembers + extra }, (_, i) => workloadAddress(i));
}

export function scaleTopology(o: ScaleTopologyOptions): RawTopology {
  if (!Number.isInteger(o.computes) || o.computes < 1 || o.computes > 60_000) throw new RangeError(`computes must be 1…60000, got ${o.computes}`);
  if (!Number.isInteger(o.members) || o.members < 1 || o.members > Math.min(o.computes, 128)) {
    throw new RangeError(`members must be 1…min(computes, 128), got ${o.members}`);
  }
  const control = { name: 'control-1', address: o.controlAddress ?? '127.8.0.1', xmppPort: o.xmppPort ?? 5269, bgpPort: o.bgpPort ?? 1179 };
  const computes = Array.from({ length: o.computes }, (_, n) => ({ name: computeName(n), address: computeAddress(n, o.computeOctet) }));
  const workloads = Array.from({ length: o.computes }, (_, n) => ({
    name: workloadName(n), compute: computeName(n), network: SCALE_NETWORK, address: workloadAddress(n),
  }));
  return {
    name: `scale-${o.computes}`,
    description: `${o.computes} computes with one workload each, a ${o.members}-member native LB`,
    ...(o.holdTimeSeconds === undefined ? {} : { holdTimeSeconds: o.holdTimeSeconds }),
    controlNodes: [control],
    computes,
    networks: [{ name: SCALE_NETWORK, subnets: ['10.8.0.0/16'] }],
    workloads,
    loadBalancers: [{
      name: 'lb-scale', provider: 'native', network: SCALE_NETWORK, vip: SCALE_VIP,
      listeners: [{ name: 'l80', protocol: 'TCP', port: SCALE_LISTENER_PORT, pool: {
        name: 'pool-scale', algorithm: 'ROUND_ROBIN',
        members: Array.from({ length: o.members }, (_, i) => ({ name: `m-${i + 1}`, address: workloadAddress(i), port: 8080 })),
      } }],
    }],
  };
}
