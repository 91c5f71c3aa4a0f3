// Floating-ip port mappings of the native load balancer (docs/protocol.md §7.6): listener port on the VIP -> target port on the member.

const PROTOCOL_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmp6: 58 };

/** IP protocol number of a mapping's protocol (case-insensitive name or number); -1 when unknown. */
export function protocolNumber(protocol: string | number): number {
  if (typeof protocol === 'number') return Number.isInteger(protocol) && protocol >= 0 && protocol <= 255 ? protocol : -1;
  if (typeof protocol !== 'string') return -1;
  const named = PROTOCOL_NUMBERS[protocol.toLowerCase()];
  if (named !== undefined) return named;
  return /^\d{1,3}$/.test(protocol) ? protocolNumber(Number(protocol)) : -1;
}

export function mappingKey(proto: number, listenerPort: number): number {
  return proto * 65536 + listenerPort;
}

export interface PortMappingSpec { protocol: 'tcp' | 'udp' | number; srcPort: number; dstPort: number }

/**
 * Builds (protocol, listener port) -> target port. The first mapping for a (protocol, port) wins, as the
 * native driver never writes a second one (docs/protocol.md §8.2). Returns the problem text for an invalid mapping.
 */
export function buildPortMap(mappings: readonly PortMappingSpec[]): Map<number, number> | string {
  if (!Array.isArray(mappings)) return 'portMappings is not a list';
  const map = new Map<number, number>();
  for (const [i, m] of mappings.entries()) {
    const proto = protocolNumber(m?.protocol);
    if (proto < 0) return `portMappings[${i}].protocol ${String(m?.protocol)} is not a protocol name or number`;
    for (const field of ['srcPort', 'dstPort'] as const) {
      const port = m[field];
      if (!Number.isInteger(port) || port < 0 || port > 65535) return `portMappings[${i}].${field} ${String(port)} is not 0..65535`;
    }
    const key = mappingKey(proto, m.srcPort);
    if (!map.has(key)) map.set(key, m.dstPort);
  }
  return map;
}
