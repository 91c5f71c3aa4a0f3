// Host routes by address, grouped by /24 (../../src/net/host-block-map.ts): a lone route per /24 is held by
// itself, two or more in a Map of their own. Whatever the grouping, lookups, sizes and deletes must read as
// one flat map would.
import { expect } from 'chai';
import { HostBlockMap } from '../../src/net/host-block-map.ts';
import { hostPrefixKey } from '../../src/net/ipv4.ts';

const key = (address: string): number => hostPrefixKey(`${address}/32`)!;

describe('net/host-block-map', () => {
  it('reads like a flat map through lone and grouped /24s, low and high addresses alike', () => {
    const map = new HostBlockMap<string>();
    const flat = new Map<number, string>();
    const addresses = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '192.168.7.9', '192.168.7.200', '255.255.255.255', '0.0.0.0', '128.0.0.1'];
    for (const a of addresses) {
      expect(map.set(key(a), a)).to.equal(true);
      flat.set(key(a), a);
    }
    expect(map.set(key('10.0.0.2'), 'again')).to.equal(false);
    expect(map.set(key('10.0.1.1'), 'lone again')).to.equal(false);
    flat.set(key('10.0.0.2'), 'again');
    flat.set(key('10.0.1.1'), 'lone again');
    expect(map.size).to.equal(flat.size);
    for (const [k, v] of flat) expect(map.get(k)).to.equal(v);
    expect(map.get(key('10.0.0.3'))).to.equal(undefined);
    expect(map.get(key('10.0.1.2'))).to.equal(undefined);
    expect(map.get(key('10.0.2.1'))).to.equal(undefined);
    expect([...map.values()].sort()).to.deep.equal([...flat.values()].sort());
  });

  it('deletes from lone and grouped /24s, and only what is there', () => {
    const map = new HostBlockMap<number>();
    for (let i = 0; i < 600; i++) map.set(key(`10.1.${i >> 8}.${i & 255}`), i);
    map.set(key('172.16.0.1'), -1);
    expect(map.size).to.equal(601);
    expect(map.delete(key('172.16.0.2'))).to.equal(false);
    expect(map.delete(key('172.16.0.1'))).to.equal(true);
    expect(map.delete(key('172.16.0.1'))).to.equal(false);
    for (let i = 0; i < 600; i += 2) expect(map.delete(key(`10.1.${i >> 8}.${i & 255}`))).to.equal(true);
    expect(map.size).to.equal(300);
    expect([...map.values()]).to.deep.equal(Array.from({ length: 300 }, (_, j) => 2 * j + 1));
    for (let i = 1; i < 600; i += 2) map.delete(key(`10.1.${i >> 8}.${i & 255}`));
    expect(map.size).to.equal(0);
    expect([...map.values()]).to.deep.equal([]);
    map.set(key('10.1.0.0'), 7);
    expect(map.get(key('10.1.0.0'))).to.equal(7);
  });
});
