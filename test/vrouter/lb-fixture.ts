// A small native-LB world for the data-plane tests: one client compute, member computes with the VIP as
// a port-mapped floating-ip on each member VMI, routes as the control node would reflect them.
import { InProcessUnderlay, Vrouter, type HashField, type RemoteNextHop } from '../../src/vrouter/vrouter.ts';

export const VRF = 'default-domain:demo:svc-vn:svc-vn';
export const VN = 'default-domain:demo:svc-vn';
export const VIP = '30.30.30.100';
export const CLIENT_IP = '30.30.30.2';
export const CLIENT_LABEL = 16;

export interface MemberCompute { vrouter: Vrouter; address: string; ip: string; label: number; name: string }

export interface LbWorld {
  underlay: InProcessUnderlay;
  client: Vrouter;
  members: MemberCompute[];
  /** re-sends the VIP item to the client compute with the given members (by index), like a control node */
  setVipMembers(indexes: number[], o?: { loadBalanceFields?: HashField[]; maglev?: boolean }): void;
  close(): Promise<void>;
}

export interface WorldOptions {
  memberComputes: number;
  clock?: () => number;
  flowTableSize?: number;
  clientHashFields?: HashField[];
  maglev?: boolean;
  portMappingsEnable?: boolean;
}

export function memberName(i: number): string { return `compute-${i + 2}`; }

export function buildWorld(o: WorldOptions): LbWorld {
  const underlay = new InProcessUnderlay();
  const common = { underlay, clock: o.clock, flowTableSize: o.flowTableSize ?? 1 << 16 };
  const client = new Vrouter({ name: 'compute-1', routerId: '127.0.20.1', hashFields: o.clientHashFields, maglev: o.maglev, ...common });
  client.upsertInterface({ name: 'client', vrf: VRF, ip: CLIENT_IP, mac: '02:00:00:00:00:02', label: CLIENT_LABEL, virtualNetwork: VN, floatingIps: [] });
  const members: MemberCompute[] = [];
  for (let i = 0; i < o.memberComputes; i++) {
    const address = `127.0.20.${i + 2}`;
    const vrouter = new Vrouter({ name: memberName(i), routerId: address, ...common });
    const ip = `30.30.30.${10 + i}`;
    const label = 17 + i;
    const result = vrouter.upsertInterface({
      name: `web-${i}`, vrf: VRF, ip, mac: `02:00:00:00:01:${(i + 16).toString(16)}`, label, virtualNetwork: VN,
      floatingIps: [{
        address: VIP, vrf: VRF, virtualNetwork: VN, portMappingsEnable: o.portMappingsEnable ?? true, direction: 'ingress',
        portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }, { protocol: 'udp', srcPort: 53, dstPort: 5353 }],
      }],
    });
    if (!result.ok) throw new Error(result.error);
    vrouter.setRoute(VRF, `${CLIENT_IP}/32`, [{ address: '127.0.20.1', label: CLIENT_LABEL, encapsulations: ['udp'] }]);
    members.push({ vrouter, address, ip, label, name: memberName(i) });
  }
  const nextHop = (i: number): RemoteNextHop => ({ address: members[i].address, label: members[i].label, encapsulations: ['gre', 'udp'] });
  return {
    underlay,
    client,
    members,
    setVipMembers(indexes, opts = {}) {
      const nhs = indexes.map(nextHop);
      const result = client.setRoute(VRF, `${VIP}/32`, nhs, opts);
      if (!result.ok) throw new Error(result.error);
      // every member compute gets the same item and load-balances across all members too (docs/protocol.md §7.3)
      for (const m of members) m.vrouter.setRoute(VRF, `${VIP}/32`, nhs, opts);
    },
    async close() {
      await client.close();
      for (const m of members) await m.vrouter.close();
    },
  };
}
