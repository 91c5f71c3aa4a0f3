import { expect } from 'chai';
import {
  Ipv4SyntaxError, formatIpv4Prefix, intToIpv4, ipv4ToBytes, ipv4ToInt, isLoopback, parseIpv4Address, parseIpv4, parseIpv4Prefix,
  parseIpv4Subnet, prefixMask, requireIpv4, requireIpv4Prefix,
} from '../../src/net/ipv4.ts';

describe('net/ipv4: addresses', () => {
  const good: [string, number][] = [
    ['0.0.0.0', 0], ['10.0.0.1', 0x0a000001], ['127.0.20.3', 0x7f001403], ['255.255.255.255', 0xffffffff], ['1.2.3.4', 0x01020304],
  ];
  for (const [text, value] of good) {
    it(`accepts ${text}`, () => {
      expect(ipv4ToInt(text)).to.equal(value);
      expect(parseIpv4(text)).to.equal(value);
      expect(requireIpv4(text)).to.equal(value);
      expect(intToIpv4(value)).to.equal(text);
    });
  }

  const bad = ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.04', '1..3.4', '1.2.3.4 ', ' 1.2.3.4', 'a.b.c.d', '1.2.3.-4', '1.2.3.4/32', '1234.1.1.1'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)} with the same one-line reason from every entry point`, () => {
      const reason = `${text} is not an IPv4 address`;
      expect(ipv4ToInt(text)).to.equal(-1);
      expect(parseIpv4(text)).to.equal(reason);
      expect(parseIpv4Address(text)).to.equal(reason);
      expect(() => requireIpv4(text)).to.throw(Ipv4SyntaxError, reason);
      expect(() => ipv4ToBytes(text)).to.throw(RangeError, reason);
    });
  }

  it('refuses a value that is not a string without throwing', () => {
    expect(ipv4ToInt(42 as unknown as string)).to.equal(-1);
    expect(parseIpv4(undefined as unknown as string)).to.equal('undefined is not an IPv4 address');
  });

  it('writes an address as 4 network-order bytes', () => {
    expect(ipv4ToBytes('10.1.2.3').toString('hex')).to.equal('0a010203');
  });

  it('parseIpv4Address gives an ip-num object for range arithmetic', () => {
    const a = parseIpv4Address('30.30.30.10');
    expect(typeof a === 'string' ? a : a.toString()).to.equal('30.30.30.10');
  });

  it('knows loopback addresses (127.0.0.0/8 only)', () => {
    expect(['127.0.0.1', '127.255.0.9'].map(isLoopback)).to.deep.equal([true, true]);
    expect(['126.0.0.1', '128.0.0.1', '127.0.0', '0127.0.0.1'].map(isLoopback)).to.deep.equal([false, false, false, false]);
  });
});

describe('net/ipv4: prefixes', () => {
  it('parses network prefixes of every length', () => {
    expect(parseIpv4Prefix('30.30.30.0/24')).to.deep.equal({ address: 0x1e1e1e00, length: 24 });
    expect(parseIpv4Prefix('0.0.0.0/0')).to.deep.equal({ address: 0, length: 0 });
    expect(parseIpv4Prefix('30.30.30.100/32')).to.deep.equal({ address: 0x1e1e1e64, length: 32 });
    expect(formatIpv4Prefix(requireIpv4Prefix('10.0.0.0/8'))).to.equal('10.0.0.0/8');
  });

  it('refuses host bits by default and names the network', () => {
    const reason = '10.0.0.1/24 has host bits set (the network is 10.0.0.0/24)';
    expect(parseIpv4Prefix('10.0.0.1/24')).to.equal(reason);
    expect(() => requireIpv4Prefix('10.0.0.1/24')).to.throw(Ipv4SyntaxError, reason);
    expect(parseIpv4Subnet('10.0.0.1/24')).to.equal(reason);
    expect(parseIpv4Prefix('0.0.0.1/0')).to.equal('0.0.0.1/0 has host bits set (the network is 0.0.0.0/0)');
  });

  it('accepts host bits when asked (what an agent may publish) and keeps them', () => {
    expect(parseIpv4Prefix('10.0.0.1/24', 'allow')).to.deep.equal({ address: 0x0a000001, length: 24 });
  });

  for (const text of ['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/024', '10.0.0.0/-1', '10.0.0/24', '10.0.0.0/2 4', '/24']) {
    it(`refuses ${JSON.stringify(text)} whatever the host-bits rule`, () => {
      const reason = `${text} is not an IPv4 prefix (expected a.b.c.d/len, len 0..32)`;
      expect(parseIpv4Prefix(text)).to.equal(reason);
      expect(parseIpv4Prefix(text, 'allow')).to.equal(reason);
      expect(parseIpv4Subnet(text)).to.equal(reason);
      expect(() => requireIpv4Prefix(text, 'allow')).to.throw(RangeError, reason);
    });
  }

  it('gives the netmask of a length', () => {
    expect([0, 1, 24, 32].map(prefixMask)).to.deep.equal([0, 0x80000000, 0xffffff00, 0xffffffff]);
  });

  it('parseIpv4Subnet gives an ip-num range', () => {
    const range = parseIpv4Subnet('30.30.30.0/24');
    expect(typeof range === 'string' ? range : range.toCidrString()).to.equal('30.30.30.0/24');
  });
});
