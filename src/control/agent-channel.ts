// One agent's XMPP channel on the control node (bgp/bgp_xmpp_channel.cc): the subscription rules of
// docs/protocol.md §3.1, the publish + collection pairing of docs/protocol.md §3.2/§3.3, and the agent's paths. Paths are attributed to
// the session's own identity (the stream header's `from`), never to a stanza's `from`, so no agent can
// touch another agent's paths.
import type { XmppServerSession } from '../xmpp/server.ts';
import { decodeAgentStanza, isStanzaError, validateAgentRoute, type AgentStanza, type ScannedAgentStanza } from '../xmpp/stanza-decoder.ts';
import { hashFieldOf, type XmppNextHop, type XmppRouteEntry } from '../xmpp/route-entry.ts';
import { virtualRouterNode } from '../xmpp/config-stanza.ts';
import { medForXmppPath, type PathInput, type PeerRef } from '../rib/index.ts';

type PublishStanza = Extract<AgentStanza, { kind: 'publish' }>;

export interface Subscription {
  instanceId: number;
  noRibout: boolean;
}

/** What a channel needs from its control node. */
export interface ChannelHost {
  /** The VN of a configured instance, or undefined while the instance is not configured. */
  instanceNetwork(instance: string): { name: string; vnIndex: number } | undefined;
  addPath(instance: string, path: PathInput): void;
  removePath(instance: string, peer: PeerRef, prefix: string): void;
  /** Every path of `peer`, or of `peer` in one instance. */
  removePeerPaths(peer: PeerRef, instance?: string): void;
  /** Sends this channel every current route of the instance (the table walk after a subscribe). */
  walkInstance(channel: AgentChannel, instance: string): void;
  subscribeConfig(channel: AgentChannel): void;
  /** The agent's End-of-RIB (docs/protocol.md §3.4): everything it has is published. */
  agentEndOfRib(channel: AgentChannel): void;
  log(line: string): void;
}

interface QueuedRoute {
  publish: PublishStanza;
  action: 'associate' | 'dissociate';
}

export class AgentChannel {
  readonly name: string;
  readonly peer: PeerRef;
  readonly subscriptions = new Map<string, Subscription>();
  /** Subscriptions for instances not (yet) configured, with the routes published into them meanwhile (docs/protocol.md §3.1). */
  private readonly pending = new Map<string, QueuedRoute[]>();
  private heldPublish: PublishStanza | null = null;
  private closed = false;
  configSubscribed = false;
  endOfRibSent = false;
  /** The agent has sent its End-of-RIB on this session (docs/protocol.md §3.4). */
  agentEndOfRibReceived = false;
  counters = { subscribes: 0, unsubscribes: 0, routesAdded: 0, routesWithdrawn: 0, collectionsWithoutPublish: 0 };

  constructor(
    readonly session: XmppServerSession,
    private readonly host: ChannelHost,
  ) {
    this.name = session.peerName;
    this.peer = { kind: 'xmpp', name: session.peerName, address: session.remoteAddress };
  }

  isSubscribed(instance: string): boolean {
    return this.subscriptions.has(instance);
  }

  /** One stanza from the agent; `read` is what the session's framer already read it as, if it did. */
  receive(raw: string, read?: ScannedAgentStanza): void {
    if (this.closed) return;
    const stanza = decodeAgentStanza(raw, read);
    if (isStanzaError(stanza)) return this.violation(stanza.error);
    // docs/protocol.md §3.2: a publish is held until the next stanza, which must be its collection.
    const held = this.heldPublish;
    this.heldPublish = null;
    switch (stanza.kind) {
      case 'subscribe':
        return this.subscribe(stanza.instance, stanza.instanceId, stanza.noRibout);
      case 'unsubscribe':
        return this.unsubscribe(stanza.instance);
      case 'publish':
        if (held) this.host.log(`${this.name}: publish ${held.node} had no collection; dropped`);
        this.heldPublish = stanza;
        return;
      case 'collection':
        if (!held || held.node !== stanza.node) {
          this.counters.collectionsWithoutPublish++;
          this.host.log(`${this.name}: collection for ${stanza.node} without a matching publish; dropped`);
          return;
        }
        return this.route(held, stanza.action);
      case 'end-of-rib':
        return this.endOfRibReceived();
      case 'other':
        return this.other(stanza.resource, stanza.element);
    }
  }

