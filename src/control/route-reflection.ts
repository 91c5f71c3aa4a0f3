// Reflection of VRF routes to subscribed agents (docs/protocol.md §4, bgp/bgp_xmpp_channel.cc, bgp/xmpp_message_builder.cc).
// Every route of an instance goes to every subscriber, the originator included; any change re-sends the
// whole <item>; the last path gone becomes a <retract>. Changes are coalesced until the current burst of
// work is done, so that a thousand routes published in one TCP read cost one message per agent, not one
// per route, and each <item> is encoded once for all its subscribers.
// Back-pressure: messages go out one at a time while a subscriber's socket takes them; once it is full,
// what that subscriber has not been sent is held as the set of its prefixes (a reference to the RIB's
// current state, never a copy of bytes per agent), and sent as the then-current items when it drains.
import {
  MAX_ITEMS_PER_MESSAGE, MAX_RETRACTS_PER_MESSAGE, encodeRetractElements, encodeRouteItem, routeMessageFrame,
} from '../xmpp/stanza-encoder.ts';
import { loadBalanceFieldOf, type XmppRouteEntry } from '../xmpp/route-entry.ts';
import type { AgentRouteItem } from './agent-items.ts';
import type { AgentChannel } from './agent-channel.ts';

export interface ReflectionSource {
  /** The item for one prefix of an instance, or null when it has no feasible path. */
  agentItem(instance: string, prefix: string): AgentRouteItem | null;
  /** Every prefix the instance's table holds. */
  prefixes(instance: string): Iterable<string>;
  /** The channels subscribed to an instance (configured, not pending). */
  subscribers(instance: string): Iterable<AgentChannel>;
}

export function entryFromItem(item: AgentRouteItem): XmppRouteEntry {
  return {
    af: 1,
    safi: 1,
    prefix: item.prefix,
    nextHops: item.nextHops.map((nh) => ({
      af: 1,
      address: nh.address,
      mac: nh.mac,
      label: nh.label,
      vni: 0,
      encapsulations: [...nh.encapsulations],
      virtualNetwork: nh.virtualNetwork,
      tags: [...nh.tags],
      localSequenceNumber: 0,
    })),
    version: 1,
    virtualNetwork: item.virtualNetwork,
    mobility: { seqno: item.mobility.seqno, sticky: item.mobility.sticky },
    sequenceNumber: item.sequenceNumber,
    securityGroups: [...item.securityGroups],
    communityTags: [...item.communities],
    localPreference: item.localPreference,
    med: item.med,
    loadBalance: item.loadBalance
      ? { fields: item.loadBalance.fields.map(loadBalanceFieldOf), decision: item.loadBalance.decision }
      : { fields: [], decision: '' },
    subProtocol: '',
  };
}

/** Prefixes a backlogged subscriber gets per write once it drains: one message of items. */
const PUMP_SLICE = MAX_ITEMS_PER_MESSAGE;
/**
 * Unsent bytes a subscriber's socket may hold before it counts as full (about nine messages of 32 items):
 * enough to keep a reading agent busy between two 'drain' events, small enough that a thousand agents that
 * stop reading cost a few hundred MB at most.
 */
const SEND_WINDOW_BYTES = 256 * 1024;

export class RouteReflection {
  private readonly dirty = new Map<string, Set<string>>();
  /**
   * Subscribers with a backlog: instance → prefixes they still have to be sent. They get the then-current
   * item of each as their socket drains: a slow agent costs a set of prefixes, not an unbounded queue of
   * messages, and many changes to one prefix cost one item.
   */
  private readonly held = new Map<AgentChannel, Map<string, Set<string>>>();
  /** Backlogged subscribers waiting for their socket's 'drain'. */
  private readonly blocked = new Set<AgentChannel>();
  /**
   * instance → prefix → its encoded `<item>` as UTF-8 (null: no feasible path), shared by every subscriber. Kept
   * while some subscriber has a backlog (they ask for the same items one drain at a time); a change of the
   * prefix drops its entry.
   */
  private readonly encoded = new Map<string, Map<string, Buffer | null>>();
  private scheduled = false;
  /**
   * instance → whether some subscriber takes its routes (not all `<no-ribout>`), remembered until the next
   * flush or walk: a receiver only ever appears through a subscribe, which walks. A change of an instance
   * nobody receives is then not even kept as dirty.
   */
  private readonly receiving = new Map<string, boolean>();
  counters = { itemsSent: 0, retractsSent: 0, messagesSent: 0, heldBack: 0 };

