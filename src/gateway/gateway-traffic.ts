/**
 * North-south traffic runs: many outside clients open connections to a public address through a
 * gateway, then send again after each change; per round, which compute each connection reached, how
 * many moved to another compute, and how many of those found no flow entry there (broken: a real
 * workload would answer a mid-connection packet it has no state for with a reset). Owns the runs'
 * bookkeeping; not the forwarding (gateway.ts).
 */
import type { DropReason, Packet } from '../vrouter/packet.ts';
import { addressRange } from '../vrouter/traffic.ts';
import type { GatewayResult } from './gateway.ts';

/**
 * Connections in flight at once over an asynchronous underlay (`--processes`): small enough that a burst
 * and its replies fit the loopback sockets' receive buffers, as the agents' traffic runs do.
 */
const SETTLE_WINDOW = 32;

export interface GatewaySender {
  sendSettled(p: Packet): Promise<GatewayResult>;
}

export interface GatewayTrafficOptions {
  to: string;
  port: number;
  /** 6 tcp (default), 17 udp */
  proto?: number;
  flows: number;
  /** first outside client address (default 198.51.100.1) */
  firstSource?: string;
  /** how many client addresses the flows spread over (default: one per 64 flows, at least 1) */
  sources?: number;
  firstSourcePort?: number;
}

export interface GatewayRound {
  flows: number;
  delivered: number;
  dropped: Partial<Record<DropReason, number>>;
  /** per compute (`<compute>/<interface>`), most loaded first */
  members: { member: string; flows: number; share: number }[];
  /** replies that made it back to the gateway */
  replies: number;
  /** of those, replies from the public address and port (the compute's un-NAT worked) */
  repliesFromVip: number;
  /** largest |flows - fair| / fair over the computes that received connections */
  maxDeviation: number;
}

export interface GatewayResendRound extends GatewayRound {
  /** connections that reached a different compute than in the previous round */
  moved: number;
  /** moved connections whose new compute had no flow entry for them */
  broken: number;
  /**
   * moved from a compute that is still in the set to one that already was (the avoidable moves: neither
   * a new member taking its share nor a departed member's connections finding a new home)
   */
  movedBetweenSurvivors: number;
}

export class GatewayTraffic {
  private readonly packets: Packet[];
  private last: (string | undefined)[] = [];

  constructor(private readonly sender: GatewaySender, o: GatewayTrafficOptions) {
    if (!Number.isInteger(o.flows) || o.flows < 1 || o.flows > 1_000_000) throw new RangeError(`flows ${o.flows} must be an integer 1..1000000`);
    const first = o.firstSourcePort ?? 20000;
    const sources = o.sources ?? Math.max(1, Math.ceil(o.flows / 64));
    if (!Number.isInteger(sources) || sources < 1) throw new RangeError(`sources ${o.sources} must be a positive integer`);
    const perSource = Math.ceil(o.flows / sources);
    if (first + perSource > 65536) throw new RangeError(`${o.flows} flows over ${sources} source(s) need more than the ports from ${first}`);
    const addresses = addressRange(o.firstSource ?? '198.51.100.1', sources);
    this.packets = Array.from({ length: o.flows }, (_, i) => ({
      src: addresses[i % sources],
      dst: o.to,
      proto: o.proto ?? 6,
      sport: first + Math.floor(i / sources),
      dport: o.port,
    }));
  }

  async open(): Promise<GatewayRound> {
    const results = await this.sendAll();
    return this.summarize(results).round;
  }

  async resend(): Promise<GatewayResendRound> {
    const previous = this.last;
    const results = await this.sendAll();
    const { round, members } = this.summarize(results);
    const present = new Set(members.filter((m): m is string => m !== undefined));
    const earlier = new Set(previous.filter((m): m is string => m !== undefined));
    let moved = 0;
    let broken = 0;
    let movedBetweenSurvivors = 0;
    previous.forEach((before, i) => {
      const now = members[i];
      if (before === undefined || now === undefined || before === now) return;
      moved++;
      if (results[i].flow === 'new') broken++;
      if (present.has(before) && earlier.has(now)) movedBetweenSurvivors++;
    });
    return { ...round, moved, broken, movedBetweenSurvivors };
  }

  private async sendAll(): Promise<GatewayResult[]> {
    const results: GatewayResult[] = [];
    for (let start = 0; start < this.packets.length; start += SETTLE_WINDOW) {
      results.push(...(await Promise.all(this.packets.slice(start, start + SETTLE_WINDOW).map((p) => this.sender.sendSettled(p)))));
    }
    return results;
  }

  private summarize(results: GatewayResult[]): { round: GatewayRound; members: (string | undefined)[] } {
    const counts = new Map<string, number>();
    const dropped: Partial<Record<DropReason, number>> = {};
    let delivered = 0;
    let replies = 0;
    let repliesFromVip = 0;
    const members = results.map((r, i) => {
      if (!r.delivered) {
        const reason = r.drop?.reason ?? 'no-route';
        dropped[reason] = (dropped[reason] ?? 0) + 1;
        return undefined;
      }
      delivered++;
      if (r.reply?.delivered === true) {
        replies++;
        const back = r.reply.packet;
        if (back !== undefined && back.src === this.packets[i].dst && back.sport === this.packets[i].dport) repliesFromVip++;
      }
      const member = `${r.node}/${r.interface}`;
      counts.set(member, (counts.get(member) ?? 0) + 1);
      return member;
    });
    this.last = members;
    const list = [...counts.entries()]
      .map(([member, flows]) => ({ member, flows, share: delivered === 0 ? 0 : flows / delivered }))
      .sort((a, b) => b.flows - a.flows || a.member.localeCompare(b.member));
    const fair = list.length === 0 ? 0 : delivered / list.length;
    const maxDeviation = list.reduce((worst, m) => Math.max(worst, Math.abs(m.flows - fair) / fair), 0);
    return { round: { flows: results.length, delivered, dropped, members: list, replies, repliesFromVip, maxDeviation }, members };
  }
}
