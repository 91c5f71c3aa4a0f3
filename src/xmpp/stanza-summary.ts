// One-line descriptions of stanzas for the tap and the CLI: what kind, which VRF, which prefixes.
import { CONTROL_NODE_JID } from './stanza-encoder.ts';
import { decodeAgentStanza, decodeControlStanza, isStanzaError } from './stanza-decoder.ts';
import { readOpenTag } from './xml-text.ts';

export interface StanzaSummary { summary: string; vrf?: string; prefixes?: string[] }

function nextHopText(nhs: { address: string; label: number }[]): string {
  return nhs.map((n) => `${n.address}:${n.label}`).join(',');
}

const MAX_LISTED = 8;

function listed(prefixes: string[]): string {
  return prefixes.length <= MAX_LISTED ? prefixes.join(' ') : `${prefixes.slice(0, MAX_LISTED).join(' ')} …(+${prefixes.length - MAX_LISTED})`;
}

export function summarizeStanza(raw: string): StanzaSummary {
  if (raw.startsWith('<stream:stream') || raw.startsWith('<?xml')) {
    const at = raw.indexOf('<stream:stream');
    const tag = at >= 0 ? readOpenTag(raw.replace(/\s*>\s*$/, '/>'), at) : null;
    return { summary: `stream open from=${tag?.attrs.from ?? '?'} to=${tag?.attrs.to ?? '?'}` };
  }
  const head = readOpenTag(raw, 0);
  const fromControl = head?.attrs.from === CONTROL_NODE_JID;
  if (fromControl) {
    const c = decodeControlStanza(raw);
    if (isStanzaError(c)) return { summary: `undecodable: ${c.error}` };
    switch (c.kind) {
      case 'items': {
        const prefixes = c.entries.map((e) => e.prefix);
        const detail = c.entries.length === 1 ? ` nh ${nextHopText(c.entries[0].nextHops)}` : '';
        return { summary: `items ${c.instance} ${listed(prefixes)}${detail}`, vrf: c.instance, prefixes };
      }
      case 'retract':
        return { summary: `retract ${c.instance} ${listed(c.prefixes)}`, vrf: c.instance, prefixes: c.prefixes };
      case 'end-of-rib':
        return { summary: 'end-of-rib' };
      case 'other':
        return { summary: `${c.element.name} to /${c.resource}` };
    }
  }
  const a = decodeAgentStanza(raw);
  if (isStanzaError(a)) return { summary: `undecodable: ${a.error}` };
  switch (a.kind) {
    case 'subscribe':
    case 'unsubscribe':
      return { summary: `${a.kind} ${a.instance} instance-id ${a.instanceId}`, vrf: a.instance };
    case 'publish': {
      const detail = a.entry ? ` nh ${nextHopText(a.entry.nextHops)}` : ' (no item: end-of-rib)';
      return { summary: `publish ${a.instance} ${a.prefix}${detail}`, vrf: a.instance, prefixes: [a.prefix] };
    }
    case 'collection': {
      const prefix = a.node.split('/').slice(3, 5).join('/');
      return { summary: `collection ${a.action} ${a.instance} ${prefix}`, vrf: a.instance, prefixes: prefix ? [prefix] : [] };
    }
    case 'end-of-rib':
      return { summary: 'end-of-rib' };
    case 'other':
      return { summary: `${a.element.name} to /${a.resource}` };
  }
}
