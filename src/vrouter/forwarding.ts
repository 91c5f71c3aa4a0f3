// The traffic path of one vRouter (docs/protocol.md §7.4-§7.6): a packet from a workload finds its route,
// hashes to a slot of the composite next-hop (a new flow) or keeps the slot its forward flow stored (an
// existing one), and is tunnelled or delivered locally; a labelled packet from the fabric reaches its
// interface (or a local composite's member) with floating-ip destination NAT, and the reply is un-NATed on
// the way back. Owns the flow entries' life (creation, lookup, ageing) and the hash fields in force; not the
// composite's slots (composite-nh.ts) nor the configuration of interfaces and routes (vrouter.ts).
import type { VrouterTallies } from './counters.ts';
import { withSlotCounters, type CompositeNextHops, type RouteEntry, type RouteTables } from './composite-nh.ts';
import { describeMember } from './composite-members.ts';
import { pickSlot } from './composite-slots.ts';
import { ecmpHash, maskFields, mod64 } from './ecmp-hash.ts';
import { mappingKey } from './floating-ip-nat.ts';
import { FLAG_DNAT, FLAG_ECMP, FLAG_REVERSE, FLAG_SNAT, NO_SLOT, type FlowTable, keyWord0, keyWord3 } from './flow-table.ts';
import { isSharedAddress, type InterfaceTable, type LocalFip, type LocalInterface } from './interfaces.ts';
import { describeLocalComposite, type LocalComposite, type LocalComposites } from './local-composite.ts';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.ts';
import { formatPacket, layer4Valid, packetProblem } from './packet.ts';
import type { DropReason, ForwardResult, MemberChoice, NatRewrite, Packet, TraceStep, TraceStepKind } from './packet.ts';
import type { Underlay } from './underlay.ts';
import type { ProxyService } from './proxy-service.ts';

/** What a reply must look like when no flow exists yet (trace mode creates none). */
interface ReplyHint { snat: { ip: number; port: number } | null; routeVrfId: number }

const SWEEP_PER_NEW_FLOW = 4;

/**
 * Replies are generated only for the outermost delivery; a reply never triggers another one. Shared by
 * every vRouter of the process, because the in-process underlay delivers to the next one synchronously.
 */
let replyDepth = 0;

export interface ForwarderOptions {
  name: string;
  routerId: string;
  /** the router id as hashed, -1 when it is left out of the hash */
  hashRouterId: number;
  underlay: Underlay;
  clock: () => number;
  agingMs: number;
  /** the receiving workload answers every new connection by swapping the tuple */
  autoReply: boolean;
  /** hash fields (as a mask) of global-vrouter-config and of each virtual network */
  globalMask: number;
  vnMasks: Map<string, number>;
  table: FlowTable;
  vrfs: RouteTables;
  nexthops: CompositeNextHops;
  interfaces: InterfaceTable;
  localComposites: LocalComposites;
  tallies: VrouterTallies;
  /** The haproxies of this compute (docs/protocol.md §8.4), set once the vRouter has built them. */
  proxies?: ProxyService;
}

export class Forwarder {
  private globalMask: number;
  private vnMasks: Map<string, number>;
  private readonly hashOut = new Uint32Array(2);
  private nextFullSweepAt = -Infinity;

  constructor(private readonly o: ForwarderOptions) {
    this.globalMask = o.globalMask;
    this.vnMasks = o.vnMasks;
    o.underlay.register(o.routerId, (label, p, from, trace) => this.receive(label, p, from, trace));
  }

  /** New flows hash with these fields; existing flows keep the fields they were hashed with. */
  setHashMasks(globalMask: number, vnMasks: Map<string, number>): void {
    this.globalMask = globalMask;
    this.vnMasks = vnMasks;
  }

  /** Ages out idle flows now; returns how many connections (entry pairs) were removed. */
  ageFlows(): number {
    const removed = this.o.table.sweep(this.o.clock(), this.o.agingMs);
    this.o.tallies.aged += removed;
    return removed;
  }

  /** The connections of a removed interface go with it. */
  forgetInterface(ifId: number): void {
    const t = this.o.table;
    // a connection of this interface has its towards-workload entry (stage 1) pointing at it
    t.removeWhere((i) => {
      const towards = ((t.key(i, 0) >>> 8) & 1) === 1 ? i : t.partner[i];
      return towards >= 0 && t.target[towards] === ifId;
    });
  }

