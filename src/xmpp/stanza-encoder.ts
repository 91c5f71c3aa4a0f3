// Encoders of Contrail's XMPP stanzas (docs/protocol.md §2.2, §3, §4) and the wire names they share with
// the decoders (JIDs, namespaces, per-message limits): each encoder builds the exact bytes as one string.
// It does not decode (./stanza-decoder.ts) nor encode the route entry itself (./route-entry.ts).
import { encodeRouteEntry, type XmppRouteEntry } from './route-entry.ts';
import { escapeXml } from './xml-text.ts';

export const CONTROL_NODE_JID = 'network-control@contrailsystems.com';
export const BGP_PEER_RESOURCE = 'bgp-peer';
export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
export const STREAM_NS = 'http://etherx.jabber.org/streams';
export const END_OF_RIB_NODE = '0/0/EndOfRib';
export const MAX_ITEMS_PER_MESSAGE = 32;
export const MAX_RETRACTS_PER_MESSAGE = 256;

const ROUTE_TO = `${CONTROL_NODE_JID}/${BGP_PEER_RESOURCE}`;

/** docs/protocol.md §2.2 client header: `from` present, no XML declaration, `xmlns:stream` last (the real framer's regex needs it). */
export function encodeAgentStreamOpen(agentName: string): string {
  return `<stream:stream from="${escapeXml(agentName)}" to="${CONTROL_NODE_JID}" version="1.0" xml:lang="en" ` +
    `xmlns="" xmlns:stream="${STREAM_NS}" >`;
}

/** docs/protocol.md §2.2 server reply: fixed id, `to` = the agent's `from`. */
export function encodeServerStreamOpen(agentName: string): string {
  return `<stream:stream from="${CONTROL_NODE_JID}" to="${escapeXml(agentName)}" id="++123" version="1.0" ` +
    `xml:lang="en" xmlns="jabber:client" xmlns:stream="${STREAM_NS}" >`;
}

export const STREAM_CLOSE = '</stream:stream>';
/** U+0200, written as UTF-8 C8 80 (docs/protocol.md §2.4). */
export const KEEPALIVE = '\u0200';

const PUBSUB_OPEN = `<pubsub xmlns="${PUBSUB_NS}">`;

function iqOpen(from: string, id: string): string {
  return `<iq type="set" from="${escapeXml(from)}" to="${ROUTE_TO}" id="${escapeXml(id)}">` +
    PUBSUB_OPEN;
}
const IQ_CLOSE = '</pubsub></iq>';

export function encodeSubscribe(a: { from: string; instance: string; instanceId: number; id?: string; noRibout?: boolean }): string {
  return iqOpen(a.from, a.id ?? `subscribe${a.instanceId}`) +
    `<subscribe node="${escapeXml(a.instance)}"><options><instance-id>${a.instanceId}</instance-id>` +
    (a.noRibout ? '<no-ribout>true</no-ribout>' : '') + '</options></subscribe>' + IQ_CLOSE;
}

export function encodeUnsubscribe(a: { from: string; instance: string; instanceId: number; id?: string }): string {
  return iqOpen(a.from, a.id ?? `unsubscribe${a.instanceId}`) +
    `<unsubscribe node="${escapeXml(a.instance)}"><options><instance-id>${a.instanceId}</instance-id>` +
    '</options></unsubscribe>' + IQ_CLOSE;
}

/** `<afi>/<safi>/<instance>/<prefix>/<plen>` (docs/protocol.md §3.2). */
export function publishNode(af: number, safi: number, instance: string, prefix: string): string {
  return `${af}/${safi}/${instance}/${prefix}`;
}

/** docs/protocol.md §3.2/§3.3: the publish iq immediately followed by its collection iq, as one string (one write). */
export function encodeRoutePublish(a: { from: string; instance: string; entry: XmppRouteEntry; seq: number; withdraw?: boolean }): string {
  const node = escapeXml(publishNode(a.entry.af, a.entry.safi, a.instance, a.entry.prefix));
  return iqOpen(a.from, `pubsub${a.seq}`) + `<publish node="${node}"><item>` + encodeRouteEntry(a.entry) +
    '</item></publish>' + IQ_CLOSE +
    iqOpen(a.from, `collection${a.seq}`) + `<collection node="${escapeXml(a.instance)}">` +
    `<${a.withdraw ? 'dissociate' : 'associate'} node="${node}"/></collection>` + IQ_CLOSE;
}

