// A placed topology graph as Cytoscape.js elements and stylesheet: the `graph --format html` page and the
// live web view draw with the same ones. Positions come from the layout library (elkjs via
// graph-layout.ts) and Cytoscape's `preset` layout keeps them. Plain data only, so that the browser
// bundle and the HTML writer share it.
import type { PlacedGraph } from './graph-model.ts';
import { BACKUP_XMPP_DASH, EDGE_STYLE, NODE_STYLE } from './graph-style.ts';

export interface CyElement {
  group: 'nodes' | 'edges';
  data: Record<string, string | number | boolean | undefined>;
  position?: { x: number; y: number };
  classes?: string;
}

export function cytoscapeElements(graph: PlacedGraph): CyElement[] {
  const compounds = new Set(graph.nodes.filter((n) => n.parent).map((n) => n.parent));
  const nodes: CyElement[] = graph.nodes.map((n) => ({
    group: 'nodes',
    data: { id: n.id, kind: n.kind, name: n.name, label: `${n.name}\n${n.detail}`, parent: n.parent, width: n.width, height: n.height },
    // A compound's box follows its children; only leaves carry a position (Cytoscape uses centres).
    ...(compounds.has(n.id) ? {} : { position: { x: n.x + n.width / 2, y: n.y + n.height / 2 } }),
    classes: n.kind,
  }));
  const edges: CyElement[] = graph.edges.map((e) => ({
    group: 'edges',
    data: { id: e.id, kind: e.kind, source: e.source, target: e.target, label: e.label ?? '' },
    classes: `${e.kind}${e.kind === 'xmpp' && e.primary === false ? ' backup' : ''}`,
  }));
  return [...nodes, ...edges];
}

export type CyStyle = { selector: string; style: Record<string, string | number> };

/** Session states the live view sets as classes: `up`, `down`, `connecting`; nodes `dead`; members `unhealthy`, `admin-down`. */
export const STATE_COLOR = { up: '#16a34a', down: '#dc2626', connecting: '#d97706' } as const;

export function cytoscapeStyle(): CyStyle[] {
  const styles: CyStyle[] = [
    {
      selector: 'node',
      style: {
        label: 'data(label)',
        'text-wrap': 'wrap',
        'text-valign': 'center',
        'text-halign': 'center',
        'font-size': 11,
        'font-family': 'DejaVu Sans, Helvetica, Arial, sans-serif',
        shape: 'round-rectangle',
        width: 'data(width)',
        height: 'data(height)',
        'border-width': 1.4,
      },
    },
    { selector: ':parent', style: { 'text-valign': 'top', 'text-margin-y': -3, padding: '12px', 'font-weight': 'bold', 'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': '1px' } },
    { selector: 'node.network', style: { shape: 'round-rectangle', 'corner-radius': 20 } },
    { selector: 'node.load-balancer', style: { shape: 'round-hexagon' } },
    { selector: 'node.bgp-peer', style: { shape: 'rhomboid' } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#7c3aed' } },
    { selector: 'node.dead', style: { 'background-color': '#e5e7eb', 'border-color': STATE_COLOR.down, 'border-style': 'dashed', color: '#6b7280' } },
    {
      selector: 'edge',
      style: { width: 1.5, 'curve-style': 'bezier', label: 'data(label)', 'font-size': 9, 'text-background-color': '#ffffff', 'text-background-opacity': 0.8, 'text-background-padding': '1px' },
    },
    { selector: 'edge.backup', style: { 'line-style': 'dashed', 'line-dash-pattern': BACKUP_XMPP_DASH.split(' ').map(Number) as unknown as string } },
    { selector: 'edge.attach', style: { 'line-style': 'dotted' } },
    { selector: 'edge.up', style: { 'line-color': STATE_COLOR.up } },
    { selector: 'edge.connecting', style: { 'line-color': STATE_COLOR.connecting } },
    { selector: 'edge.down', style: { 'line-color': STATE_COLOR.down, 'line-style': 'dashed' } },
    { selector: 'edge.unhealthy', style: { 'line-color': STATE_COLOR.connecting, 'line-style': 'dashed' } },
    { selector: 'edge.admin-down', style: { 'line-color': '#9ca3af', 'line-style': 'dotted' } },
    { selector: 'edge:selected', style: { width: 3.5 } },
  ];
  for (const [kind, s] of Object.entries(NODE_STYLE)) {
    styles.splice(2, 0, { selector: `node.${kind}`, style: { 'background-color': s.fill, 'border-color': s.stroke, color: s.text } });
  }
  for (const [kind, s] of Object.entries(EDGE_STYLE)) {
    // Before the state classes, so that a session's state colour wins over its kind's colour.
    styles.splice(styles.findIndex((x) => x.selector === 'edge.up'), 0, { selector: `edge.${kind}`, style: { 'line-color': s.color, width: s.width } });
  }
  return styles;
}
