// The documents the web view's event stream carries (`GET /api/events`) and the page renders. Shared by
// the server (live-state.ts builds them) and the browser bundle (src/web/client), so type imports only.
import type { CyElement } from '../graph/cytoscape-elements.ts';

export type SessionState = 'up' | 'down' | 'connecting';

export interface NodeState {
  readonly name: string;
  readonly kind: 'control-node' | 'compute' | 'gateway';
  readonly address: string;
  readonly alive: boolean;
}

/** One XMPP or BGP session, keyed by the graph edge that draws it. */
export interface SessionView {
  readonly edgeId: string;
  readonly kind: 'xmpp' | 'bgp';
  readonly a: string;
  readonly b: string;
  readonly state: SessionState;
  /** What the owning side reports: `established`, a BGP FSM state, `node down`. */
  readonly detail: string;
}

export interface MemberView {
  /** The config object's name (`pool1:30.30.30.10:8080`). */
  readonly name: string;
  readonly pool: string;
  readonly address: string;
  readonly port: number;
  readonly adminState: boolean;
  readonly workload: string | null;
  readonly compute: string | null;
  /** The workload's health as its compute's probes see it; null when its compute is down or unknown. */
  readonly healthy: boolean | null;
}

export interface SlotView {
  readonly index: number;
  readonly empty: boolean;
  readonly address: string | null;
  readonly label: number | null;
  readonly active: boolean;
  readonly local: boolean;
  /** The compute the slot tunnels to, and the workload its label reaches (`compute-2/web-a`). */
  readonly compute: string | null;
  readonly workload: string | null;
  readonly flows: number;
}

/** A compute's next-hop for one VIP: the ECMP composite (or a single tunnel / local interface). */
export interface CompositeView {
  readonly compute: string;
  readonly alive: boolean;
  /** `ecmp`, `tunnel`, `local`… as the FIB says; null when the compute has no route to the VIP. */
  readonly kind: string | null;
  readonly slots: readonly SlotView[];
}

export interface FlowShare {
  /** `compute/workload`, as the traffic report names members. */
  readonly member: string;
  readonly flows: number;
}

export interface VipView {
  readonly loadBalancer: string;
  readonly vip: string;
  readonly network: string;
  readonly ports: readonly number[];
  readonly members: readonly MemberView[];
  readonly composites: readonly CompositeView[];
  /** Flows every compute pinned to each member (sum of the VIP composites' per-slot flow counts). */
  readonly shares: readonly FlowShare[];
}

export interface LiveView {
  readonly simulation: string;
  readonly mode: string;
  readonly time: string;
  /** The topology graph with current member edges and state classes (`up`, `down`, `dead`…). */
  readonly elements: readonly CyElement[];
  readonly nodes: readonly NodeState[];
  readonly sessions: readonly SessionView[];
  readonly vips: readonly VipView[];
  readonly workloads: readonly { readonly name: string; readonly compute: string; readonly address: string; readonly network: string }[];
}

export type TimelineKind = 'member-added' | 'member-removed' | 'member-admin' | 'member-health' | 'node-down' | 'node-up' | 'session-up' | 'session-down';

export interface TimelineEntry {
  readonly seq: number;
  readonly time: string;
  readonly kind: TimelineKind;
  readonly text: string;
}

/** A stanza as the page lists it (the API's stanza record without the raw XML body when it is large). */
export interface StanzaLine {
  readonly seq: number;
  readonly time: string;
  readonly node: string;
  readonly peer: string;
  readonly direction: 'in' | 'out';
  readonly summary: string;
  readonly vrf?: string;
  readonly prefixes?: readonly string[];
  readonly raw: string;
}
