import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { VpnRoute } from '../../src/bgp/routes.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import {
  Daemon, TempDir, eventually, freePort, interopBlock, malformedFrames, requireBinaries, run, startCapture, tsharkFields, gobgpdConfig,
} from './bgp-daemons.ts';

const ASN = 64512;
const VN_TARGET = 'target:64512:8000001';
const MEMBERS = [
  { compute: '10.0.0.11', label: 17 },
  { compute: '10.0.0.12', label: 18 },
  { compute: '10.0.0.13', label: 19 },
];

/** The VIP as the control node exports it: one VPN route per member compute, RD = compute:instance-id (docs/protocol.md §6.2). */
function vipRoutes(): VpnRoute[] {
  return MEMBERS.map(({ compute, label }) => ({
    rd: `${compute}:3`, prefix: '30.30.30.100/32', label, nextHop: compute,
    attrs: defaultPathAttributes({
      localPref: 200, med: 100,
      extCommunities: { ...emptyExtendedCommunities(), routeTargets: [VN_TARGET], encapsulations: ['gre', 'udp'], originVn: { asn: ASN, vnIndex: 5 } },
    }),
  }));
}

interface GobgpPath {
  nlri: { prefix: string; labels: number[]; rd: { type: number; admin: string | number; assigned: number } };
  attrs: { type: number; value?: unknown }[];
}

