// Kept only for src/model/config-store.ts until it imports parseIpv4Address / parseIpv4Subnet from
// src/net/ipv4.ts itself; nothing else may use it.
export { parseIpv4Address as parseIPv4, parseIpv4Subnet as parseSubnet } from '../net/ipv4.ts';
