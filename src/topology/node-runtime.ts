// Building one node of a topology: a control node or a compute's agent, with its introspect API
// handler. The launcher uses these in-process; `ecmpsim node <name>` uses them alone, in its own process.
import { mountBgpApi } from '../api/control-bgp-api.ts';
import type { ApiHandler } from '../api/api-router.ts';
import type { StanzaTap } from '../inspect/stanza-tap.ts';
import { stanzaFilterFromQuery } from '../inspect/stanza-query.ts';
import type { ApiRouter } from '../api/api-router.ts';
import type { ConfigStore } from '../model/config-store.ts';
import { ControlNode, type ControlNodeOptions } from '../control/control-node.ts';
import { DEFAULT_END_OF_RIB_TIMING } from '../control/end-of-rib-scheduler.ts';
import { configSource } from '../control/config-source.ts';
import { controlNodeApi, controlNodeRouter } from '../api/control-node-api.ts';
import { mountConfigApi } from '../api/config-api.ts';
import { attachBgp, type BgpAttachment } from '../control/bgp-routing.ts';
import { VrouterAgent } from '../vrouter/agent.ts';
import { agentApi, agentRouter } from '../api/agent-api.ts';
import type { RouteDescription } from '../api/api-router.ts';
import type { Underlay } from '../vrouter/underlay.ts';
import { buildConfigStore } from './config-from-topology.ts';
import { Gateway } from '../gateway/gateway.ts';
import { gatewayApi } from '../api/gateway-api.ts';
import { routeTargetFor } from '../model/network-identity.ts';
import { controlBgpConfig } from './control-bgp-config.ts';
import { gracefulRestartOf, type Topology } from './topology.ts';
import { readXmppAuth } from './xmpp-auth.ts';
import type { LogFn } from '../net/log.ts';

export type NodeKind = 'control-node' | 'compute' | 'gateway';

export interface RunningNode {
  readonly name: string;
  readonly kind: NodeKind;
  readonly address: string;
  readonly handler: ApiHandler;
  /** `abrupt`: as if the process died (BGP sessions close without a NOTIFICATION, so GR peers keep our routes). */
  stop(options?: { abrupt?: boolean }): Promise<void>;
}

export interface NodeDeps {
  tap?: StanzaTap;
  log?: LogFn;
  /** Strict XMPP: only the topology's computes, each from its own address. */
  strict?: boolean;
  /** Replayed on a fresh config store before the node starts (config written through the API earlier). */
  configJournal?: readonly ((store: ConfigStore) => void)[];
  endOfRibQuietMs?: number;
}

export interface RunningControlNode extends RunningNode {
  readonly control: ControlNode;
  readonly store: ConfigStore;
  readonly bgp: BgpAttachment;
}

export async function startControlNode(topology: Topology, name: string, deps: NodeDeps = {}): Promise<RunningControlNode> {
  const spec = topology.controlNodes.find((c) => c.name === name);
  if (!spec) throw new Error(`topology ${topology.name} has no control node ${name}`);
  const store = buildConfigStore(topology);
  for (const write of deps.configJournal ?? []) write(store);
  const control = new ControlNode({
    name,
    address: spec.address,
    xmppPort: spec.xmppPort,
    asn: topology.asn,
    routerId: spec.routerId,
    holdTimeSeconds: topology.holdTimeSeconds,
    allowedAgents: deps.strict ? new Map(topology.computes.map((c) => [c.name, c.address])) : undefined,
    config: configSource(store),
    globals: { hashFields: topology.hashFields, encapsulationPriorities: topology.encapsulationPriorities },
    tap: deps.tap,
    log: deps.log,
    endOfRibQuietMs: deps.endOfRibQuietMs,
    ...controlNodeRestartOptions(topology, name),
    ...(spec.xmppAuth ? { xmppTls: readXmppAuth(name, spec.xmppAuth) } : {}),
  });
  await control.start();
  let bgp: BgpAttachment;
  try {
    bgp = await attachBgp(control, controlBgpConfig(topology, spec), { log: deps.log });
  } catch (e) {
    await control.stop();
    throw e;
  }
  const handler = controlNodeApi(control, (router) => {
    mountConfigApi(router, store);
    mountBgpApi(router, name, bgp);
    mountStanzas(router, name, deps.tap);
  }, () => ({ bgp: bgp.status() }));
  return {
    name,
    kind: 'control-node',
    address: spec.address,
    handler,
    control,
    store,
    bgp,
    stop: async (options = {}) => {
      await bgp.stop(options);
      await control.stop();
    },
  };
}

export interface RunningCompute extends RunningNode {
  readonly agent: VrouterAgent;
}

export async function startCompute(topology: Topology, name: string, underlay: Underlay, deps: NodeDeps = {}): Promise<RunningCompute> {
  const spec = topology.computes.find((c) => c.name === name);
  if (!spec) throw new Error(`topology ${topology.name} has no compute ${name}`);
  if (spec.external) throw new Error(`compute ${name} is external: its agent connects from outside`);
  const controlNodes = spec.xmppServers.map((server) => {
    const control = topology.controlNodes.find((c) => c.name === server);
    if (!control) throw new Error(`compute ${name} names unknown control node ${server}`);
    return { name: control.name, host: control.address, port: control.xmppPort };
  });
  const xmppTls = spec.xmppAuth ? readXmppAuth(name, spec.xmppAuth) : undefined;
  const agent = new VrouterAgent({
    name,
    address: spec.address,
    controlNodes,
    underlay,
    holdTimeSeconds: topology.holdTimeSeconds,
    tap: deps.tap,
    log: deps.log,
    ...(xmppTls ? { xmppTls } : {}),
  });
  agent.start();
  const workloads = topology.workloads.filter((w) => w.compute === name);
  const handler = agentApi(agent, workloads, (router) => mountStanzas(router, name, deps.tap));
  return { name, kind: 'compute', address: spec.address, handler, agent, stop: () => agent.stop() };
}

