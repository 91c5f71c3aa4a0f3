// The Adj-RIB-Out of one BGP neighbour (RFC 4271 §3.2): the routes we want it to have, per family, and the
// UPDATEs that carry them: only changed routes are sent, packed by attribute set and next hop, split to fit
// the message size, with the iBGP/eBGP export rules of RFC 4271 §5.1 applied. It is the desired state and
// survives session resets; a new session gets it in full, then End-of-RIB (RFC 4724). Its VPN routes may be
// kept by its owner instead (./routes.ts OwnerKeptVpnOut): it then stores none and sends what it is given.
// It does not decide which routes a peer gets (the caller's policy) nor run the session (./peer-fsm.ts).
import type { FamilyName } from './families.ts';
import { requireIpv4 as ipv4ToNumber } from '../net/ipv4.ts';
import { MAX_MESSAGE_LENGTH, type OutgoingMessage, encodeMessage } from './messages.ts';
import type { RouteTargetNlri } from './nlri.ts';
import type { PathAttributes } from './path-attributes.ts';
import { type InetRoute, type OwnerKeptVpnOut, type RouteTargetRoute, type VpnKey, type VpnRoute, routeTargetKey } from './routes.ts';
import { type MpNlri, type UpdateParts, encodeUpdateBody } from './update-message.ts';
import {
  type AttributeBlock, type EncodedVpnNlri, encodeAttributeBlock, encodeVpnNlriList, encodeVpnWithdrawList, packVpnReach, packVpnWithdraw,
  vpnReachMessageLength,
} from './vpn-reach-packer.ts';
import { VpnRouteTable } from './vpn-route-table.ts';
import type { AdjRibRoutes } from './adj-rib-in.ts';

/** Room an UPDATE needs besides the NLRI: header, lengths, attribute framing slack. */
const FRAMING_SLACK = 8;
/** NLRI bytes of one MP_UNREACH UPDATE: header, the two length fields, the attribute's framing and AFI/SAFI. */
const WITHDRAW_NLRI_ROOM = MAX_MESSAGE_LENGTH - 19 - 4 - 4 - 3 - FRAMING_SLACK;

/** The established session as the Adj-RIB-Out sends over it. */
export interface OutSession {
  readonly families: readonly FamilyName[];
  /** How AS numbers are encoded on this session (RFC 6793). */
  readonly fourOctetAs: boolean;
  send(msg: OutgoingMessage): void;
  /** One complete, already encoded message. */
  sendEncoded(bytes: Buffer): void;
}

export interface ExportIdentity {
  localAsn: number;
  isIbgp: boolean;
}

export class AdjRibOut {
  private readonly vpn = new VpnRouteTable<VpnRoute>();
  private readonly rt = new Map<string, RouteTargetRoute>();
  private readonly inet = new Map<string, InetRoute>();
  private session: OutSession | undefined;
  /** Exported attributes as this session encodes them, by the stored routes' attribute objects (never mutated). */
  private attributeBlocks = new WeakMap<PathAttributes, AttributeBlock>();

  /** With `ownerKept`, the VPN routes are the owner's to keep (see OwnerKeptVpnOut). */
  constructor(private readonly identity: ExportIdentity, private readonly ownerKept?: OwnerKeptVpnOut) {}

  get size(): number {
    return (this.ownerKept?.count() ?? this.vpn.size) + this.rt.size + this.inet.size;
  }

  routes(): AdjRibRoutes {
    const vpn = this.ownerKept?.routes() ?? [...this.vpn.values()];
    return { vpn, routeTargets: [...this.rt.values()], inet: [...this.inet.values()] };
  }

  /** A session came up (sends nothing yet: see sendFamily) or went down (undefined). */
  attach(session: OutSession | undefined): void {
    this.session = session;
    this.attributeBlocks = new WeakMap();
  }

