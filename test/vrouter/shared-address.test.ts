// A shared (active-active) address on an interface: reached locally and from the fabric with the
// interface's label, delivered without NAT, answered from the shared address; a pool floating IP whose
// fixed ip is that address translates the public address to it (docs/protocol.md §7.2, §7.4).
import { expect } from 'chai';
import { InProcessUnderlay, Vrouter, type LocalInterfaceSpec } from '../../src/vrouter/vrouter.ts';

const VRF = 'default-domain:avi:data-vn:data-vn';
const PUBLIC = 'default-domain:admin:public:public';

function compute(underlay: InProcessUnderlay, routerId: string): Vrouter {
  return new Vrouter({ name: routerId, routerId, underlay, clock: () => 0 });
}

const se = (over: Partial<LocalInterfaceSpec> = {}): LocalInterfaceSpec => ({
  name: 'avi-se-czpey', vrf: VRF, ip: '19.1.1.6', mac: '02:00:00:00:00:01', label: 20, virtualNetwork: 'data-vn', floatingIps: [], sharedAddresses: ['19.1.1.7/32'], ...over,
});

describe('vrouter/shared addresses and fixed-ip floating IPs', () => {
  it('delivers the shared address from the fabric without NAT and answers from it', () => {
    const underlay = new InProcessUnderlay();
    const remote = compute(underlay, '127.4.99.1');
    const client = compute(underlay, '127.4.99.2');
    expect(remote.upsertInterface(se()).ok).to.equal(true);
    expect(client.upsertInterface({ name: 'client', vrf: VRF, ip: '19.1.1.20', mac: '02:00:00:00:00:02', label: 16, virtualNetwork: 'data-vn', floatingIps: [] }).ok).to.equal(true);
    client.setRoute(VRF, '19.1.1.7/32', [{ address: '127.4.99.1', label: 20, encapsulations: ['udp'] }]);
    remote.setRoute(VRF, '19.1.1.20/32', [{ address: '127.4.99.2', label: 16, encapsulations: ['udp'] }]);
    const result = client.sendFromInterface('client', { src: '19.1.1.20', dst: '19.1.1.7', proto: 6, sport: 40000, dport: 443 });
    expect(result.delivered).to.equal(true);
    expect(result.interface).to.equal('avi-se-czpey');
    expect(result.nat).to.equal(undefined);
    expect(result.packet).to.include({ dst: '19.1.1.7', dport: 443 });
    expect(result.flow).to.equal('new');
    expect(result.reply?.delivered).to.equal(true);
    expect(result.reply?.packet).to.include({ src: '19.1.1.7', sport: 443, dst: '19.1.1.20' });
    const again = client.sendFromInterface('client', { src: '19.1.1.20', dst: '19.1.1.7', proto: 6, sport: 40000, dport: 443 });
    expect(again.flow).to.equal('existing');
  });

  it('installs a local route for a shared /32 and reaches it from a local interface', () => {
    const underlay = new InProcessUnderlay();
    const v = compute(underlay, '127.4.99.3');
    v.upsertInterface(se());
    v.upsertInterface({ name: 'neighbour', vrf: VRF, ip: '19.1.1.30', mac: '02:00:00:00:00:03', label: 21, virtualNetwork: 'data-vn', floatingIps: [] });
    const result = v.sendFromInterface('neighbour', { src: '19.1.1.30', dst: '19.1.1.7', proto: 17, sport: 5000, dport: 53 });
    expect(result).to.include({ delivered: true, interface: 'avi-se-czpey' });
  });

  it('translates a pool floating IP to its fixed ip (the shared VIP), not to the interface address', () => {
    const underlay = new InProcessUnderlay();
    const v = compute(underlay, '127.4.99.4');
    const fip = { address: '10.1.11.4', vrf: PUBLIC, virtualNetwork: 'public', portMappingsEnable: false, portMappings: [], direction: 'both' as const, fixedIp: '19.1.1.7' };
    expect(v.upsertInterface(se({ floatingIps: [fip] })).ok).to.equal(true);
    const result = underlay.send('127.4.99.250', '127.4.99.4', 20, { src: '198.51.100.1', dst: '10.1.11.4', proto: 6, sport: 20000, dport: 80 });
    expect(result.delivered).to.equal(true);
    expect(result.packet).to.include({ dst: '19.1.1.7', dport: 80 });
    expect(result.nat?.[0]).to.deep.include({ kind: 'dnat', to: { ip: '19.1.1.7', port: 80 } });
    // the reply is un-NATed back to the public address (it then finds no route here: no gateway)
    expect(v.flows().some((f) => f.nat !== undefined)).to.equal(true);
  });

  it('refuses a malformed shared address or fixed ip with one line', () => {
    const v = compute(new InProcessUnderlay(), '127.4.99.5');
    const errorOf = (r: ReturnType<Vrouter['upsertInterface']>) => (r.ok ? undefined : r.error);
    expect(errorOf(v.upsertInterface(se({ sharedAddresses: ['19.1.1.7/40'] })))).to.equal('interface avi-se-czpey: sharedAddresses: 19.1.1.7/40 is not an IPv4 prefix');
    const fip = { address: '10.1.11.4', vrf: PUBLIC, virtualNetwork: 'public', portMappingsEnable: false, portMappings: [], direction: 'both' as const, fixedIp: 'nope' };
    expect(errorOf(v.upsertInterface(se({ floatingIps: [fip] })))).to.match(/floatingIps\[0\]\.fixedIp nope is not an IPv4 address/);
  });
});
