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
import { controlNodeApi } from '../api/control-node-api.ts';
import { mountConfigApi } from '../api/config-api.ts';
import { attachBgp, type BgpAttachment } from '../control/bgp-routing.ts';
import { VrouterAgent } from '../vrouter/agent.ts';
import { agentApi } from '../api/agent-api.ts';
import type { Underlay } from '../vrouter/underlay.ts';
import { buildConfigStore } from './config-from-topology.ts';
import { Gateway } from '../gateway/gateway.ts';
import { gatewayApi } from '../api/gateway-api.ts';
import { routeTargetFor } from '../model/network-identity.ts';
import { controlBgpConfig } from './control-bgp-config.ts';
import { gracefulRestartOf, type Topology } from './topology.ts';
import { readXmppAuth } from './xmpp-auth.ts';

export type NodeKind = 'control-node' | 'compute' | 'gateway';

export interface RunningNode {
  readonly name: string;
  readonly kind: NodeKind;
  readonly address: string;
  readonly handler: ApiHandler;
  stop(): Promise<void>;
}

export interface NodeDeps {
  tap?: StanzaTap;
  log?: (line: string) => void;
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
    stop: async () => {
      await bgp.stop();
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
  router.on('GET', '/stanzas', (req) => ({ status: 200, body: tap.list({ ...stanzaFilterFromQuery(req.query), node }) }));
}
