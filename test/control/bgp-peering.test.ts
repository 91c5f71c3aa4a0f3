// A control node's BGP policy against real BGP speakers on loopback (docs/protocol.md §6.2, §6.6): what an eBGP gateway
// receives for an agent's path; eBGP routes imported by route target with the AS loop check; RT-constrained
// distribution; iBGP split horizon without a cluster-id and RFC 4456 reflection with one.
import { expect } from 'chai';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes, type PathAttributes } from '../../src/bgp/path-attributes.ts';
import type { VpnRoute } from '../../src/bgp/routes.ts';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { medForXmppPath, instanceTableName, VPN_TABLE } from '../../src/rib/index.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { startControlNode, type RunningControlNode } from '../../src/topology/node-runtime.ts';
import { freePort } from '../interop/bgp-daemons.ts';
import { eventually, loopbackBlock, startSpeaker } from '../bgp/harness.ts';

const ASN = 64512;
const INSTANCE = 'default-domain:demo:svc-vn:svc-vn';
const RT = 'target:64512:8000001';
const VIP = '30.30.30.100/32';

interface Setup {
  control: RunningControlNode;
  controlAddress: string;
  speakers: Record<string, { speaker: BgpSpeaker; address: string; routerId: string }>;
  stop(): Promise<void>;
}

/** One control node dialling every speaker of `peers` (name → ASN and families), all on a fresh loopback block. */
async function setup(peers: Record<string, { asn: number; families: ('inet-vpn' | 'route-target')[] }>, clusterId?: string): Promise<Setup> {
  const ip = loopbackBlock();
  const controlAddress = ip(1);
  const speakers: Setup['speakers'] = {};
  let host = 10;
  for (const [name, { asn, families }] of Object.entries(peers)) {
    const address = ip(host);
    const routerId = `10.255.0.${host++}`;
    const speaker = await startSpeaker({ asn, routerId, address, families });
    speaker.addPeer({ address: controlAddress, asn: ASN, passive: true });
    speakers[name] = { speaker, address, routerId };
  }
  const loaded = validateTopology({
    name: 'bgp-peering',
    asn: ASN,
    controlNodes: [{ name: 'control-1', address: controlAddress, xmppPort: await freePort(controlAddress), bgpPort: await freePort(controlAddress), ...(clusterId && { clusterId }) }],
    computes: [{ name: 'compute-1', address: ip(2), external: true }],
    networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] }],
    bgpPeers: Object.entries(speakers).map(([name, s]) => ({
      name, address: s.address, port: s.speaker.listenAddress()!.port, asn: peers[name]!.asn, families: peers[name]!.families,
    })),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const control = await startControlNode(loaded.topology, 'control-1', { endOfRibQuietMs: 100 });
  for (const [name, s] of Object.entries(speakers)) {
    await eventually(() => s.speaker.peers()[0]?.state === 'established', `${name} established`);
  }
  return {
    control, controlAddress, speakers,
    stop: async () => {
      await control.stop();
      await Promise.all(Object.values(speakers).map((s) => s.speaker.stop()));
    },
  };
}

/** A member compute's VIP path as the XMPP side stores it (docs/protocol.md §3.2, §6.2). */
function addAgentPath(s: Setup, compute: string, label: number): void {
  s.control.control.rib.addPath(INSTANCE, {
    peer: { kind: 'xmpp', name: `agent-${compute}`, address: compute },
    rd: `${compute}:3`, prefix: VIP, label, nextHop: compute,
    attrs: { localPref: 200, med: medForXmppPath(0, 200), encapsulations: ['gre', 'udp'], securityGroups: [8000002] },
  });
}

function vpnRoute(rd: string, prefix: string, label: number, nextHop: string, overrides: Partial<PathAttributes> = {}): VpnRoute {
  return {
    rd, prefix, label, nextHop,
    attrs: defaultPathAttributes({ localPref: 100, extCommunities: { ...emptyExtendedCommunities(), routeTargets: [RT], encapsulations: ['udp'] }, ...overrides }),
  };
}

const received = (s: Setup, name: string) => s.speakers[name]!.speaker.peer(s.controlAddress)!.adjRibIn();

/** What the control node means to send a peer (its Adj-RIB-Out), through its introspect API. */
async function adjRibOut(s: Setup, peer: string): Promise<VpnRoute[]> {
  const response = await s.control.handler({ method: 'GET', path: '/bgp/adj-rib-out', query: new URLSearchParams({ peer }), body: undefined, params: {} });
  if (!('body' in response) || response.status !== 200) throw new Error(`adj-rib-out ${peer}: ${response.status}`);
  return (response.body as { vpn: VpnRoute[] }).vpn;
}