  /**
   * Stores the routes and sends those that changed. Throws RangeError, with nothing stored or sent, when any
   * of them cannot go on the wire.
   */
  advertiseVpn(routes: readonly VpnRoute[]): void {
    // The wire encoding of the NLRI is the validation, and is what gets sent.
    const nlri = encodeVpnNlriList(routes);
    checkVpnRoutesFit(routes, nlri);
    // Owner-kept: the owner sends what changed; there is nothing here to compare with.
    const changed = this.ownerKept === undefined ? storeChanged(this.vpn, routes, sameVpnRoute) : routes.map((_, i) => i);
    if (this.negotiated('inet-vpn')) this.sendVpnReach(routes, nlri, changed);
  }

  withdrawVpn(keys: readonly VpnKey[]): void {
    // A peer that was sent nothing (the feed's own source, split horizon) has nothing to withdraw.
    if (this.ownerKept === undefined && this.vpn.size === 0) return;
    const gone = this.ownerKept === undefined ? keys.filter((k) => this.vpn.delete(k)) : keys;
    const session = this.session;
    if (gone.length === 0 || session === undefined || !this.negotiated('inet-vpn')) return;
    // Encoded once into one buffer and packed by actual size: no UpdateParts or buffer per route.
    for (const message of packVpnWithdraw(encodeVpnWithdrawList(gone), WITHDRAW_NLRI_ROOM)) session.sendEncoded(message);
  }

  advertiseRouteTargets(routes: readonly RouteTargetRoute[]): void {
    for (const r of routes) validate({ attributes: r.attrs, mpReach: { nextHop: r.nextHop, nlri: { family: 'route-target', targets: [r] } } });
    const changed = storeChanged(keyedBy(this.rt, routeTargetKey), routes, sameByJson);
    if (this.negotiated('route-target')) this.sendRouteTargetReach(changed.map((i) => routes[i]!));
  }

  withdrawRouteTargets(items: readonly RouteTargetNlri[]): void {
    const gone = items.filter((k) => this.rt.delete(routeTargetKey(k)));
    if (gone.length && this.negotiated('route-target')) this.sendWithdraw({ family: 'route-target', targets: [...gone] }, 13);
  }

  advertiseInet(routes: readonly InetRoute[]): void {
    for (const r of routes) validate({ attributes: r.attrs, nextHop: r.nextHop, nlri: [r.prefix] });
    const changed = storeChanged(keyedBy(this.inet, (r) => r.prefix), routes, sameByJson);
    if (this.negotiated('inet')) this.sendInetReach(changed.map((i) => routes[i]!));
  }

  withdrawInetPrefixes(prefixes: readonly string[]): void {
    const gone = prefixes.filter((p) => this.inet.delete(p));
    if (gone.length && this.negotiated('inet')) {
      for (const chunk of chunks(gone, 5, MAX_MESSAGE_LENGTH - 23 - FRAMING_SLACK)) this.sendUpdate({ withdrawn: chunk });
    }
  }

  /** The whole table of one family, then (unless the caller holds it back) End-of-RIB (RFC 4724). */
  sendFamily(family: FamilyName, endOfRib = true): void {
    if (family === 'inet-vpn') {
      const routes = this.ownerKept?.table() ?? [...this.vpn.values()];
      this.sendVpnReach(routes, encodeVpnNlriList(routes), routes.map((_, i) => i));
    }
    if (family === 'route-target') this.sendRouteTargetReach([...this.rt.values()]);
    if (family === 'inet') this.sendInetReach([...this.inet.values()]);
    if (endOfRib) this.sendEndOfRib(family);
  }

  /** End-of-RIB for one family (RFC 4724 §2): an UPDATE with no routes. */
  sendEndOfRib(family: FamilyName): void {
    if (family === 'inet') this.sendUpdate({});
    else this.sendUpdate({ mpUnreach: family === 'inet-vpn' ? { family, routes: [] } : { family, targets: [] } });
  }

  private negotiated(family: FamilyName): boolean {
    return this.session?.families.includes(family) ?? false;
  }

