import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { VpnRoute } from '../../src/bgp/routes.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { Daemon, TempDir, eventually, freePort, interopBlock, requireBinaries, run, birdConfig } from './bgp-daemons.ts';

const ASN = 64512;
const MEMBERS = [
  { compute: '10.0.0.11', label: 17 },
  { compute: '10.0.0.12', label: 18 },
];

function vipRoutes(): VpnRoute[] {
  return MEMBERS.map(({ compute, label }) => ({
    rd: `${compute}:3`, prefix: '30.30.30.100/32', label, nextHop: compute,
    attrs: defaultPathAttributes({
      localPref: 200,
      extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:8000001'], encapsulations: ['gre', 'udp'] },
    }),
  }));
}

describe('interop: BIRD 2 receives our VPNv4 routes', function () {
  this.timeout(60000);
  const ip = interopBlock();
  const ours = ip(1);
  const theirs = ip(2);
  const dir = new TempDir();
  let bird: Daemon | undefined;
  let speaker: BgpSpeaker | undefined;
  const birdc = (...args: string[]) => run('birdc', ['-s', dir.file('bird.ctl'), ...args]);

  before(async function () {
    requireBinaries(this, ['bird', 'birdc'], 'bird2');
    const ports = { ours: await freePort(ours), theirs: await freePort(theirs) };
    writeFileSync(dir.file('bird.conf'), birdConfig({ asn: ASN, address: theirs, port: ports.theirs, neighbor: ours, neighborPort: ports.ours }));
    bird = new Daemon('bird', 'bird', ['-f', '-c', dir.file('bird.conf'), '-s', dir.file('bird.ctl'), '-P', dir.file('bird.pid')], dir.file('bird.log'));
    speaker = new BgpSpeaker({ asn: ASN, routerId: '10.0.0.1', listen: { address: ours, port: ports.ours } });
    speaker.addPeer({ address: theirs, port: ports.theirs, asn: ASN, connectRetryMs: 500, idleHoldMs: 1000 });
    await speaker.start();
  });

  after(async () => {
    await speaker?.stop();
    await bird?.stop();
    dir.remove();
  });

  it('establishes with inet-vpn only (BIRD offers no route-target family)', async () => {
    await eventually(() => speaker!.peers()[0]!.state === 'established' || undefined, 'session with BIRD');
    expect(speaker!.peers()[0]!.families).to.deep.equal(['inet-vpn']);
  });

  it('stores every member route with its RD, label and route target', async () => {
    speaker!.advertise('all', vipRoutes());
    const table = await eventually(async () => {
      const out = await birdc('show', 'route', 'table', 'vpntab', 'all');
      return MEMBERS.every(({ compute }) => out.includes(`${compute}:3 30.30.30.100/32`)) ? out : undefined;
    }, 'routes in BIRD vpntab');
    for (const { compute, label } of MEMBERS) {
      const entry = table.slice(table.indexOf(`${compute}:3 30.30.30.100/32`)).split(/\n(?=\S)/)[0]!;
      expect(entry).to.include(`BGP.next_hop: ${compute}`);
      expect(entry).to.include(`BGP.mpls_label_stack: ${label}`);
      expect(entry).to.include('(rt, 64512, 8000001)');
      expect(entry).to.include('BGP.local_pref: 200');
    }
  });
});
