// Which underlay a node that runs alone uses to reach the other computes.
import { InProcessUnderlay, type Underlay } from '../vrouter/underlay.ts';
import type { Topology } from './topology.ts';

export async function nodeUnderlay(topology: Topology, address: string): Promise<{ underlay: Underlay; close: () => Promise<void> }> {
  void topology;
  void address;
  return { underlay: new InProcessUnderlay(), close: async () => {} };
}
