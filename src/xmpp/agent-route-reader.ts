// The control node's framer reads each agent's publish + collection pairs (docs/protocol.md §3.2, §5) where
// they start in the received text (./stream-framer.ts StanzaReader), one reader per session. An agent's
// consecutive pairs differ only in the stanza ids, the prefix and the label: so each pair is compared, with
// native string compares, against the text of the session's last one with those three fields cut out (its
// template), and only they are read character by character. A pair that differs anywhere else is read by
// ./publish-scanner.ts's expressions (which then give the next template), and anything they decline goes on
// to the general decoder as before. Owns no error: a stanza is either read exactly as the expression reads
// it, or declined.
import { readAgentRouteAt, PUBLISH_GROUPS, type ScannedAgentStanza, type ScannedCollection, type ScannedPublish } from './publish-scanner.ts';
import type { StanzaReader } from './stream-framer.ts';
import type { XmppNextHop, XmppRouteEntry } from './route-entry.ts';
import { BGP_PEER_RESOURCE, CONTROL_NODE_JID, PUBSUB_NS } from './stanza-encoder.ts';

// The literal text of the shapes ./publish-scanner.ts reads, around the fields a template holds.
const IQ_FROM = '<iq type="set" from="';
const TO_ID = `" to="${CONTROL_NODE_JID}/${BGP_PEER_RESOURCE}" id="`;
const PUBSUB = `"><pubsub xmlns="${PUBSUB_NS}">`;
const PUBLISH_NODE = '<publish node="';
const COLLECTION_END = '"/></collection></pubsub></iq>';
const LABEL_CLOSE = '</label>';
const ASSOCIATE = 'associate node="';
const DISSOCIATE = 'dissociate node="';

const QUOTE = 34;
const LT = 60;
const GT = 62;
const AMP = 38;
const SLASH = 47;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/**
 * Whether `lit` lies at `p` of `buf`. A slice and a compare: V8 compares two flat strings' characters in
 * native code, ~0.06 ns a character, where `startsWith` runs ~2 ns a character.
 */
const at = (buf: string, p: number, lit: string): boolean => buf.slice(p, p + lit.length) === lit;

/** A one-piece copy of a kept string (a template outlives the received text it was read from). */
const flat = (s: string): string => (' ' + s).slice(1);

/**
 * The end of an attribute value `[^"<>&]*` starting at `p` (the position of its closing quote), or -1 if a
 * character outside that class comes first or the text ends. `slashes`: how many `/` it may hold (-1: any).
 */
function attributeEnd(buf: string, p: number, slashes: number): number {
  let seen = 0;
  for (let q = p; q < buf.length; q++) {
    const c = buf.charCodeAt(q);
    if (c === QUOTE) return slashes < 0 || seen === slashes ? q : -1;
    if (c === LT || c === GT || c === AMP) return -1;
    if (c === SLASH) seen++;
  }
  return -1;
}

export class AgentRouteReader implements StanzaReader {
  end = 0;
  /** Stanzas read against the template (the rest by expression). */
  templateReads = 0;
  /** `<iq type="set" from="…" to="…" id="`: the session's agent, as its last publish read by expression. */
  private head = '';
  private from = '';
  /** `"><pubsub …><publish node="afi/safi/instance/` */
  private publishNode = '';
  /** Where in publishNode the node's text starts. */
  private nodeOffset = 0;
  private afi = 0;
  private safi = 0;
  private instance = '';
  /** `"><item><entry><nlri><af>…</af><safi>…</safi><address>`: the NLRI address follows, the prefix again. */
  private nlri = '';
  /** `</address></nlri><next-hops><next-hop><af>…</af><address>…</address><mac>…</mac><label>` */
  private nextHop = '';
  /** From `</label>` to the stanza's `</iq>`. */
  private tail = '';
  /** The entry the template reads as (a private copy: what is handed out is fresh). */
  private entry: XmppRouteEntry | null = null;
  /** `"><pubsub …><collection node="instance"><` */
  private collectionHead = '';
  /** The node of the session's last publish: its collection gets the very same string. */
  private node = '';

  read(buf: string, pos: number): ScannedAgentStanza | undefined {
    const fast = this.entry === null || !at(buf, pos, this.head) ? undefined : this.fromTemplate(buf, pos + this.head.length);
    if (fast !== undefined) return fast;
    const read = readAgentRouteAt(buf, pos, this.node);
    if (read === undefined) return undefined;
    this.end = read.end;
    const s = read.stanza;
    if (s.kind === 'publish') {
      this.node = s.node;
      if (read.match !== null && s.entry !== null) this.learn(buf, pos, read.match, s, s.entry);
    }
    return s;
  }

  /** The stanza after the template's head, read against the template; undefined if it differs. */
  private fromTemplate(buf: string, idStart: number): ScannedAgentStanza | undefined {
    const idEnd = attributeEnd(buf, idStart, -1);
    if (idEnd < 0) return undefined;
    if (at(buf, idEnd, this.publishNode)) return this.publish(buf, idStart, idEnd);
    if (at(buf, idEnd, this.collectionHead)) return this.collection(buf, idStart, idEnd);
    return undefined;
  }

