// Reflection of VRF routes to subscribed agents (§4, bgp/bgp_xmpp_channel.cc, bgp/xmpp_message_builder.cc).
// Every route of an instance goes to every subscriber, the originator included; any change re-sends the
// whole <item>; the last path gone becomes a <retract>. Changes are coalesced until the current burst of
// work is done, so that a thousand routes published in one TCP read cost one message per agent, not one
// per route.
import { encodeRouteItems, encodeRouteRetract } from '../xmpp/stanza-codec.ts';
import type { XmppRouteEntry } from '../xmpp/route-entry.ts';
import type { AgentRouteItem } from '../rib/next-hop-list.ts';
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

export class RouteReflection {
  private readonly dirty = new Map<string, Set<string>>();
  private scheduled = false;
  counters = { itemsSent: 0, retractsSent: 0, messagesSent: 0 };

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
      const entries: XmppRouteEntry[] = [];
      const retracted: string[] = [];
      for (const prefix of prefixes) {
        const item = this.source.agentItem(instance, prefix);
        if (item) entries.push(entryFromItem(item));
        else retracted.push(prefix);
      }
      for (const channel of this.source.subscribers(instance)) this.send(channel, instance, entries, retracted);
    }
  }

  /** §3.1: after a subscribe, the agent gets every current route of the instance. */
  walk(channel: AgentChannel, instance: string): void {
    const entries: XmppRouteEntry[] = [];
    for (const prefix of this.source.prefixes(instance)) {
      const item = this.source.agentItem(instance, prefix);
      if (item) entries.push(entryFromItem(item));
    }
    this.send(channel, instance, entries, []);
  }

  private send(channel: AgentChannel, instance: string, entries: XmppRouteEntry[], retracted: string[]): void {
    const subscription = channel.subscriptions.get(instance);
    if (!subscription || subscription.noRibout) return;
    const to = channel.name;
    if (entries.length > 0) {
      channel.session.send(encodeRouteItems({ to, instance, entries }));
      this.counters.itemsSent += entries.length;
      this.counters.messagesSent += Math.ceil(entries.length / 32);
    }
    if (retracted.length > 0) {
      channel.session.send(encodeRouteRetract({ to, instance, prefixes: retracted }));
      this.counters.retractsSent += retracted.length;
      this.counters.messagesSent += Math.ceil(retracted.length / 256);
    }
  }
}
