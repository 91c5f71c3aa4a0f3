// BGP for a control node: peers from the topology (the other control nodes, iBGP full mesh, §6.6, and
// the gateways of `bgpPeers`), wired to the RIB. The BGP engineer owns this module.
import type { ApiRouter } from '../inspect/api-router.ts';
import type { ControlNodeSpec, Topology } from '../topology/topology.ts';
import type { ControlNode } from './control-node.ts';

export interface BgpPeerSummary {
  name: string;
  address: string;
  asn: number;
  /** RFC 4271 state name: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  families: string[];
  prefixesIn: number;
  prefixesOut: number;
}

export interface BgpAttachment {
  /** Shown under `bgp` in the control node's /status. */
  status(): { asn: number; routerId: string; listen: string | null; clusterId: string | null; peers: BgpPeerSummary[] };
  stop(): Promise<void>;
  mountApi(router: ApiRouter): void;
}

export async function attachBgp(
  control: ControlNode,
  topology: Topology,
  spec: ControlNodeSpec,
  deps: { log?: (line: string) => void },
): Promise<BgpAttachment> {
  const neighbours = topology.controlNodes.length - 1 + topology.bgpPeers.length;
  if (neighbours > 0) throw new Error(`${spec.name}: BGP peering is not wired into the control node yet`);
  void control;
  void deps;
  return {
    status: () => ({ asn: topology.asn, routerId: spec.routerId, listen: null, clusterId: spec.clusterId ?? null, peers: [] }),
    stop: async () => {},
    mountApi: () => {},
  };
}
