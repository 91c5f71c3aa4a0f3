// Reflection of VRF routes to subscribed agents (docs/protocol.md §4, bgp/bgp_xmpp_channel.cc, bgp/xmpp_message_builder.cc).
// Every route of an instance goes to every subscriber, the originator included; any change re-sends the
// whole <item>; the last path gone becomes a <retract>. Changes are coalesced until the current burst of
// work is done, so that a thousand routes published in one TCP read cost one message per agent, not one
// per route, and each <item> is encoded once for all its subscribers and all table walks (a walk's message
// bodies too, while their items are unchanged).
// Back-pressure: messages go out a few at a time while a subscriber's socket takes them; once it is full,
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
/**
 * What all subscribers' windows may hold together: with thousands of subscribers the window shrinks (to
 * MIN_WINDOW_BYTES at least, one message) so that agents falling behind during a table dump cost tens of MB,
 * not 256 KiB each of bodies encoded for them alone (a backlog is sent per subscriber as it drains).
 */
const SEND_BUDGET_BYTES = 64 * 2 ** 20;
const MIN_WINDOW_BYTES = 32 * 1024;
/**
 * Consecutive messages to one subscriber go to its socket in one write of about this many bytes at most: one
 * system call and one read at the agent for several messages, while the window above still bounds what waits.
 */
const WRITE_BATCH_BYTES = 64 * 1024;

/** A message body and the encoded items it was joined from (the same Buffers, in order). */
interface Body { items: Buffer[]; body: Buffer }
/**
 * Encoded items kept per instance between flushes and walks; a bigger table (routes imported by BGP, say) keeps
 * them only while a subscriber has a backlog, as each would otherwise cost its encoding for good.
 */
