import { expect } from 'chai';
import fc from 'fast-check';
import { intToIpv4, ipv4ToInt } from '../../src/net/ipv4.ts';
import { packetProblem } from '../../src/vrouter/packet.ts';

describe('vrouter/packet', () => {
  it('parses dotted quads and round-trips every 32-bit address', () => {
    expect(ipv4ToInt('30.30.30.100')).to.equal(0x1e1e1e64);
    expect(ipv4ToInt('255.255.255.255')).to.equal(0xffffffff);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => {
      expect(ipv4ToInt(intToIpv4(x))).to.equal(x);
    }));
  });

  it('rejects anything else with -1, never throwing', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', 'a.b.c.d', '1.2.3.4 ', '1234.1.1.1', '']) {
      expect(ipv4ToInt(bad), bad).to.equal(-1);
    }
    expect(ipv4ToInt(5 as unknown as string)).to.equal(-1);
    expect(ipv4ToInt(undefined as unknown as string)).to.equal(-1);
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => {
      const v = ipv4ToInt(s);
      expect(v === -1 || intToIpv4(v).length > 0).to.equal(true);
    }));
  });

  it('explains what is wrong with a packet', () => {
    expect(packetProblem({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6, sport: 1, dport: 2 })).to.equal(undefined);
    expect(packetProblem({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6, sport: 1, dport: 70000 })).to.contain('destination port');
    expect(packetProblem(null as never)).to.contain('not an object');
  });
});