  /** RFC 4271 §5.1: eBGP gets our ASN prepended and no LOCAL_PREF; iBGP always gets LOCAL_PREF. */
  private exportAttributes(attrs: PathAttributes): PathAttributes {
    if (this.identity.isIbgp) return { ...attrs, localPref: attrs.localPref ?? 100 };
    const { localPref: _lp, originatorId: _oid, ...rest } = attrs;
    const [first, ...others] = attrs.asPath;
    const asPath = first?.type === 'sequence' && first.asns.length < 255
      ? [{ type: 'sequence' as const, asns: [this.identity.localAsn, ...first.asns] }, ...others]
      : [{ type: 'sequence' as const, asns: [this.identity.localAsn] }, ...attrs.asPath];
    return { ...rest, asPath, clusterList: [] };
  }

  private sendUpdate(parts: UpdateParts): void {
    this.session?.send({ type: 'update', ...parts });
  }

  private sendGrouped<R extends { nextHop: string; attrs: PathAttributes }>(
    routes: readonly R[], nlriSize: (r: R) => number, build: (nextHop: string, attrs: PathAttributes, batch: R[]) => UpdateParts,
  ): void {
    if (!this.session) return;
    const groups = new Map<string, { nextHop: string; attrs: PathAttributes; routes: R[] }>();
    for (const r of routes) {
      const attrs = this.exportAttributes(r.attrs);
      const key = JSON.stringify([r.nextHop, attrs]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { nextHop: r.nextHop, attrs, routes: [] }));
      g.routes.push(r);
    }
    for (const g of groups.values()) {
      const base = encodeUpdateBody(build(g.nextHop, g.attrs, []), this.session.fourOctetAs).length;
      const room = MAX_MESSAGE_LENGTH - 19 - base - FRAMING_SLACK;
      for (const batch of chunks(g.routes, nlriSize, room)) this.sendUpdate(build(g.nextHop, g.attrs, batch));
    }
  }

  /**
   * Sends routes[i] for i in `indexes`, packed by attribute set and next hop. Attribute sets are told apart by
   * object first (routes of one export share one) and then by their bytes, encoded once per object and session.
   */
  private sendVpnReach(routes: readonly VpnRoute[], nlri: EncodedVpnNlri, indexes: readonly number[]): void {
    const session = this.session;
    if (!session || indexes.length === 0) return;
    const byObject = new Map<PathAttributes, VpnAttributeGroup>();
    const byBytes = new Map<string, VpnAttributeGroup>();
    const batches: VpnBatch[] = [];
    for (const i of indexes) {
      const route = routes[i]!;
      let group = byObject.get(route.attrs);
      if (group === undefined) {
        const block = this.attributeBlock(session, route.attrs);
        group = byBytes.get(block.key);
        if (group === undefined) byBytes.set(block.key, (group = { block, byNextHop: new Map() }));
        byObject.set(route.attrs, group);
      }
      let batch = group.byNextHop.get(route.nextHop);
      if (batch === undefined) {
        batch = { block: group.block, nextHop: ipv4ToNumber(route.nextHop), indexes: [] };
        group.byNextHop.set(route.nextHop, batch);
        batches.push(batch);
      }
      batch.indexes.push(i);
    }
    for (const b of batches) {
      for (const message of packVpnReach(b.block, b.nextHop, nlri, b.indexes)) session.sendEncoded(message);
    }
  }

  private attributeBlock(session: OutSession, attrs: PathAttributes): AttributeBlock {
    let block = this.attributeBlocks.get(attrs);
    if (block === undefined) {
      block = encodeAttributeBlock(this.exportAttributes(attrs), session.fourOctetAs);
      this.attributeBlocks.set(attrs, block);
    }
    return block;
  }

  private sendRouteTargetReach(routes: readonly RouteTargetRoute[]): void {
    this.sendGrouped(routes, () => 13,
      (nextHop, attributes, batch) => ({ attributes, mpReach: { nextHop, nlri: { family: 'route-target', targets: batch } } }));
  }

  private sendInetReach(routes: readonly InetRoute[]): void {
    this.sendGrouped(routes, () => 5, (nextHop, attributes, batch) => ({ attributes, nextHop, nlri: batch.map((r) => r.prefix) }));
  }

  private sendWithdraw(nlri: MpNlri, maxNlriSize: number): void {
    const room = MAX_MESSAGE_LENGTH - 19 - 4 - 4 - 3 - FRAMING_SLACK;
    const list: unknown[] = nlri.family === 'inet-vpn' ? nlri.routes : nlri.family === 'route-target' ? nlri.targets : [];
    for (const batch of chunks(list, () => maxNlriSize, room)) {
      const part = nlri.family === 'inet-vpn'
        ? { family: nlri.family, routes: batch as typeof nlri.routes }
        : { family: 'route-target' as const, targets: batch as RouteTargetNlri[] };
      this.sendUpdate({ mpUnreach: part });
    }
  }
}

