/**
 * A string with characters of its own, in one heap object: what a long-lived store keeps of text cut out of
 * a received message. Owns nothing else (no interning, no caching).
 *
 * Why: in V8 a substring of 13 characters or more is a view (a sliced string) of the whole text it was cut
 * from, so keeping it keeps that text alive; the usual copy, `(' ' + s).slice(1)`, is again a view, of a
 * fresh flat string, two objects per kept string. Here a string of up to 24 characters (a prefix, an RD, an
 * address) is joined from two halves of under 13 (each a copy) and read once, which makes V8 flatten the
 * join into one sequential string; the next scavenge then drops the join's wrapper and keeps that string
 * alone. Longer strings take the usual copy.
 */
export function ownString(s: string): string {
  const n = s.length;
  if (n < 13) return s;
  if (n > 24) return (' ' + s).slice(1);
  const half = n >> 1;
  const own = s.slice(0, half) + s.slice(half);
  // Reading a character of the second half flattens the join; comparing it keeps the read from being
  // optimised away (it cannot differ).
  return own.charCodeAt(n - 1) === s.charCodeAt(n - 1) ? own : (' ' + s).slice(1);
}
