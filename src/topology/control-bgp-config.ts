// The BGP config of one control node as the topology describes it: every other control node as an iBGP
// peer (full mesh, docs/protocol.md §6.6), every gateway of `bgpPeers` and every simulated gateway of `gateways`
// that names it, as the plain config
// ../control/bgp-routing.ts takes. It decides who dials; timers and sessions are the control node's.
import { requireIpv4 as ipv4ToNumber } from '../net/ipv4.ts';
import type { ControlBgpConfig, NamedPeerConfig } from '../control/bgp-routing.ts';
import { gracefulRestartOf, type ControlNodeSpec, type Topology } from './topology.ts';

export function controlBgpConfig(topology: Topology, spec: ControlNodeSpec): ControlBgpConfig {
  return {
    nodeName: spec.name,
    asn: topology.asn,
    routerId: spec.routerId,
    ...(spec.clusterId !== undefined && { clusterId: spec.clusterId }),
    listen: { address: spec.address, port: spec.bgpPort },
    peers: bgpPeerConfigs(topology, spec),
    reservedNames: topology.computes.map((c) => c.name),
    ...restartSettings(topology, spec),
  };
}

/** Peers of one control node: every other control node (iBGP full mesh) and every gateway of the topology. */
export function bgpPeerConfigs(topology: Topology, spec: ControlNodeSpec): NamedPeerConfig[] {
  const self = ipv4ToNumber(spec.routerId);
  const mesh: NamedPeerConfig[] = topology.controlNodes
    .filter((c) => c.name !== spec.name)
    .map((c) => ({
      name: c.name,
      address: c.address,
      port: c.bgpPort,
      asn: topology.asn,
      families: ['inet-vpn', 'route-target'],
      // The lower router-id dials, the other waits: both dialling works too (RFC 4271 §6.8), but costs a collision per start.
      passive: self > ipv4ToNumber(c.routerId),
      localAddress: spec.address,
    }));
  const gateways: NamedPeerConfig[] = topology.bgpPeers.map((p) => ({
    name: p.name,
    address: p.address,
    port: p.port,
    asn: p.asn,
    families: [...p.families],
    passive: p.passive,
    holdTime: p.holdTime,
    localAddress: p.localAddress ?? spec.address,
  }));
  // simulated gateways (`gateways`) dial the control nodes they peer with, from their own address
  const simulated: NamedPeerConfig[] = (topology.gateways ?? [])
    .filter((g) => g.controlNodes.includes(spec.name))
    .map((g) => ({ name: g.name, address: g.address, port: 179, asn: g.asn, families: ['inet-vpn', 'route-target'], passive: true, localAddress: spec.address }));
  return [...mesh, ...gateways, ...simulated];
}

/**
 * BGP graceful restart of one control node (docs/protocol.md §6.7): with `enable` it offers GR and LLGR and,
 * after a start, holds its End-of-RIB for the agents that name it; with `bgpHelperEnable` too it keeps a
 * restarting peer's paths.
 */
function restartSettings(topology: Topology, spec: ControlNodeSpec): Pick<ControlBgpConfig, 'gracefulRestart'> {
  const gr = gracefulRestartOf(topology);
  if (!gr.enable) return {};
  return {
    gracefulRestart: {
      restartTime: gr.restartTime,
      longLivedRestartTime: gr.longLivedRestartTime,
      endOfRibTimeout: gr.endOfRibTimeout,
      helper: gr.bgpHelperEnable,
      expectedAgents: topology.computes.filter((c) => !c.external && c.xmppServers.includes(spec.name)).map((c) => c.name),
    },
  };
}
