import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { Daemon, TempDir, eventually, freePort, interopBlock, requireBinaries, run } from './bgp-daemons.ts';

const ASN = 64512;
const BGPD = '/usr/lib/frr/bgpd';

interface FrrPrefix { paths?: { remoteLabel?: number; extendedCommunity?: { string: string }; nexthops?: { ip: string }[] }[] }

describe('interop: FRR bgpd receives our VPNv4 routes', function () {
  this.timeout(60000);
  const ip = interopBlock();
  const ours = ip(1);
  const theirs = ip(2);
  const dir = new TempDir();
  let bgpd: Daemon | undefined;
  let speaker: BgpSpeaker | undefined;
  const vtysh = (command: string) => run('vtysh', ['--vty_socket', dir.path, '-d', 'bgpd', '-c', command]);

  before(async function () {
    requireBinaries(this, [BGPD, 'vtysh'], 'frr');
    const ports = { ours: await freePort(ours), theirs: await freePort(theirs) };
    writeFileSync(dir.file('bgpd.conf'), `frr defaults traditional
router bgp ${ASN}
 bgp router-id 10.0.0.7
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor ${ours} remote-as ${ASN}
 neighbor ${ours} port ${ports.ours}
 neighbor ${ours} update-source ${theirs}
 neighbor ${ours} timers connect 2
 address-family ipv4 vpn
  neighbor ${ours} activate
`);
    // -Z: no zebra, -S: stay root, -P 0: no TCP vty (README FRR recipe).
    bgpd = new Daemon('bgpd', BGPD, ['-f', dir.file('bgpd.conf'), '-Z', '-S', '-p', String(ports.theirs), '-l', theirs, '-P', '0',
      '--vty_socket', dir.path, '-i', dir.file('bgpd.pid'), '--log', 'stdout'], dir.file('bgpd.log'));
    speaker = new BgpSpeaker({ asn: ASN, routerId: '10.0.0.1', listen: { address: ours, port: ports.ours } });
    speaker.addPeer({ address: theirs, port: ports.theirs, asn: ASN, connectRetryMs: 500, idleHoldMs: 1000 });
    await speaker.start();
  });

  after(async () => {
    await speaker?.stop();
    await bgpd?.stop();
    dir.remove();
  });

  it('establishes and FRR shows the route with its RD, label, next hop and route target', async () => {
    await eventually(() => speaker!.peers()[0]!.state === 'established' || undefined, 'session with FRR');
    expect(speaker!.peers()[0]!.families).to.deep.equal(['inet-vpn']);
    speaker!.advertise('all', [{
      rd: '10.0.0.11:3', prefix: '30.30.30.100/32', label: 17, nextHop: '10.0.0.11',
      attrs: defaultPathAttributes({ localPref: 200, extCommunities: { ...emptyExtendedCommunities(), routeTargets: ['target:64512:8000001'] } }),
    }]);
    const entry = await eventually(async () => {
      // FRR 8.4 keys the answer by RD.
      const json = JSON.parse(await vtysh('show bgp ipv4 vpn rd 10.0.0.11:3 30.30.30.100/32 json')) as Record<string, FrrPrefix>;
      return json['10.0.0.11:3']?.paths?.length ? json['10.0.0.11:3'] : undefined;
    }, 'route in FRR');
    const [path] = entry.paths!;
    expect(path!.remoteLabel).to.equal(17);
    expect(path!.extendedCommunity?.string).to.include('RT:64512:8000001');
    expect(path!.nexthops?.[0]?.ip).to.equal('10.0.0.11');
  });
});