  private other(resource: string, element: Extract<AgentStanza, { kind: 'other' }>['element']): void {
    if (resource !== 'config') {
      this.host.log(`${this.name}: ignored a stanza for resource '${resource}'`);
      return;
    }
    const node = element.getChild('pubsub')?.getChild('subscribe')?.attrs.node;
    if (node !== virtualRouterNode(this.name)) {
      this.host.log(`${this.name}: ignored a config request for '${String(node)}'`);
      return;
    }
    this.configSubscribed = true;
    this.host.subscribeConfig(this);
  }

  private subscribe(instance: string, instanceId: number, noRibout: boolean): void {
    if (this.subscriptions.has(instance) || this.pending.has(instance)) {
      return this.violation(`duplicate subscribe to ${instance}`);
    }
    this.counters.subscribes++;
    if (!this.host.instanceNetwork(instance)) {
      this.host.log(`${this.name}: subscribe to unconfigured instance ${instance} kept pending`);
      this.subscriptions.set(instance, { instanceId, noRibout });
      this.pending.set(instance, []);
      return;
    }
    this.subscriptions.set(instance, { instanceId, noRibout });
    this.host.walkInstance(this, instance);
  }

  private unsubscribe(instance: string): void {
    if (!this.subscriptions.has(instance)) return this.violation(`unsubscribe from ${instance} without a subscribe`);
    this.counters.unsubscribes++;
    this.subscriptions.delete(instance);
    this.pending.delete(instance);
    this.host.removePeerPaths(this.peer, instance);
  }

  /** The control node calls this when a pending instance becomes configured: replay what was queued. */
  instanceConfigured(instance: string): void {
    const queued = this.pending.get(instance);
    if (!queued) return;
    this.pending.delete(instance);
    for (const q of queued) this.applyRoute(q.publish, q.action);
    this.host.walkInstance(this, instance);
  }

  /** The control node calls this when an instance's config goes away: its paths stay queued as pending. */
  instanceUnconfigured(instance: string): void {
    if (this.subscriptions.has(instance) && !this.pending.has(instance)) this.pending.set(instance, []);
  }

  private route(publish: PublishStanza, action: 'associate' | 'dissociate'): void {
    if (!this.subscriptions.has(publish.instance)) {
      return this.violation(`route ${publish.prefix} for unsubscribed instance ${publish.instance}`);
    }
    // docs/protocol.md §3.4: a publish/collection pair with no <item> is an End-of-RIB marker.
    if (publish.entry === null) return this.endOfRibReceived();
    const problem = validateAgentRoute(publish, action === 'dissociate');
    if (problem) return this.violation(problem);
    const queue = this.pending.get(publish.instance);
    if (queue) {
      queue.push({ publish, action });
      return;
    }
    this.applyRoute(publish, action);
  }

  private applyRoute(publish: PublishStanza, action: 'associate' | 'dissociate'): void {
    if (action === 'dissociate') {
      this.counters.routesWithdrawn++;
      this.host.removePath(publish.instance, this.peer, publish.prefix);
      return;
    }
    const network = this.host.instanceNetwork(publish.instance);
    const subscription = this.subscriptions.get(publish.instance);
    if (!network || !subscription || !publish.entry) return;
    this.counters.routesAdded++;
    this.host.addPath(publish.instance, pathFromItem(this.peer, publish.prefix, publish.entry, subscription.instanceId, network));
  }

  private endOfRibReceived(): void {
    this.agentEndOfRibReceived = true;
    this.host.agentEndOfRib(this);
  }

