// Simulated gateways appear in the topology picture as the BGP peers they are.
import { expect } from 'chai';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { topologyGraph } from '../../src/graph/topology-graph.ts';

describe('topology graph: gateways', () => {
  it('draws north-south.json\'s gateway as a BGP peer of its control node', async () => {
    const result = await loadTopologyFile(new URL('../../topologies/north-south.json', import.meta.url).pathname);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const graph = topologyGraph(result.topology);
    expect(graph.nodes.find((n) => n.name === 'gw-1')).to.include({ kind: 'bgp-peer', detail: '127.4.30.1 AS64512 stateless' });
    expect(graph.edges.filter((e) => e.kind === 'bgp').map((e) => `${e.source} ${e.target}`)).to.deep.equal(['bgp-peer:gw-1 control-node:control-1']);
  });
});
