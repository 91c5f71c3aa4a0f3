// A bounded cache of decoded route entries keyed by their exact XML text. Thousands of agents in one process
// receive the same <entry> text for a route (the control node encodes it once per VRF); with the cache the
// first agent decodes it and the others share that decoded, immutable entry, so the entry's memory is paid
// once per process instead of once per agent (docs/architecture.md, "Scale"). Not here: the decoding itself
// (./route-entry.ts) or the stanza around the entry (./stanza-decoder.ts).
import type { XmppRouteEntry } from './route-entry.ts';

/**
 * How many leading characters of an entry's text index it: the NLRI with its prefix (`<nlri><af>1</af><safi>1
 * </safi><address>` is 38 characters, a prefix at most 18). Every lookup hashes this many characters: the
 * versions of one route (an ECMP set growing) share a lead and are told apart by the compare in place.
 */
const INDEX_CHARS = 64;

interface Cached { readonly text: string; readonly entry: XmppRouteEntry }
interface CachedBody { readonly text: string; readonly entries: readonly XmppRouteEntry[] }

/** Characters of message bodies kept (each body once): a VRF's table walk at 2,000 routes is about 2 M. */
const MAX_BODY_CHARS = 16 * 2 ** 20;

/**
 * An entry from the cache is shared: callers must not change it. Looked up by a span of a stanza without
 * slicing or hashing the whole text: a short leading key finds the candidates, a compare in place decides.
 */
export class EntryCache {
  private readonly byLead = new Map<string, Cached[]>();
  private readonly order: Cached[] = [];
  private orderHead = 0;
  private count = 0;
  private readonly names = new Map<string, string>();
  /**
   * Whole message bodies (every `<item>` of one `<items>`) → their decoded entries: the control node writes
   * one body to every subscriber of a VRF, so all but the first agent of a process find the message's 32
   * entries with one compare instead of 32 lookups and tag scans.
   */
  private readonly bodiesByLead = new Map<string, CachedBody[]>();
  private readonly bodyOrder: CachedBody[] = [];
  private bodyOrderHead = 0;
  private bodyChars = 0;
  hits = 0;
  misses = 0;
  bodyHits = 0;

  constructor(readonly maxEntries = 8192) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The entry whose text starts at `raw[from]` and is followed by `end` (e.g. `</entry>`), if cached: the
   * end of the text need not be searched for first (a search costs about as much as the whole lookup).
   */
  lookup(raw: string, from: number, end = ''): { entry: XmppRouteEntry; to: number } | undefined {
    const list = this.byLead.get(raw.slice(from, from + INDEX_CHARS));
    if (list !== undefined) {
      for (const c of list) {
        const to = from + c.text.length;
        // a slice compared with === is a block compare; startsWith at an offset goes char by char (~2 µs here)
        // the end first: a version of another length fails there without comparing its text
        if (to <= raw.length && (end === '' ? to === raw.length : raw.startsWith(end, to)) && raw.slice(from, to) === c.text) {
          this.hits++;
          return { entry: c.entry, to };
        }
      }
    }
    this.misses++;
    return undefined;
  }

  /** The entries of the message body `raw[from, to)`, if that body was decoded before (shared: do not change). */
  lookupBody(raw: string, from: number, to: number): readonly XmppRouteEntry[] | undefined {
    const list = this.bodiesByLead.get(raw.slice(from, from + INDEX_CHARS));
    if (list === undefined) return undefined;
    for (const c of list) {
      if (c.text.length === to - from && raw.slice(from, to) === c.text) {
        this.bodyHits++;
        return c.entries;
      }
    }
    return undefined;
  }

  /** `text` must be a string of its own (see set); bodies go oldest first past MAX_BODY_CHARS. */
  setBody(text: string, entries: readonly XmppRouteEntry[]): void {
    if (text.length > MAX_BODY_CHARS / 4) return;
    while (this.bodyChars + text.length > MAX_BODY_CHARS && this.bodyOrderHead < this.bodyOrder.length) {
      const oldest = this.bodyOrder[this.bodyOrderHead++]!;
      const lead = oldest.text.slice(0, INDEX_CHARS);
      const list = this.bodiesByLead.get(lead)!;
      list.splice(list.indexOf(oldest), 1);
      if (list.length === 0) this.bodiesByLead.delete(lead);
      this.bodyChars -= oldest.text.length;
    }
    if (this.bodyOrderHead > 1024 && this.bodyOrderHead * 2 > this.bodyOrder.length) {
      this.bodyOrder.splice(0, this.bodyOrderHead);
      this.bodyOrderHead = 0;
    }
    const cached: CachedBody = { text, entries: Object.freeze([...entries]) };
    const lead = text.slice(0, INDEX_CHARS);
    const list = this.bodiesByLead.get(lead);
    if (list === undefined) this.bodiesByLead.set(lead, [cached]);
    else list.push(cached);
    this.bodyOrder.push(cached);
    this.bodyChars += text.length;
  }

  get(text: string): XmppRouteEntry | undefined {
    return this.lookup(text, 0)?.entry;
  }

  /** `text` must be a string of its own (not a slice of a whole stanza, which it would keep alive). */
  set(text: string, entry: XmppRouteEntry): void {
    if (this.count >= this.maxEntries) this.evictOldest();
    const lead = text.slice(0, INDEX_CHARS);
    const cached: Cached = { text, entry };
    const list = this.byLead.get(lead);
    if (list === undefined) this.byLead.set(lead, [cached]);
    else list.push(cached);
    this.order.push(cached);
    this.count++;
  }

  // oldest first (insertion order): an evicted entry is only decoded again, never wrong
  private evictOldest(): void {
    const oldest = this.order[this.orderHead++];
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
    const lead = oldest.text.slice(0, INDEX_CHARS);
    const list = this.byLead.get(lead)!;
    list.splice(list.indexOf(oldest), 1);
    if (list.length === 0) this.byLead.delete(lead);
    this.count--;
  }

  /**
   * One owned copy of a short string many agents hold (a routing-instance name, a route key): a name sliced
   * out of a stanza would keep the whole stanza alive, and thousands of equal copies cost thousands of times.
   */
  name(s: string): string {
    let own = this.names.get(s);
    if (own === undefined) {
      if (this.names.size >= this.maxEntries * 4) this.names.clear();
      own = ownString(s);
      this.names.set(own, own);
    }
    return own;
  }

  clear(): void {
    this.bodiesByLead.clear();
    this.bodyOrder.length = 0;
    this.bodyOrderHead = 0;
    this.bodyChars = 0;
    this.byLead.clear();
    this.order.length = 0;
    this.orderHead = 0;
    this.count = 0;
    this.names.clear();
  }
}

/** A copy of `s` that owns its characters: a slice of a large string would otherwise keep the whole one alive. */
export function ownString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** The cache the agents of this process (or worker thread) share. */
export const sharedEntryCache = new EntryCache();
