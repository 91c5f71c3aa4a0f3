// The control node's hottest input, an agent's publish + collection pair (docs/protocol.md §3.2, §5), read
// in one forward pass over the exact text agents emit: attributes in the encoder's order, every element
// of the route entry in schema order with one next hop, no blanks between tags, no entities. The pass is
// one regular expression per stanza: its compiled matcher checks the ~1,100 characters of tags natively,
// where a charCodeAt loop in JavaScript costs ~3 ns a character (most of what the earlier scanner spent).
// Strings that repeat from one route to the next (agent name, instance, next hop, VN, encapsulation
// list) are replaced by the previous route's, so that what is kept is shared and hashed once.
// Anything else — another attribute order, blanks, `<x/>` where we write `<x></x>`, an entity, a bad value —
// is declined (undefined), and the caller's general decoder (./stanza-decoder.ts) reads the stanza and
// reports any error. So this module never reports an error itself, and malformed input meets exactly the
// messages it met before.
import { LOAD_BALANCE_FIELDS, type LoadBalanceField, type XmppNextHop, type XmppRouteEntry } from './route-entry.ts';
import { BGP_PEER_RESOURCE, CONTROL_NODE_JID, PUBSUB_NS } from './stanza-encoder.ts';

/** The publish and collection stanzas as ./stanza-decoder.ts's AgentStanza has them. */
export interface ScannedPublish {
  kind: 'publish'; from: string; id: string; node: string; afi: number; safi: number; instance: string; prefix: string;
  entry: XmppRouteEntry | null;
}
export interface ScannedCollection {
  kind: 'collection'; from: string; id: string; instance: string; action: 'associate' | 'dissociate'; node: string;
}


// Text without markup or entities, and integers as the general decoder's fast path reads them.
const TEXT = '([^<>&]*)';
/** An INT group, an attribute value group, and a literal's text as an expression (./agent-route-reader.ts). */
export const INT = '(-?[0-9]{1,15}|)';
export const ATTR = '([^"<>&]*)';
export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const leaf = (name: string, value: string): string => `<${name}>${value}</${name}>`;
const list = (container: string, item: string, value: string): string =>
  `(?:<${container}>((?:<${item}>${value}</${item}>)*)</${container}>|<${container}/>)`;
export const IQ_OPEN = `<iq type="set" from="${ATTR}" to="${esc(`${CONTROL_NODE_JID}/${BGP_PEER_RESOURCE}`)}" id="${ATTR}">` +
  `<pubsub xmlns="${esc(PUBSUB_NS)}">`;

// Each shape twice: anchored to a framed stanza, and sticky, read at its start inside the received text by
// the framer (./stream-framer.ts StanzaReader, through ./agent-route-reader.ts, whose templates are these
// expressions with most groups spelled out), where the match's end is the stanza's end: no `<` can
// occur inside a match but the pattern's own tags, so its `</iq>` is the first close tag, the one the
// framer's scan would have found.
const anchored = (body: string): RegExp => new RegExp(`^${body}$`);
const sticky = (body: string): RegExp => new RegExp(body, 'y');

// Group numbers, in order of appearance.
const PUBLISH_BODY =
  IQ_OPEN +
  '<publish node="(([0-9]{1,15})/([0-9]{1,15})/([^"<>&/]+)/([^"<>&/]*/[^"<>&/]*))"><item><entry>' + // 3 node, 4 afi, 5 safi, 6 instance, 7 prefix
  '<nlri>' + leaf('af', INT) + leaf('safi', INT) + leaf('address', TEXT) + '</nlri>' + // 8 af, 9 safi, 10 address
  '<next-hops><next-hop>' + leaf('af', INT) + leaf('address', TEXT) + leaf('mac', TEXT) + // 11 af, 12 address, 13 mac
  leaf('label', INT) + leaf('vni', INT) + // 14 label, 15 vni
  list('tunnel-encapsulation-list', 'tunnel-encapsulation', '[^<>&]*') + // 16
  leaf('virtual-network', TEXT) + list('tag-list', 'tag', '-?[0-9]{1,15}') + // 17 vn, 18 tags
  leaf('local-sequence-number', INT) + '</next-hop></next-hops>' + // 19
  leaf('version', INT) + leaf('virtual-network', TEXT) + // 20 version, 21 vn
  `<mobility seqno="${INT}" sticky="(true|false)"/>` + // 22 seqno, 23 sticky
  leaf('sequence-number', INT) + // 24
  list('security-group-list', 'security-group', '-?[0-9]{1,15}') + // 25
  list('community-tag-list', 'community-tag', '[^<>&]*') + // 26
  leaf('local-preference', INT) + leaf('med', INT) + // 27, 28
  '<load-balance>' + list('load-balance-fields', 'load-balance-field-list', '[^<>&]*') + // 29
  leaf('load-balance-decision', TEXT) + '</load-balance>' + // 30
  leaf('sub-protocol', TEXT) + // 31
  '</entry></item></publish></pubsub></iq>';