  private maskFor(ifc: LocalInterface, entry: RouteEntry): number {
    return ifc.hashMask ?? this.vnMasks.get(ifc.spec.virtualNetwork) ?? entry.control?.lbMask ?? this.globalMask;
  }

  /** A workload on this compute sends a packet. */
  sendFromInterface(interfaceName: string, p: Packet): ForwardResult {
    return this.fromWorkload(interfaceName, p, undefined, undefined);
  }

  /**
   * A packet entering a VRF without a workload interface (as from a gateway): routed and load-balanced
   * by the global hash fields, without flow state.
   */
  sendInVrf(vrf: string, p: Packet): ForwardResult {
    const problem = packetProblem(p);
    if (problem !== undefined) return this.dropped('bad-packet', problem, undefined);
    const vrfId = this.o.vrfs.idOf(vrf);
    if (vrfId === undefined || (this.o.vrfs.fib(vrfId)?.size ?? 0) === 0) {
      return this.dropped('unknown-vrf', `vrf ${String(vrf)} is not known on ${this.o.name}`, undefined);
    }
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    const route = this.lookupRoute(vrfId, dst, vrf, undefined);
    if (!('id' in route)) return route;
    ecmpHash(this.hashOut, this.o.hashRouterId, route.control?.lbMask ?? this.globalMask, src, dst, p.proto, p.sport, p.dport);
    const slot = this.o.nexthops.chooseSlot(route, this.hashOut);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, undefined);
    return this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', p, undefined);
  }

  /** The decision chain for one packet, without creating flows or counting. */
  trace(interfaceName: string, p: Packet): TraceStep[] {
    const steps: TraceStep[] = [];
    this.fromWorkload(interfaceName, p, steps, undefined);
    return steps;
  }

  /** Callers test `trace` first so that the detail text is only built when tracing. */
  private step(trace: TraceStep[], step: TraceStepKind, detail: string): void {
    trace.push({ node: this.o.name, step, detail });
  }

  private dropped(reason: DropReason, detail: string, trace: TraceStep[] | undefined): ForwardResult {
    if (trace === undefined) this.o.tallies.countDrop(reason, detail);
    if (trace !== undefined) this.step(trace, 'drop', `${reason}: ${detail}`);
    return { delivered: false, node: this.o.name, drop: { reason, detail }, hops: [this.o.name] };
  }

  private fromWorkload(interfaceName: string, p: Packet, trace: TraceStep[] | undefined, hint: ReplyHint | undefined): ForwardResult {
    if (trace === undefined) this.o.tallies.fromWorkloads++;
    const ifc = this.o.interfaces.byName.get(interfaceName);
    if (ifc === undefined) return this.dropped('unknown-interface', `no local interface named ${String(interfaceName)}`, trace);
    const src = ipv4ToInt(p?.src);
    const dst = ipv4ToInt(p?.dst);
    if (src < 0 || dst < 0 || !layer4Valid(p)) return this.dropped('bad-packet', packetProblem(p) ?? 'malformed packet', trace);
    if (trace !== undefined) this.step(trace, 'interface', `${ifc.spec.name} (vrf ${ifc.spec.vrf}) sends ${formatPacket(p)}`);
    const k0 = keyWord0(ifc.vrfId, 0, p.proto);
    const k3 = keyWord3(p.sport, p.dport);
    const now = this.o.clock();
    const fi = this.liveFlow(k0, src, dst, k3, now, trace);
    const t = this.o.table;
    if (fi >= 0) {
      if (trace === undefined) {
        t.touch(fi, now);
        t.packets[fi]++;
        t.bytes[fi] += p.bytes ?? 0;
      }
      if ((t.flags[fi] & FLAG_REVERSE) !== 0) {
        if (trace !== undefined) this.step(trace, 'flow', `reverse flow #${fi} (reply of a connection towards this workload)`);
        const snat = (t.flags[fi] & FLAG_SNAT) !== 0 ? { ip: t.natIp[fi], port: t.natPort[fi] } : null;
        return this.routeReply(ifc, p, snat, t.routeVrf[fi], trace);
      }
      return this.forwardExisting(fi, ifc, p, src, dst, trace);
    }
    if (hint !== undefined) {
      if (trace !== undefined) this.step(trace, 'flow', 'reverse flow (would be created with the forward flow)');
      return this.routeReply(ifc, p, hint.snat, hint.routeVrfId, trace);
    }
    return this.forwardNew(ifc, p, src, dst, k0, k3, now, trace);
  }

  /** Entry for the key unless it has aged out (then it is removed, outside trace mode). */
  private liveFlow(k0: number, k1: number, k2: number, k3: number, now: number, trace: TraceStep[] | undefined): number {
    const t = this.o.table;
    const fi = t.lookup(k0, k1, k2, k3);
    if (fi < 0 || !t.isExpired(fi, now, this.o.agingMs)) return fi;
    if (trace === undefined) {
      t.removePair(fi);
      this.o.tallies.aged++;
    }
    return -1;
  }

  private lookupRoute(vrfId: number, dst: number, vrfName: string, trace: TraceStep[] | undefined): RouteEntry | ForwardResult {
    const fib = this.o.vrfs.fib(vrfId);
    if (fib === undefined || fib.size === 0) return this.dropped('unknown-vrf', `vrf ${vrfName} has no routes on ${this.o.name}`, trace);
    const entry = fib.lookup(dst);
    if (entry === undefined) return this.dropped('no-route', `no route to ${intToIpv4(dst)} in vrf ${vrfName}`, trace);
    if (trace !== undefined) {
      const kind = entry.ecmp ? 'ECMP composite' : entry.slots[0]?.local === true ? 'local interface' : 'tunnel';
      this.step(trace, 'route', `${entry.prefix} in ${vrfName} from ${entry.source === 'control' ? 'the control node' : 'a local interface'}: ${kind}`);
    }
    return entry;
  }

  private forwardNew(
    ifc: LocalInterface, p: Packet, src: number, dst: number, k0: number, k3: number, now: number, trace: TraceStep[] | undefined,
  ): ForwardResult {
    const route = this.lookupRoute(ifc.vrfId, dst, ifc.spec.vrf, trace);
    if (!('id' in route)) return route;
    const mask = this.maskFor(ifc, route);
    ecmpHash(this.hashOut, this.o.hashRouterId, mask, src, dst, p.proto, p.sport, p.dport);
    const slot = this.o.nexthops.chooseSlot(route, this.hashOut);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    const by = route.maglevTable.length > 0 ? 'maglev' : 'hash';
    this.traceComposite(route, trace);
    if (route.ecmp) {
      const h = this.hashOut;
      if (trace !== undefined) this.step(trace, 'slot', `new flow: hash(${maskFields(mask).join(',')}) = 0x${h[0].toString(16).padStart(8, '0')}${h[1].toString(16).padStart(8, '0')} -> slot ${slot} by ${by === 'maglev' ? `Maglev table of ${route.maglevTable.length}` : `hash % ${route.slots.length}${route.active[mod64(h[0], h[1], route.slots.length)] === 1 ? '' : ' (hole: fall back to active slots)'}`}`);
    }
    if (trace === undefined) {
      const t = this.o.table;
      const rk0 = keyWord0(ifc.vrfId, 1, p.proto);
      const rk3 = keyWord3(p.dport, p.sport);
      let fi = t.insertPair(k0, src, dst, k3, rk0, dst, src, rk3, now);
      if (fi < 0 && now >= this.nextFullSweepAt) {
        this.nextFullSweepAt = now + Math.min(1000, this.o.agingMs);
        this.o.tallies.aged += t.sweep(now, this.o.agingMs);
        fi = t.insertPair(k0, src, dst, k3, rk0, dst, src, rk3, now);
      }
      if (fi < 0) return this.dropped('flow-table-full', `flow table full (${t.size}/${t.capacity} entries)`, trace);
      t.slot[fi] = slot;
      t.hashMask[fi] = mask;
      t.target[fi] = route.id;
      if (route.ecmp) t.flags[fi] |= FLAG_ECMP;
      t.packets[fi] = 1;
      t.bytes[fi] = p.bytes ?? 0;
      t.target[t.partner[fi]] = ifc.id;
      withSlotCounters(route).slotFlows[slot]++;
      this.o.tallies.created++;
      this.o.tallies.aged += t.sweep(now, this.o.agingMs, SWEEP_PER_NEW_FLOW);
    }
    return this.toMember(route, slot, by, p, trace);
  }

  private forwardExisting(fi: number, ifc: LocalInterface, p: Packet, src: number, dst: number, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.o.table;
    let route = this.o.nexthops.route(t.target[fi]);
    let slot = t.slot[fi];
    if (route !== undefined && slot !== NO_SLOT && slot < route.slots.length && route.active[slot] === 1) {
      this.traceComposite(route, trace);
      if (trace !== undefined) this.step(trace, 'flow', `existing forward flow #${fi}: stored slot ${slot}`);
      return this.toMember(route, slot, 'flow', p, trace);
    }
    // the route went away or the stored member is gone: choose again and remember the new choice
    const found = this.lookupRoute(ifc.vrfId, dst, ifc.spec.vrf, trace);
    if (!('id' in found)) return found;
    route = found;
    ecmpHash(this.hashOut, this.o.hashRouterId, t.hashMask[fi], src, dst, p.proto, p.sport, p.dport);
    const chosen = this.o.nexthops.chooseSlot(route, this.hashOut);
    if (chosen < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    this.traceComposite(route, trace);
    if (trace !== undefined) this.step(trace, 'flow', `existing forward flow #${fi}: member gone, re-hashed to slot ${chosen}`);
    slot = chosen;
    if (trace === undefined) {
      t.target[fi] = route.id;
      t.slot[fi] = slot;
      withSlotCounters(route).slotFlows[slot]++;
      this.o.tallies.rehashed++;
    }
    return this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', p, trace);
  }

  private traceComposite(route: RouteEntry, trace: TraceStep[] | undefined): void {
    if (trace !== undefined && route.ecmp) {
      if (trace !== undefined) this.step(trace, 'composite', `${route.slots.length} slots, ${route.activeCount} active: ${route.slots.map((m, i) => describeMember(m, i, this.o.underlay.encapsulation)).join('; ')}`);
    }
  }

  private toMember(route: RouteEntry, slot: number, by: MemberChoice['by'], p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const m = route.slots[slot]!;
    if (trace === undefined) {
      withSlotCounters(route).slotPackets[slot]++;
      route.slotBytes[slot] += p.bytes ?? 0;
    }
    const choice: MemberChoice | undefined = route.ecmp ? { slot, address: m.address, label: m.label, local: m.local, by } : undefined;
    if (trace !== undefined) {
      const here = m.composite >= 0 ? ` (this compute: ${m.ifName}, expanded from local composite ${m.composite})` : m.local ? ` (this compute: ${m.ifName})` : '';
      this.step(trace, 'label', `slot ${slot}: ${m.address} label ${m.label}${here}`);
    }
    let result: ForwardResult;
    if (m.local) {
      const ifc = this.o.interfaces.byId.get(m.ifId)!;
      result = this.towardsWorkload(ifc, p, trace);
    } else {
      // an underlay with its own encapsulation traces the tunnel itself (one line, the real one)
      if (trace !== undefined && this.o.underlay.encapsulation === undefined) this.step(trace, 'tunnel', `${m.encap.toUpperCase()} to ${m.address} with label ${m.label}`);
      if (trace === undefined) this.o.tallies.tunnelled++;
      const remote = this.o.underlay.send(this.o.routerId, m.address, m.label, p, trace);
      if (remote.hops.length === 0) {
        // the underlay found no compute at that address: the drop happens here
        result = this.dropped(remote.drop?.reason ?? 'unknown-compute', remote.drop?.detail ?? `nothing at ${m.address}`, trace);
      } else {
        result = { ...remote, hops: [this.o.name, ...remote.hops] };
      }
    }
    return choice === undefined ? result : { ...result, member: choice };
  }

  /** A reply leaving a workload: un-NAT (source back to VIP:listener-port) and route towards the client. */
  private routeReply(ifc: LocalInterface, p: Packet, snat: { ip: number; port: number } | null, routeVrfId: number, trace: TraceStep[] | undefined): ForwardResult {
    let out = p;
    let nat: NatRewrite | undefined;
    if (snat !== null) {
      out = { ...p, src: intToIpv4(snat.ip), sport: snat.port };
      nat = { kind: 'snat', from: { ip: p.src, port: p.sport }, to: { ip: out.src, port: out.sport } };
      if (trace !== undefined) this.step(trace, 'nat', `reverse flow un-NAT: source ${p.src}:${p.sport} -> ${out.src}:${out.sport}`);
    }
    const vrfName = this.o.vrfs.nameOf(routeVrfId) ?? ifc.spec.vrf;
    const route = this.lookupRoute(routeVrfId, ipv4ToInt(out.dst), vrfName, trace);
    if (!('id' in route)) return route;
    ecmpHash(this.hashOut, this.o.hashRouterId, this.maskFor(ifc, route), ipv4ToInt(out.src), ipv4ToInt(out.dst), out.proto, out.sport, out.dport);
    const slot = this.o.nexthops.chooseSlot(route, this.hashOut);
    if (slot < 0) return this.dropped('no-active-member', `route ${route.prefix} has no active member`, trace);
    const result = this.toMember(route, slot, route.maglevTable.length > 0 ? 'maglev' : 'hash', out, trace);
    return nat === undefined ? result : { ...result, nat: [nat, ...(result.nat ?? [])] };
  }

  /** A labelled packet from the fabric. */
  private receive(label: number, p: Packet, from: string, trace: TraceStep[] | undefined): ForwardResult {
    if (trace === undefined) this.o.tallies.fromFabric++;
    if (ipv4ToInt(p?.src) < 0 || ipv4ToInt(p?.dst) < 0 || !layer4Valid(p)) return this.dropped('bad-packet', packetProblem(p) ?? 'malformed packet', trace);
    if (trace !== undefined) this.step(trace, 'mpls', `from ${from} with label ${label}`);
    const composite = this.o.localComposites.get(label);
    if (composite !== undefined) return this.receiveOnComposite(composite, p, trace);
    const ifc = this.o.interfaces.byLabel.get(label);
    if (ifc === undefined) return this.dropped('unknown-label', `label ${String(label)} maps to no interface on ${this.o.name}`, trace);
    if (trace !== undefined) this.step(trace, 'remote', `label ${label} -> interface ${ifc.spec.name} (${ifc.spec.ip})`);
    return this.towardsWorkload(ifc, p, trace);
  }

  /**
   * A packet with a local composite's label: an existing connection stays on its interface while that
   * interface is an active member (docs/protocol.md §7.5); a new one is hashed over the members by the rule of docs/protocol.md §7.4.
   */
  private receiveOnComposite(c: LocalComposite, p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.o.table;
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    if (trace !== undefined) this.step(trace, 'composite', describeLocalComposite(c));
    const fi = this.liveFlow(keyWord0(c.vrfId, 1, p.proto), src, dst, keyWord3(p.sport, p.dport), this.o.clock(), trace);
    if (fi >= 0 && (t.flags[fi] & FLAG_REVERSE) === 0) {
      const held = this.o.interfaces.byId.get(t.target[fi]);
      const slot = held === undefined ? -1 : c.slots.findIndex((s) => s !== null && s.key === held.spec.name);
      if (held !== undefined && slot >= 0 && c.active[slot] === 1) {
        if (trace !== undefined) this.step(trace, 'flow', `existing flow #${fi} stays on slot ${slot} (${held.spec.name})`);
        return this.towardsWorkload(held, p, trace);
      }
      // the connection's interface left the composite: it is placed again like a new one
      if (trace !== undefined) this.step(trace, 'flow', `existing flow #${fi}: its interface left the composite, re-hashed`);
      if (trace === undefined) {
        t.removePair(fi);
        this.o.tallies.rehashed++;
      }
    }
    ecmpHash(this.hashOut, this.o.hashRouterId, this.compositeMask(c), src, dst, p.proto, p.sport, p.dport);
    const slot = pickSlot(this.hashOut[0], this.hashOut[1], c.slots.length, c.active, c.activeList, c.activeCount);
    if (slot < 0) return this.dropped('no-active-member', `local composite label ${c.label} has no active member`, trace);
    const ifc = this.o.interfaces.byName.get(c.slots[slot]!.key)!;
    if (trace !== undefined) this.step(trace, 'slot', `new flow: hash -> slot ${slot} of local composite ${c.label}: interface ${ifc.spec.name} (${ifc.spec.ip})`);
    const flowsBefore = this.o.tallies.created;
    const result = this.towardsWorkload(ifc, p, trace);
    if (this.o.tallies.created > flowsBefore) c.slotFlows[slot]++;
    return result;
  }

  /** Fabric packets have no sending interface: the members' VN fields, else the route's load-balance, else global. */
  private compositeMask(c: LocalComposite): number {
    for (const s of c.slots) {
      const ifc = s === null ? undefined : this.o.interfaces.byName.get(s.key);
      const vn = ifc?.spec.floatingIps.find((f) => f.vrf === c.vrf)?.virtualNetwork ?? ifc?.spec.virtualNetwork;
      const mask = vn === undefined ? undefined : this.vnMasks.get(vn);
      if (mask !== undefined) return mask;
    }
    return this.o.vrfs.fib(c.vrfId)?.get(c.net, c.plen)?.control?.lbMask ?? this.globalMask;
  }

  /** A packet for a local workload: destination NAT when it targets a floating-ip (the VIP) on the interface. */
  private towardsWorkload(ifc: LocalInterface, p: Packet, trace: TraceStep[] | undefined): ForwardResult {
    const t = this.o.table;
    const src = ipv4ToInt(p.src);
    const dst = ipv4ToInt(p.dst);
    let fip: LocalFip | undefined;
    if (dst !== ifc.ipInt && !isSharedAddress(ifc, dst)) {
      fip = ifc.fips.find((f) => f.addressInt === dst && f.ingress);
      if (fip === undefined) return this.dropped('not-for-interface', `${p.dst} is neither an address nor an ingress floating-ip of ${ifc.spec.name}`, trace);
    }
    // the workload answers from the address the packet reached it on: its own, a shared one, or a FIP's fixed ip
    const natTarget = fip === undefined ? dst : fip.fixedIpInt >= 0 ? fip.fixedIpInt : ifc.ipInt;
    const vrfId = fip?.vrfId ?? ifc.vrfId;
    const k0 = keyWord0(vrfId, 1, p.proto);
    const k3 = keyWord3(p.sport, p.dport);
    const now = this.o.clock();
    let fi = this.liveFlow(k0, src, dst, k3, now, trace);
    if (fi >= 0 && (t.flags[fi] & FLAG_REVERSE) === 0 && t.target[fi] !== ifc.id) {
      // the connection was placed on another interface (the sender now names this one): it starts over here
      if (trace !== undefined) this.step(trace, 'flow', `flow #${fi} belongs to another interface: replaced`);
      else t.removePair(fi);
      fi = -1;
    }
    if (fi >= 0) {
      if (trace === undefined) {
        t.touch(fi, now);
        t.packets[fi]++;
        t.bytes[fi] += p.bytes ?? 0;
      }
      const reverse = (t.flags[fi] & FLAG_REVERSE) !== 0;
      if (trace !== undefined) this.step(trace, 'flow', `existing ${reverse ? 'reverse' : 'forward'} flow #${fi}`);
      let out = p;
      let nat: NatRewrite | undefined;
      if ((t.flags[fi] & FLAG_DNAT) !== 0) {
        out = { ...p, dst: intToIpv4(t.natIp[fi]), dport: t.natPort[fi] };
        nat = { kind: 'dnat', from: { ip: p.dst, port: p.dport }, to: { ip: out.dst, port: out.dport } };
        if (trace !== undefined) this.step(trace, 'nat', `DNAT ${p.dst}:${p.dport} -> ${out.dst}:${out.dport}`);
      }
      const rev = t.partner[fi];
      const hint: ReplyHint = { snat: (t.flags[rev] & FLAG_SNAT) !== 0 ? { ip: t.natIp[rev], port: t.natPort[rev] } : null, routeVrfId: t.routeVrf[rev] };
      return this.deliver(ifc, out, nat, !reverse, hint, trace, 'existing');
    }
    let out = p;
    let nat: NatRewrite | undefined;
    if (fip !== undefined) {
      let dport = p.dport;
      if (fip.portMappingsEnable) {
        const mapped = fip.portMap.get(mappingKey(p.proto, p.dport));
        if (mapped === undefined) {
          return this.dropped('port-map-drop', `floating-ip ${fip.address} has no port mapping for protocol ${p.proto} port ${p.dport}`, trace);
        }
        dport = mapped;
      }
      out = { ...p, dst: intToIpv4(natTarget), dport };
      nat = { kind: 'dnat', from: { ip: p.dst, port: p.dport }, to: { ip: out.dst, port: out.dport } };
      if (trace !== undefined) this.step(trace, 'nat', `floating-ip ${fip.address}${fip.portMappingsEnable ? ' port-mapped' : ''}: DNAT ${p.dst}:${p.dport} -> ${out.dst}:${out.dport}`);
    }
    if (trace === undefined) {
      const rk0 = keyWord0(ifc.vrfId, 0, p.proto);
      const rk3 = keyWord3(out.dport, p.sport);
      let f = t.insertPair(k0, src, dst, k3, rk0, natTarget, src, rk3, now);
      if (f < 0 && now >= this.nextFullSweepAt) {
        this.nextFullSweepAt = now + Math.min(1000, this.o.agingMs);
        this.o.tallies.aged += t.sweep(now, this.o.agingMs);
        f = t.insertPair(k0, src, dst, k3, rk0, natTarget, src, rk3, now);
      }
      if (f < 0) return this.dropped('flow-table-full', `flow table full (${t.size}/${t.capacity} entries)`, trace);
      const r = t.partner[f];
      t.target[f] = ifc.id;
      t.packets[f] = 1;
      t.bytes[f] = p.bytes ?? 0;
      t.routeVrf[r] = vrfId;
      if (fip !== undefined) {
        t.flags[f] |= FLAG_DNAT;
        t.natIp[f] = natTarget;
        t.natPort[f] = out.dport;
        t.flags[r] |= FLAG_SNAT;
        t.natIp[r] = dst;
        t.natPort[r] = p.dport;
      }
      this.o.tallies.created++;
    }
    const hint: ReplyHint = { snat: fip !== undefined ? { ip: dst, port: p.dport } : null, routeVrfId: vrfId };
    return this.deliver(ifc, out, nat, true, hint, trace, 'new');
  }

  private deliver(
    ifc: LocalInterface, out: Packet, nat: NatRewrite | undefined, answer: boolean, hint: ReplyHint, trace: TraceStep[] | undefined, flow: 'new' | 'existing',
  ): ForwardResult {
    if (trace !== undefined) this.step(trace, 'deliver', `to ${ifc.spec.name}: ${formatPacket(out)}`);
    if (trace === undefined) this.o.tallies.delivered++;
    const result: ForwardResult = { delivered: true, node: this.o.name, interface: ifc.spec.name, packet: out, hops: [this.o.name], flow };
    if (nat !== undefined) result.nat = [nat];
    const proxy = answer && replyDepth === 0 && this.o.proxies?.isProxyInterface(ifc.spec.name) === true ? this.o.proxies : undefined;
    if (proxy !== undefined) {
      // docs/protocol.md §8.4: the connection ends at the haproxy, which answers only once its server has
      if (trace !== undefined) {
        this.step(trace, 'deliver', `${ifc.spec.name} is a haproxy: it opens its own connection to a server`);
        return result;
      }
      result.proxied = proxy.accept(ifc.spec.name, out);
      const backend = result.proxied?.backend;
      // over an asynchronous underlay (one process per node) the server's answer is not known yet: answer anyway
      if (backend?.reply?.delivered !== true && backend?.inFlight !== true) return result;
    }
    if (answer && (this.o.autoReply || proxy !== undefined) && replyDepth === 0) {
      const reply: Packet = { src: out.dst, dst: out.src, proto: out.proto, sport: out.dport, dport: out.sport };
      if (out.bytes !== undefined) reply.bytes = out.bytes;
      if (trace !== undefined) this.step(trace, 'reply', `${ifc.spec.name} answers ${formatPacket(reply)}`);
      replyDepth++;
      try {
        result.reply = this.fromWorkload(ifc.spec.name, reply, trace, hint);
      } finally {
        replyDepth--;
      }
    }
    return result;
  }
}