describe('interop: our BGP speaker with gobgpd', function () {
  this.timeout(90000);
  const ip = interopBlock();
  const ours = ip(1);
  const theirs = ip(2);
  const dir = new TempDir();
  let gobgpd: Daemon | undefined;
  let capture: { daemon: Daemon; file: string } | undefined;
  let speaker: BgpSpeaker | undefined;
  let ports: { ours: number; theirs: number; api: number };

  const gobgp = async (...args: string[]) => run('gobgp', ['-p', String(ports.api), ...args]);
  const adjIn = async (): Promise<Record<string, GobgpPath[]>> => {
    const out = (await gobgp('neighbor', ours, 'adj-in', '-a', 'vpnv4', '-j')).trim();
    return out === '' || out === 'null' ? {} : (JSON.parse(out) as Record<string, GobgpPath[]>);
  };

  before(async function () {
    requireBinaries(this, ['gobgpd', 'gobgp', 'dumpcap', 'tshark'], 'gobgpd tshark');
    ports = { ours: await freePort(ours), theirs: await freePort(theirs), api: await freePort() };
    // gobgpd dials slowly (5-10 s, README pitfall 1) and accepts at once: we connect to it.
    writeFileSync(dir.file('gobgpd.toml'), gobgpdConfig({ asn: ASN, address: theirs, port: ports.theirs, neighbor: ours, neighborPort: ports.ours }));
    capture = await startCapture(dir, [ports.ours, ports.theirs]);
    gobgpd = new Daemon('gobgpd', 'gobgpd', ['-f', dir.file('gobgpd.toml'), '-p',
      `--api-hosts=127.0.0.1:${ports.api}`, '--pprof-disable'], dir.file('gobgpd.log'));
    await eventually(() => gobgp('global').then(() => true), 'gobgpd API up');
    speaker = new BgpSpeaker({ asn: ASN, routerId: '10.0.0.1', listen: { address: ours, port: ports.ours } });
    speaker.addPeer({ address: theirs, port: ports.theirs, asn: ASN, connectRetryMs: 500, idleHoldMs: 1500 });
    await speaker.start();
  });

  after(async () => {
    await speaker?.stop();
    await gobgpd?.stop();
    await capture?.daemon.stop();
    dir.remove();
  });

  it('establishes with inet-vpn and route-target negotiated', async () => {
    await eventually(() => speaker!.peers()[0]!.state === 'established' || undefined, 'session with gobgpd');
    expect(speaker!.peers()[0]!.families).to.deep.equal(['inet-vpn', 'route-target']);
  });

  it('gobgpd receives the VIP as one VPNv4 route per member, with distinct RDs, the labels and the route target', async () => {
    speaker!.advertiseRouteTargets('all', [{ originAs: ASN, routeTarget: VN_TARGET, prefixLength: 96, nextHop: ours, attrs: defaultPathAttributes() }]);
    speaker!.advertise('all', vipRoutes());
    const rib = await eventually(async () => {
      const r = await adjIn();
      return Object.keys(r).length === MEMBERS.length ? r : undefined;
    }, 'three VPN routes in gobgpd adj-in');
    for (const { compute, label } of MEMBERS) {
      const [path] = rib[`${compute}:3:30.30.30.100/32`] ?? [];
      expect(path, compute).to.not.equal(undefined);
      expect(path!.nlri.labels).to.deep.equal([label]);
      expect(path!.nlri.rd).to.deep.equal({ type: 1, admin: compute, assigned: 3 });
      const ext = path!.attrs.find((a) => a.type === 16)?.value as { type: number; subtype: number; value: string }[];
      expect(ext).to.deep.include({ type: 0, subtype: 2, value: '64512:8000001' });
      expect(path!.attrs).to.deep.include({ type: 5, value: 200 });
    }
  });

  it('gobgpd receives our route-target membership (RFC 4684)', async () => {
    const out = await eventually(async () => {
      const text = await gobgp('neighbor', ours, 'adj-in', '-a', 'rtc');
      return text.includes('8000001') ? text : undefined;
    }, 'RT membership in gobgpd adj-in');
    expect(out).to.match(/64512:64512:8000001/);
  });

  it('a VPNv4 route injected into gobgpd with the VN route target reaches our update event', async () => {
    const got = new Promise<VpnRoute>((resolve) => {
      speaker!.on('update', (_peer, u) => {
        const r = u.reach.find((x) => x.rd === '10.0.0.99:7');
        if (r) resolve(r);
      });
    });
    await gobgp('global', 'rib', '-a', 'vpnv4', 'add', '30.30.30.50/32', 'label', '33', 'rd', '10.0.0.99:7', 'rt', '64512:8000001', 'nexthop', '10.0.0.99');
    const route = await got;
    expect(route).to.deep.include({ prefix: '30.30.30.50/32', label: 33, nextHop: '10.0.0.99' });
    expect(route.attrs.extCommunities.routeTargets).to.deep.equal([VN_TARGET]);
  });

  it('a session reset re-converges both ways', async () => {
    const peer = speaker!.peer(theirs)!;
    const before = peer.status().counters.establishedTransitions;
    const down = new Promise((resolve) => speaker!.once('peer-down', resolve));
    // We reset (Cease/4): after `gobgp neighbor X reset` gobgpd 3.10 refuses connections for 30 s whatever
    // idle-hold-time-after-reset says; after a drop by the peer it waits its hard-coded 5 s.
    speaker!.resetPeer(theirs);
    await down;
    await eventually(() => (peer.status().counters.establishedTransitions > before && peer.state === 'established') || undefined, 're-established', 30000);
    await eventually(async () => (Object.keys(await adjIn()).length === MEMBERS.length) || undefined, 'routes re-sent to gobgpd');
    await eventually(() => peer.adjRibIn().vpn.some((r) => r.rd === '10.0.0.99:7') || undefined, 'injected route re-learned');
  });

  it('withdraws reach gobgpd', async () => {
    speaker!.withdraw('all', [{ rd: '10.0.0.13:3', prefix: '30.30.30.100/32' }]);
    const rib = await eventually(async () => {
      const r = await adjIn();
      return Object.keys(r).length === MEMBERS.length - 1 ? r : undefined;
    }, 'one route withdrawn');
    expect(Object.keys(rib).sort()).to.deep.equal(['10.0.0.11:3:30.30.30.100/32', '10.0.0.12:3:30.30.30.100/32']);
  });

  it('tshark decodes the captured session with no malformed packet', async () => {
    await capture!.daemon.stop();
    const bgpPorts = [ports.ours, ports.theirs];
    expect(await malformedFrames(capture!.file, bgpPorts)).to.equal('');
    const updates = await tsharkFields(capture!.file, bgpPorts, `bgp.type==2 && ip.src==${ours}`, ['bgp.rd', 'bgp.label_stack', 'bgp.ext_com.value_an4']);
    const all = updates.join('\n');
    for (const { compute, label } of MEMBERS) {
      expect(all).to.include(`${compute}:3`);
      expect(all).to.include(`${label} (bottom)`);
    }
    expect(all).to.include('8000001');
  });
});
