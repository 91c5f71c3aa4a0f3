// The agent's rule for the load-balance field list of the route entries it publishes and receives
// (docs/protocol.md §5): the list is sent only when not all five hash fields are on, and an empty list
// means the defaults. The per-field wire names belong to the XMPP codec (xmpp/route-entry.ts); what is
// hashed lives in ./ecmp-hash.ts.
import type { HashField } from '../net/hash-fields.ts';
import { hashFieldOf, loadBalanceFieldOf, type LoadBalanceField } from '../xmpp/route-entry.ts';

/** The load-balance list to publish: empty when all five fields (the default) are on. */
export function loadBalanceFieldsOf(fields: readonly HashField[] | undefined): LoadBalanceField[] {
  if (!fields || fields.length === 5) return [];
  return fields.map(loadBalanceFieldOf);
}

/** The vRouter hash fields of a received entry's load-balance list; undefined (the defaults) when it is empty. */
export function hashFieldsOf(fields: readonly LoadBalanceField[]): HashField[] | undefined {
  return fields.length > 0 ? fields.map(hashFieldOf) : undefined;
}
