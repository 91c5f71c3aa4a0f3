// String-level XML helpers shared by the encoders and the fast-path decoders. They work on the
// restricted XML Contrail peers exchange (no DTD, no CDATA, no comments, no processing instructions);
// anything outside that subset is left to the full ltx parse.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NEEDS_ESCAPE = /[&<>"']/;
const NEEDS_ESCAPE_ALL = /[&<>"']/g;

export function escapeXml(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(NEEDS_ESCAPE_ALL, (c) => ESCAPES[c]) : s;
}

const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;

/** Decodes the five predefined entities and character references; null when an `&` is not a valid reference. */
export function unescapeXml(s: string): string | null {
  if (s.indexOf('&') < 0) return s;
  let bad = false;
  const out = s.replace(/&[^;]*;?/g, (m) => {
    ENTITY.lastIndex = 0;
    const hit = ENTITY.exec(m);
    if (!hit || hit[0] !== m) { bad = true; return m; }
    const name = hit[1];
    switch (name) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
    }
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (code > 0x10ffff) { bad = true; return m; }
    return String.fromCodePoint(code);
  });
  return bad ? null : out;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isNameChar(c: number): boolean {
  return c > 32 && c !== 47 /* / */ && c !== 62 /* > */ && c !== 61 /* = */ && c !== 60 /* < */ && c !== 34 && c !== 39;
}

export interface OpenTag { name: string; attrs: Record<string, string>; selfClosing: boolean; end: number }

/**
 * Reads the start tag beginning at `pos` (which must hold `<`). `end` is the index just past `>`.
 * Returns null on anything malformed (bad quoting, duplicate attribute, bad entity).
 */
export function readOpenTag(s: string, pos: number): OpenTag | null {
  if (s.charCodeAt(pos) !== 60) return null;
  let i = pos + 1;
  const nameStart = i;
  while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
  if (i === nameStart) return null;
  const name = s.slice(nameStart, i);
  const attrs: Record<string, string> = {};
  for (;;) {
    const before = i;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (i >= s.length) return null;
    const c = s.charCodeAt(i);
    if (c === 62) return { name, attrs, selfClosing: false, end: i + 1 };
    if (c === 47) {
      if (s.charCodeAt(i + 1) !== 62) return null;
      return { name, attrs, selfClosing: true, end: i + 2 };
    }
    if (i === before) return null; // attributes must be separated by whitespace
    const an = i;
    while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
    if (i === an) return null;
    const attrName = s.slice(an, i);
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61) return null;
    i++;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 34 && q !== 39) return null;
    const close = s.indexOf(q === 34 ? '"' : "'", i + 1);
    if (close < 0) return null;
    const rawValue = s.slice(i + 1, close);
    if (rawValue.indexOf('<') >= 0) return null;
    const value = unescapeXml(rawValue);
    if (value === null || Object.prototype.hasOwnProperty.call(attrs, attrName)) return null;
    attrs[attrName] = value;
    i = close + 1;
  }
}

/**
 * The start tag readKnownTag read last: the attributes the agent-stanza fast path uses, each undefined
 * when absent. One reused instance: no attribute record and no key interning per tag.
 */
export class KnownTag {
  name = '';
  selfClosing = false;
  end = 0;
  type: string | undefined = undefined;
  from: string | undefined = undefined;
  to: string | undefined = undefined;
  id: string | undefined = undefined;
  node: string | undefined = undefined;
  xmlns: string | undefined = undefined;
}

function nameIs(s: string, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (s.charCodeAt(from + k) !== name.charCodeAt(k)) return false;
  return true;
}

/**
 * readOpenTag for tags whose attributes are among type/from/to/id/node/xmlns, into `tag`. False where
 * readOpenTag returns null, and also on any other attribute: a caller with a general path uses it then.
 */
export function readKnownTag(s: string, pos: number, tag: KnownTag): boolean {
  if (s.charCodeAt(pos) !== 60) return false;
  let i = pos + 1;
  const nameStart = i;
  while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
  if (i === nameStart) return false;
  tag.name = s.slice(nameStart, i);
  tag.type = tag.from = tag.to = tag.id = tag.node = tag.xmlns = undefined;
  for (;;) {
    const before = i;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (i >= s.length) return false;
    const c = s.charCodeAt(i);
    if (c === 62) {
      tag.selfClosing = false;
      tag.end = i + 1;
      return true;
    }
    if (c === 47) {
      if (s.charCodeAt(i + 1) !== 62) return false;
      tag.selfClosing = true;
      tag.end = i + 2;
      return true;
    }
    if (i === before) return false;
    const an = i;
    while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
    const ae = i;
    if (ae === an) return false;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61) return false;
    i++;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 34 && q !== 39) return false;
    const close = s.indexOf(q === 34 ? '"' : "'", i + 1);
    if (close < 0) return false;
    const rawValue = s.slice(i + 1, close);
    if (rawValue.indexOf('<') >= 0) return false;
    const value = unescapeXml(rawValue);
    if (value === null) return false;
    // A repeated attribute is malformed (readOpenTag's null); an unknown one is declined.
    if (nameIs(s, an, ae, 'from')) {
      if (tag.from !== undefined) return false;
      tag.from = value;
    } else if (nameIs(s, an, ae, 'to')) {
      if (tag.to !== undefined) return false;
      tag.to = value;
    } else if (nameIs(s, an, ae, 'id')) {
      if (tag.id !== undefined) return false;
      tag.id = value;
    } else if (nameIs(s, an, ae, 'node')) {
      if (tag.node !== undefined) return false;
      tag.node = value;
    } else if (nameIs(s, an, ae, 'type')) {
      if (tag.type !== undefined) return false;
      tag.type = value;
    } else if (nameIs(s, an, ae, 'xmlns')) {
      if (tag.xmlns !== undefined) return false;
      tag.xmlns = value;
    } else {
      return false;
    }
    i = close + 1;
  }
}
