// Records every stanza and stream header of every XMPP session in a bounded ring (and optionally a
// JSONL file) for listing, filtering and following. record() is on the hot path: it stores the raw
// string and defers the summary/VRF/prefix extraction until someone reads the record.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ObservedStanza, StanzaObserver } from '../xmpp/stanza-observer.ts';
import { summarizeStanza, type StanzaSummary } from '../xmpp/stanza-summary.ts';

export interface StanzaRecord {
  seq: number; time: string; node: string; peer: string; direction: 'in' | 'out';
  raw: string; summary: string; vrf?: string; prefixes?: string[];
}

export interface StanzaFilter {
  node?: string; peer?: string; direction?: 'in' | 'out'; vrf?: string;
  /** Matches a record that carries exactly this prefix (e.g. `30.30.30.100/32`). */
  prefix?: string;
  /** Only records with seq > sinceSeq. */
  sinceSeq?: number;
  /** At most this many records, the most recent ones. */
  limit?: number;
}

class Entry {
  private parsed: StanzaSummary | undefined;
  constructor(readonly seq: number, readonly ms: number, readonly node: string, readonly peer: string,
    readonly direction: 'in' | 'out', readonly raw: string) {}

  get info(): StanzaSummary {
    return (this.parsed ??= summarizeStanza(this.raw));
  }

  toRecord(): StanzaRecord {
    const info = this.info;
    const r: StanzaRecord = {
      seq: this.seq, time: new Date(this.ms).toISOString(), node: this.node, peer: this.peer,
      direction: this.direction, raw: this.raw, summary: info.summary,
    };
    if (info.vrf !== undefined) r.vrf = info.vrf;
    if (info.prefixes !== undefined) r.prefixes = info.prefixes;
    return r;
  }
}

function matches(e: Entry, f: StanzaFilter): boolean {
  if (f.sinceSeq !== undefined && e.seq <= f.sinceSeq) return false;
  if (f.node !== undefined && e.node !== f.node) return false;
  if (f.peer !== undefined && e.peer !== f.peer) return false;
  if (f.direction !== undefined && e.direction !== f.direction) return false;
  if (f.vrf !== undefined && e.info.vrf !== f.vrf) return false;
  if (f.prefix !== undefined && !(e.info.prefixes ?? []).includes(f.prefix)) return false;
  return true;
}

/** Default bound on the characters of raw stanzas the ring keeps (besides its count). */
export const DEFAULT_TAP_MAX_CHARS = 32 * 1024 * 1024;

export class StanzaTap implements StanzaObserver {
  readonly capacity: number;
  /** At most this many characters of raw stanzas are kept: at thousands of agents 10,000 full updates are gigabytes. */
  readonly maxChars: number;
  private readonly ring: (Entry | undefined)[];
  private next = 0;
  private count = 0;
  private chars = 0;
  private seq = 0;
  private readonly followers = new Set<{ f: StanzaFilter; cb: (r: StanzaRecord) => void }>();
  private readonly file: WriteStream | undefined;
  private fileError: Error | undefined;

  constructor(o: { capacity?: number; maxChars?: number; jsonlPath?: string } = {}) {
    this.capacity = o.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${o.capacity}`);
    this.maxChars = o.maxChars ?? DEFAULT_TAP_MAX_CHARS;
    if (!(this.maxChars >= 1)) throw new RangeError(`maxChars must be at least 1, got ${o.maxChars}`);
    this.ring = new Array(this.capacity);
    if (o.jsonlPath) {
      this.file = createWriteStream(o.jsonlPath, { flags: 'a' });
      // A failing log file must not take the simulation down: remember the error, stop writing.
      this.file.on('error', (e) => { this.fileError = e; });
    }
  }

  /** The JSONL file's write error, if any (writing stops after it). */
  get error(): Error | undefined {
    return this.fileError;
  }

  record(r: ObservedStanza): void {
    const e = new Entry(++this.seq, Date.now(), r.node, r.peer, r.direction, r.raw);
    const replaced = this.ring[this.next];
    if (replaced !== undefined) {
      this.chars -= replaced.raw.length;
      this.count--;
    }
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    this.chars += e.raw.length;
    // the oldest records go first; the newest one always stays, however large
    while (this.chars > this.maxChars && this.count > 1) {
      const oldest = (this.next - this.count + this.capacity) % this.capacity;
      this.chars -= this.ring[oldest]!.raw.length;
      this.ring[oldest] = undefined;
      this.count--;
    }
    if (this.file && !this.fileError) this.file.write(JSON.stringify(e.toRecord()) + '\n');
    if (this.followers.size === 0) return;
    for (const fl of this.followers) {
      if (!matches(e, fl.f)) continue;
      try {
        fl.cb(e.toRecord());
      } catch {
        // A broken follower (e.g. a closed HTTP stream) is dropped rather than breaking the session.
        this.followers.delete(fl);
      }
    }
  }

  /** Records in seq order (oldest first) that match `f`; `limit` keeps the most recent ones. */
  list(f: StanzaFilter = {}): StanzaRecord[] {
    const out: Entry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.ring[(this.next + i) % this.capacity];
      if (e && matches(e, f)) out.push(e);
    }
    const kept = f.limit !== undefined ? out.slice(Math.max(0, out.length - f.limit)) : out;
    return kept.map((e) => e.toRecord());
  }

  /** Calls `cb` for every future matching record; returns the unsubscribe function. */
  follow(f: StanzaFilter, cb: (r: StanzaRecord) => void): () => void {
    const fl = { f, cb };
    this.followers.add(fl);
    return () => { this.followers.delete(fl); };
  }

  async close(): Promise<void> {
    this.followers.clear();
    const file = this.file;
    if (!file || file.closed) return;
    await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