  constructor(private readonly source: ReflectionSource) {}

  changed(instance: string, prefix: string): void {
    this.encoded.get(instance)?.delete(prefix);
    let receiving = this.receiving.get(instance);
    if (receiving === undefined) this.receiving.set(instance, (receiving = this.receivers(instance, this.source.subscribers(instance)).length > 0));
    if (!receiving) return;
    let prefixes = this.dirty.get(instance);
    if (!prefixes) this.dirty.set(instance, (prefixes = new Set()));
    prefixes.add(prefix);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what changed since the last flush; safe to call at any time. */
  flush(): void {
    this.scheduled = false;
    this.receiving.clear();
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const [instance, prefixes] of dirty) {
      const receivers = this.receivers(instance, this.source.subscribers(instance));
      // Nobody to tell (no subscriber, or all with <no-ribout>): the items need not even be built.
      if (receivers.length === 0) continue;
      this.deliver(receivers, instance, [...prefixes], true);
    }
    this.forgetEncodings();
  }

  /** docs/protocol.md §3.1: after a subscribe, the agent gets every current route of the instance. */
  walk(channel: AgentChannel, instance: string): void {
    this.receiving.delete(instance);
    const receivers = this.receivers(instance, [channel]);
    if (receivers.length === 0) return;
    // A walk tells what exists: prefixes without a feasible path are not retracted.
    this.deliver(receivers, instance, [...this.source.prefixes(instance)], false);
    this.forgetEncodings();
  }

  /** Changes wait for this channel's socket to drain. */
  isHeld(channel: AgentChannel): boolean {
    return this.held.has(channel);
  }

  private receivers(instance: string, channels: Iterable<AgentChannel>): AgentChannel[] {
    const out: AgentChannel[] = [];
    for (const channel of channels) {
      const subscription = channel.subscriptions.get(instance);
      if (subscription && !subscription.noRibout) out.push(channel);
    }
    return out;
  }

  /** A subscriber with a backlog gets these prefixes after it; the others get them now. */
  private deliver(receivers: readonly AgentChannel[], instance: string, prefixes: readonly string[], retract: boolean): void {
    const now: AgentChannel[] = [];
    for (const channel of receivers) {
      const held = this.held.get(channel);
      if (held) this.hold(held, instance, prefixes, 0, prefixes.length);
      else now.push(channel);
    }
    if (now.length > 0) this.transmit(now, instance, prefixes, retract);
  }

  /** The `<item>` of a prefix as it is now, encoded once for every subscriber; null when it has no feasible path. */
  private itemXml(instance: string, prefix: string): Buffer | null {
    let cache = this.encoded.get(instance);
    if (!cache) this.encoded.set(instance, (cache = new Map()));
    let xml = cache.get(prefix);
    if (xml === undefined) {
      const item = this.source.agentItem(instance, prefix);
      xml = item ? Buffer.from(encodeRouteItem(entryFromItem(item)), 'utf8') : null;
      cache.set(prefix, xml);
    }
    return xml;
  }

  private forgetEncodings(): void {
    if (this.held.size === 0) this.encoded.clear();
  }