const EMPTY_PUBLISH_BODY =
  IQ_OPEN + '<publish node="(([0-9]{1,15})/([0-9]{1,15})/([^"<>&/]+)/([^"<>&/]*/[^"<>&/]*))"></publish></pubsub></iq>';
// 3 instance, 4 action, 5 node
const COLLECTION_BODY = IQ_OPEN + `<collection node="([^"<>&]+)"><(associate|dissociate) node="([^"<>&]+)"/></collection></pubsub></iq>`;
const PUBLISH = anchored(PUBLISH_BODY);
const EMPTY_PUBLISH = anchored(EMPTY_PUBLISH_BODY);
const COLLECTION = anchored(COLLECTION_BODY);
const PUBLISH_AT = sticky(PUBLISH_BODY);
const EMPTY_PUBLISH_AT = sticky(EMPTY_PUBLISH_BODY);
const COLLECTION_AT = sticky(COLLECTION_BODY);

/** Keeps the last value seen: an equal new one is replaced by it (shared, hashed once, no stanza kept alive). */
class Shared {
  private value = '';
  of(s: string): string {
    if (s === this.value) return this.value;
    // A match of 13 characters or more is a view of the whole stanza: copy before keeping.
    this.value = s.length < 13 ? s : (' ' + s).slice(1);
    return this.value;
  }
}

const FROM = new Shared();
const INSTANCE = new Shared();
const NH_ADDRESS = new Shared();
const NH_MAC = new Shared();
const NH_VN = new Shared();
const ENTRY_VN = new Shared();
const DECISION = new Shared();
const SUB_PROTOCOL = new Shared();

/** The items of a list group: its inner text, parsed once per distinct text (a fresh array each time). */
class SharedList<T> {
  private text = '';
  private items: readonly T[] = [];
  constructor(private readonly open: string, private readonly close: string, private readonly item: (s: string) => T) {}
  of(inner: string | undefined): T[] {
    if (inner === undefined || inner === '') return [];
    if (inner !== this.text) {
      const items: T[] = [];
      let p = 0;
      while (p < inner.length) {
        const end = inner.indexOf(this.close, p);
        items.push(this.item(inner.slice(p + this.open.length, end)));
        p = end + this.close.length;
      }
      this.text = (' ' + inner).slice(1);
      this.items = items;
    }
    return this.items.slice();
  }
}

const own = (s: string): string => (s.length < 13 ? s : (' ' + s).slice(1));
const ENCAPS = new SharedList('<tunnel-encapsulation>', '</tunnel-encapsulation>', own);
const TAGS = new SharedList('<tag>', '</tag>', Number);
const SGS = new SharedList('<security-group>', '</security-group>', Number);
const COMMUNITIES = new SharedList('<community-tag>', '</community-tag>', own);
const FIELDS = new SharedList('<load-balance-field-list>', '</load-balance-field-list>', own);

/** An INT group: '' is 0 (as the general decoder reads an empty element). */
const int = (s: string): number => (s === '' ? 0 : Number(s));

/** The last publish node read: a collection that names it gets the same string (its `===` is then identity). */
let lastNode = '';

function emptyPublish(e: RegExpExecArray): ScannedPublish {
  lastNode = e[3];
  return { kind: 'publish', from: FROM.of(e[1]), id: e[2], node: e[3], afi: Number(e[4]), safi: Number(e[5]), instance: INSTANCE.of(e[6]), prefix: e[7], entry: null };
}

