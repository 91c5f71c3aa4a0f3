// What the feeder sends: N labelled VPNv4 /32s spread over a fixed number of route distinguishers, one
// route target, pre-encoded with src/bgp's codec into UPDATEs that pack as many NLRI as fit 4096 bytes.
// Route i is fully determined by (plan, i), so the monitor can check every received NLRI without a table.
import { MAX_MESSAGE_LENGTH, encodeMessage } from '../../../src/bgp/messages.ts';
import { intToIpv4 } from '../../../src/net/ipv4.ts';
import { defaultPathAttributes, type PathAttributes } from '../../../src/bgp/path-attributes.ts';
import { emptyExtendedCommunities } from '../../../src/bgp/extended-communities.ts';
import type { VpnNlri } from '../../../src/bgp/nlri.ts';
import { MPLS_LABEL_MAX } from '../../../src/net/labels.ts';

export const FEED_ASN = 64512;
export const FEED_ROUTE_TARGET = `target:${FEED_ASN}:8000001`;
/** 20.0.0.0: route i is the /32 of FIRST_PREFIX + i (room for 16M routes). */
export const FIRST_PREFIX = 0x14000000;
/** RD r is `10.1.x.y:1` with x.y = r + 1 (Contrail's `<compute-ip>:<instance-id>` shape, docs/protocol.md §6.2); its next hop is that compute. */
const FIRST_COMPUTE = 0x0a010001;
const INSTANCE_ID = 1;
const LABEL_BASE = 16;
/**
 * One label per route (per-prefix allocation, like a vRouter's label per interface): no two routes share
 * attributes, so a target cannot amortise memory over routes as N grows, and every size measures the same case.
 */
const LABEL_SPREAD = MPLS_LABEL_MAX + 1 - LABEL_BASE;
/** Bytes of one VPNv4 /32 NLRI: length, one label, RD, 4 address bytes. */
const NLRI_BYTES = 1 + 3 + 8 + 4;

export interface FeedPlan {
  readonly routes: number;
  readonly rds: number;
  /** Routes per RD (the last RD may hold fewer). */
  readonly perRd: number;
}

export function feedPlan(routes: number, rds = 100): FeedPlan {
  if (!Number.isInteger(routes) || routes < 1 || routes > 0x1000000) throw new RangeError(`route count ${routes} not in 1..16777216`);
  if (!Number.isInteger(rds) || rds < 1 || rds > 0xfffe) throw new RangeError(`RD count ${rds} not in 1..65534`);
  return { routes, rds: Math.min(rds, routes), perRd: Math.ceil(routes / Math.min(rds, routes)) };
}

/** The compute address (next hop and RD admin field) of the RD that route i belongs to, as a number. */
export function computeOf(plan: FeedPlan, index: number): number {
  return FIRST_COMPUTE + Math.floor(index / plan.perRd);
}

export function labelOf(index: number): number {
  return LABEL_BASE + (index % LABEL_SPREAD);
}

export function feedRoute(plan: FeedPlan, index: number): VpnNlri & { nextHop: string } {
  const compute = intToIpv4(computeOf(plan, index));
  return { rd: `${compute}:${INSTANCE_ID}`, prefix: `${intToIpv4(FIRST_PREFIX + index)}/32`, label: labelOf(index), nextHop: compute };
}

export function feedAttributes(): PathAttributes {
  return defaultPathAttributes({
    localPref: 100,
    extCommunities: { ...emptyExtendedCommunities(), routeTargets: [FEED_ROUTE_TARGET] },
  });
}

/**
 * Checks one received NLRI against the plan: the route index, or -1 when the prefix is not one of ours or its
 * RD, label or next hop differs from what the feeder sent. Reads the RD straight from the message bytes.
 */
export function matchRoute(plan: FeedPlan, bytes: Buffer, rdOffset: number, address: number, bits: number, label: number, nextHop: number): number {
  const index = address - FIRST_PREFIX;
  if (bits !== 32 || index < 0 || index >= plan.routes) return -1;
  const compute = computeOf(plan, index);
  if (bytes.readUInt16BE(rdOffset) !== 1 || bytes.readUInt32BE(rdOffset + 2) !== compute || bytes.readUInt16BE(rdOffset + 6) !== INSTANCE_ID) return -1;
  if (label !== labelOf(index) || nextHop !== compute) return -1;
  return index;
}

export interface EncodedFeed {
  /** Whole UPDATE messages joined into write-sized chunks. */
  readonly chunks: Buffer[];
  readonly updates: number;
  readonly bytes: number;
}

const WRITE_CHUNK = 64 * 1024;

/** Encodes the whole plan (one RD per group of UPDATEs, as many NLRI per UPDATE as fit). */
export function encodeFeed(plan: FeedPlan): EncodedFeed {
  const attributes = feedAttributes();
  const empty = encodeMessage({ type: 'update', attributes, mpReach: { nextHop: '10.1.0.1', nlri: { family: 'inet-vpn', routes: [] } } }).length;
  // The MP_REACH length grows past 255 bytes as soon as it holds NLRI: one more byte for the extended length.
  const perUpdate = Math.floor((MAX_MESSAGE_LENGTH - empty - 1) / NLRI_BYTES);
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let updates = 0;
  let bytes = 0;
  const flush = () => {
    if (pending.length === 0) return;
    chunks.push(Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  for (let rd = 0; rd < plan.rds; rd++) {
    const first = rd * plan.perRd;
    const end = Math.min(plan.routes, first + plan.perRd);
    for (let start = first; start < end; start += perUpdate) {
      const routes: VpnNlri[] = [];
      for (let i = start; i < Math.min(end, start + perUpdate); i++) routes.push(feedRoute(plan, i));
      const message = encodeMessage({ type: 'update', attributes, mpReach: { nextHop: intToIpv4(computeOf(plan, start)), nlri: { family: 'inet-vpn', routes } } });
      updates++;
      bytes += message.length;
      if (pendingBytes + message.length > WRITE_CHUNK) flush();
      pending.push(message);
      pendingBytes += message.length;
    }
  }
  flush();
  return { chunks, updates, bytes };
}

/**
 * The withdraw of the whole plan: MP_UNREACH UPDATEs with as many NLRI as fit (the withdraw label field
 * 0x800000, RFC 8277 §2.4), in the same RD order as the announce.
 */
export function encodeWithdrawFeed(plan: FeedPlan): EncodedFeed {
  const empty = encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: [] } }).length;
  const perUpdate = Math.floor((MAX_MESSAGE_LENGTH - empty - 1) / NLRI_BYTES);
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let updates = 0;
  let bytes = 0;
  for (let start = 0; start < plan.routes; start += perUpdate) {
    const routes: VpnNlri[] = [];
    for (let i = start; i < Math.min(plan.routes, start + perUpdate); i++) routes.push(feedRoute(plan, i));
    const message = encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes } });
    updates++;
    bytes += message.length;
    if (pendingBytes + message.length > WRITE_CHUNK) {
      chunks.push(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    }
    pending.push(message);
    pendingBytes += message.length;
  }
  if (pending.length > 0) chunks.push(Buffer.concat(pending, pendingBytes));
  return { chunks, updates, bytes };
}

/** RFC 4724 End-of-RIB for VPNv4: an UPDATE whose only attribute is an empty MP_UNREACH. */
export function vpnEndOfRib(): Buffer {
  return encodeMessage({ type: 'update', mpUnreach: { family: 'inet-vpn', routes: [] } });
}
