// The stanza log's filter as it arrives in a query string (`?node=&peer=&direction=&vrf=&prefix=&since=&limit=`).
import type { StanzaFilter } from './stanza-tap.ts';

export function stanzaFilterFromQuery(query: URLSearchParams): StanzaFilter {
  const num = (key: string): number | undefined => {
    const v = query.get(key);
    return v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  const direction = query.get('direction');
  return {
    node: query.get('node') ?? undefined,
    peer: query.get('peer') ?? undefined,
    direction: direction === 'in' || direction === 'out' ? direction : undefined,
    vrf: query.get('vrf') ?? undefined,
    prefix: query.get('prefix') ?? undefined,
    sinceSeq: num('since'),
    limit: num('limit'),
  };
}
