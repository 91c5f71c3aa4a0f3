// A route from the control node with one tunnel next hop is kept as a deferred FIB slot until someone reads
// it (vrouter/vrf-fib.ts): the FIB, the counters, forwarding and later changes must not tell the difference.
import { expect } from 'chai';
import { InProcessUnderlay, Vrouter } from '../../src/vrouter/vrouter.ts';

const VRF = 'vn:vn';
const TUNNEL = { address: '127.0.20.2', label: 17, encapsulations: ['gre', 'udp'] };
const OTHER = { address: '127.0.20.3', label: 18, encapsulations: ['gre', 'udp'] };
const PACKET = { src: '30.30.30.1', dst: '30.30.30.20', proto: 6, sport: 40000, dport: 80 };

function vrouter(): Vrouter {
  const v = new Vrouter({ name: 'compute-1', routerId: '127.0.20.1', underlay: new InProcessUnderlay(), flowTableSize: 64 });
  v.upsertInterface({ name: 'client', vrf: VRF, ip: '30.30.30.1', mac: '', label: 16, virtualNetwork: 'vn', floatingIps: [] });
  return v;
}

describe('vrouter: deferred single-tunnel routes', () => {
  it('counts a deferred route and shows it as the tunnel it is', async () => {
    const v = vrouter();
    try {
      expect(v.setRoute(VRF, '30.30.30.20/32', [TUNNEL])).to.deep.equal({ ok: true, warnings: [] });
      // the client's own /32 and the tunnel
      expect(v.counters().routes.count).to.equal(2);
      const [route] = v.fib(VRF, '30.30.30.20/32')[0]!.routes;
      expect(route).to.include({ prefix: '30.30.30.20/32', source: 'control', kind: 'tunnel' });
      expect(route!.slots.map((s) => [s.address, s.label, s.active])).to.deep.equal([['127.0.20.2', 17, true]]);
      expect(v.counters().routes.count).to.equal(2);
    } finally {
      await v.close();
    }
  });

  it('forwards to a deferred route by longest-prefix match, and lists it in the whole FIB', async () => {
    const v = vrouter();
    try {
      v.setRoute(VRF, '30.30.30.0/24', [TUNNEL]);
      // tunnelled toward 127.0.20.2, which this test's underlay does not know: the route was found
      expect(v.sendFromInterface('client', PACKET).drop).to.include({ reason: 'unknown-compute' });
      expect(v.fib(VRF)[0]!.routes.map((x) => x.prefix)).to.deep.equal(['30.30.30.0/24', '30.30.30.1/32']);
    } finally {
      await v.close();
    }
  });

  it('becomes a composite with the first member in slot 0 when a second next hop comes', async () => {
    const v = vrouter();
    try {
      v.setRoute(VRF, '30.30.30.20/32', [TUNNEL]);
      v.setRoute(VRF, '30.30.30.20/32', [OTHER, TUNNEL]);
      const [route] = v.fib(VRF, '30.30.30.20/32')[0]!.routes;
      expect(route!.kind).to.equal('ecmp');
      expect(route!.slots.map((s) => s.address)).to.deep.equal(['127.0.20.2', '127.0.20.3']);
      expect(v.counters().routes.count).to.equal(2);
    } finally {
      await v.close();
    }
  });

  it('is deleted by a withdraw or by a list without a usable next hop', async () => {
    const v = vrouter();
    try {
      v.setRoute(VRF, '30.30.30.20/32', [TUNNEL]);
      v.setRoute(VRF, '30.30.30.21/32', [TUNNEL]);
      expect(v.deleteRoute(VRF, '30.30.30.20/32')).to.deep.equal({ ok: true, warnings: [] });
      expect(v.setRoute(VRF, '30.30.30.21/32', [{ ...TUNNEL, label: 0 }])).to.deep.include({ ok: true }).and.have.property('warnings').that.includes('no usable next-hop: treated as a withdraw');
      expect(v.fib(VRF, '30.30.30.20/32')).to.deep.equal([]);
      expect(v.fib(VRF, '30.30.30.21/32')).to.deep.equal([]);
      expect(v.counters().routes.count).to.equal(1);
      expect(v.sendFromInterface('client', PACKET).drop?.reason).to.equal('no-route');
    } finally {
      await v.close();
    }
  });
});