  /**
   * Items (then retracts) of `prefixes` to each receiver, message by message, each message body built once
   * for all. A receiver whose socket fills up stops there: the prefixes of the messages it has not had are
   * held for it, and once no receiver is left no further message is even built.
   */
  private transmit(receivers: readonly AgentChannel[], instance: string, prefixes: readonly string[], retract: boolean): void {
    const items: Buffer[] = [];
    const itemPrefixes: string[] = [];
    const retracted: string[] = [];
    for (const prefix of prefixes) {
      const xml = this.itemXml(instance, prefix);
      if (xml !== null) {
        items.push(xml);
        itemPrefixes.push(prefix);
      } else if (retract) retracted.push(prefix);
    }
    // Messages in order: item messages over itemPrefixes, then retract messages over retracted.
    const itemMessages = Math.ceil(items.length / MAX_ITEMS_PER_MESSAGE);
    const total = itemMessages + Math.ceil(retracted.length / MAX_RETRACTS_PER_MESSAGE);
    let active = [...receivers];
    const frames = new Map<AgentChannel, [string, string]>();
    const frameFor = (channel: AgentChannel): [string, string] => {
      let frame = frames.get(channel);
      if (!frame) frames.set(channel, (frame = routeMessageFrame({ to: channel.name, instance })));
      return frame;
    };
    for (let m = 0; m < total && active.length > 0; m++) {
      const isItems = m < itemMessages;
      const from = isItems ? m * MAX_ITEMS_PER_MESSAGE : (m - itemMessages) * MAX_RETRACTS_PER_MESSAGE;
      const to = Math.min(from + (isItems ? MAX_ITEMS_PER_MESSAGE : MAX_RETRACTS_PER_MESSAGE), isItems ? items.length : retracted.length);
      // One body for every receiver, written by reference: only the message's opening tag names the agent.
      const body = isItems ? Buffer.concat(items.slice(from, to)) : encodeRetractElements(retracted.slice(from, to));
      const stalled = new Set<AgentChannel>();
      for (const channel of active) {
        const { session } = channel;
        const [open, close] = frameFor(channel);
        // false: above the socket's high-water mark, or closed (then there is nothing to hold either).
        if (!session.sendParts([open, body, close], 1) && (session.closed || session.unsentBytes >= SEND_WINDOW_BYTES)) {
          stalled.add(channel);
        }
        if (isItems) this.counters.itemsSent += to - from;
        else this.counters.retractsSent += to - from;
        this.counters.messagesSent++;
      }
      if (stalled.size === 0) continue;
      active = active.filter((c) => !stalled.has(c));
      for (const channel of stalled) {
        if (channel.session.closed) continue;
        const held = this.block(channel);
        // What this channel has not been sent: the rest of the items, then every retract not yet sent.
        if (isItems) {
          this.hold(held, instance, itemPrefixes, to, itemPrefixes.length);
          this.hold(held, instance, retracted, 0, retracted.length);
        } else this.hold(held, instance, retracted, to, retracted.length);
      }
    }
  }

  private hold(held: Map<string, Set<string>>, instance: string, prefixes: readonly string[], from: number, to: number): void {
    if (from >= to) return;
    let set = held.get(instance);
    if (!set) held.set(instance, (set = new Set()));
    for (let i = from; i < to; i++) set.add(prefixes[i]!);
    this.counters.heldBack += to - from;
  }

  /** The channel's socket is full: it waits for 'drain' (or its session's end) with its backlog. */
  private block(channel: AgentChannel): Map<string, Set<string>> {
    let held = this.held.get(channel);
    if (!held) this.held.set(channel, (held = new Map()));
    if (this.blocked.has(channel)) return held;
    this.blocked.add(channel);
    const drained = (): void => {
      channel.session.off('closed', forget);
      this.blocked.delete(channel);
      this.pump(channel);
    };
    const forget = (): void => {
      channel.session.off('drain', drained);
      this.blocked.delete(channel);
      this.held.delete(channel);
      this.forgetEncodings();
    };
    channel.session.once('drain', drained);
    channel.session.once('closed', forget);
    return held;
  }

  /** Sends a drained channel its backlog, a message at a time, until the socket is full again or the backlog is empty. */
  private pump(channel: AgentChannel): void {
    const held = this.held.get(channel);
    while (held && !this.blocked.has(channel)) {
      const next = held.entries().next();
      if (next.done) break;
      const [instance, prefixes] = next.value;
      const slice: string[] = [];
      for (const prefix of prefixes) {
        slice.push(prefix);
        if (slice.length === PUMP_SLICE) break;
      }
      for (const prefix of slice) prefixes.delete(prefix);
      if (prefixes.size === 0) held.delete(instance);
      // Unsubscribed (or <no-ribout>) meanwhile: nothing to send for this instance.
      if (this.receivers(instance, [channel]).length === 0) continue;
      this.transmit([channel], instance, slice, true);
    }
    if (held && held.size === 0 && !this.blocked.has(channel)) this.held.delete(channel);
    this.forgetEncodings();
  }
}
