// A bounded cache of decoded route entries keyed by their exact XML text. Thousands of agents in one process
// receive the same <entry> text for a route (the control node encodes it once per VRF); with the cache the
// first agent decodes it and the others share that decoded, immutable entry, so the entry's memory is paid
// once per process instead of once per agent (docs/architecture.md, "Scale"). Not here: the decoding itself
// (./route-entry.ts) or the stanza around the entry (./stanza-codec.ts).
import type { XmppRouteEntry } from './route-entry.ts';

/** An entry from the cache is shared: callers must not change it. */
export class EntryCache {
  private readonly entries = new Map<string, XmppRouteEntry>();
  private readonly names = new Map<string, string>();
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 8192) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(text: string): XmppRouteEntry | undefined {
    const e = this.entries.get(text);
    if (e === undefined) this.misses++;
    else this.hits++;
    return e;
  }

  /** `text` must be a string of its own (not a slice of a whole stanza, which it would keep alive). */
  set(text: string, entry: XmppRouteEntry): void {
    if (this.entries.size >= this.maxEntries) {
      // oldest first (insertion order): an evicted entry is only decoded again, never wrong
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(text, entry);
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
    this.entries.clear();
    this.names.clear();
  }
}

/** A copy of `s` that owns its characters: a slice of a large string would otherwise keep the whole one alive. */
export function ownString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** The cache the agents of this process (or worker thread) share. */
export const sharedEntryCache = new EntryCache();
