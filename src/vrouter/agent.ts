// The vRouter agent: one per compute, the composition of its parts. It talks XMPP to at most two control
// nodes (docs/protocol.md §7.3) and takes its config from them (our /config channel). Owns the sessions, the
// choice of config server, label and VRF-index allocation (docs/protocol.md §7.1) and the local-ECMP
// composites it programs (docs/protocol.md §7.2). Not here: what a config means (./agent-plan.ts, pure), what
// is published (./route-export.ts), the routes reflected back and their stale copies (./received-routes.ts),
// the service-health-check probes (./health-probes.ts), and the data plane (./vrouter.ts).
import { EventEmitter } from 'node:events';
import { XmppAgentClient } from '../xmpp/agent-client.ts';
import { decodeControlStanza, isStanzaError } from '../xmpp/stanza-decoder.ts';
import { sharedEntryCache } from '../xmpp/entry-cache.ts';
import { decodeAgentConfig, encodeConfigSubscribe, ConfigDecodeError, type AgentConfig } from '../xmpp/config-stanza.ts';
import type { StanzaObserver } from '../xmpp/stanza-observer.ts';
import type { XmppTlsMaterial } from '../xmpp/starttls.ts';
import { Vrouter, type LocalInterfaceSpec, type Underlay } from './vrouter.ts';
import { labelAllocator, vrfIndexAllocator } from './agent-ids.ts';
import { planAgent, type AgentPlan, type PlannedComposite } from './agent-plan.ts';
import { HealthProbes, type WorkloadHealth } from './health-probes.ts';
import { ReceivedRoutes, type ReceivedRoute } from './received-routes.ts';
import { emptyPublishedState, syncControlNode, vhostMac, type ExportedRoute, type PublishedState } from './route-export.ts';
import type { LogFn } from '../net/log.ts';

export type { ReceivedRoute } from './received-routes.ts';
export { vhostMac } from './route-export.ts';
export type { WorkloadHealth } from './health-probes.ts';

/** docs/protocol.md §7.3: the agent keeps sessions to at most two control nodes (MAX_XMPP_SERVERS). */
export const MAX_CONTROL_NODES = 2;

export interface ControlNodeEndpoint {
  name: string;
  host: string;
  port: number;
}

export interface VrouterAgentOptions {
  name: string;
  /** The compute's address: router-id, next-hop of its routes, source of its XMPP sessions. */
  address: string;
  controlNodes: ControlNodeEndpoint[];
  underlay: Underlay;
  holdTimeSeconds?: number;
  flowTableSize?: number;
  tap?: StanzaObserver;
  log?: LogFn;
  /** Routes learned from a control node that went away are swept this long after it is back, if its EoR has not come. */
  staleSweepMs?: number;
  /**
   * Health-check delay and timeout are seconds (as in Contrail); one second lasts this many real seconds.
   * Default 1; tests use e.g. 0.02 to probe every 20 ms.
   */
  healthCheckTimeScale?: number;
  /** xmpp_auth_enable (docs/protocol.md §2.3): STARTTLS to every control node with this CA, certificate and key. */
  xmppTls?: XmppTlsMaterial;
}

/** A local-ECMP composite as programmed, with its label (docs/protocol.md §7.2). */
interface ProgrammedComposite extends PlannedComposite {
  label: number;
}

/** One XMPP session to a control node and what the agent has told it. What it told the agent: ReceivedRoutes. */
interface ControlChannel {
  /** Index in `channels`: the control node's source number in the received tables. */
  index: number;
  name: string;
  endpoint: ControlNodeEndpoint;
  client: XmppAgentClient;
  established: boolean;
  publishedState: PublishedState;
  /** The current session has sent its End-of-RIB: its table is complete. */
  synced: boolean;
  config: AgentConfig | null;
  sweepTimer: NodeJS.Timeout | null;
}

