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
/** Computes side by side before the layout starts another row. */
const COMPUTES_PER_ROW = 8;

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
  // A long row of computes is hard to read: more than ROW computes go to several layers (rows).
  const computes = graph.nodes.filter((n) => n.kind === 'compute' && !n.parent);
  const rowOf = new Map(computes.length > COMPUTES_PER_ROW ? computes.map((c, i) => [c.id, Math.floor(i / Math.ceil(computes.length / Math.ceil(computes.length / COMPUTES_PER_ROW)))]) : []);
  const rows = rowOf.size === 0 ? 1 : Math.max(...rowOf.values()) + 1;
  // Partitions order the layers: peers, control nodes, the rows of computes, then networks and load balancers.
  const partition = (n: GraphNode, row: number | undefined): number =>
    n.kind === 'bgp-peer' ? 0 : n.kind === 'control-node' ? 1 : n.kind === 'compute' ? 2 + (row ?? 0) : 2 + rows;
  const elkNode = (n: GraphNode): ElkNode => {
    const kids = children.get(n.id);
    const row = rowOf.get(n.id);
    const rowOptions: Record<string, string> = rowOf.size === 0 || n.parent ? {} : { 'elk.partitioning.partition': String(partition(n, row)) };
    if (!kids || kids.length === 0) return { id: n.id, ...leafSize(n), layoutOptions: rowOptions };
    const own = leafSize(n);
    return {
      id: n.id,
      layoutOptions: {
        'elk.padding': `[top=${COMPOUND_TOP},left=12,bottom=12,right=12]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${own.width},${own.height})`,
        'elk.spacing.nodeNode': '12',
        ...rowOptions,
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
    layoutOptions: rowOf.size === 0 ? ROOT_OPTIONS : { ...ROOT_OPTIONS, 'elk.partitioning.activate': 'true' },
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
