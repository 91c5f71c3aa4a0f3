import { expect } from 'chai';
import fc from 'fast-check';
import { Ipam, IpamError } from '../../src/model/ipam.ts';

describe('model/ipam', () => {
  it('allocates the lowest free host, skipping network and gateway', () => {
    const ipam = new Ipam(['30.30.30.0/24']);
    expect(ipam.allocate('a')).to.equal('30.30.30.2');
    expect(ipam.allocate('b')).to.equal('30.30.30.3');
    ipam.release('30.30.30.2');
    expect(ipam.allocate('c')).to.equal('30.30.30.2');
  });

  it('reserves a given address and refuses it a second time, naming the owner', () => {
    const ipam = new Ipam(['30.30.30.0/24']);
    ipam.reserve('30.30.30.10', 'web-a');
    expect(ipam.ownerOf('30.30.30.10')).to.equal('web-a');
    expect(() => ipam.reserve('30.30.30.10', 'web-b')).to.throw(IpamError, '30.30.30.10 is already used by web-a');
    expect(ipam.allocate('x')).to.equal('30.30.30.2');
  });

  it('never hands out an address that was reserved explicitly', () => {
    const ipam = new Ipam(['10.0.0.0/29']);
    ipam.reserve('10.0.0.2', 'first');
    expect(ipam.allocate('next')).to.equal('10.0.0.3');
  });

  const REFUSALS: [string, string][] = [
    ['30.30.30.0', '30.30.30.0 is the network address of 30.30.30.0/24'],
    ['30.30.30.255', '30.30.30.255 is the broadcast address of 30.30.30.0/24'],
    ['30.30.30.1', '30.30.30.1 is the gateway of 30.30.30.0/24'],
    ['30.30.31.5', '30.30.31.5 is outside the subnets 30.30.30.0/24'],
    ['30.30.30', '30.30.30 is not an IPv4 address'],
    ['30.30.30.256', '30.30.30.256 is not an IPv4 address'],
    ['030.30.30.5', '030.30.30.5 is not an IPv4 address'],
  ];
  for (const [address, reason] of REFUSALS) {
    it(`refuses ${address}`, () => {
      const ipam = new Ipam(['30.30.30.0/24']);
      expect(ipam.problemWith(address)).to.equal(reason);
      expect(() => ipam.reserve(address, 'x')).to.throw(IpamError, reason);
    });
  }

  it('reports a full subnet and then continues in the next one', () => {
    const ipam = new Ipam(['10.0.0.0/30', '10.0.1.0/30']);
    expect(ipam.allocate('a')).to.equal('10.0.0.2');
    expect(ipam.allocate('b')).to.equal('10.0.1.2');
    expect(ipam.nextFree()).to.equal(undefined);
    expect(() => ipam.allocate('c')).to.throw(IpamError, 'no free address left in 10.0.0.0/30, 10.0.1.0/30');
  });

  it('refuses unusable subnet lists', () => {
    expect(Ipam.subnetProblems([])).to.deep.equal(['a network needs at least one subnet']);
    expect(Ipam.subnetProblems(['10.0.0.0/31'])).to.deep.equal(['10.0.0.0/31 is too small: a subnet needs a prefix length of at most /30']);
    expect(Ipam.subnetProblems(['10.0.0.0/8', '10.1.0.0/16'])).to.deep.equal(['10.1.0.0/16 overlaps 10.0.0.0/8']);
    expect(Ipam.subnetProblems(['10.0.0.1/24'])).to.deep.equal(['10.0.0.1/24 has host bits set (the network is 10.0.0.0/24)']);
    expect(Ipam.subnetProblems(['10.0.0.0/33'])).to.deep.equal(['10.0.0.0/33 is not an IPv4 prefix (expected a.b.c.d/len, len 0..32)']);
    expect(() => new Ipam(['10.0.0.0/31'])).to.throw(IpamError, 'too small');
  });

  it('property: allocations are distinct, inside the subnet, and never network/gateway/broadcast, until full', () => {
    fc.assert(
      fc.property(fc.integer({ min: 24, max: 30 }), fc.array(fc.boolean(), { maxLength: 80 }), (prefix, releases) => {
        const ipam = new Ipam([`172.16.0.0/${prefix}`]);
        const hosts = 2 ** (32 - prefix) - 3;
        const held = new Set<string>();
        let count = 0;
        for (const release of releases) {
          if (release && held.size > 0) {
            const [first] = held;
            held.delete(first);
            ipam.release(first);
            continue;
          }
          const address = ipam.nextFree();
          if (held.size === hosts) {
            expect(address).to.equal(undefined);
            continue;
          }
          expect(address).to.be.a('string');
          const last = Number((address as string).split('.')[3]) + 256 * Number((address as string).split('.')[2]);
          expect(last).to.be.within(2, 2 ** (32 - prefix) - 2);
          expect(held.has(address as string)).to.equal(false);
          ipam.reserve(address as string, `o${count++}`);
          held.add(address as string);
        }
      }),
    );
  });
});
