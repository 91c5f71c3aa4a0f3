// BGP for a control node: peers from the topology (the other control nodes, iBGP full mesh, §6.6, and
// the gateways of `bgpPeers`), wired to the RIB. The BGP engineer owns this module.
import type { ApiRouter } from '../inspect/api-router.ts';
import type { ControlNodeSpec, Topology } from '../topology/topology.ts';
import type { ControlNode } from './control-node.ts';

export interface BgpAttachment {
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
  return { stop: async () => {}, mountApi: () => {} };
}