export class VrouterAgent extends EventEmitter {
  readonly name: string;
  readonly address: string;
  readonly vrouter: Vrouter;
  private readonly mac: string;
  private readonly channels: ControlChannel[];
  private readonly labels = labelAllocator();
  private readonly vrfIndexes = vrfIndexAllocator();
  private readonly log: LogFn;
  private readonly staleSweepMs: number;
  private readonly probes: HealthProbes;
  private readonly received: ReceivedRoutes;
  private config: AgentConfig | null = null;
  private exports = new Map<string, ExportedRoute>();
  /** `fip:<name>` → the composite programmed for a floating-ip with several local VMIs. */
  private composites = new Map<string, ProgrammedComposite>();
  /**
   * Composites no longer advertised but still named by a control node's item (it has not reflected our
   * re-publish yet): they keep forwarding to the remaining VMIs so that no flow moves in between.
   */
  private retiring = new Map<string, ProgrammedComposite>();
  /** instance → VN fq-name, for every VRF this compute needs. */
  private instances = new Map<string, string>();
  private maglevPrefixes = new Set<string>();
  private started = false;
  private seq = 0;

  constructor(private readonly options: VrouterAgentOptions) {
    super();
    if (options.controlNodes.length === 0 || options.controlNodes.length > MAX_CONTROL_NODES) {
      throw new Error(`agent ${options.name}: needs 1 or ${MAX_CONTROL_NODES} control nodes, got ${options.controlNodes.length}`);
    }
    this.name = options.name;
    this.address = options.address;
    this.mac = vhostMac(options.address);
    this.log = options.log ?? (() => {});
    this.staleSweepMs = options.staleSweepMs ?? 30_000;
    const timeScale = options.healthCheckTimeScale ?? 1;
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
      throw new Error(`agent ${options.name}: healthCheckTimeScale must be a positive number, got ${options.healthCheckTimeScale}`);
    }
    this.vrouter = new Vrouter({
      name: options.name,
      routerId: options.address,
      underlay: options.underlay,
      flowTableSize: options.flowTableSize,
    });
    this.probes = new HealthProbes({ timeScale, onTransition: (vmi, active, check, failures) => this.onHealthTransition(vmi, active, check, failures) });
    this.channels = options.controlNodes.map((endpoint, index) => this.makeChannel(endpoint, index));
    this.received = new ReceivedRoutes({
      vrouter: this.vrouter,
      sessions: this.channels,
      isMaglev: (prefix) => this.maglevPrefixes.has(prefix),
      changed: (instance, prefix) => {
        if (this.retiring.size > 0) this.retireUnreferencedComposites();
        this.emit('route', instance, prefix);
      },
    });
  }

  private makeChannel(endpoint: ControlNodeEndpoint, index: number): ControlChannel {
    const client = new XmppAgentClient({
      agentName: this.name,
      localAddress: this.address,
      host: endpoint.host,
      port: endpoint.port,
      holdTimeSeconds: this.options.holdTimeSeconds,
      tap: this.options.tap,
      log: (line) => this.log(`${this.name} → ${endpoint.name}: ${line}`),
      // The agent decodes the raw stanza itself; an element tree per stanza for the middleware is wasted work.
      parseElements: false,
      ...(this.options.xmppTls ? { tls: { ...this.options.xmppTls, serverNames: [endpoint.name, endpoint.host] } } : {}),
    });
    const channel: ControlChannel = {
      index,
      name: endpoint.name,
      endpoint,
      client,
      established: false,
      publishedState: emptyPublishedState(),
      synced: false,
      config: null,
      sweepTimer: null,
    };
    client.on('established', () => this.onEstablished(channel));
    client.on('disconnected', (reason: string) => this.onDisconnected(channel, reason));
    client.on('stanza', (raw: string) => this.onStanza(channel, raw));
    return channel;
  }

  /** Whether a session to some control node is established (cheaper than status() for polling thousands of agents). */
  get connected(): boolean {
    return this.channels.some((c) => c.established);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.channels) c.client.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.probes.stopAll();
    for (const c of this.channels) {
      if (c.sweepTimer) clearTimeout(c.sweepTimer);
      c.sweepTimer = null;
    }
    await Promise.all(this.channels.map((c) => c.client.stop()));
    await this.vrouter.close();
  }

  // ---- session events ----

  private onEstablished(channel: ControlChannel): void {
    channel.established = true;
    channel.publishedState = emptyPublishedState();
    channel.synced = false;
    // Everything learned on the previous session stays in force until this session's End-of-RIB.
    if (this.received.sessionStarted(channel.index)) {
      channel.sweepTimer = setTimeout(() => this.sweepStale(channel), this.staleSweepMs);
      channel.sweepTimer.unref();
    }
    this.log(`${this.name}: session to ${channel.endpoint.name} established`);
    channel.client.send(encodeConfigSubscribe(this.name));
    if (this.config) this.sync(channel);
    this.emit('established', channel.endpoint.name);
  }

  private onDisconnected(channel: ControlChannel, reason: string): void {
    if (!channel.established) return;
    channel.established = false;
    channel.synced = false;
    this.log(`${this.name}: session to ${channel.endpoint.name} lost (${reason})`, 'warn');
    if (!this.started) {
      // stopping: the FIB goes with the agent, re-programming every route as stale would be wasted work
      this.emit('disconnected', channel.endpoint.name, reason);
      return;
    }
    this.received.sessionLost(channel.index);
    if (channel.config && this.configChannel() !== channel) this.adoptConfig();
    this.emit('disconnected', channel.endpoint.name, reason);
  }

  private onStanza(channel: ControlChannel, raw: string): void {
    // entries are shared with the process's other agents (read-only here and in ReceivedRoutes)
    const stanza = decodeControlStanza(raw, sharedEntryCache);
    if (isStanzaError(stanza)) {
      this.log(`${this.name}: dropped a stanza from ${channel.endpoint.name}: ${stanza.error}`, 'warn');
      return;
    }
    switch (stanza.kind) {
      case 'items':
        // docs/protocol.md §3.1, §4: items answer a subscription; one that crossed our unsubscribe holds nothing
        if (!channel.publishedState.subscribed.has(stanza.instance)) {
          this.log(`${this.name}: ignored ${stanza.entries.length} route(s) from ${channel.endpoint.name} for ${stanza.instance}: not subscribed`);
          break;
        }
        for (const entry of stanza.entries) this.received.learn(channel.index, stanza.instance, entry);
        break;
      case 'retract':
        for (const prefix of stanza.prefixes) this.received.unlearn(channel.index, stanza.instance, prefix);
        break;
      case 'end-of-rib':
        this.sweepStale(channel);
        break;
      case 'other':
        if (stanza.resource === 'config') this.onConfig(channel, stanza.element);
        break;
    }
  }

  /** End-of-RIB (or the sweep timer): the session's table is complete, older entries go. */
  private sweepStale(channel: ControlChannel): void {
    if (channel.sweepTimer) clearTimeout(channel.sweepTimer);
    channel.sweepTimer = null;
    if (channel.established) channel.synced = true;
    this.received.sweep(channel.index);
  }

  private onConfig(channel: ControlChannel, element: Parameters<typeof decodeAgentConfig>[0]): void {
    let config: AgentConfig;
    try {
      config = decodeAgentConfig(element);
    } catch (e) {
      const why = e instanceof ConfigDecodeError ? e.message : String(e);
      this.log(`${this.name}: ignored config from ${channel.endpoint.name}: ${why}`, 'warn');
      return;
    }
    if (channel.config && config.generation < channel.config.generation) return;
    channel.config = config;
    if (this.configChannel() === channel) this.adoptConfig();
  }

  /** The first established channel that has sent config is the config server (like the real agent's choice of one). */
  private configChannel(): ControlChannel | undefined {
    return this.channels.find((c) => c.established && c.config) ?? this.channels.find((c) => c.config);
  }

  // ---- config → interfaces, VRFs and exports ----

  private adoptConfig(): void {
    const config = this.configChannel()?.config;
    if (!config) return;
    this.config = config;
    this.probes.reconcile(config);
    this.program(config);
    this.emit('config', config.generation);
  }

  /** Interfaces, VRFs, composites and exports from the config, leaving out the routes of L3-inactive VMIs. */
  private program(config: AgentConfig): void {
    const plan = planAgent(config, this.probes.l3Inactive());
    for (const { interface: name, network } of plan.skipped) {
      this.log(`${this.name}: interface ${name} names unknown network ${network}; skipped`);
    }
    for (const key of plan.labelKeys) this.labels.acquire(key);
    const label = (key: string): number => this.labels.acquire(key);
    const interfaces: LocalInterfaceSpec[] = plan.interfaces.map(({ labelKey, ...spec }) => ({ ...spec, label: label(labelKey) }));
    const exports = new Map<string, ExportedRoute>(
      [...plan.exports].map(([key, { labelKey, ...route }]) => [key, { ...route, label: label(labelKey) }]),
    );

    this.maglevPrefixes = plan.maglevPrefixes;
    this.vrouter.setHashFields(config.hashFields, new Map(config.networks.filter((n) => n.hashFields).map((n) => [n.name, n.hashFields!])));
    for (const spec of interfaces) this.vrouter.upsertInterface(spec);
    // programmed before the VIP is published with their labels, so that the reflected item resolves
    this.programComposites(plan);
    this.vrouter.setServiceInstances(plan.serviceInstances);

    const removedInterfaces = this.vrouter.interfaceNames().filter((n) => !plan.liveInterfaces.has(n));
    this.instances = plan.instances;
    this.exports = exports;
    for (const c of this.channels) if (c.established) this.sync(c);
    for (const name of removedInterfaces) {
      this.vrouter.removeInterface(name);
      this.labels.release(`vmi:${name}`);
    }
    this.retireUnreferencedComposites();
    for (const [key] of this.vrfIndexes.entries()) {
      if (!plan.instances.has(key)) this.vrfIndexes.release(key);
    }
  }

  private onHealthTransition(vmi: string, active: boolean, check: string, failuresInRow: number): void {
    if (!this.config) return;
    this.log(`${this.name}: ${vmi} is L3-${active ? 'active again' : `inactive (${check}: ${failuresInRow} failed probes)`}`);
    this.program(this.config);
    this.emit('health', vmi, active);
  }

  /** Sets what a local workload answers to probes (the simulator's stand-in for a VM that stops serving). */
  setWorkloadHealth(vmi: string, healthy: boolean): WorkloadHealth {
    return this.probes.setWorkloadHealth(vmi, healthy);
  }

  workloadHealth(vmi: string): WorkloadHealth {
    return this.probes.workloadHealth(vmi);
  }

  /** Whether the current config has this local VMI. */
  hasInterface(vmi: string): boolean {
    return this.config?.interfaces.some((i) => i.name === vmi) ?? false;
  }

  // ---- local-ECMP composites (docs/protocol.md §7.2) ----

  /**
   * Installs the planned composites; one that is no longer planned keeps its label and forwards to the
   * floating-ip's remaining local VMIs until no control-node item names it (retireUnreferencedComposites).
   */
  private programComposites(plan: AgentPlan): void {
    const planned = new Map<string, ProgrammedComposite>();
    for (const [key, c] of plan.composites) {
      const composite: ProgrammedComposite = { ...c, label: this.labels.acquire(key) };
      planned.set(key, composite);
      const result = this.vrouter.setLocalComposite(composite.label, c.instance, c.prefix, c.interfaces);
      if (!result.ok) this.log(`${this.name}: local composite for ${c.prefix} (label ${composite.label}) not programmed: ${result.error}`);
      this.retiring.delete(key);
    }
    for (const [key, c] of [...this.composites, ...this.retiring]) {
      if (planned.has(key)) continue;
      const remaining = plan.localMembers.get(key) ?? [];
      if (remaining.length === 0) {
        this.dropComposite(key, c);
        continue;
      }
      this.vrouter.setLocalComposite(c.label, c.instance, c.prefix, remaining);
      this.retiring.set(key, { ...c, interfaces: remaining });
    }
    this.composites = planned;
  }

  private dropComposite(key: string, c: ProgrammedComposite): void {
    this.vrouter.removeLocalComposite(c.label);
    this.labels.release(key);
    this.retiring.delete(key);
  }

  /** Removes the retiring composites whose label no control node's item (current or stale) still carries. */
  private retireUnreferencedComposites(): void {
    for (const [key, c] of this.retiring) {
      const named = this.received.anyNextHop(c.instance, c.prefix, (nh) => nh.address === this.address && nh.label === c.label);
      if (!named) this.dropComposite(key, c);
    }
  }

  // ---- what the agent publishes ----

  /** Brings one control node up to date (./route-export.ts). */
  private sync(channel: ControlChannel): void {
    syncControlNode(channel.publishedState, this.instances, this.exports, {
      from: this.name,
      address: this.address,
      mac: this.mac,
      instanceId: (instance) => this.vrfIndexes.acquire(instance),
      nextSeq: () => ++this.seq,
      send: (raw) => channel.client.send(raw),
      unsubscribed: (instance) => this.received.dropInstance(channel.index, instance),
    });
  }

  // ---- introspection ----

  status(): AgentStatus {
    return {
      name: this.name,
      address: this.address,
      configGeneration: this.config?.generation ?? null,
      sessions: this.channels.map((c) => ({
        controlNode: c.endpoint.name,
        server: `${c.endpoint.host}:${c.endpoint.port}`,
        established: c.established,
        subscriptions: [...c.publishedState.subscribed].map(([instance, instanceId]) => ({ instance, instanceId })),
        published: c.publishedState.published.size,
        received: this.received.receivedCount(c.index),
        stale: this.received.staleCount(c.index),
        synced: c.synced,
      })),
      labels: this.labels.entries().filter(([key]) => key.startsWith('vmi:')).map(([key, label]) => ({ interface: key.slice(4), label })),
      localComposites: [...[...this.composites].map(([key, c]) => [key, c, false] as const), ...[...this.retiring].map(([key, c]) => [key, c, true] as const)]
        .map(([key, c, retiring]) => ({ floatingIp: key.slice(4), instance: c.instance, prefix: c.prefix, label: c.label, interfaces: [...c.interfaces], retiring })),
      vrfs: this.vrfs(),
      exports: [...this.exports.values()].map((r) => ({ instance: r.instance, prefix: r.prefix, label: r.label })),
      health: this.probes.probedVmis().map((vmi) => this.workloadHealth(vmi)),
    };
  }

  /** The VRFs this compute needs (a part of status(), which is too costly to build for each request at scale). */
  vrfs(): AgentStatus['vrfs'] {
    return [...this.instances].map(([instance, network]) => ({ instance, network, index: this.vrfIndexes.get(instance) ?? null }));
  }

  /** The routes received from each control node, per VRF, as the agent holds them. */
  receivedRoutes(instance?: string): ReceivedRoute[] {
    return this.received.list(instance);
  }
}

export interface AgentStatus {
  name: string;
  address: string;
  configGeneration: number | null;
  sessions: {
    controlNode: string;
    server: string;
    established: boolean;
    subscriptions: { instance: string; instanceId: number }[];
    published: number;
    received: number;
    stale: number;
    synced: boolean;
  }[];
  labels: { interface: string; label: number }[];
  /** docs/protocol.md §7.2: local-ECMP composites; a retiring one is no longer advertised but still named by a control node's item */
  localComposites: { floatingIp: string; instance: string; prefix: string; label: number; interfaces: string[]; retiring: boolean }[];
  vrfs: { instance: string; network: string; index: number | null }[];
  exports: { instance: string; prefix: string; label: number }[];
  /** The local VMIs a service-health-check probes. */
  health: WorkloadHealth[];
}
