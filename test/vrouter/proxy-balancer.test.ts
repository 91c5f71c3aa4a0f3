import { expect } from 'chai';
import { ProxyBalancer } from '../../src/vrouter/proxy-balancer.ts';
import type { ConfigProxyServer } from '../../src/xmpp/config-service-instance.ts';
import { ipv4ToInt } from '../../src/net/ipv4.ts';

const server = (member: string, weight = 1, adminState = true): ConfigProxyServer => ({ member, address: `30.30.30.${member.charCodeAt(0)}`, port: 80, weight, adminState });
const all = (): boolean => true;

function picks(balancer: ProxyBalancer, n: number, client = (i: number) => i): string[] {
  return Array.from({ length: n }, (_, i) => {
    const index = balancer.pick(client(i), all);
    balancer.connections[index]++;
    return balancer.servers[index].member;
  });
}

describe('haproxy backend choice', () => {
  it('ROUND_ROBIN interleaves by weight (smooth weighted round robin)', () => {
    const balancer = new ProxyBalancer('ROUND_ROBIN', [server('a', 3), server('b', 1)]);
    expect(picks(balancer, 8)).to.deep.equal(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
  });

  it('LEAST_CONNECTIONS takes the server with the fewest open connections per weight', () => {
    const balancer = new ProxyBalancer('LEAST_CONNECTIONS', [server('a', 2), server('b', 1)]);
    balancer.connections[0] = 4;
    balancer.connections[1] = 1;
    // 4/2 vs 1/1 → b; 2 vs 2 → a (first on a tie); 2.5 vs 2 → b; 2.5 vs 3 → a
    expect(picks(balancer, 4)).to.deep.equal(['b', 'a', 'b', 'a']);
  });

  it('SOURCE_IP keeps a client on one server and spreads clients by weight', () => {
    const balancer = new ProxyBalancer('SOURCE_IP', [server('a', 1), server('b', 3)]);
    const client = ipv4ToInt('10.0.0.7');
    const first = balancer.pick(client, all);
    expect(Array.from({ length: 5 }, () => balancer.pick(client, all))).to.deep.equal([first, first, first, first, first]);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[balancer.pick(ipv4ToInt('10.1.0.0') + i, all)]++;
    expect(counts[1] / counts[0]).to.be.within(2.5, 3.5);
  });

  it('never chooses a server with weight 0, admin-state down or a failed health check; -1 when none is left', () => {
    const balancer = new ProxyBalancer('ROUND_ROBIN', [server('a', 0), server('b', 1, false), server('c', 1), server('d', 1)]);
    expect(new Set(picks(balancer, 6))).to.deep.equal(new Set(['c', 'd']));
    expect(balancer.pick(1, (i) => i !== 2)).to.equal(3);
    expect(balancer.pick(1, (i) => i < 2)).to.equal(-1);
  });
});
