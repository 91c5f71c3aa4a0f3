// Reflection of VRF routes to subscribed agents (§4, bgp/bgp_xmpp_channel.cc, bgp/xmpp_message_builder.cc).
// Every route of an instance goes to every subscriber, the originator included; any change re-sends the
// whole <item>; the last path gone becomes a <retract>. Changes are coalesced until the current burst of
// work is done, so that a thousand routes published in one TCP read cost one message per agent, not one
// per route, and each batch is encoded once for all its subscribers.
import { MAX_ITEMS_PER_MESSAGE, MAX_RETRACTS_PER_MESSAGE, encodeRouteItems, encodeRouteRetract } from '../xmpp/stanza-codec.ts';
import { escapeXml } from '../xmpp/xml-text.ts';
import type { XmppRouteEntry } from '../xmpp/route-entry.ts';
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
      ? { fields: [...item.loadBalance.fields], decision: item.loadBalance.decision }
      : { fields: [], decision: '' },
    subProtocol: '',
  };
}

/**
 * One encoding of a batch, addressed to any subscriber: the messages are encoded once with a placeholder
 * `to` and only the agent name differs per subscriber, so a batch costs one encode plus a string join
 * per subscriber instead of one encode per subscriber.
 */
class AddressableBatch {
  private readonly parts: string[] | null;

  constructor(
    private readonly encode: (to: string) => string,
    messages: number,
  ) {
    const parts = encode(PLACEHOLDER).split(PLACEHOLDER);
    // Each message names its addressee once; anything else means the placeholder also occurs in the
    // content (a NUL smuggled into a name), and then every subscriber gets its own encoding.
    this.parts = parts.length === messages + 1 ? parts : null;
  }

  for(agentName: string): string {
    return this.parts === null ? this.encode(agentName) : this.parts.join(escapeXml(agentName));
  }
}

// NUL cannot appear in XML text, so it cannot collide with anything an encoder emits for valid content.
const PLACEHOLDER = '\u0000';

export class RouteReflection {
  private readonly dirty = new Map<string, Set<string>>();
  /**
   * Channels whose socket is full, with the prefixes that changed meanwhile. They get the then-current
   * items of exactly those prefixes when the socket drains: a slow agent costs a set of prefixes, not
   * an unbounded queue of messages, and many changes to one prefix cost one item.
   */
  private readonly held = new Map<AgentChannel, Map<string, Set<string>>>();
  private scheduled = false;
  counters = { itemsSent: 0, retractsSent: 0, messagesSent: 0, heldBack: 0 };

  constructor(private readonly source: ReflectionSource) {}

  changed(instance: string, prefix: string): void {
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
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const [instance, prefixes] of dirty) {
      const receivers = this.receivers(instance, this.source.subscribers(instance));
      // Nobody to tell (no subscriber, or all with <no-ribout>): the items need not even be built.
      if (receivers.length === 0) continue;
      const { entries, retracted } = this.itemsFor(instance, prefixes);
      this.send(receivers, instance, entries, retracted);
    }
  }

  /** The current item of each prefix, or its retract when it has no feasible path any more. */
  private itemsFor(instance: string, prefixes: Iterable<string>): { entries: XmppRouteEntry[]; retracted: string[] } {
    const entries: XmppRouteEntry[] = [];
    const retracted: string[] = [];
    for (const prefix of prefixes) {
      const item = this.source.agentItem(instance, prefix);
      if (item) entries.push(entryFromItem(item));
      else retracted.push(prefix);
    }
    return { entries, retracted };
  }

  /** §3.1: after a subscribe, the agent gets every current route of the instance. */
  walk(channel: AgentChannel, instance: string): void {
    const receivers = this.receivers(instance, [channel]);
    if (receivers.length === 0) return;
    // A walk tells what exists: prefixes without a feasible path are not retracted.
    this.send(receivers, instance, this.itemsFor(instance, this.source.prefixes(instance)).entries, []);
  }

  private receivers(instance: string, channels: Iterable<AgentChannel>): AgentChannel[] {
    const out: AgentChannel[] = [];
    for (const channel of channels) {
      const subscription = channel.subscriptions.get(instance);
      if (subscription && !subscription.noRibout) out.push(channel);
    }
    return out;
  }

  private send(receivers: readonly AgentChannel[], instance: string, entries: XmppRouteEntry[], retracted: string[]): void {
    const itemMessages = Math.ceil(entries.length / MAX_ITEMS_PER_MESSAGE);
    const retractMessages = Math.ceil(retracted.length / MAX_RETRACTS_PER_MESSAGE);
    const items = entries.length > 0 ? new AddressableBatch((to) => encodeRouteItems({ to, instance, entries }), itemMessages) : null;
    const retracts = retracted.length > 0 ? new AddressableBatch((to) => encodeRouteRetract({ to, instance, prefixes: retracted }), retractMessages) : null;
    for (const channel of receivers) {
      const held = this.held.get(channel);
      if (held) {
        this.hold(held, instance, entries, retracted);
        continue;
      }
      let open = true;
      if (items) open = channel.session.send(items.for(channel.name));
      if (retracts) open = channel.session.send(retracts.for(channel.name)) && open;
      this.counters.itemsSent += entries.length;
      this.counters.retractsSent += retracted.length;
      this.counters.messagesSent += itemMessages + retractMessages;
      if (!open) this.holdBack(channel);
    }
  }

  /** Changes wait for this channel's socket to drain. */
  isHeld(channel: AgentChannel): boolean {
    return this.held.has(channel);
  }

  private hold(held: Map<string, Set<string>>, instance: string, entries: XmppRouteEntry[], retracted: string[]): void {
    let prefixes = held.get(instance);
    if (!prefixes) held.set(instance, (prefixes = new Set()));
    for (const e of entries) prefixes.add(e.prefix);
    for (const p of retracted) prefixes.add(p);
    this.counters.heldBack += entries.length + retracted.length;
  }

  /** The channel's socket is full: hold its changes until it drains (or the session goes). */
  private holdBack(channel: AgentChannel): void {
    this.held.set(channel, new Map());
    const release = (): void => {
      channel.session.off('closed', forget);
      const held = this.held.get(channel);
      this.held.delete(channel);
      for (const [instance, prefixes] of held ?? []) {
        const receivers = this.receivers(instance, [channel]);
        if (receivers.length === 0) continue;
        const { entries, retracted } = this.itemsFor(instance, prefixes);
        this.send(receivers, instance, entries, retracted);
      }
    };
    const forget = (): void => {
      channel.session.off('drain', release);
      this.held.delete(channel);
    };
    channel.session.once('drain', release);
    channel.session.once('closed', forget);
  }
}
