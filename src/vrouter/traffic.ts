// Traffic generator: opens N connections from one workload to a VIP, then re-sends on them after each
// change and reports the per-member distribution and how many connections changed member.
import type { DropReason, ForwardResult, Packet } from './packet.ts';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.ts';
import type { Vrouter } from './vrouter.ts';

export interface TrafficOptions {
  vrouter: Vrouter;
  /** the client workload's interface on that vrouter */
  interfaceName: string;
  vip: string;
  port: number;
  /** 6 tcp (default), 17 udp */
  proto?: number;
  flows: number;
  /** source addresses the connections come from (one or more; default: `source`) */
  sourceAddresses: string[];
  sourcePorts?: 'sequential' | 'random';
  /** how connections spread over sourceAddresses: fill one address's ports first, or pick at random */
  addressOrder?: 'sequential' | 'random';
  firstSourcePort?: number;
  seed?: number;
  /** size of every packet; default DEFAULT_PACKET_BYTES, so flow and slot byte counters count */
  bytes?: number;
}

/** A minimal Ethernet frame: what a simulated packet weighs when the run names no size. */
export const DEFAULT_PACKET_BYTES = 64;

export interface MemberShare { member: string; flows: number; share: number }

export interface DistributionReport {
  flows: number;
  delivered: number;
  dropped: Partial<Record<DropReason, number>>;
  /** receiving workloads as `<compute>/<interface>`, most loaded first */
  members: MemberShare[];
  /** delivered / number of members that received traffic */
  fairShare: number;
  /** largest |flows - fair| / fair over the members */
  maxDeviation: number;
  /** replies that came back to the client from VIP:port (the un-NAT worked) */
  repliesFromVip: number;
  /** packets handed to an asynchronous underlay, whose outcome is not known here */
  inFlight: number;
}

export interface ResendReport extends DistributionReport {
  /** connections delivered to a different member than in the previous round */
  moved: number;
  /** per previous member, how many of its connections moved away */
  movedFrom: Record<string, number>;
}

interface Tuple { src: string; sport: number }