export interface RunningGateway extends RunningNode {
  readonly gateway: Gateway;
}

/** A simulated gateway (src/gateway): dials its control nodes over BGP, forwards outside traffic into the underlay. */
export async function startGateway(topology: Topology, name: string, underlay: Underlay, deps: NodeDeps = {}): Promise<RunningGateway> {
  const spec = (topology.gateways ?? []).find((g) => g.name === name);
  if (!spec) throw new Error(`topology ${topology.name} has no gateway ${name}`);
  // the config store numbers networks in file order from 1 (config-from-topology.ts), which fixes their targets
  const routeTargets = spec.networks.map((network) => routeTargetFor(topology.asn, topology.networks.findIndex((n) => n.name === network) + 1));
  const gateway = new Gateway({
    name,
    address: spec.address,
    asn: spec.asn,
    peers: spec.controlNodes.map((control) => {
      const node = topology.controlNodes.find((c) => c.name === control)!;
      return { name: node.name, address: node.address, port: node.bgpPort, asn: topology.asn };
    }),
    routeTargets,
    maxPaths: spec.maxPaths,
    hash: spec.hash,
    buckets: spec.buckets,
    underlay,
    holdTime: topology.holdTimeSeconds,
    log: deps.log,
  });
  await gateway.start();
  return { name, kind: 'gateway', address: spec.address, handler: gatewayApi(gateway), gateway, stop: () => gateway.stop() };
}

/**
 * The control node's restart behaviour from the topology: the agents it expects back after a start (the
 * computes that name it, docs/protocol.md §4.3), end-of-rib-timeout, and the XMPP GR helper knobs.
 */
function controlNodeRestartOptions(topology: Topology, name: string): Pick<ControlNodeOptions, 'expectedAgents' | 'endOfRibTimeoutMs' | 'endOfRibDeferralMs' | 'gracefulRestart'> {
  const gr = gracefulRestartOf(topology);
  const timeoutMs = gr.endOfRibTimeout * 1000;
  return {
    expectedAgents: topology.computes.filter((c) => c.xmppServers.includes(name)).map((c) => c.name),
    endOfRibTimeoutMs: timeoutMs,
    endOfRibDeferralMs: Math.min(DEFAULT_END_OF_RIB_TIMING.deferralMs, timeoutMs),
    // docs/protocol.md §6.7: the XMPP helper needs graceful restart itself on, as in Contrail.
    ...(gr.enable && gr.xmppHelperEnable
      ? { gracefulRestart: { restartTimeMs: gr.restartTime * 1000, longLivedRestartTimeMs: gr.longLivedRestartTime * 1000, endOfRibTimeoutMs: timeoutMs } }
      : {}),
  };
}

/** Each node's own stanzas (in-process the tap is shared, so the node filter is forced). */
function mountStanzas(router: ApiRouter, node: string, tap: StanzaTap | undefined): void {
  if (!tap) return;
  router.on('GET', '/stanzas', (req) => ({ status: 200, body: tap.list({ ...stanzaFilterFromQuery(req.query), node }) }), {
    summary: "this node's logged stanzas (same filters as /api/stanzas)",
    query: STANZA_QUERY,
  });
}

/** The stanza log's filters (inspect/stanza-query.ts), as the API checks and documents them. */
export const STANZA_QUERY = {
  node: { type: 'string', description: 'a node name of the topology' },
  peer: { type: 'string' },
  direction: { enum: ['in', 'out'] },
  vrf: { type: 'string' },
  prefix: { type: 'string' },
  since: { type: 'integer', minimum: 0, description: 'only stanzas after this sequence number' },
  limit: { type: 'integer', minimum: 1, description: 'the last n' },
  follow: { enum: ['true', 'false', '1', '0'], description: 'keep the answer open and stream new stanzas (NDJSON)' },
};

/**
 * What every control node and every compute answers below `/api/nodes/<node>`, for the OpenAPI
 * document: both routers built over a stand-in that fails if touched (their handlers never run here).
 */
export function nodeRouteCatalog(): { controlNode: RouteDescription[]; compute: RouteDescription[] } {
  const unbound = new Proxy({}, {
    get: (_target, key) => {
      throw new Error(`the route catalogue has no node behind it (read ${String(key)})`);
    },
  });
  const control = controlNodeRouter(unbound as ControlNode, (router) => {
    mountConfigApi(router, unbound as ConfigStore);
    mountBgpApi(router, 'catalogue', unbound as BgpAttachment);
    mountStanzas(router, 'catalogue', unbound as StanzaTap);
  });
  const compute = agentRouter(unbound as VrouterAgent, [], (router) => mountStanzas(router, 'catalogue', unbound as StanzaTap));
  return { controlNode: control.describe(), compute: compute.describe() };
}