function messageOpen(to: string, node: string): string {
  return `<message from="${CONTROL_NODE_JID}" to="${escapeXml(to)}/${BGP_PEER_RESOURCE}">` +
    `<event xmlns="${PUBSUB_NS}"><items node="${escapeXml(node)}">`;
}
const MESSAGE_CLOSE = '</items></event></message>';

/** docs/protocol.md §4.1: one `<item id=prefix>` per entry, split into messages of at most 32 items. */
export function encodeRouteItems(a: { to: string; instance: string; afi?: number; safi?: number; entries: XmppRouteEntry[] }): string {
  const head = messageOpen(a.to, `${a.afi ?? 1}/${a.safi ?? 1}/${a.instance}`);
  let out = '';
  for (let i = 0; i < a.entries.length; i += MAX_ITEMS_PER_MESSAGE) {
    out += head;
    for (const e of a.entries.slice(i, i + MAX_ITEMS_PER_MESSAGE)) out += encodeRouteItem(e);
    out += MESSAGE_CLOSE;
  }
  return out;
}

/** docs/protocol.md §4.1: one `<item id=prefix>` element, for a sender that builds its messages itself. */
export function encodeRouteItem(entry: XmppRouteEntry): string {
  return `<item id="${escapeXml(entry.prefix)}">` + encodeRouteEntry(entry) + '</item>';
}

/** `<retract id=prefix/>` elements (docs/protocol.md §4.2), for encodeRouteMessage. */
export function encodeRetractElements(prefixes: readonly string[]): string {
  let out = '';
  for (const p of prefixes) out += `<retract id="${escapeXml(p)}"/>`;
  return out;
}

/** The text before and after the elements of a route message to `to` (see encodeRouteMessage). */
export function routeMessageFrame(a: { to: string; instance: string; afi?: number; safi?: number }): [open: string, close: string] {
  return [messageOpen(a.to, `${a.afi ?? 1}/${a.safi ?? 1}/${a.instance}`), MESSAGE_CLOSE];
}

/**
 * One route message to an agent around already encoded `<item>` or `<retract>` elements (at most 32 items
 * or 256 retracts: the caller splits), so that one body serves every subscriber.
 */
export function encodeRouteMessage(a: { to: string; instance: string; afi?: number; safi?: number; body: string }): string {
  return messageOpen(a.to, `${a.afi ?? 1}/${a.safi ?? 1}/${a.instance}`) + a.body + MESSAGE_CLOSE;
}

/** docs/protocol.md §4.2: `<retract id=prefix/>`, at most 256 per message. */
export function encodeRouteRetract(a: { to: string; instance: string; afi?: number; safi?: number; prefixes: string[] }): string {
  const head = messageOpen(a.to, `${a.afi ?? 1}/${a.safi ?? 1}/${a.instance}`);
  let out = '';
  for (let i = 0; i < a.prefixes.length; i += MAX_RETRACTS_PER_MESSAGE) {
    out += head + encodeRetractElements(a.prefixes.slice(i, i + MAX_RETRACTS_PER_MESSAGE)) + MESSAGE_CLOSE;
  }
  return out;
}

/**
 * docs/protocol.md §3.4 / §4.3. The direction follows from the bare control-node JID: from it → the agent's
 * `/bgp-peer` resource; from an agent → the control node's.
 */
export function encodeEndOfRib(a: { from: string; to: string }): string {
  const to = a.to.includes('/') ? a.to : `${a.to}/${BGP_PEER_RESOURCE}`;
  return `<message from="${escapeXml(a.from)}" to="${escapeXml(to)}">` +
    `<event xmlns="${PUBSUB_NS}"><items node="${END_OF_RIB_NODE}"></items></event></message>`;
}
