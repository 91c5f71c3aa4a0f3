// Packet, forwarding outcome and trace types shared by the data-plane modules.


export interface Packet {
  src: string;
  dst: string;
  /** 6 tcp, 17 udp */
  proto: number;
  sport: number;
  dport: number;
  bytes?: number;
}

export type DropReason =
  | 'unknown-interface'
  | 'unknown-vrf'
  | 'no-route'
  | 'no-active-member'
  | 'unknown-label'
  | 'unknown-compute'
  | 'not-for-interface'
  | 'port-map-drop'
  | 'flow-table-full'
  | 'bad-packet'
  | 'underlay-timeout';

export interface MemberChoice {
  slot: number;
  address: string;
  label: number;
  local: boolean;
  /** how the slot was chosen: an existing flow's stored slot, the hash rule, or the Maglev table */
  by: 'flow' | 'hash' | 'maglev';
}

export interface NatRewrite {
  kind: 'dnat' | 'snat';
  from: { ip: string; port: number };
  to: { ip: string; port: number };
}

export interface ForwardResult {
  delivered: boolean;
  /** compute where the packet ended (delivered or dropped) */
  node: string;
  /** workload interface that received it */
  interface?: string;
  /** the packet as the receiving workload saw it (after NAT) */
  packet?: Packet;
  drop?: { reason: DropReason; detail: string };
  /** ECMP choice made on the sending compute, when the route was a composite */
  member?: MemberChoice;
  nat?: NatRewrite[];
  /** computes traversed, sender first */
  hops: string[];
  /** the receiving workload's automatic reply, when echo is on */
  reply?: ForwardResult;
  /**
   * Delivered: whether the receiving compute already held a flow entry for the connection. A packet
   * that arrives mid-connection at a compute with none (its gateway re-hashed it) is a broken connection.
   */
  flow?: 'new' | 'existing';
  /** delivered to a haproxy (docs/protocol.md §8.4): its connection to the server */
  proxied?: ProxiedLeg;
  /** handed to an asynchronous underlay: the outcome is reported by the underlay, not here */
  inFlight?: boolean;
  /** the asynchronous underlay's handle for that outcome (see Underlay.settle) */
  ticket?: string;
}

export type TraceStepKind =
  | 'interface' | 'flow' | 'route' | 'composite' | 'slot' | 'label' | 'tunnel' | 'remote'
  | 'mpls' | 'nat' | 'deliver' | 'reply' | 'drop';

export interface TraceStep {
  node: string;
  step: TraceStepKind;
  detail: string;
}

import { ipv4ToInt } from '../net/ipv4.ts';
import type { ProxiedLeg } from './proxy-service.ts';

/** Ports, protocol and size in range (addresses are checked while parsing them). */
export function layer4Valid(p: Packet): boolean {
  const { proto, sport, dport, bytes } = p;
  return (proto >>> 0) === proto && proto <= 255 && (sport >>> 0) === sport && sport <= 65535
    && (dport >>> 0) === dport && dport <= 65535 && (bytes === undefined || (Number.isFinite(bytes) && bytes >= 0));
}

/** Validates the parts of a packet the data plane relies on; returns why it is unusable, or undefined. */
export function packetProblem(p: Packet): string | undefined {
  if (p === null || typeof p !== 'object') return 'packet is not an object';
  if (ipv4ToInt(p.src) < 0) return `source ${String(p.src)} is not an IPv4 address`;
  if (ipv4ToInt(p.dst) < 0) return `destination ${String(p.dst)} is not an IPv4 address`;
  if (!Number.isInteger(p.proto) || p.proto < 0 || p.proto > 255) return `protocol ${String(p.proto)} is not 0..255`;
  if (!Number.isInteger(p.sport) || p.sport < 0 || p.sport > 65535) return `source port ${String(p.sport)} is not 0..65535`;
  if (!Number.isInteger(p.dport) || p.dport < 0 || p.dport > 65535) return `destination port ${String(p.dport)} is not 0..65535`;
  if (p.bytes !== undefined && (!Number.isFinite(p.bytes) || p.bytes < 0)) return `bytes ${String(p.bytes)} is not a non-negative number`;
  return undefined;
}

/** A packet's 5-tuple as traces show it. */
export function formatPacket(p: Packet): string {
  return `${p.src}:${p.sport} -> ${p.dst}:${p.dport} proto ${p.proto}`;
}