describe('control node BGP policy against real speakers', function () {
  this.timeout(20_000);

  describe('eBGP gateway without route-target, iBGP peers with it, no cluster-id', () => {
    let s: Setup;
    before(async () => {
      s = await setup({
        gw: { asn: 65001, families: ['inet-vpn'] },
        a: { asn: ASN, families: ['inet-vpn', 'route-target'] },
        b: { asn: ASN, families: ['inet-vpn', 'route-target'] },
      });
    });
    after(async () => s?.stop());

    it('sends an agent’s path to the eBGP gateway with the docs/protocol.md §6.2 attributes, next hop and label unchanged', async () => {
      addAgentPath(s, '10.0.0.11', 17);
      await eventually(() => received(s, 'gw').vpn.length === 1, 'gateway got the VIP');
      const [route] = received(s, 'gw').vpn;
      expect(route).to.deep.include({ rd: '10.0.0.11:3', prefix: VIP, label: 17, nextHop: '10.0.0.11' });
      const { attrs } = route!;
      expect(attrs.asPath).to.deep.equal([{ type: 'sequence', asns: [ASN] }]);
      expect(attrs.localPref).to.equal(undefined);
      expect(attrs.med).to.equal(100);
      expect(attrs.origin).to.equal('incomplete');
      expect(attrs.extCommunities.routeTargets).to.deep.equal([RT]);
      expect(attrs.extCommunities.encapsulations).to.deep.equal(['gre', 'udp']);
      expect(attrs.extCommunities.originVn).to.deep.equal({ asn: ASN, vnIndex: 1 });
      expect(attrs.extCommunities.securityGroups).to.deep.equal([{ asn: ASN, id: 8000002 }]);
    });

    it('sends VPN routes to a route-target peer only once it asked for one of their targets (RFC 4684)', async () => {
      await eventually(() => received(s, 'a').routeTargets.some((r) => r.routeTarget === RT), 'our RTarget route reached a');
      expect(received(s, 'a').routeTargets.map((r) => `${r.originAs}:${r.routeTarget}`)).to.deep.equal([`${ASN}:${RT}`]);
      expect(received(s, 'a').vpn).to.deep.equal([]);
      s.speakers.a!.speaker.advertiseRouteTargets('all', [{ originAs: ASN, routeTarget: RT, prefixLength: 96, nextHop: s.speakers.a!.address, attrs: defaultPathAttributes({ localPref: 100 }) }]);
      await eventually(() => received(s, 'a').vpn.length === 1, 'a got the VIP after its membership');
      expect(received(s, 'a').vpn[0]).to.deep.include({ rd: '10.0.0.11:3', label: 17, nextHop: '10.0.0.11' });
      expect(received(s, 'a').vpn[0]!.attrs.localPref).to.equal(200);
    });

    it('imports an eBGP VPN route into the VRF by route target and passes it on to iBGP peers', async () => {
      s.speakers.gw!.speaker.advertise('all', [vpnRoute('10.9.9.9:1', '30.30.30.77/32', 40, '10.9.9.9')]);
      const rib = s.control.control.rib;
      await eventually(() => rib.route(instanceTableName(INSTANCE), '30.30.30.77/32') !== undefined, 'gateway route in the VRF');
      const path = rib.route(instanceTableName(INSTANCE), '30.30.30.77/32')!.paths[0]!;
      expect(path.peer).to.deep.include({ kind: 'bgp', name: 'gw', asn: 65001, isIbgp: false });
      expect(path).to.deep.include({ label: 40, nextHop: '10.9.9.9' });
      expect(path.attrs.encapsulations).to.deep.equal(['udp']);
      await eventually(() => received(s, 'a').vpn.some((r) => r.rd === '10.9.9.9:1'), 'a got the gateway route');
      const atA = received(s, 'a').vpn.find((r) => r.rd === '10.9.9.9:1')!;
      expect(atA.attrs.asPath).to.deep.equal([{ type: 'sequence', asns: [65001] }]);
      expect(atA.attrs.localPref).to.equal(100);
    });

    it('refuses an eBGP route whose AS path holds our AS', async () => {
      s.speakers.gw!.speaker.advertise('all', [vpnRoute('10.9.9.9:2', '30.30.30.78/32', 41, '10.9.9.9', { asPath: [{ type: 'sequence', asns: [ASN] }] })]);
      s.speakers.gw!.speaker.advertise('all', [vpnRoute('10.9.9.9:3', '30.30.30.79/32', 42, '10.9.9.9')]);
      const rib = s.control.control.rib;
      await eventually(() => rib.route(VPN_TABLE, '30.30.30.79/32', '10.9.9.9:3') !== undefined, 'the later route arrived');
      expect(rib.route(VPN_TABLE, '30.30.30.78/32', '10.9.9.9:2')).to.equal(undefined);
    });

    it('does not re-advertise a path learned from one iBGP peer to another (split horizon)', async () => {
      s.speakers.b!.speaker.advertiseRouteTargets('all', [{ originAs: ASN, routeTarget: RT, prefixLength: 96, nextHop: s.speakers.b!.address, attrs: defaultPathAttributes({ localPref: 100 }) }]);
      s.speakers.a!.speaker.advertise('all', [vpnRoute('10.8.8.8:1', '30.30.30.88/32', 50, '10.8.8.8')]);
      const rib = s.control.control.rib;
      await eventually(() => rib.route(VPN_TABLE, '30.30.30.88/32', '10.8.8.8:1') !== undefined, 'a’s route in the VPN table');
      await eventually(() => rib.peersInterestedIn([RT]).some((p) => p.name === 'b'), 'b’s membership in the RIB');
      expect((await adjRibOut(s, 'b')).map((r) => r.rd).sort()).to.deep.equal(['10.0.0.11:3', '10.9.9.9:1', '10.9.9.9:3']);
      await eventually(() => received(s, 'b').vpn.length === 3, 'b got the agent and gateway paths');
      expect(received(s, 'gw').vpn.map((r) => r.rd)).to.include('10.8.8.8:1');
    });

    it('withdraws from every peer when the agent’s path goes, and drops a peer’s paths when its session goes', async () => {
      s.control.control.rib.removePeer('agent-10.0.0.11');
      await eventually(() => !received(s, 'gw').vpn.some((r) => r.rd === '10.0.0.11:3') && !received(s, 'a').vpn.some((r) => r.rd === '10.0.0.11:3'), 'withdrawn');
      await s.speakers.gw!.speaker.stop();
      const rib = s.control.control.rib;
      await eventually(() => rib.route(VPN_TABLE, '30.30.30.77/32', '10.9.9.9:1') === undefined, 'gateway paths gone');
      await eventually(() => !received(s, 'a').vpn.some((r) => r.rd === '10.9.9.9:1'), 'a told');
    });
  });

  describe('with a cluster-id: RFC 4456 route reflection', () => {
    let s: Setup;
    before(async () => {
      s = await setup({
        a: { asn: ASN, families: ['inet-vpn'] },
        b: { asn: ASN, families: ['inet-vpn'] },
      }, '10.254.0.1');
    });
    after(async () => s?.stop());

    it('reflects a client’s path to the other client with ORIGINATOR_ID and CLUSTER_LIST, not back to it', async () => {
      s.speakers.a!.speaker.advertise('all', [vpnRoute('10.8.8.8:1', '30.30.30.88/32', 50, '10.8.8.8')]);
      await eventually(() => received(s, 'b').vpn.length === 1, 'b got the reflected route');
      const [route] = received(s, 'b').vpn;
      expect(route).to.deep.include({ rd: '10.8.8.8:1', label: 50, nextHop: '10.8.8.8' });
      expect(route!.attrs.originatorId).to.equal(s.speakers.a!.routerId);
      expect(route!.attrs.clusterList).to.deep.equal(['10.254.0.1']);
      expect(received(s, 'a').vpn).to.deep.equal([]);
      const status = s.control.bgp.status();
      expect(status.clusterId).to.equal('10.254.0.1');
    });

    it('refuses a route that already went through this cluster', async () => {
      s.speakers.a!.speaker.advertise('all', [vpnRoute('10.8.8.8:2', '30.30.30.89/32', 51, '10.8.8.8', { clusterList: ['10.254.0.1'], originatorId: '10.1.1.1' })]);
      s.speakers.a!.speaker.advertise('all', [vpnRoute('10.8.8.8:3', '30.30.30.90/32', 52, '10.8.8.8')]);
      await eventually(() => received(s, 'b').vpn.some((r) => r.rd === '10.8.8.8:3'), 'the later route was reflected');
      expect(received(s, 'b').vpn.map((r) => r.rd)).to.not.include('10.8.8.8:2');
      expect(s.control.control.rib.route(VPN_TABLE, '30.30.30.89/32', '10.8.8.8:2')).to.equal(undefined);
    });
  });
});