  /** Contrail closes the session on these (docs/protocol.md §3.1); we close only this session and keep everything else. */
  private violation(reason: string): void {
    this.host.log(`${this.name}: closing session: ${reason}`);
    this.close(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close(reason);
  }
}

/** docs/protocol.md §6.1/§6.2: an agent's item becomes a path with RD `<next-hop>:<instance-id>` and the instance's VN. */
export function pathFromItem(
  peer: PeerRef,
  prefix: string,
  entry: XmppRouteEntry,
  instanceId: number,
  network: { name: string; vnIndex: number },
): PathInput {
  const nh = entry.nextHops[0];
  return { peer, rd: routeDistinguisher(nh.address, instanceId), prefix, label: nh.label, nextHop: nh.address, attrs: attributesOf(entry, nh, network) };
}

// The last RD spelled: an agent's routes share their next hop and instance-id, so they share one string.
let lastRd = { address: '', instanceId: -1, rd: '' };

function routeDistinguisher(address: string, instanceId: number): string {
  if (address !== lastRd.address || instanceId !== lastRd.instanceId) lastRd = { address, instanceId, rd: `${address}:${instanceId}` };
  return lastRd.rd;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two items give a path the same attributes (the fields attributesOf reads). */
function sameAttributeSource(a: XmppRouteEntry, an: XmppNextHop, b: XmppRouteEntry, bn: XmppNextHop): boolean {
  return a.localPreference === b.localPreference && a.med === b.med && a.mobility.seqno === b.mobility.seqno &&
    a.sequenceNumber === b.sequenceNumber && a.mobility.sticky === b.mobility.sticky && an.mac === bn.mac &&
    a.loadBalance.decision === b.loadBalance.decision && sameList(an.encapsulations, bn.encapsulations) &&
    sameList(an.tags, bn.tags) && sameList(a.securityGroups, b.securityGroups) && sameList(a.communityTags, b.communityTags) &&
    sameList(a.loadBalance.fields, b.loadBalance.fields);
}

// The attributes made last in each VN, and from what: an instance's items differ in prefix, label and next
// hop, hardly ever in attributes, so consecutive items of a VN (from any agent) share one frozen object,
// which the RIB then normalises once (Rib.addPath).
interface MadeAttributes { entry: XmppRouteEntry; nh: XmppNextHop; vnIndex: number; attrs: PathInput['attrs'] }
const lastAttrs = new Map<string, MadeAttributes>();

function attributesOf(entry: XmppRouteEntry, nh: XmppNextHop, network: { name: string; vnIndex: number }): PathInput['attrs'] {
  const last = lastAttrs.get(network.name);
  if (last !== undefined && last.vnIndex === network.vnIndex && sameAttributeSource(entry, nh, last.entry, last.nh)) return last.attrs;
  const lbDefault = entry.loadBalance.fields.length === 0 && entry.loadBalance.decision !== 'source-bias';
  const attrs = Object.freeze({
    localPref: entry.localPreference,
    med: medForXmppPath(entry.med, entry.localPreference),
    origin: 'incomplete' as const,
    asPath: Object.freeze([]),
    sequence: entry.mobility.seqno || entry.sequenceNumber,
    sticky: entry.mobility.sticky,
    encapsulations: Object.freeze([...nh.encapsulations]),
    // docs/protocol.md §5: the control node ignores the VN an agent sends and uses the instance's.
    virtualNetwork: network.name,
    vnIndex: network.vnIndex,
    securityGroups: Object.freeze([...entry.securityGroups]),
    communities: Object.freeze([...entry.communityTags]),
    tags: Object.freeze([...nh.tags]),
    mac: nh.mac,
    loadBalance: lbDefault
      ? undefined
      : Object.freeze({
        fields: Object.freeze(entry.loadBalance.fields.map(hashFieldOf)),
        decision: entry.loadBalance.decision === 'source-bias' ? 'source-bias' as const : 'field-hash' as const,
      }),
  });
  // Bounded: a VN deleted from the config would otherwise keep its entry.
  if (lastAttrs.size >= 4096) lastAttrs.clear();
  lastAttrs.set(network.name, { entry, nh, vnIndex: network.vnIndex, attrs });
  return attrs;
}
