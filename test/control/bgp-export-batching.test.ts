// How a control node hands RIB changes to its BGP peers: the changes of one turn go out together, packed
// into few UPDATEs, and one path the wire cannot carry does not hold back the others.
import { expect } from 'chai';
import { defaultPathAttributes } from '../../src/bgp/path-attributes.ts';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { VPN_TABLE } from '../../src/rib/index.ts';
import { medForXmppPath } from '../../src/rib/index.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { startControlNode, type RunningControlNode } from '../../src/topology/node-runtime.ts';
import { freePort } from '../interop/bgp-daemons.ts';
import { eventually, loopbackBlock, startSpeaker } from '../bgp/harness.ts';

const ASN = 64512;
const INSTANCE = 'default-domain:demo:svc-vn:svc-vn';
const COMPUTE = '10.0.0.11';

describe('control node BGP export batching', function () {
  this.timeout(20_000);
  let control: RunningControlNode;
  let gateway: BgpSpeaker;
  let controlAddress: string;

  before(async () => {
    const ip = loopbackBlock();
    controlAddress = ip(1);
    gateway = await startSpeaker({ asn: 65001, routerId: '10.255.0.10', address: ip(10), families: ['inet-vpn'] });
    gateway.addPeer({ address: controlAddress, asn: ASN, passive: true });
    const loaded = validateTopology({
      name: 'bgp-export-batching',
      asn: ASN,
      controlNodes: [{ name: 'control-1', address: controlAddress, xmppPort: await freePort(controlAddress), bgpPort: await freePort(controlAddress) }],
      computes: [{ name: 'compute-1', address: ip(2), external: true }],
      networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.0.0/16'] }],
      bgpPeers: [{ name: 'gw', address: ip(10), port: gateway.listenAddress()!.port, asn: 65001, families: ['inet-vpn'] }],
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    control = await startControlNode(loaded.topology, 'control-1', { endOfRibQuietMs: 100 });
    await eventually(() => gateway.peers()[0]?.state === 'established', 'gateway established');
  });
  after(async () => {
    await control?.stop();
    await gateway?.stop();
  });

  const atGateway = () => gateway.peer(controlAddress)!.adjRibIn().vpn;

  function addPath(prefix: string, label: number): void {
    control.control.rib.addPath(INSTANCE, {
      peer: { kind: 'xmpp', name: `agent-${COMPUTE}`, address: COMPUTE },
      rd: `${COMPUTE}:3`, prefix, label, nextHop: COMPUTE,
      attrs: { localPref: 200, med: medForXmppPath(0, 200), encapsulations: ['gre', 'udp'] },
    });
  }

  it('sends the paths added in one turn together, many per UPDATE', async () => {
    const reachSizes: number[] = [];
    gateway.on('update', (_peer, u) => {
      if (u.reach.length > 0) reachSizes.push(u.reach.length);
    });
    for (let i = 0; i < 500; i++) addPath(`30.30.${i >> 8}.${i & 0xff}/32`, 1000 + i);
    await eventually(() => atGateway().length === 500, 'all 500 paths at the gateway');
    // 500 NLRI of 16 bytes sharing one attribute set and next hop: about 250 per 4 KB UPDATE (it was one UPDATE each).
    expect(reachSizes.reduce((a, b) => a + b)).to.equal(500);
    expect(reachSizes).to.have.length(3);
    const labels = new Map(atGateway().map((r) => [r.prefix, r.label]));
    for (let i = 0; i < 500; i++) expect(labels.get(`30.30.${i >> 8}.${i & 0xff}/32`)).to.equal(1000 + i);
  });

  it('advertises the rest of a turn when one path has a label BGP cannot carry', async () => {
    addPath('30.30.10.1/32', 2001);
    addPath('30.30.10.2/32', 0x100000);
    addPath('30.30.10.3/32', 2003);
    await eventually(() => atGateway().filter((r) => r.prefix.startsWith('30.30.10.')).length === 2, 'the two good paths');
    expect(atGateway().filter((r) => r.prefix.startsWith('30.30.10.')).map((r) => [r.prefix, r.label]).sort())
      .to.deep.equal([['30.30.10.1/32', 2001], ['30.30.10.3/32', 2003]]);
    const response = await control.handler({ method: 'GET', path: '/bgp/adj-rib-out', query: new URLSearchParams({ peer: 'gw' }), body: undefined, params: {} });
    const out = (response as { body: { vpn: { prefix: string }[] } }).body.vpn;
    expect(out).to.have.length(502);
    expect(out.map((r) => r.prefix)).to.not.include('30.30.10.2/32');
  });

  it('withdraws a path once, from the peer that was sent it, and never sends a peer the withdrawal of its own route', async () => {
    const withdrawn: string[] = [];
    gateway.on('update', (_peer, u) => {
      for (const k of u.withdraw) withdrawn.push(k.prefix);
    });
    const peer = gateway.peer(controlAddress)!;
    const own = { rd: '10.9.9.9:1', prefix: '40.0.0.1/32', label: 100, nextHop: '10.9.9.9', attrs: defaultPathAttributes({ asPath: [{ type: 'sequence', asns: [65001] }] }) };
    peer.advertiseVpn([own]);
    await eventually(() => control.control.rib.route(VPN_TABLE, own.prefix, own.rd) !== undefined, 'the gateway\'s route in bgp.l3vpn.0');
    peer.withdrawVpn([{ rd: own.rd, prefix: own.prefix }]);
    await eventually(() => control.control.rib.route(VPN_TABLE, own.prefix, own.rd) === undefined, 'the gateway\'s route gone');
    control.control.rib.removePath(INSTANCE, '30.30.10.1/32', `agent-${COMPUTE}`);
    await eventually(() => withdrawn.includes('30.30.10.1/32'), 'the withdrawal at the gateway');
    // Exports leave in order: an echo of the gateway's own withdrawal would have come first.
    expect(withdrawn).to.deep.equal(['30.30.10.1/32']);
    // 501 VPN routes (502 sent before, less the one withdrawn) and the VN's RTarget route.
    expect(control.bgp.status().peers.find((p) => p.name === 'gw')?.prefixesOut).to.equal(502);
    const response = await control.handler({ method: 'GET', path: '/bgp/adj-rib-out', query: new URLSearchParams({ peer: 'gw' }), body: undefined, params: {} });
    const out = (response as { body: { vpn: { prefix: string }[] } }).body.vpn.map((r) => r.prefix);
    expect(out).to.have.length(501);
    expect(out).to.not.include('30.30.10.1/32');
  });
});