const MAX_KEPT_ENCODINGS = 65_536;
/** Bodies kept for reuse (between this and twice as many), oldest out: a 2,000-route table is 63 of them. */
const MAX_BODIES = 256;

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
   * instance → prefix → its encoded `<item>` as UTF-8 (null: no feasible path), shared by every subscriber and
   * every table walk; a change of the prefix drops its entry. At thousands of agents each walk of the table
   * would otherwise encode every item again.
   */
  private readonly encoded = new Map<string, Map<string, Buffer | null>>();
  /**
   * Message bodies by their first item: a body whose items are the same encoded Buffers is written again
   * rather than joined again. Table walks (one per subscribing agent) cut the table at the same places, and so
   * does the backlog of an agent that fell behind during one (it resumes at a message boundary), so thousands
   * of agents share the bodies of one table instead of each getting copies made for it alone.
   */
  private readonly bodies = new Map<Buffer, Body[]>();
  private readonly bodyOrder: Body[] = [];
  /** channel → instance → its message frame as UTF-8 (only the opening tag names the agent). */
  private readonly frames = new WeakMap<AgentChannel, Map<string, [Buffer, Buffer]>>();
  private scheduled = false;
  /**
   * instance → whether some subscriber takes its routes (not all `<no-ribout>`), remembered until the next
   * flush or walk: a receiver only ever appears through a subscribe, which walks. A change of an instance
   * nobody receives is then not even kept as dirty.
   */
  private readonly receiving = new Map<string, boolean>();
  /** The send window per subscriber, from the most subscribers an instance had at a flush. */
  private window = SEND_WINDOW_BYTES;
  counters = { itemsSent: 0, retractsSent: 0, messagesSent: 0, heldBack: 0, writes: 0 };

  constructor(private readonly source: ReflectionSource) {}

  changed(instance: string, prefix: string): void {
    this.encoded.get(instance)?.delete(prefix);
    let receiving = this.receiving.get(instance);
    if (receiving === undefined) {
      this.receiving.set(instance, (receiving = this.receivers(instance, this.source.subscribers(instance)).length > 0));
      // What a flush does for an instance nobody listens to, done here since its changes never reach one.
      if (!receiving && !this.hasHeld(instance)) this.forget(instance);
    }
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
      if (receivers.length === 0) {
        if (!this.hasHeld(instance)) this.forget(instance);
        continue;
      }
      this.window = Math.max(MIN_WINDOW_BYTES, Math.min(SEND_WINDOW_BYTES, Math.floor(SEND_BUDGET_BYTES / receivers.length)));
      this.deliver(receivers, instance, [...prefixes], true);
    }
    this.trimEncodings();
  }

  private trimEncodings(): void {
    for (const [instance, cache] of this.encoded) {
      if (cache.size > MAX_KEPT_ENCODINGS && !this.hasHeld(instance)) this.encoded.delete(instance);
    }
  }

  /** docs/protocol.md §3.1: after a subscribe, the agent gets every current route of the instance. */
  walk(channel: AgentChannel, instance: string): void {
    this.receiving.delete(instance);
    const receivers = this.receivers(instance, [channel]);
    if (receivers.length === 0) return;
    // A walk tells what exists: prefixes without a feasible path are not retracted.
    this.deliver(receivers, instance, [...this.source.prefixes(instance)], false);
    this.trimEncodings();
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

  private hasHeld(instance: string): boolean {
    for (const held of this.held.values()) if (held.has(instance)) return true;
    return false;
  }

  /** Nobody listens to the instance any more: its encodings go (they come back on the next subscribe). */
  private forget(instance: string): void {
    this.encoded.delete(instance);
  }

  /** The body of items[from, to): one joined before from the same Buffers, or a new one kept for the next. */
  private itemsBody(items: readonly Buffer[], from: number, to: number): Buffer {
    const first = items[from]!;
    const known = this.bodies.get(first);
    if (known !== undefined) {
      for (const b of known) {
        if (b.items.length !== to - from) continue;
        let same = true;
        for (let i = from + 1; i < to && same; i++) same = b.items[i - from] === items[i];
        if (same) return b.body;
      }
    }
    const parts = items.slice(from, to);
    const body: Body = { items: parts, body: Buffer.concat(parts) };
    if (known === undefined) this.bodies.set(first, [body]);
    else known.push(body);
    this.bodyOrder.push(body);
    if (this.bodyOrder.length > 2 * MAX_BODIES) {
      for (const old of this.bodyOrder.splice(0, MAX_BODIES)) {
        const list = this.bodies.get(old.items[0]!)!;
        list.splice(list.indexOf(old), 1);
        if (list.length === 0) this.bodies.delete(old.items[0]!);
      }
    }
    return body.body;
  }

  private frameFor(channel: AgentChannel, instance: string): [Buffer, Buffer] {
    let byInstance = this.frames.get(channel);
    if (!byInstance) this.frames.set(channel, (byInstance = new Map()));
    let frame = byInstance.get(instance);
    if (!frame) {
      const [open, close] = routeMessageFrame({ to: channel.name, instance });
      byInstance.set(instance, (frame = [Buffer.from(open, 'utf8'), Buffer.from(close, 'utf8')]));
    }
    return frame;
  }

  /**
   * Items (then retracts) of `prefixes` to each receiver, message by message, each message body built once
   * for all and consecutive messages written together. A receiver whose socket fills up stops there: the
   * prefixes of the messages it has not had are held for it, and no message nobody needs is even built.
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
    const range = (m: number): [from: number, to: number] => {
      const isItems = m < itemMessages;
      const from = isItems ? m * MAX_ITEMS_PER_MESSAGE : (m - itemMessages) * MAX_RETRACTS_PER_MESSAGE;
      return [from, Math.min(from + (isItems ? MAX_ITEMS_PER_MESSAGE : MAX_RETRACTS_PER_MESSAGE), isItems ? items.length : retracted.length)];
    };
    // One body per message for every receiver, written by reference: only the message's opening tag names the agent.
    const bodies: Buffer[] = [];
    const body = (m: number): Buffer => {
      let b = bodies[m];
      if (b === undefined) {
        const [from, to] = range(m);
        b = bodies[m] = m >= itemMessages
          ? Buffer.from(encodeRetractElements(retracted.slice(from, to)), 'utf8')
          : this.itemsBody(items, from, to);
      }
      return b;
    };
    for (const channel of receivers) {
      const { session } = channel;
      const [open, close] = this.frameFor(channel, instance);
      let m = 0;
      while (m < total) {
        // one write of several messages, up to WRITE_BATCH_BYTES and never past the window by more than one message
        const messages: Buffer[][] = [];
        const limit = Math.min(WRITE_BATCH_BYTES, this.window - session.unsentBytes);
        let bytes = 0;
        const first = m;
        while (m < total && (m === first || bytes < limit)) {
          const b = body(m++);
          messages.push([open, b, close]);
          bytes += b.length;
        }
        for (let k = first; k < m; k++) {
          const [from, to] = range(k);
          if (k < itemMessages) this.counters.itemsSent += to - from;
          else this.counters.retractsSent += to - from;
        }
        this.counters.messagesSent += m - first;
        this.counters.writes++;
        // false: above the socket's high-water mark, or closed (then there is nothing to hold either).
        if (session.sendStanzas(messages) || !(session.closed || session.unsentBytes >= this.window)) continue;
        if (session.closed || m >= total) break;
        const held = this.block(channel);
        // What this channel has not been sent: the rest of the items, then every retract not yet sent.
        if (m < itemMessages) {
          this.hold(held, instance, itemPrefixes, range(m)[0], itemPrefixes.length);
          this.hold(held, instance, retracted, 0, retracted.length);
        } else this.hold(held, instance, retracted, range(m)[0], retracted.length);
        break;
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
      this.frames.delete(channel);
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
  }
}
