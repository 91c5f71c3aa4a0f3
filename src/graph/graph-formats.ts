// One entry point for `ecmpsim graph`: a topology in, a document in the asked format out.
import type { Topology } from '../topology/topology.ts';
import { graphDrawio } from './graph-drawio.ts';
import { graphHtml } from './graph-html.ts';
import { layoutGraph } from './graph-layout.ts';
import { graphSvg } from './graph-svg.ts';
import { graphDot, graphMermaid } from './graph-text.ts';
import { topologyGraph } from './topology-graph.ts';

export const GRAPH_FORMATS = ['html', 'svg', 'mermaid', 'dot', 'drawio'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** The file extension each format is usually saved with. */
export const GRAPH_EXTENSION: Readonly<Record<GraphFormat, string>> = { html: 'html', svg: 'svg', mermaid: 'mmd', dot: 'dot', drawio: 'drawio' };

export async function renderGraph(topology: Topology, format: GraphFormat): Promise<string> {
  const graph = topologyGraph(topology);
  switch (format) {
    case 'mermaid':
      return graphMermaid(graph);
    case 'dot':
      return graphDot(graph);
    case 'svg':
      return graphSvg(await layoutGraph(graph));
    case 'drawio':
      return graphDrawio(await layoutGraph(graph));
    case 'html':
      return graphHtml(await layoutGraph(graph));
  }
}
