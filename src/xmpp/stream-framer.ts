// Cuts a Contrail XMPP byte stream the way the real parser does (docs/protocol.md §2.1): keepalive bytes between
// stanzas, a stream header located by its `xmlns:stream` ending, then stanzas that start at `<iq`
// or `<message` and end at the first matching close tag. A byte scanner, not an XML parser: the
// content of a stanza is left to the codec.
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import type { ScannedAgentStanza } from './publish-scanner.ts';

export type FrameEvent =
  | { type: 'header'; raw: string; attrs: Record<string, string> }
  /** `read`: what the framer's StanzaReader read the stanza as, when it did. */
  | { type: 'stanza'; raw: string; read?: ScannedAgentStanza | undefined }
  | { type: 'keepalive' }
  | { type: 'stream-end' }
  | { type: 'error'; reason: string };

const HEADER_END = /http:\/\/etherx\.jabber\.org\/streams["']\s*>/;
const XML_DECL = '<?xml version="1.0"?>';
const HEADER_ATTR = /([^\s=<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function isKeepaliveChar(c: number): boolean {
  // The real parser skips bytes 0x20 \n \r \t 0xC8 0x80; after UTF-8 decoding C8 80 is U+0200.
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0x200;
}

const STANZA_CLOSE = { iq: '</iq', message: '</message' } as const;
/** How much of a segment finishes the stanza the last one cut (see push): an agent's publish is ~1,100. */
const HEAD_CHARS = 4096;
/** What `\s` matches in a regular expression, for the rare close tag with blanks before its `>`. */
const BLANK = /\s/;

/**
 * The end (after `>`) of the first `</kind\s*>` at or after `from`; -(position of an incomplete one + 1)
 * when the data ends inside a candidate, or -(where to resume + 1) when there is none. A native substring
 * search plus a character test: a regular expression per stanza cost ~5 % of ingest.
 */
function closeTagEnd(buf: string, close: string, from: number): number {
  for (let at = buf.indexOf(close, from); at >= 0; at = buf.indexOf(close, at + 1)) {
    let q = at + close.length;
    while (q < buf.length) {
      const c = buf.charCodeAt(q);
      if (c === 62) return q + 1;
      if (!BLANK.test(buf[q])) break;
      q++;
    }
    if (q >= buf.length) return -(at + 1);
  }
  // A close tag may straddle the segment boundary: resume a little before the end.
  return -(Math.max(from, buf.length - close.length) + 1);
}

/**
 * Reads a complete `<iq` stanza of one known shape where it starts in the received text, finding its end in
 * the same pass (./agent-route-reader.ts): undefined for anything else, which the framer then cuts the usual
 * way. Its `end` is the position after the stanza, set by a read that returned a value: it must be the end of
 * the first close tag after `pos` (a read never reaches past a stanza's own close tag).
 */
export interface StanzaReader {
  read(buf: string, pos: number): ScannedAgentStanza | undefined;
  readonly end: number;
}

export class StreamFramer {
  private readonly decoder = new StringDecoder('utf8');
  /** The decoder may hold the start of a character cut by the last segment's end. */
  private utf8Pending = false;
  private buf = '';
  private headerDone = false;
  private failed = false;
  private ended = false;
  /** Where the close-tag search resumes inside an incomplete stanza, so a big stanza is not rescanned. */
  private scanFrom = 0;

  /**
   * `headChars`: how much of a segment finishes a stanza the last one cut (see push); Infinity joins every
   * segment whole to what was left (the reference behaviour, for tests).
   */
  constructor(private readonly maxStanzaBytes: number, expectHeader = true, private readonly reader?: StanzaReader, private readonly headChars = HEAD_CHARS) {
    this.headerDone = !expectHeader;
  }

  /** Feeds bytes; returns the events they complete, in order. After an 'error' nothing more is parsed. */
  push(chunk: Buffer | string): FrameEvent[] {
    if (this.failed || this.ended) return [];
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk);
    const events: FrameEvent[] = [];
    const left = this.buf;
    let buf = left.length === 0 ? text : '';
    let pos = 0;
    // The stanza cut at the end of the last segment is finished on a join of its start and this segment's
    // head, and the rest read in this segment's own text: a join of the whole segment would copy it again
    // (V8 flattens a joined string at its first read). Past the header only, and only while the head cannot
    // make a difference to a size limit, so that every event and error is the one the whole join gives.
    const headChars = this.headChars;
    if (buf === '' && this.headerDone && text.length > headChars && left.length + headChars <= this.maxStanzaBytes) {
      const head = left + text.slice(0, headChars);
      const end = this.scan(head, 0, events, true);
      if (end > left.length) {
        buf = text;
        pos = end - left.length;
      } else if (!this.failed && !this.ended) {
        // Not finished within the head (nothing was consumed): the whole join, as before.
        buf = left + text;
        pos = end;
      }
    } else if (buf === '') {
      buf = left + text;
    }
    if (buf !== '' && !this.failed && !this.ended) pos = this.scan(buf, pos, events, false);
    if (this.failed || this.ended) {
      this.buf = '';
    } else {
      this.buf = pos === 0 ? buf : buf.slice(pos);
      if (this.scanFrom > 0) this.scanFrom -= pos;
      if (this.scanFrom < 0) this.scanFrom = 0;
    }
    return events;
  }

  /**
   * The segment's characters. ASCII with no character pending from the last segment reads the same in
   * latin1 as in UTF-8, at the cost of a copy (the UTF-8 decoder reads the bytes twice).
   */
  private decode(chunk: Buffer): string {
    if (!this.utf8Pending && isAscii(chunk)) return chunk.toString('latin1');
    const text = this.decoder.write(chunk);
    // An ASCII last byte ends any sequence: the decoder then holds nothing. Otherwise it may.
    if (chunk.length > 0) this.utf8Pending = chunk[chunk.length - 1] >= 0x80;
    return text;
  }

  /** Reads `buf` from `pos` (one element only with `once`); returns where it stopped. */
  private scan(buf: string, pos: number, events: FrameEvent[], once: boolean): number {
    for (;;) {
      const start = pos;
      while (pos < buf.length && isKeepaliveChar(buf.charCodeAt(pos))) pos++;
      if (pos > start) {
        this.scanFrom = 0;
        if (this.headerDone) events.push({ type: 'keepalive' });
      }
      if (pos >= buf.length) break;
      if (!this.headerDone) {
        const r = this.header(buf, pos, events);
        if (r < 0) break;
        pos = r;
        continue;
      }
      const r = this.stanza(buf, pos, events);
      if (r < 0) break;
      pos = r;
      if (this.ended || once) break;
    }
    return pos;
  }

  private fail(events: FrameEvent[], reason: string): number {
    this.failed = true;
    events.push({ type: 'error', reason });
    return -1;
  }

  /** Returns the position after the header, or -1 (need more data, or failed). */
  private header(buf: string, pos: number, events: FrameEvent[]): number {
    let p = pos;
    if (buf.startsWith('<?', p)) {
      if (buf.length - p < XML_DECL.length) return XML_DECL.startsWith(buf.slice(p)) ? -1 : this.fail(events, 'stream header: only <?xml version="1.0"?> may precede it');
      if (!buf.startsWith(XML_DECL, p)) return this.fail(events, 'stream header: only <?xml version="1.0"?> (double quotes) may precede it');
      p += XML_DECL.length;
      while (p < buf.length && isKeepaliveChar(buf.charCodeAt(p))) p++;
    }
    const want = '<stream:stream';
    const have = buf.slice(p, p + want.length);
    if (!want.startsWith(have)) return this.fail(events, `expected a stream header, got ${JSON.stringify(buf.slice(p, p + 40))}`);
    if (have.length < want.length) return -1;
    HEADER_END.lastIndex = 0;
    const rest = buf.slice(p);
    const m = HEADER_END.exec(rest);
    if (!m) {
      if (rest.length > 4096) return this.fail(events, 'stream header longer than 4096 bytes or without a final xmlns:stream attribute');
      // A header ending in `>` without xmlns:stream last can never match: fail once it is complete.
      if (rest.indexOf('>') >= 0) return this.fail(events, 'stream header: xmlns:stream must be its last attribute');
      return -1;
    }
    const raw = rest.slice(0, m.index + m[0].length);
    if (raw.indexOf('>') < raw.length - 1) return this.fail(events, 'stream header: xmlns:stream must be its last attribute');
    const attrs: Record<string, string> = {};
    HEADER_ATTR.lastIndex = 0;
    for (let a = HEADER_ATTR.exec(raw); a; a = HEADER_ATTR.exec(raw)) attrs[a[1]] = a[2] ?? a[3];
    this.headerDone = true;
    events.push({ type: 'header', raw, attrs });
    return p + raw.length;
  }

  private stanza(buf: string, pos: number, events: FrameEvent[]): number {
    let kind: 'iq' | 'message';
    if (buf.startsWith('<iq', pos)) kind = 'iq';
    else if (buf.startsWith('<message', pos)) kind = 'message';
    else if (buf.startsWith('</stream:stream', pos)) {
      this.ended = true;
      events.push({ type: 'stream-end' });
      return buf.length;
    } else {
      const head = buf.slice(pos, pos + 16);
      // Wait for enough bytes to tell `<iq`/`<message`/`</stream:stream` apart from the rest.
      if (['<iq', '<message', '</stream:stream'].some((w) => w.startsWith(head) && head.length < w.length)) return -1;
      return this.fail(events, `unknown top-level data ${JSON.stringify(buf.slice(pos, pos + 40))}`);
    }
    const after = pos + kind.length + 1;
    if (after >= buf.length) return -1;
    const c = buf.charCodeAt(after);
    if (!(c === 32 || c === 9 || c === 10 || c === 13 || c === 62)) {
      return this.fail(events, `unknown stanza ${JSON.stringify(buf.slice(pos, pos + 40))}`);
    }
    // A stanza not read at its first attempt (incomplete) is left to the close-tag search until it is whole,
    // then read once more.
    const reader = kind === 'iq' ? this.reader : undefined;
    const retry = this.scanFrom > 0;
    if (reader !== undefined && !retry) {
      const read = reader.read(buf, pos);
      if (read !== undefined) return this.cut(buf, pos, reader.end, events, read);
    }
    const end = closeTagEnd(buf, STANZA_CLOSE[kind], Math.max(after, this.scanFrom));
    if (end < 0) {
      if (buf.length - pos > this.maxStanzaBytes) {
        return this.fail(events, `stanza exceeds ${this.maxStanzaBytes} bytes without its </${kind}>`);
      }
      this.scanFrom = -end - 1;
      return -1;
    }
    // A read's end is the first close tag (see StanzaReader), so it is this one.
    const read = reader !== undefined && retry ? reader.read(buf, pos) : undefined;
    return this.cut(buf, pos, end, events, read !== undefined && reader!.end === end ? read : undefined);
  }

  /** The stanza [pos, end) as an event, or the error if it is too long. */
  private cut(buf: string, pos: number, end: number, events: FrameEvent[], read: ScannedAgentStanza | undefined): number {
    this.scanFrom = 0;
    const raw = buf.slice(pos, end);
    if (raw.length > this.maxStanzaBytes && Buffer.byteLength(raw) > this.maxStanzaBytes) {
      return this.fail(events, `stanza of ${Buffer.byteLength(raw)} bytes exceeds ${this.maxStanzaBytes}`);
    }
    events.push({ type: 'stanza', raw, read });
    return end;
  }
}

/**
 * Splits a string of back-to-back stanzas produced by our encoders (which never put whitespace in
 * a closing tag) so that each is counted and tapped on its own.
 */
export function splitStanzas(raw: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const close = raw.startsWith('<iq', pos) ? '</iq>' : raw.startsWith('<message', pos) ? '</message>' : '';
    const end = close ? raw.indexOf(close, pos) : -1;
    if (end < 0) {
      out.push(raw.slice(pos));
      break;
    }
    out.push(raw.slice(pos, end + close.length));
    pos = end + close.length;
  }
  return out;
}

/** splitStanzas(raw).length without cutting the stanzas out: what a send counts when nothing taps it. */
export function countStanzas(raw: string): number {
  let count = 0;
  let pos = 0;
  while (pos < raw.length) {
    count++;
    const close = raw.startsWith('<iq', pos) ? '</iq>' : raw.startsWith('<message', pos) ? '</message>' : '';
    const end = close ? raw.indexOf(close, pos) : -1;
    if (end < 0) break;
    pos = end + close.length;
  }
  return count;
}