  private publish(buf: string, idStart: number, idEnd: number): ScannedPublish | undefined {
    const prefixStart = idEnd + this.publishNode.length;
    // The prefix: `[^"<>&/]*/[^"<>&/]*`.
    const prefixEnd = attributeEnd(buf, prefixStart, 1);
    if (prefixEnd < 0 || !at(buf, prefixEnd, this.nlri)) return undefined;
    const prefix = buf.slice(prefixStart, prefixEnd);
    // The NLRI address is the prefix's text again (anything else is read by expression).
    const addressEnd = prefixEnd + this.nlri.length + prefix.length;
    if (!at(buf, addressEnd, this.nextHop) || !at(buf, addressEnd - prefix.length, prefix)) return undefined;
    // The label: `-?[0-9]{1,15}` or nothing, as an INT group; '' reads as 0.
    const labelStart = addressEnd + this.nextHop.length;
    let q = labelStart;
    const negative = q < buf.length && buf.charCodeAt(q) === MINUS;
    if (negative) q++;
    let label = 0;
    const digitsStart = q;
    for (; q < buf.length; q++) {
      const c = buf.charCodeAt(q);
      if (c < ZERO || c > NINE) break;
      label = label * 10 + (c - ZERO);
    }
    const digits = q - digitsStart;
    if (digits > 15 || (negative && digits === 0) || !at(buf, q, this.tail)) return undefined;
    if (negative) label = -label;
    this.end = q + this.tail.length;
    this.templateReads++;
    const node = buf.slice(idEnd + this.nodeOffset, prefixEnd);
    this.node = node;
    return {
      kind: 'publish', from: this.from, id: buf.slice(idStart, idEnd), node, afi: this.afi, safi: this.safi, instance: this.instance,
      prefix, entry: freshEntry(this.entry!, prefix, label),
    };
  }

  private collection(buf: string, idStart: number, idEnd: number): ScannedCollection | undefined {
    let p = idEnd + this.collectionHead.length;
    let action: 'associate' | 'dissociate';
    if (at(buf, p, ASSOCIATE)) {
      action = 'associate';
      p += ASSOCIATE.length;
    } else if (at(buf, p, DISSOCIATE)) {
      action = 'dissociate';
      p += DISSOCIATE.length;
    } else {
      return undefined;
    }
    const node = this.node;
    if (node === '' || !at(buf, p, node) || !at(buf, p + node.length, COLLECTION_END)) return undefined;
    this.end = p + node.length + COLLECTION_END.length;
    this.templateReads++;
    return { kind: 'collection', from: this.from, id: buf.slice(idStart, idEnd), instance: this.instance, action, node };
  }

  /** The template of a route publish the expression read at `pos`. */
  private learn(buf: string, pos: number, m: RegExpExecArray, s: ScannedPublish, entry: XmppRouteEntry): void {
    const g = PUBLISH_GROUPS;
    this.from = s.from;
    this.head = flat(IQ_FROM + m[g.from] + TO_ID);
    this.nodeOffset = PUBSUB.length + PUBLISH_NODE.length;
    this.publishNode = flat(PUBSUB + PUBLISH_NODE + `${m[g.afi]}/${m[g.safi]}/${m[g.instance]}/`);
    this.afi = s.afi;
    this.safi = s.safi;
    this.instance = s.instance;
    this.nlri = flat(`"><item><entry><nlri><af>${m[g.nlriAf]}</af><safi>${m[g.nlriSafi]}</safi><address>`);
    this.nextHop = flat(`</address></nlri><next-hops><next-hop><af>${m[g.nhAf]}</af><address>${m[g.nhAddress]}</address><mac>${m[g.mac]}</mac><label>`);
    // No `</label>` comes before the label's own: every value before it is free of `<`.
    this.tail = flat(buf.slice(buf.indexOf(LABEL_CLOSE, pos), this.end));
    this.entry = freshEntry(entry, entry.prefix, entry.nextHops[0].label);
    this.collectionHead = flat(`${PUBSUB}<collection node="${s.instance}"><`);
  }
}

/** A copy of `t` with its own objects and lists, for `prefix` (also the NLRI's) and `label`. */
function freshEntry(t: XmppRouteEntry, prefix: string, label: number): XmppRouteEntry {
  const n = t.nextHops[0];
  const nextHop: XmppNextHop = {
    af: n.af, address: n.address, mac: n.mac, label, vni: n.vni, encapsulations: n.encapsulations.slice(),
    virtualNetwork: n.virtualNetwork, tags: n.tags.slice(), localSequenceNumber: n.localSequenceNumber,
  };
  return {
    af: t.af, safi: t.safi, prefix, nextHops: [nextHop], version: t.version, virtualNetwork: t.virtualNetwork,
    mobility: { seqno: t.mobility.seqno, sticky: t.mobility.sticky }, sequenceNumber: t.sequenceNumber,
    securityGroups: t.securityGroups.slice(), communityTags: t.communityTags.slice(), localPreference: t.localPreference,
    med: t.med, loadBalance: { fields: t.loadBalance.fields.slice(), decision: t.loadBalance.decision }, subProtocol: t.subProtocol,
  };
}
