// Places a topology graph with elkjs (the Eclipse Layout Kernel's layered algorithm): node positions,
// compound sizes (computes around their workloads) and edge routes, in absolute coordinates. Owns the
// sizing of boxes from their text; it draws nothing (the writers do).
import * as elkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { GraphNode, PlacedEdge, PlacedGraph, PlacedNode, TopologyGraph } from './graph-model.ts';

/** Text metrics the writers share, so that boxes fit their two lines. */
export const NAME_FONT_PX = 13;
export const DETAIL_FONT_PX = 11;
const CHAR_WIDTH = { name: 7.6, detail: 6.4 };
const LEAF_HEIGHT = 42;
/** Room above a compute's workloads for its own two lines. */
const COMPOUND_TOP = 46;

export function leafSize(node: Pick<GraphNode, 'name' | 'detail'>): { width: number; height: number } {
  const text = Math.max(node.name.length * CHAR_WIDTH.name, node.detail.length * CHAR_WIDTH.detail);
  return { width: Math.max(96, Math.ceil(text) + 24), height: LEAF_HEIGHT };
}

const ROOT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'POLYLINE',
  'elk.layered.spacing.nodeNodeBetweenLayers': '60',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeNode': '16',
  'elk.padding': '[top=20,left=20,bottom=20,right=20]',
  'elk.layered.crossingMinimization.strategy': 'LAYER_SWEEP',
};

// elkjs is CommonJS: Node's ESM loader puts its constructor on `default`.
const ElkConstructor = ((elkModule as unknown as { default?: unknown }).default ?? elkModule) as new () => ELK;
let elk: ELK | null = null;

export async function layoutGraph(graph: TopologyGraph): Promise<PlacedGraph> {
  elk ??= new ElkConstructor();
  const children = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) {
    if (!n.parent) continue;
    const list = children.get(n.parent) ?? [];
    list.push(n);
    children.set(n.parent, list);
  }
  const elkNode = (n: GraphNode): ElkNode => {
    const kids = children.get(n.id);
    if (!kids || kids.length === 0) return { id: n.id, ...leafSize(n) };
    const own = leafSize(n);
    return {
      id: n.id,
      layoutOptions: {
        'elk.padding': `[top=${COMPOUND_TOP},left=12,bottom=12,right=12]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${own.width},${own.height})`,
        'elk.spacing.nodeNode': '12',
      },
      children: kids.map(elkNode),
    };
  };
  const known = new Set(graph.nodes.map((n) => n.id));
  const edges: ElkExtendedEdge[] = graph.edges
    .filter((e) => known.has(e.source) && known.has(e.target))
    .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] }));
  const laid: ElkNode = await elk.layout({
    id: '__root',
    layoutOptions: ROOT_OPTIONS,
    children: graph.nodes.filter((n) => !n.parent || !known.has(n.parent)).map(elkNode),
    edges,
  });

  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const origin = new Map<string, { x: number; y: number }>([['__root', { x: 0, y: 0 }]]);
  const placed: PlacedNode[] = [];
  const walk = (nodes: readonly ElkNode[] | undefined, ox: number, oy: number): void => {
    for (const n of nodes ?? []) {
      const x = ox + (n.x ?? 0);
      const y = oy + (n.y ?? 0);
      origin.set(n.id, { x, y });
      const node = byId.get(n.id);
      if (node) placed.push({ ...node, x, y, width: n.width ?? 0, height: n.height ?? 0 });
      walk(n.children, x, y);
    }
  };
  walk(laid.children, 0, 0);

  const placedEdges: PlacedEdge[] = [];
  const laidEdges = new Map((laid.edges ?? []).map((e) => [e.id, e]));
  for (const edge of graph.edges) {
    const e = laidEdges.get(edge.id);
    if (!e) continue;
    const container = (e as ElkExtendedEdge & { container?: string }).container ?? '__root';
    const o = origin.get(container) ?? { x: 0, y: 0 };
    const section = e.sections?.[0];
    const points = section
      ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({ x: o.x + p.x, y: o.y + p.y }))
      : [];
    placedEdges.push({ ...edge, points });
  }
  // Parents before children, so that a writer drawing in order puts workloads on top of their compute.
  placed.sort((a, b) => Number(a.parent !== undefined) - Number(b.parent !== undefined));
  return { name: graph.name, width: Math.ceil(laid.width ?? 0), height: Math.ceil(laid.height ?? 0), nodes: placed, edges: placedEdges };
}
