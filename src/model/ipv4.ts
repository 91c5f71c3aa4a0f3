// Kept only for src/model/config-store.ts until it imports src/net/ipv4.ts itself; nothing else may use it.
export { parseIPv4, parseSubnet } from '../net/ipv4.ts';
