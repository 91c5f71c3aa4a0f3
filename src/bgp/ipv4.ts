// Kept only for bgp/peer.ts and control/bgp-routing.ts until they import src/net/ipv4.ts themselves
// (`requireIpv4` is the same function); nothing else may use it.
export { requireIpv4 as ipv4ToNumber } from '../net/ipv4.ts';
