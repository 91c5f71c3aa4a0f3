// Label bounds shared by the agent's allocator, the XMPP and BGP codecs, the RIB and the data plane.
// An MPLS label is 20 bits on the wire (RFC 3032); 0..15 are reserved, so an agent hands out labels from
// MPLS_AGENT_LABEL_MIN (docs/protocol.md §7.1). A route's label field (XMPP next-hop, RIB path) is wider:
// in VXLAN mode it carries the 24-bit VNI (docs/protocol.md §5). Owns the numbers, not the allocation
// policy (vrouter/agent-ids.ts) nor any encoding.

export const MPLS_LABEL_MIN = 0;
export const MPLS_LABEL_MAX = 0xfffff;
/** A VXLAN network identifier is 24 bits (RFC 7348). */
export const VXLAN_VNI_MAX = 0xffffff;
/** The label field of a route: an MPLS label, or a VNI in VXLAN mode. */
export const ROUTE_LABEL_MAX = VXLAN_VNI_MAX;
/** The first label an agent may allocate for an interface or a composite; 0..15 are reserved. */
export const MPLS_AGENT_LABEL_MIN = 16;

export function isMplsLabel(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MPLS_LABEL_MIN && (value as number) <= MPLS_LABEL_MAX;
}

/** Whether an agent may have allocated this label (not one of the reserved 0..15). */
export function isAgentLabel(value: unknown): value is number {
  return isMplsLabel(value) && value >= MPLS_AGENT_LABEL_MIN;
}

/** The label, or why it is not one an agent may use. */
export function parseAgentLabel(value: unknown): number | string {
  return isAgentLabel(value) ? value : `label ${String(value)} must be ${MPLS_AGENT_LABEL_MIN}..${MPLS_LABEL_MAX} (0-15 are reserved, MPLS labels are 20 bits)`;
}
