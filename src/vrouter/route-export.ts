// What the agent publishes to a control node: its subscriptions (one per VRF it needs) and the routes of its
// local interfaces and floating-ips, as XMPP stanzas (docs/protocol.md §3.1–3.4 and docs/protocol.md §7.2).
// Owns the encoding of an exported route and the per-session bookkeeping that makes a re-sync send only the
// changes. What to publish comes from the plan (./agent-plan.ts); the session itself and what comes back are
// the agent's (./agent.ts, ./received-routes.ts).
import {
  CONTROL_NODE_JID, encodeEndOfRib, encodeRoutePublish, encodeSubscribe, encodeUnsubscribe,
} from '../xmpp/stanza-encoder.ts';
import type { LoadBalanceField, XmppRouteEntry } from '../xmpp/route-entry.ts';
import { splitRouteKey } from './agent-plan.ts';

/** docs/protocol.md §7.2: a member whose VM has sent traffic advertises LOCAL_PREF HIGH; the simulator marks every member so. */
const LOCAL_PREF_HIGH = 200;

export interface ExportedRoute {
  instance: string;
  prefix: string;
  label: number;
  virtualNetwork: string;
  loadBalanceFields: LoadBalanceField[];
  /** docs/protocol.md §8.4: a haproxy's VIP carries its role's preference; default LOCAL_PREF_HIGH. */
  localPreference?: number;
}

/** A stable, locally administered MAC for the compute's vhost0, derived from its address. */
export function vhostMac(address: string): string {
  const bytes = address.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '00', ...bytes].join(':');
}

/** docs/protocol.md §3.2 and docs/protocol.md §7.2: next-hop = own address, the VMI's label, LOCAL_PREF 200, sequence 0. */
export function exportEntry(route: ExportedRoute, address: string, mac: string): XmppRouteEntry {
  return {
    af: 1,
    safi: 1,
    prefix: route.prefix,
    nextHops: [
      {
        af: 1,
        address,
        mac,
        label: route.label,
        vni: 0,
        encapsulations: route.label === 0 ? ['gre', 'udp', 'vxlan'] : ['gre', 'udp'],
        virtualNetwork: route.virtualNetwork,
        tags: [],
        localSequenceNumber: 0,
      },
    ],
    version: 1,
    virtualNetwork: '',
    mobility: { seqno: 0, sticky: false },
    sequenceNumber: 0,
    securityGroups: [],
    communityTags: [],
    localPreference: route.label === 0 ? 0 : (route.localPreference ?? LOCAL_PREF_HIGH),
    med: 0,
    loadBalance: { fields: route.loadBalanceFields, decision: 'field-hash' },
    subProtocol: 'interface',
  };
}

/** What one session to a control node has been told; cleared when a new session starts. */
export interface PublishedState {
  /** instance → instance-id subscribed on this session. */
  subscribed: Map<string, number>;
  /** route key → fingerprint of what was published, so a re-sync only sends changes. */
  published: Map<string, string>;
  endOfRibSent: boolean;
}

export function emptyPublishedState(): PublishedState {
  return { subscribed: new Map(), published: new Map(), endOfRibSent: false };
}

export interface RouteExportContext {
  /** The agent's name: the stanzas' `from`. */
  from: string;
  address: string;
  mac: string;
  /** The VRF's index, allocated on first use: the subscribe's instance-id (docs/protocol.md §3.1). */
  instanceId(instance: string): number;
  nextSeq(): number;
  send(raw: string): void;
  /** Called after a VRF is unsubscribed: what the control node sent for it no longer holds. */
  unsubscribed(instance: string): void;
}

/**
 * Brings one control node up to date with `instances` and `exports`: subscribe before publishing, withdraw
 * before unsubscribing (docs/protocol.md §3.1), then the agent's End-of-RIB once per session
 * (docs/protocol.md §3.4).
 */
export function syncControlNode(
  state: PublishedState,
  instances: ReadonlyMap<string, string>,
  exports: ReadonlyMap<string, ExportedRoute>,
  ctx: RouteExportContext,
): void {
  for (const instance of instances.keys()) {
    if (state.subscribed.has(instance)) continue;
    const instanceId = ctx.instanceId(instance);
    ctx.send(encodeSubscribe({ from: ctx.from, instance, instanceId }));
    state.subscribed.set(instance, instanceId);
  }
  for (const [key, route] of exports) {
    const fingerprint = `${route.label}|${route.virtualNetwork}|${route.loadBalanceFields.join(',')}|${route.localPreference ?? ''}`;
    if (state.published.get(key) === fingerprint) continue;
    ctx.send(encodeRoutePublish({ from: ctx.from, instance: route.instance, entry: exportEntry(route, ctx.address, ctx.mac), seq: ctx.nextSeq() }));
    state.published.set(key, fingerprint);
  }
  for (const key of [...state.published.keys()]) {
    if (exports.has(key)) continue;
    const [instance, prefix] = splitRouteKey(key);
    const withdrawn: ExportedRoute = { instance, prefix, label: 0, virtualNetwork: '', loadBalanceFields: [] };
    const entry = exportEntry(withdrawn, ctx.address, ctx.mac);
    ctx.send(encodeRoutePublish({ from: ctx.from, instance, entry, seq: ctx.nextSeq(), withdraw: true }));
    state.published.delete(key);
  }
  for (const [instance, instanceId] of [...state.subscribed]) {
    if (instances.has(instance)) continue;
    ctx.send(encodeUnsubscribe({ from: ctx.from, instance, instanceId }));
    state.subscribed.delete(instance);
    ctx.unsubscribed(instance);
  }
  if (!state.endOfRibSent) {
    ctx.send(encodeEndOfRib({ from: ctx.from, to: `${CONTROL_NODE_JID}/bgp-peer` }));
    state.endOfRibSent = true;
  }
}
