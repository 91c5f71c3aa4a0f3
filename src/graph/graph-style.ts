// Colours and line styles per node and edge kind, shared by every writer and by the web page so that a
// control node looks the same in an SVG, a drawio file and the live view. No runtime imports: the browser
// bundle uses it too (type imports only).
import type { GraphEdgeKind, GraphNodeKind } from './graph-model.ts';

export interface NodeStyle {
  readonly fill: string;
  readonly stroke: string;
  readonly text: string;
}

export const NODE_STYLE: Readonly<Record<GraphNodeKind, NodeStyle>> = {
  'control-node': { fill: '#dbeafe', stroke: '#1d4ed8', text: '#0f172a' },
  compute: { fill: '#f1f5f9', stroke: '#475569', text: '#0f172a' },
  'bgp-peer': { fill: '#fef3c7', stroke: '#b45309', text: '#0f172a' },
  network: { fill: '#dcfce7', stroke: '#15803d', text: '#0f172a' },
  workload: { fill: '#ffffff', stroke: '#64748b', text: '#0f172a' },
  'load-balancer': { fill: '#fce7f3', stroke: '#be185d', text: '#0f172a' },
};

export interface EdgeStyle {
  readonly color: string;
  readonly width: number;
  /** SVG dash array; empty for a solid line. */
  readonly dash: string;
}

export const EDGE_STYLE: Readonly<Record<GraphEdgeKind, EdgeStyle>> = {
  xmpp: { color: '#2563eb', width: 1.6, dash: '' },
  bgp: { color: '#b45309', width: 2.4, dash: '' },
  attach: { color: '#94a3b8', width: 1, dash: '3 3' },
  vip: { color: '#15803d', width: 1.6, dash: '' },
  member: { color: '#be185d', width: 1.6, dash: '' },
};

/** A backup XMPP session (the agent's second control node) is drawn dashed. */
export const BACKUP_XMPP_DASH = '6 4';

export const NODE_KIND_LABEL: Readonly<Record<GraphNodeKind, string>> = {
  'control-node': 'control node',
  compute: 'compute (vRouter)',
  'bgp-peer': 'BGP peer / gateway',
  network: 'virtual network',
  workload: 'workload',
  'load-balancer': 'load balancer (VIP)',
};
