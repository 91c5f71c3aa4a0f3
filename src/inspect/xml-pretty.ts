// Indented rendering of a stanza for humans (CLI `stanzas`, introspect API).
import { parse, type Element } from 'ltx';

function render(el: Element, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}"`)
    .join('');
  const kids = el.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
  if (kids.length === 0) {
    out.push(`${pad}<${el.name}${attrs}/>`);
    return;
  }
  if (kids.every((c) => typeof c === 'string')) {
    const text = (kids as string[]).join('').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    out.push(`${pad}<${el.name}${attrs}>${text}</${el.name}>`);
    return;
  }
  out.push(`${pad}<${el.name}${attrs}>`);
  for (const c of kids) {
    if (typeof c === 'string') out.push(`${pad}  ${c.trim()}`);
    else render(c, depth + 1, out);
  }
  out.push(`${pad}</${el.name}>`);
}

/**
 * Pretty-prints one stanza or stream header (an unclosed `<stream:stream …>` is shown as its start
 * tag). Input that does not parse is returned unchanged: the printer must never hide what was sent.
 */
export function prettyXml(raw: string): string {
  const trimmed = raw.replace(/\u0200/g, '').trim();
  if (trimmed.startsWith('<stream:stream') || trimmed.startsWith('<?xml')) return trimmed;
  if (trimmed.includes('<!')) return raw;
  let root: Element;
  try {
    root = parse(trimmed);
  } catch {
    return raw;
  }
  const out: string[] = [];
  render(root, 0, out);
  return out.join('\n');
}
