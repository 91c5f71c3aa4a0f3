import { expect } from 'chai';
import { parseTopologyText } from '../../src/topology/loader.ts';
import { controlBgpConfig } from '../../src/topology/control-bgp-config.ts';
import { gracefulRestartOf, type Topology } from '../../src/topology/topology.ts';

function topology(extra: Record<string, unknown> = {}): Topology {
  const result = parseTopologyText(JSON.stringify({
    ...extra,
    name: 'bgp-config', asn: 64512,
    controlNodes: [
      { name: 'control-1', address: '127.0.17.1', bgpPort: 1189 },
      { name: 'control-2', address: '127.0.17.2', bgpPort: 1189 },
    ],
    computes: [{ name: 'compute-1', address: '127.0.27.1' }],
    networks: [], workloads: [], loadBalancers: [],
    bgpPeers: [{ name: 'gw-1', address: '127.0.30.1', port: 1179, asn: 64600, families: ['inet-vpn'] }],
  }));
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return result.topology;
}

describe('topology → control node BGP config', () => {
  it('gives each control node the others (iBGP mesh) and the gateways, as plain config', () => {
    const t = topology();
    const [c1, c2] = t.controlNodes;
    const one = controlBgpConfig(t, c1!);
    expect(one).to.deep.include({ nodeName: 'control-1', asn: 64512, routerId: c1!.routerId, listen: { address: '127.0.17.1', port: 1189 } });
    expect(one.reservedNames).to.deep.equal(['compute-1']);
    expect(one.peers.map((p) => [p.name, p.address, p.asn, p.families])).to.deep.equal([
      ['control-2', '127.0.17.2', 64512, ['inet-vpn', 'route-target']], ['gw-1', '127.0.30.1', 64600, ['inet-vpn']],
    ]);
    expect(one.peers[0]).to.include({ localAddress: '127.0.17.1', port: 1189 });
    // Exactly one side of the mesh dials: the lower router id.
    const two = controlBgpConfig(t, c2!);
    expect([one.peers[0]!.passive, two.peers[0]!.passive].sort()).to.deep.equal([false, true]);
  });

  it('leaves the timers to the control node', () => {
    const t = topology();
    for (const p of controlBgpConfig(t, t.controlNodes[0]!).peers) {
      expect(p.connectRetryMs).to.equal(undefined);
      expect(p.idleHoldMs).to.equal(undefined);
    }
  });

  it('passes graceful restart only when the topology enables it (docs/protocol.md §6.7)', () => {
    const off = topology();
    expect(gracefulRestartOf(off)).to.deep.equal({ enable: false, restartTime: 300, longLivedRestartTime: 300, endOfRibTimeout: 300, xmppHelperEnable: false, bgpHelperEnable: false });
    expect(controlBgpConfig(off, off.controlNodes[0]!).gracefulRestart).to.equal(undefined);
    expect(controlBgpConfig(topology({ gracefulRestart: { bgpHelperEnable: true } }), off.controlNodes[0]!).gracefulRestart).to.equal(undefined);
    const on = topology({ gracefulRestart: { enable: true, restartTime: 60, endOfRibTimeout: 20, bgpHelperEnable: true } });
    expect(gracefulRestartOf(on)).to.deep.equal({ enable: true, restartTime: 60, longLivedRestartTime: 300, endOfRibTimeout: 20, xmppHelperEnable: false, bgpHelperEnable: true });
    expect(controlBgpConfig(on, on.controlNodes[1]!).gracefulRestart).to.deep.equal({
      restartTime: 60, longLivedRestartTime: 300, endOfRibTimeout: 20, helper: true, expectedAgents: ['compute-1'],
    });
    // enable alone: GR offered and End-of-RIB deferred, but no help for restarting peers.
    expect(controlBgpConfig(topology({ gracefulRestart: { enable: true } }), off.controlNodes[0]!).gracefulRestart!.helper).to.equal(false);
  });

  it('refuses graceful restart times the capabilities cannot carry, naming the field', () => {
    const result = parseTopologyText(JSON.stringify({
      name: 'bgp-config', controlNodes: [{ name: 'control-1', address: '127.0.17.1' }], computes: [], networks: [],
      gracefulRestart: { enable: true, restartTime: 5000, restart: 1 },
    }));
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.errors.map((e) => `${e.path}: ${e.message}`)).to.deep.equal([
      'gracefulRestart.restart: is not a known property (known: enable, restartTime, longLivedRestartTime, endOfRibTimeout, xmppHelperEnable, bgpHelperEnable)',
      'gracefulRestart.restartTime: must be <= 4095, got 5000',
    ]);
  });
});
