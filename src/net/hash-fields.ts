// The five fields of a flow's 5-tuple that ECMP may hash on, by the names the config, the topology file
// and the data plane use. Owns the names and their canonical order only: each codec maps them to its own
// wire names (XMPP load-balance fields in xmpp/route-entry.ts, the BGP load-balance extended
// community's bits in bgp/extended-communities.ts), and the hash itself is vrouter/ecmp-hash.ts.
// Which fields are on and where that is configured: docs/protocol.md §7.4.

export const HASH_FIELDS = ['source-ip', 'destination-ip', 'ip-protocol', 'source-port', 'destination-port'] as const;

export type HashField = (typeof HASH_FIELDS)[number];

export function isHashField(value: unknown): value is HashField {
  return typeof value === 'string' && (HASH_FIELDS as readonly string[]).includes(value);
}

/** The list in canonical order without repeats, or why it is not a list of hash fields. */
export function parseHashFields(values: readonly unknown[]): HashField[] | string {
  for (const v of values) {
    if (!isHashField(v)) return `${JSON.stringify(v)} is not a hash field (one of ${HASH_FIELDS.join(', ')})`;
  }
  return HASH_FIELDS.filter((f) => values.includes(f));
}