/** Small deterministic PRNG (mulberry32) so that runs repeat. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function memberOf(r: ForwardResult): string | undefined {
  return r.delivered ? `${r.node}/${r.interface}` : undefined;
}

export class TrafficGenerator {
  private readonly o: TrafficOptions;
  private readonly tuples: Tuple[];
  private readonly lastMember: (string | undefined)[];

  constructor(o: TrafficOptions) {
    if (!Number.isInteger(o.flows) || o.flows < 1) throw new RangeError(`flows ${o.flows} must be a positive integer`);
    if (o.sourceAddresses.length === 0) throw new RangeError('sourceAddresses is empty');
    for (const a of o.sourceAddresses) if (ipv4ToInt(a) < 0) throw new RangeError(`source address ${a} is not IPv4`);
    const first = o.firstSourcePort ?? 1024;
    const portsPerAddress = 65536 - first;
    if (!Number.isInteger(first) || first < 1 || first > 65535) throw new RangeError(`firstSourcePort ${first} must be 1..65535`);
    if (o.flows > portsPerAddress * o.sourceAddresses.length) {
      throw new RangeError(`${o.flows} flows do not fit in ${o.sourceAddresses.length} address(es) x ${portsPerAddress} ports`);
    }
    this.o = o;
    this.tuples = this.makeTuples(first, portsPerAddress);
    this.lastMember = new Array<string | undefined>(o.flows);
  }

  private makeTuples(first: number, portsPerAddress: number): Tuple[] {
    const { flows, sourceAddresses } = this.o;
    const random = prng(this.o.seed ?? 1);
    const tuples: Tuple[] = [];
    if (this.o.sourcePorts !== 'random' && this.o.addressOrder !== 'random') {
      for (let i = 0; i < flows; i++) {
        tuples.push({ src: sourceAddresses[Math.floor(i / portsPerAddress)], sport: first + (i % portsPerAddress) });
      }
      return tuples;
    }
    const seen = new Set<number>();
    let sequential = 0;
    while (tuples.length < flows) {
      const addrIndex = this.o.addressOrder === 'random'
        ? Math.floor(random() * sourceAddresses.length)
        : Math.floor(sequential / portsPerAddress);
      const sport = this.o.sourcePorts === 'random'
        ? first + Math.floor(random() * portsPerAddress)
        : first + (sequential % portsPerAddress);
      sequential++;
      const key = addrIndex * 65536 + sport;
      if (seen.has(key)) continue;
      seen.add(key);
      tuples.push({ src: sourceAddresses[addrIndex], sport });
    }
    return tuples;
  }

  /** The connections' 5-tuples, in the order they are sent. */
  packets(): Packet[] {
    return this.tuples.map((t) => this.packetFor(t));
  }

  private packetFor(t: Tuple): Packet {
    return { src: t.src, dst: this.o.vip, proto: this.o.proto ?? 6, sport: t.sport, dport: this.o.port, bytes: this.o.bytes ?? DEFAULT_PACKET_BYTES };
  }

  /** The member each connection reached in the last round (undefined: dropped or not sent yet). */
  memberPerFlow(): (string | undefined)[] {
    return [...this.lastMember];
  }

  /** Sends the first packet of every connection. */
  open(): DistributionReport {
    return this.summarize(this.tuples.map((t) => this.o.vrouter.sendFromInterface(this.o.interfaceName, this.packetFor(t))));
  }

  /** Sends one more packet on every connection and counts those that reached a different member. */
  resend(): ResendReport {
    const previous = [...this.lastMember];
    return this.withMoves(previous, this.open());
  }

  /** open() over an asynchronous underlay: waits for every outcome, a window of connections at a time. */
  async openSettled(window = 256): Promise<DistributionReport> {
    const results: ForwardResult[] = new Array(this.tuples.length);
    for (let start = 0; start < this.tuples.length; start += window) {
      const batch = this.tuples.slice(start, start + window).map((t) => this.o.vrouter.sendFromInterfaceSettled(this.o.interfaceName, this.packetFor(t)));
      (await Promise.all(batch)).forEach((r, i) => { results[start + i] = r; });
    }
    return this.summarize(results);
  }

  async resendSettled(window = 256): Promise<ResendReport> {
    const previous = [...this.lastMember];
    return this.withMoves(previous, await this.openSettled(window));
  }

  private withMoves(previous: (string | undefined)[], report: DistributionReport): ResendReport {
    let moved = 0;
    const movedFrom: Record<string, number> = {};
    previous.forEach((before, i) => {
      if (before !== undefined && this.lastMember[i] !== undefined && this.lastMember[i] !== before) {
        moved++;
        movedFrom[before] = (movedFrom[before] ?? 0) + 1;
      }
    });
    return { ...report, moved, movedFrom };
  }

  private summarize(results: ForwardResult[]): DistributionReport {
    const counts = new Map<string, number>();
    const dropped: Partial<Record<DropReason, number>> = {};
    let delivered = 0;
    let repliesFromVip = 0;
    let inFlight = 0;
    const vipInt = ipv4ToInt(this.o.vip);
    results.forEach((r, i) => {
      const member = memberOf(r);
      this.lastMember[i] = member;
      if (r.inFlight === true) {
        inFlight++;
        return;
      }
      if (member === undefined) {
        const reason = r.drop?.reason ?? 'no-route';
        dropped[reason] = (dropped[reason] ?? 0) + 1;
        return;
      }
      delivered++;
      counts.set(member, (counts.get(member) ?? 0) + 1);
      const back = r.reply?.packet;
      if (r.reply?.delivered === true && back !== undefined && ipv4ToInt(back.src) === vipInt && back.sport === this.o.port) repliesFromVip++;
    });
    const fairShare = counts.size === 0 ? 0 : delivered / counts.size;
    const members = [...counts.entries()]
      .map(([member, flows]) => ({ member, flows, share: flows / delivered }))
      .sort((a, b) => b.flows - a.flows || a.member.localeCompare(b.member));
    const maxDeviation = members.reduce((worst, m) => Math.max(worst, Math.abs(m.flows - fairShare) / fairShare), 0);
    return { flows: this.tuples.length, delivered, dropped, members, fairShare, maxDeviation, repliesFromVip, inFlight };
  }
}

/** `count` consecutive addresses starting at `first` (for many-client traffic). */
export function addressRange(first: string, count: number): string[] {
  const base = ipv4ToInt(first);
  if (base < 0) throw new RangeError(`${first} is not IPv4`);
  return Array.from({ length: count }, (_, i) => intToIpv4((base + i) >>> 0));
}