/** The publish of a PUBLISH match; undefined when a value is one the general decoder must report. */
function publish(m: RegExpExecArray): ScannedPublish | undefined {
  const fields = FIELDS.of(m[29]);
  // An unknown field is the general decoder's error to report.
  for (const name of fields) if (!(LOAD_BALANCE_FIELDS as readonly string[]).includes(name)) return undefined;
  const prefix = m[7];
  const nextHop: XmppNextHop = {
    af: int(m[11]), address: NH_ADDRESS.of(m[12]), mac: NH_MAC.of(m[13]), label: int(m[14]), vni: int(m[15]),
    encapsulations: ENCAPS.of(m[16]), virtualNetwork: NH_VN.of(m[17]), tags: TAGS.of(m[18]), localSequenceNumber: int(m[19]),
  };
  const entry: XmppRouteEntry = {
    af: int(m[8]), safi: int(m[9]), prefix: m[10] === prefix ? prefix : m[10], nextHops: [nextHop], version: int(m[20]),
    virtualNetwork: ENTRY_VN.of(m[21]), mobility: { seqno: int(m[22]), sticky: m[23] === 'true' }, sequenceNumber: int(m[24]),
    securityGroups: SGS.of(m[25]), communityTags: COMMUNITIES.of(m[26]), localPreference: int(m[27]), med: int(m[28]),
    loadBalance: { fields: fields as LoadBalanceField[], decision: DECISION.of(m[30]) }, subProtocol: SUB_PROTOCOL.of(m[31]),
  };
  lastNode = m[3];
  return { kind: 'publish', from: FROM.of(m[1]), id: m[2], node: m[3], afi: Number(m[4]), safi: Number(m[5]), instance: INSTANCE.of(m[6]), prefix, entry };
}

function collection(m: RegExpExecArray, last = lastNode): ScannedCollection {
  const node = m[5] === last ? last : m[5];
  return { kind: 'collection', from: FROM.of(m[1]), id: m[2], instance: INSTANCE.of(m[3]), action: m[4] as 'associate' | 'dissociate', node };
}

const PUBLISH_END = '</publish></pubsub></iq>';
const COLLECTION_END = '"/></collection></pubsub></iq>';

/**
 * The publish or collection stanza `raw` (one framed stanza), when it has exactly the shape agents emit;
 * undefined for anything else (the caller decodes it the general way).
 */
export function scanAgentRouteStanza(raw: string): ScannedAgentStanza | undefined {
  if (raw.endsWith(PUBLISH_END)) {
    const m = PUBLISH.exec(raw);
    if (m !== null) return publish(m);
    const e = EMPTY_PUBLISH.exec(raw);
    return e === null ? undefined : emptyPublish(e);
  }
  if (raw.endsWith(COLLECTION_END)) {
    const m = COLLECTION.exec(raw);
    return m === null ? undefined : collection(m);
  }
  return undefined;
}

export type ScannedAgentStanza = ScannedPublish | ScannedCollection;

const IQ_SET = '<iq type="set" from="';

/** A stanza read where it lies in the received text: what it reads as, its end, and the expression's match. */
export interface ReadAt {
  stanza: ScannedAgentStanza;
  end: number;
  /** The groups of a route publish's match (PUBLISH_GROUPS), from which ./agent-route-reader.ts learns. */
  match: RegExpExecArray | null;
}

/**
 * scanAgentRouteStanza for the stanza starting at `pos` of the received text, read where it lies (no copy, no
 * separate search for its end); undefined when it is not complete or not of that shape (the framer then finds
 * its end the usual way, and the decoder reads it). A collection naming `node` (the session's last publish
 * node) gets that very string.
 */
export function readAgentRouteAt(buf: string, pos: number, node: string): ReadAt | undefined {
  if (!buf.startsWith(IQ_SET, pos)) return undefined;
  PUBLISH_AT.lastIndex = pos;
  const m = PUBLISH_AT.exec(buf);
  if (m !== null) {
    const scanned = publish(m);
    return scanned === undefined ? undefined : { stanza: scanned, end: PUBLISH_AT.lastIndex, match: m };
  }
  COLLECTION_AT.lastIndex = pos;
  const c = COLLECTION_AT.exec(buf);
  if (c !== null) return { stanza: collection(c, node), end: COLLECTION_AT.lastIndex, match: null };
  EMPTY_PUBLISH_AT.lastIndex = pos;
  const e = EMPTY_PUBLISH_AT.exec(buf);
  return e === null ? undefined : { stanza: emptyPublish(e), end: EMPTY_PUBLISH_AT.lastIndex, match: null };
}

/** The groups of a PUBLISH match that ./agent-route-reader.ts builds its template from. */
export const PUBLISH_GROUPS = { afi: 4, safi: 5, instance: 6, nlriAf: 8, nlriSafi: 9, nhAf: 11 } as const;
