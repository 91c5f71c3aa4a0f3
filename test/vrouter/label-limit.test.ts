// MPLS labels are 20 bits (RFC 3032): a larger label is refused where the vRouter accepts labels and by
// the MPLS-over-UDP codec, instead of being truncated on the wire.
import { expect } from 'chai';
import { encodeMplsOverUdp, MPLS_LABEL_MAX } from '../../src/vrouter/mpls-udp-codec.ts';
import { InProcessUnderlay, Vrouter, type LocalInterfaceSpec } from '../../src/vrouter/vrouter.ts';

const VRF = 'vn:vn';
const LABEL_21_BITS = 0x100000;
const PACKET = { src: '30.30.30.2', dst: '30.30.30.100', proto: 6, sport: 40000, dport: 80 };
const LIMIT_TEXT = `16..${MPLS_LABEL_MAX} (0-15 are reserved, MPLS labels are 20 bits)`;

function vrouter(): Vrouter {
  return new Vrouter({ name: 'compute-1', routerId: '127.0.20.1', underlay: new InProcessUnderlay(), flowTableSize: 64 });
}

const ifc = (label: number): LocalInterfaceSpec => ({
  name: 'web-0', vrf: VRF, ip: '30.30.30.10', mac: '', label, virtualNetwork: 'vn', floatingIps: [],
});

describe('vrouter: MPLS label limit (20 bits)', () => {
  it('is 0xFFFFF', () => {
    expect(MPLS_LABEL_MAX).to.equal(0xfffff);
  });

  describe('codec', () => {
    it('encodes the largest label exactly (hex fixture of the label stack entry)', () => {
      const buf = encodeMplsOverUdp(MPLS_LABEL_MAX, PACKET);
      // label fffff | TC 0 | bottom of stack | TTL 64
      expect(buf.subarray(0, 4).toString('hex')).to.equal('fffff140');
    });

    it('throws on a 21-bit label instead of masking it', () => {
      expect(() => encodeMplsOverUdp(LABEL_21_BITS, PACKET)).to.throw(RangeError, `MPLS label ${LABEL_21_BITS} out of 0..${MPLS_LABEL_MAX} (labels are 20 bits)`);
    });

    it('throws on a negative or fractional label', () => {
      expect(() => encodeMplsOverUdp(-1, PACKET)).to.throw(RangeError, 'MPLS label -1 out of');
      expect(() => encodeMplsOverUdp(16.5, PACKET)).to.throw(RangeError, 'MPLS label 16.5 out of');
    });
  });

  describe('vrouter', () => {
    it('refuses an interface with a 21-bit label and accepts the largest 20-bit one', async () => {
      const v = vrouter();
      try {
        expect(v.upsertInterface(ifc(LABEL_21_BITS))).to.deep.equal({ ok: false, error: `interface web-0: label ${LABEL_21_BITS} must be ${LIMIT_TEXT}` });
        expect(v.interfaceNames()).to.deep.equal([]);
        expect(v.upsertInterface(ifc(MPLS_LABEL_MAX))).to.deep.equal({ ok: true, warnings: [] });
        expect(v.counters().routes.rejectedUpdates).to.equal(1);
      } finally {
        await v.close();
      }
    });

    it('refuses a local composite with a 21-bit label', async () => {
      const v = vrouter();
      try {
        const r = v.setLocalComposite(LABEL_21_BITS, VRF, '30.30.30.100/32', ['web-0']);
        expect(r).to.deep.equal({ ok: false, error: `local composite label ${LABEL_21_BITS} must be ${LIMIT_TEXT}` });
        expect(v.localComposites()).to.deep.equal([]);
      } finally {
        await v.close();
      }
    });

    it('leaves out a next-hop with a 21-bit label (a route with no other next-hop is not installed)', async () => {
      const v = vrouter();
      try {
        const bad = { address: '127.0.20.2', label: LABEL_21_BITS, encapsulations: ['udp'] };
        const good = { address: '127.0.20.3', label: 17, encapsulations: ['udp'] };
        const why = `next-hop[0] ignored: label ${LABEL_21_BITS} is not 0..${MPLS_LABEL_MAX} (MPLS labels are 20 bits)`;
        expect(v.setRoute(VRF, '30.30.30.100/32', [bad])).to.deep.equal({ ok: true, warnings: [why, 'no usable next-hop: treated as a withdraw'] });
        expect(v.fib()).to.deep.equal([]);
        expect(v.setRoute(VRF, '30.30.30.100/32', [bad, good])).to.deep.equal({ ok: true, warnings: [why] });
        const [route] = v.fib(VRF)[0].routes;
        expect(route.slots.map((s) => s.label)).to.deep.equal([17]);
        expect(v.counters().routes.ignoredNextHops).to.equal(2);
      } finally {
        await v.close();
      }
    });
  });
});
