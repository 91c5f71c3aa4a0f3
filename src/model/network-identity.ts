/** Auto route targets start at 8000000 for a 2-byte ASN and at 8000 for a 4-byte one (docs/protocol.md §1). */
export function routeTargetFor(asn: number, vnIndex: number): string {
  const base = asn > 0xffff ? 8000 : 8000000;
  return `target:${asn}:${base + vnIndex}`;
}

/** The default routing instance of a VN is `<vn-fq-name>:<last fq-name element>` (docs/protocol.md §1). */
export function routingInstanceFor(vnName: string): string {
  const parts = vnName.split(':');
  return `${vnName}:${parts[parts.length - 1]}`;
}
