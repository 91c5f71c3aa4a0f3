// The two spellings of the ECMP hash fields the agent translates between: the config's (`source-ip` …,
// also what the vRouter hashes on) and the route entry's load-balance fields (`l3-source-address` …,
// docs/protocol.md §5). Owns only the translation; what is hashed lives in ./ecmp-hash.ts.
import type { LoadBalanceField } from '../xmpp/route-entry.ts';
import type { ConfigHashField } from '../xmpp/config-stanza.ts';
import type { HashField } from './packet.ts';

const HASH_TO_LOAD_BALANCE: Record<ConfigHashField, LoadBalanceField> = {
  'source-ip': 'l3-source-address',
  'destination-ip': 'l3-destination-address',
  'ip-protocol': 'l4-protocol',
  'source-port': 'l4-source-port',
  'destination-port': 'l4-destination-port',
};
const LOAD_BALANCE_TO_HASH = Object.fromEntries(
  Object.entries(HASH_TO_LOAD_BALANCE).map(([hash, lb]) => [lb, hash]),
) as Record<LoadBalanceField, HashField>;

/** docs/protocol.md §5: the load-balance field list is sent only when not all five fields are on. */
export function loadBalanceFieldsOf(fields: ConfigHashField[] | undefined): LoadBalanceField[] {
  if (!fields || fields.length === 5) return [];
  return fields.map((f) => HASH_TO_LOAD_BALANCE[f]);
}

/** The vRouter hash fields of a received entry's load-balance list; undefined (the defaults) when it is empty. */
export function hashFieldsOf(fields: readonly LoadBalanceField[]): HashField[] | undefined {
  return fields.length > 0 ? fields.map((f) => LOAD_BALANCE_TO_HASH[f]) : undefined;
}
