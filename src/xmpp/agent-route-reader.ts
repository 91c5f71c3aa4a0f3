// The control node's framer reads each agent's publish + collection pairs (docs/protocol.md §3.2, §5) where
// they start in the received text (./stream-framer.ts StanzaReader), one reader per session. Consecutive
// pairs differ in little: the agent and stanza ids, the prefix, the next hop's address, MAC and label; every
// other value repeats. So a route publish read by ./publish-scanner.ts's expression becomes a template: the
// same expression with those values as its only groups and every other one spelled out, which reads the
// session's next pairs with 7 groups instead of 31 and no per-value work. Templates are shared by every
// session whose routes look alike (an expression costs ~0.1 ms to compile and ~30 KB of native code once
// run; a new session first tries the template learned last), and a pair that differs elsewhere is read by
// the full expression again, which gives the session its next template. The MAC is a group, not spelled
// out: it is each compute's own (its vhost0's), and a template per agent kept 2,000 computes' control node
// 60 MB of compiled expressions. Owns no error: a stanza is either read exactly as the full expression
// reads it, or declined (and decoded by ./stanza-decoder.ts as before).
import { esc, INT, IQ_OPEN, PUBLISH_GROUPS, readAgentRouteAt, type ScannedAgentStanza, type ScannedCollection, type ScannedPublish } from './publish-scanner.ts';
import type { StanzaReader } from './stream-framer.ts';
import type { XmppNextHop, XmppRouteEntry } from './route-entry.ts';
import { ownString } from '../net/own-string.ts';

/** What a template reads a stanza as, beside its groups: the publish's values that it spells out. */
interface PairTemplate {
  /** Groups: 1 from, 2 id, 3 node, 4 prefix (also the NLRI address), 5 next-hop address, 6 MAC, 7 label. */
  readonly publish: RegExp;
  /** A collection of a node in the template's instance. Groups: 1 from, 2 id, 3 '' for associate, 4 the node after nodeStart. */
  readonly collection: RegExp;
  /** `afi/safi/instance/`: how the template's publish nodes start. */
  readonly nodeStart: string;
  readonly afi: number;
  readonly safi: number;
  readonly instance: string;
  /** The values the publish spells out (private: what is handed out is a fresh copy). */
  readonly entry: XmppRouteEntry;
}

const LABEL_CLOSE = '</label>';
const IQ_CLOSE = '</iq>';
/** Templates by their publish expression's text: bounded, as agents' attributes change. */
const templates = new Map<string, PairTemplate>();
const MAX_TEMPLATES = 256;
/** The template a session learned last. */
let lastLearned: PairTemplate | null = null;

export class AgentRouteReader implements StanzaReader {
  end = 0;
  /** Stanzas read by a template (the rest by the full expression). */
  templateReads = 0;
  private template: PairTemplate | null = null;
  /** The session's template before the current one: an agent publishing two kinds of routes in turn keeps both. */
  private previous: PairTemplate | null = null;
  /** The node of the session's last publish: its collection gets the very same string. */
  private node = '';
  /** The prefix of the session's last publish, when a template read it (that template's nodeStart + prefix = node). */
  private prefix = '';
  private nodeTemplate: PairTemplate | null = null;
  /** The last next-hop address read: routes of an agent share one string. */
  private nextHop = '';
  /** The last next-hop MAC read (an agent's vhost MAC). */
  private mac = '';
  /** The last stanza read was a publish: its collection comes next. */
  private published = false;
  /**
   * The template sources of the session's last two publishes the full expression read, not compiled: a shape
   * becomes a template once it comes again, so a route with attributes of its own (a one-off security group
   * list, a moved address's sequence number) costs no compile and no native code.
   */
  private candidates: [string, string] = ['', ''];

  read(buf: string, pos: number): ScannedAgentStanza | undefined {
    const own = this.template;
    if (own !== null) {
      const read = this.byTemplate(own, buf, pos);
      if (read !== undefined) return read;
    }
    const previous = this.previous;
    if (previous !== null) {
      const read = this.byTemplate(previous, buf, pos);
      if (read !== undefined) {
        this.use(previous);
        return read;
      }
    }
    // A session without a template yet (or whose templates no longer fit) tries the one learned last by any
    // session: agents of a network publish alike, so a new session seldom needs the full expression.
    const last = lastLearned;
    if (last !== null && last !== own && last !== previous) {
      const read = this.byTemplate(last, buf, pos);
      if (read !== undefined) {
        this.use(last);
        return read;
      }
    }
    this.published = false;
    this.nodeTemplate = null;
    // Every shape the expressions read ends with `</iq>`: without one (a stanza still arriving) none matches.
    if (buf.indexOf(IQ_CLOSE, pos) < 0) return undefined;
    const read = readAgentRouteAt(buf, pos, this.node);
    if (read === undefined) return undefined;
    this.end = read.end;
    const s = read.stanza;
    if (s.kind === 'publish') {
      this.published = true;
      this.node = s.node;
      if (read.match !== null && s.entry !== null) {
        const t = templateOf(buf, pos, read.end, read.match, s, s.entry, this.candidates);
        if (typeof t === 'string') this.candidates = [t, this.candidates[0]];
        else this.use(lastLearned = t);
      }
    }
    return s;
  }

  private use(t: PairTemplate): void {
    if (t === this.template) return;
    this.previous = this.template;
    this.template = t;
  }