interface VpnBatch {
  block: AttributeBlock;
  nextHop: number;
  indexes: number[];
}

interface VpnAttributeGroup {
  block: AttributeBlock;
  byNextHop: Map<string, VpnBatch>;
}

/** One family's table as storeChanged sees it: routes looked up and stored by their own key. */
interface KeyedTable<R> {
  get(route: R): R | undefined;
  set(route: R): void;
}

/** Stores routes and returns the indexes of those that differ from what was there (only they are sent). */
function storeChanged<R>(table: KeyedTable<R>, routes: readonly R[], same: (a: R, b: R) => boolean): number[] {
  const changed: number[] = [];
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    const old = table.get(r);
    if (old !== undefined && same(old, r)) continue;
    table.set(r);
    changed.push(i);
  }
  return changed;
}

function keyedBy<R>(map: Map<string, R>, key: (r: R) => string): KeyedTable<R> {
  return { get: (r) => map.get(key(r)), set: (r) => void map.set(key(r), r) };
}

function sameByJson<R>(a: R, b: R): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameVpnRoute(a: VpnRoute, b: VpnRoute): boolean {
  return a.label === b.label && a.nextHop === b.nextHop && a.rd === b.rd && a.prefix === b.prefix
    && (a.attrs === b.attrs || JSON.stringify(a.attrs) === JSON.stringify(b.attrs));
}

/** Throws RangeError when one of the routes cannot go on the wire (what advertiseVpn refuses). */
export function checkVpnRoutes(routes: readonly VpnRoute[]): void {
  checkVpnRoutesFit(routes, encodeVpnNlriList(routes));
}

/** Throws RangeError when a route, alone in an UPDATE with its attributes, would not fit; FRAMING_SLACK leaves room for an eBGP AS prepend. */
function checkVpnRoutesFit(routes: readonly VpnRoute[], nlri: EncodedVpnNlri): void {
  const nextHops = new Set<string>();
  const blocks = new Map<PathAttributes, AttributeBlock>();
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (!nextHops.has(r.nextHop)) {
      ipv4ToNumber(r.nextHop);
      nextHops.add(r.nextHop);
    }
    let block = blocks.get(r.attrs);
    if (block === undefined) blocks.set(r.attrs, (block = encodeAttributeBlock(r.attrs, true)));
    const length = vpnReachMessageLength(block, nlri.starts[i + 1]! - nlri.starts[i]!);
    if (length > MAX_MESSAGE_LENGTH - FRAMING_SLACK) throw new RangeError(`route does not fit a BGP message (${length} bytes)`);
  }
}

/** Throws RangeError when the route cannot go on the wire; FRAMING_SLACK leaves room for an eBGP AS prepend. */
function validate(parts: UpdateParts): void {
  const length = encodeMessage({ type: 'update', ...parts }).length;
  if (length > MAX_MESSAGE_LENGTH - FRAMING_SLACK) throw new RangeError(`route does not fit a BGP message (${length} bytes)`);
}

function* chunks<T>(items: readonly T[], size: number | ((item: T) => number), room: number): Generator<T[]> {
  let batch: T[] = [];
  let used = 0;
  for (const item of items) {
    const s = typeof size === 'number' ? size : size(item);
    if (batch.length > 0 && used + s > room) {
      yield batch;
      batch = [];
      used = 0;
    }
    batch.push(item);
    used += s;
  }
  if (batch.length > 0) yield batch;
}
