import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMplsOverUdp, encodeMplsOverUdp } from '../../src/vrouter/mpls-udp-codec.ts';
import { MplsOverUdpUnderlay, Vrouter, type ForwardResult } from '../../src/vrouter/vrouter.ts';
import { TrafficGenerator } from '../../src/vrouter/traffic.ts';

const VRF = 'vn:vn';
const VIP = '30.30.30.100';

describe('vrouter/mpls-over-udp', () => {
  it('encodes one bottom-of-stack label, an IPv4 header with a valid checksum and the ports (RFC 7510 / 3032)', () => {
    const buf = encodeMplsOverUdp(17, { src: '30.30.30.2', dst: VIP, proto: 6, sport: 40000, dport: 80 });
    expect(buf.readUInt32BE(0)).to.equal((17 << 12) | 0x100 | 64);
    expect(buf.length).to.equal(4 + 20 + 20);
    expect(buf.readUInt8(4)).to.equal(0x45);
    let sum = 0;
    for (let i = 4; i < 24; i += 2) sum += buf.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).to.equal(0xffff);
    expect(buf.subarray(16, 24).toString('hex')).to.equal('1e1e1e021e1e1e64');
  });

  it('round-trips any label and 5-tuple, and never throws on garbage', () => {
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    fc.assert(fc.property(fc.integer({ min: 16, max: 0xfffff }), ip, ip, fc.constantFrom(6, 17, 1), fc.nat(65535), fc.nat(65535), fc.nat(1500),
      (label, src, dst, proto, sport, dport, bytes) => {
        const d = decodeMplsOverUdp(encodeMplsOverUdp(label, { src, dst, proto, sport, dport, bytes }));
        expect(d).to.deep.include({ label });
        if ('packet' in d) expect(d.packet).to.deep.include({ src, dst, proto, sport, dport });
      }));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const d = decodeMplsOverUdp(Buffer.from(bytes));
      expect('error' in d || 'packet' in d).to.equal(true);
    }));
  });

  it('carries a connection to the member compute over loopback UDP and the reply back, un-NATed', async () => {
    const underlay = new MplsOverUdpUnderlay({ port: 0 });
    const client = new Vrouter({ name: 'c1', routerId: '127.0.77.1', underlay, flowTableSize: 64 });
    const member = new Vrouter({ name: 'c2', routerId: '127.0.77.2', underlay, flowTableSize: 64 });
    try {
      await underlay.ready();
      client.upsertInterface({ name: 'client', vrf: VRF, ip: '30.30.30.2', mac: '', label: 16, virtualNetwork: 'vn', floatingIps: [] });
      member.upsertInterface({
        name: 'web', vrf: VRF, ip: '30.30.30.10', mac: '', label: 17, virtualNetwork: 'vn',
        floatingIps: [{ address: VIP, vrf: VRF, virtualNetwork: 'vn', portMappingsEnable: true, direction: 'ingress', portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }] }],
      });
      client.setRoute(VRF, `${VIP}/32`, [{ address: '127.0.77.2', label: 17, encapsulations: ['udp'] }]);
      member.setRoute(VRF, '30.30.30.2/32', [{ address: '127.0.77.1', label: 16, encapsulations: ['udp'] }]);
      const deliveries: { result: ForwardResult; to: string }[] = [];
      const both = new Promise<void>((resolve) => {
        underlay.on('delivery', (result, _from, to) => {
          deliveries.push({ result, to });
          if (deliveries.length === 2) resolve();
        });
      });
      const sent = client.sendFromInterface('client', { src: '30.30.30.2', dst: VIP, proto: 6, sport: 40000, dport: 80, bytes: 100 });
      expect(sent.inFlight).to.equal(true);
      await both;
      const atMember = deliveries.find((d) => d.to === '127.0.77.2')!.result;
      expect(atMember.packet).to.deep.include({ dst: '30.30.30.10', dport: 8080 });
      const atClient = deliveries.find((d) => d.to === '127.0.77.1')!.result;
      expect(atClient).to.deep.include({ delivered: true, interface: 'client' });
      expect(atClient.packet).to.deep.include({ src: VIP, sport: 80, dport: 40000 });
      expect(underlay.counters).to.deep.include({ sent: 2, received: 2, malformed: 0 });
      // settle() waits for the delivery reports: the whole round trip as one result
      const settled = await client.sendFromInterfaceSettled('client', { src: '30.30.30.2', dst: VIP, proto: 6, sport: 40002, dport: 80 });
      expect(settled).to.deep.include({ delivered: true, node: 'c2', interface: 'web' });
      expect(settled.hops).to.deep.equal(['c1', 'c2']);
      expect(settled.nat?.[0]).to.deep.include({ kind: 'dnat' });
      expect(settled.reply).to.deep.include({ delivered: true, node: 'c1', interface: 'client' });
      expect(settled.reply?.packet).to.deep.include({ src: VIP, sport: 80 });
      // a compute that is not on this underlay is a counted drop
      client.setRoute(VRF, `${VIP}/32`, [{ address: '127.0.77.9', label: 17, encapsulations: ['udp'] }]);
      expect(client.sendFromInterface('client', { src: '30.30.30.2', dst: VIP, proto: 6, sport: 40001, dport: 80 }).drop?.reason).to.equal('unknown-compute');
    } finally {
      await client.close();
      await member.close();
      await underlay.close();
    }
  });

  it('runs the traffic generator over real datagrams: 2 -> 3 members moves no connection', async () => {
    const underlay = new MplsOverUdpUnderlay({ port: 0 });
    const client = new Vrouter({ name: 'c1', routerId: '127.0.78.1', underlay, flowTableSize: 4096 });
    const members = [0, 1, 2].map((i) => new Vrouter({ name: `m${i}`, routerId: `127.0.78.${i + 2}`, underlay, flowTableSize: 4096 }));
    try {
      await underlay.ready();
      client.upsertInterface({ name: 'client', vrf: VRF, ip: '30.30.30.2', mac: '', label: 16, virtualNetwork: 'vn', floatingIps: [] });
      members.forEach((m, i) => {
        m.upsertInterface({
          name: `web-${i}`, vrf: VRF, ip: `30.30.30.${10 + i}`, mac: '', label: 17 + i, virtualNetwork: 'vn',
          floatingIps: [{ address: VIP, vrf: VRF, virtualNetwork: 'vn', portMappingsEnable: true, direction: 'ingress', portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }] }],
        });
        m.setRoute(VRF, '30.30.30.2/32', [{ address: '127.0.78.1', label: 16, encapsulations: ['udp'] }]);
      });
      const vipTo = (n: number): void => {
        client.setRoute(VRF, `${VIP}/32`, members.slice(0, n).map((m, i) => ({ address: m.routerId, label: 17 + i, encapsulations: ['udp'] })));
      };
      vipTo(2);
      const g = new TrafficGenerator({ vrouter: client, interfaceName: 'client', vip: VIP, port: 80, flows: 400, sourceAddresses: ['30.30.30.2'] });
      const first = await g.openSettled(64);
      expect(first).to.deep.include({ delivered: 400, repliesFromVip: 400, inFlight: 0 });
      expect(first.members).to.have.length(2);
      vipTo(3);
      const after = await g.resendSettled(64);
      expect(after.moved).to.equal(0);
      expect(after.delivered).to.equal(400);
      expect(underlay.counters.timeouts).to.equal(0);
    } finally {
      await client.close();
      for (const m of members) await m.close();
      await underlay.close();
    }
  });
});
