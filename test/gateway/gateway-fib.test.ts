// The gateway's table: import by route target, one path per next hop, maxPaths, longest match.
import { expect } from 'chai';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import type { VpnRoute } from '../../src/bgp/routes.ts';
import { GatewayFib } from '../../src/gateway/gateway-fib.ts';

const PUBLIC_RT = 'target:64512:8000002';

function route(prefix: string, nextHop: string, label: number, rd: string, targets = [PUBLIC_RT]): VpnRoute {
  return { prefix, nextHop, label, rd, attrs: defaultPathAttributes({ extCommunities: { ...emptyExtendedCommunities(), routeTargets: targets } }) };
}

describe('gateway/fib', () => {
  it('imports only routes with one of its targets, one path per next hop across control nodes', () => {
    const fib = new GatewayFib(new Set([PUBLIC_RT]), 16);
    expect(fib.learn('control-1', route('10.1.11.4/32', '127.4.20.2', 17, '127.4.20.2:3'))).to.equal('10.1.11.4/32');
    fib.learn('control-2', route('10.1.11.4/32', '127.4.20.2', 17, '127.4.20.2:3'));
    fib.learn('control-1', route('10.1.11.4/32', '127.4.20.1', 16, '127.4.20.1:3'));
    expect(fib.learn('control-1', route('19.1.1.7/32', '127.4.20.1', 16, '127.4.20.1:2', ['target:64512:8000001']))).to.equal(undefined);
    const r = fib.route('10.1.11.4/32')!;
    expect(r.paths.map((p) => `${p.nextHop}/${p.label}`)).to.deep.equal(['127.4.20.1/16', '127.4.20.2/17']);
    expect(fib.route('19.1.1.7/32')).to.equal(undefined);
    // a withdrawal by one control node leaves the copy of the other
    fib.forget('control-1', { rd: '127.4.20.2:3', prefix: '10.1.11.4/32' });
    expect(fib.route('10.1.11.4/32')!.paths).to.have.length(2);
    expect(fib.forgetPeer('control-2')).to.deep.equal(['10.1.11.4/32']);
    expect(fib.route('10.1.11.4/32')!.paths.map((p) => p.nextHop)).to.deep.equal(['127.4.20.1']);
  });

  it('installs at most maxPaths, lowest next hops first, and counts the rest', () => {
    const fib = new GatewayFib(new Set([PUBLIC_RT]), 2);
    for (const n of [3, 1, 2]) fib.learn('c', route('10.1.11.4/32', `127.4.20.${n}`, 16, `127.4.20.${n}:3`));
    const r = fib.route('10.1.11.4/32')!;
    expect(r.paths.map((p) => p.nextHop)).to.deep.equal(['127.4.20.1', '127.4.20.2']);
    expect(r.unused).to.equal(1);
    expect(() => new GatewayFib(new Set(), 0)).to.throw('maxPaths 0 must be 1..128');
  });

  it('looks up the longest matching prefix', () => {
    const fib = new GatewayFib(new Set([PUBLIC_RT]), 16);
    fib.learn('c', route('10.1.11.0/24', '127.4.20.9', 30, '127.4.20.9:1'));
    fib.learn('c', route('10.1.11.4/32', '127.4.20.1', 16, '127.4.20.1:3'));
    expect(fib.lookup('10.1.11.4')?.prefix).to.equal('10.1.11.4/32');
    expect(fib.lookup('10.1.11.5')?.prefix).to.equal('10.1.11.0/24');
    expect(fib.lookup('10.1.12.5')).to.equal(undefined);
    expect(fib.lookup('not-an-address')).to.equal(undefined);
  });
});