  private byTemplate(t: PairTemplate, buf: string, pos: number): ScannedAgentStanza | undefined {
    if (this.published) {
      t.collection.lastIndex = pos;
      const c = t.collection.exec(buf);
      if (c !== null) return this.collection(t, c);
    }
    t.publish.lastIndex = pos;
    const p = t.publish.exec(buf);
    if (p !== null) return this.publish(t, p);
    if (!this.published) {
      t.collection.lastIndex = pos;
      const c = t.collection.exec(buf);
      if (c !== null) return this.collection(t, c);
    }
    return undefined;
  }

  private publish(t: PairTemplate, m: RegExpExecArray): ScannedPublish {
    this.end = t.publish.lastIndex;
    this.templateReads++;
    this.published = true;
    const node = m[3];
    const prefix = m[4];
    const address = m[5] === this.nextHop ? this.nextHop : (this.nextHop = ownString(m[5]));
    const mac = m[6] === this.mac ? this.mac : (this.mac = ownString(m[6]));
    const label = m[7];
    this.node = node;
    this.prefix = prefix;
    this.nodeTemplate = t;
    return {
      kind: 'publish', from: m[1], id: m[2], node, afi: t.afi, safi: t.safi, instance: t.instance, prefix,
      // An INT group: '' is 0 (as the general decoder reads an empty element).
      entry: freshEntry(t.entry, prefix, address, mac, label === '' ? 0 : Number(label)),
    };
  }

  private collection(t: PairTemplate, m: RegExpExecArray): ScannedCollection {
    this.end = t.collection.lastIndex;
    this.templateReads++;
    this.published = false;
    // The node of the publish just read (the usual case) compares as its prefix: a short string.
    const rest = m[4];
    const node = this.nodeTemplate === t && rest === this.prefix ? this.node : t.nodeStart + rest;
    return { kind: 'collection', from: m[1], id: m[2], instance: t.instance, action: m[3] === undefined ? 'dissociate' : 'associate', node };
  }
}

/**
 * The template of a route publish the full expression read at [pos, end) (match `m`): the shared one when known,
 * a new one when its source is one of the session's `candidates`, else that source (an own copy) to remember.
 */
function templateOf(buf: string, pos: number, end: number, m: RegExpExecArray, s: ScannedPublish, entry: XmppRouteEntry, candidates: readonly string[]): PairTemplate | string {
  const g = PUBLISH_GROUPS;
  // No `</label>` comes before the label's own: every value before it is free of `<`.
  const tail = buf.slice(buf.indexOf(LABEL_CLOSE, pos), end);
  const nodeStart = `${m[g.afi]}/${m[g.safi]}/${m[g.instance]}/`;
  const source = IQ_OPEN +
    `<publish node="(${esc(nodeStart)}([^"<>&/]*/[^"<>&/]*))"><item><entry>` +
    `<nlri><af>${esc(m[g.nlriAf])}</af><safi>${esc(m[g.nlriSafi])}</safi><address>\\4</address></nlri>` +
    `<next-hops><next-hop><af>${esc(m[g.nhAf])}</af><address>([^<>&]*)</address><mac>([^<>&]*)</mac>` +
    `<label>${INT}${esc(tail)}`;
  const known = templates.get(source);
  if (known !== undefined) return known;
  // Own copies: the text the values were cut from is not kept.
  const key = (' ' + source).slice(1);
  if (!candidates.includes(key)) return key;
  if (templates.size >= MAX_TEMPLATES) templates.clear();
  const t: PairTemplate = {
    publish: new RegExp(key, 'y'),
    collection: new RegExp(`${IQ_OPEN}<collection node="${esc(s.instance)}"><(?:associate()|dissociate) node="${esc(nodeStart)}([^"<>&]*)"/></collection></pubsub></iq>`, 'y'),
    nodeStart: (' ' + nodeStart).slice(1),
    afi: s.afi, safi: s.safi, instance: s.instance,
    entry: freshEntry(entry, '', '', '', 0),
  };
  templates.set(key, t);
  return t;
}

/** A list of its own (most are empty: a literal, not a call). */
function copy<T>(list: readonly T[]): T[] {
  return list.length === 0 ? [] : list.slice();
}

/** A copy of `t` with its own objects and lists, for `prefix` (also the NLRI's), next-hop `address`, `mac` and `label`. */
function freshEntry(t: XmppRouteEntry, prefix: string, address: string, mac: string, label: number): XmppRouteEntry {
  const n = t.nextHops[0];
  const nextHop: XmppNextHop = {
    af: n.af, address, mac, label, vni: n.vni, encapsulations: copy(n.encapsulations),
    virtualNetwork: n.virtualNetwork, tags: copy(n.tags), localSequenceNumber: n.localSequenceNumber,
  };
  return {
    af: t.af, safi: t.safi, prefix, nextHops: [nextHop], version: t.version, virtualNetwork: t.virtualNetwork,
    mobility: { seqno: t.mobility.seqno, sticky: t.mobility.sticky }, sequenceNumber: t.sequenceNumber,
    securityGroups: copy(t.securityGroups), communityTags: copy(t.communityTags), localPreference: t.localPreference,
    med: t.med, loadBalance: { fields: copy(t.loadBalance.fields), decision: t.loadBalance.decision }, subProtocol: t.subProtocol,
  };
}
