// The picture of a topology as plain nodes and edges: what `ecmpsim graph` draws and what the web view
// shows live. Owns only the shape (no positions, no state); it imports nothing so the browser bundle can
// share it.

export type GraphNodeKind = 'control-node' | 'compute' | 'bgp-peer' | 'network' | 'workload' | 'load-balancer';

/**
 * `xmpp`: an agent's session to a control node (`primary` says whether it is the agent's first choice);
 * `bgp`: a BGP session (control-node mesh, gateways); `attach`: a workload's interface on a network;
 * `vip`: a load balancer's VIP on its network; `member`: a pool member behind a load balancer.
 */
export type GraphEdgeKind = 'xmpp' | 'bgp' | 'attach' | 'vip' | 'member';

export interface GraphNode {
  /** Unique across kinds: `<kind>:<name>`. */
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly name: string;
  /** A second line: an address, a subnet, a VIP. */
  readonly detail: string;
  /** The compute a workload runs on (drawn inside it). */
  readonly parent?: string;
}

export interface GraphEdge {
  readonly id: string;
  readonly kind: GraphEdgeKind;
  readonly source: string;
  readonly target: string;
  readonly label?: string;
  readonly primary?: boolean;
}

export interface TopologyGraph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** Node and edge geometry in one coordinate system (top-left origin), as the layout library placed them. */
export interface PlacedNode extends GraphNode {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge extends GraphEdge {
  /** Polyline from source to target (start, bends, end). */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface PlacedGraph {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
}

export function nodeId(kind: GraphNodeKind, name: string): string {
  return `${kind}:${name}`;
}
