// Limits of an ECMP set, shared by the agent's composite next-hops, the control node's reflection and
// the views that print them. Owns the numbers only; slot placement is vrouter/composite-slots.ts.

/** Members of one composite next-hop; an item with more next-hops installs the first ones (docs/protocol.md §7.3). */
export const MAX_ECMP_MEMBERS = 128;
