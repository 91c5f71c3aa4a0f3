// The control node (contrail-control): an XMPP server for agents, the RIB, config distribution to
// agents and, through ./bgp-routing.ts, BGP to other control nodes and gateways.
import { EventEmitter } from 'node:events';
import { XmppServer, type XmppServerSession } from '../xmpp/server.ts';
import { encodeEndOfRib, CONTROL_NODE_JID } from '../xmpp/stanza-encoder.ts';
import { encodeAgentConfig } from '../xmpp/config-stanza.ts';
import type { StanzaObserver } from '../xmpp/stanza-observer.ts';
import type { XmppTlsMaterial } from '../xmpp/starttls.ts';
import type { ScannedAgentStanza } from '../xmpp/stanza-decoder.ts';
import { Rib, instanceTableName, type PathInput, type PeerRef, type RouteChange, type RoutingInstanceConfig } from '../rib/index.ts';
import { agentItemOf } from './agent-items.ts';
import { AgentChannel, type ChannelHost } from './agent-channel.ts';
import { RouteReflection } from './route-reflection.ts';
import { agentConfigFor, type ConfigView, type GlobalVrouterConfig } from './agent-config.ts';
import { policyImportTargets } from '../model/network-policy.ts';
import type { LogFn, LogLevel } from '../net/log.ts';
import { AgentGracefulRestart, type AgentGracefulRestartStatus, type AgentGracefulRestartTiming } from './agent-graceful-restart.ts';
import { DEFAULT_END_OF_RIB_TIMING, EndOfRibScheduler, type EndOfRibStatus } from './end-of-rib-scheduler.ts';

/** Where the control node's config comes from (the config store, through the topology or the API). */
export interface ConfigSource {
  view(): ConfigView;
  onChange(listener: () => void): () => void;
}

export interface ControlNodeOptions {
  name: string;
  address: string;
  xmppPort: number;
  asn: number;
  routerId?: string;
  holdTimeSeconds?: number;
  /** Strict mode: only these computes (name → address) may connect, each from its own address. */
  allowedAgents?: ReadonlyMap<string, string>;
  config: ConfigSource;
  globals: GlobalVrouterConfig;
  tap?: StanzaObserver;
  log?: LogFn;
  /** docs/protocol.md §4.3: End-of-RIB goes to an agent once its session has been quiet this long after subscribing (real: ~6 s). */
  endOfRibQuietMs?: number;
  /** end-of-rib-timeout: End-of-RIB goes this long after an agent's session came up, quiet or not (default 300 s). */
  endOfRibTimeoutMs?: number;
  /** Selection deferral after start: how long End-of-RIB waits for the expected agents (default 30 s). */
  endOfRibDeferralMs?: number;
  /** The agents this control node expects (the computes configured for it): End-of-RIB waits for theirs after a start. */
  expectedAgents?: readonly string[];
  /** XMPP graceful restart helper (docs/protocol.md §6.7): present = on. */
  gracefulRestart?: AgentGracefulRestartTiming;
  /** xmpp_auth_enable (docs/protocol.md §2.3): STARTTLS required, agents authenticated by certificate. */
  xmppTls?: XmppTlsMaterial;
}

type RouteChangeListener = (changes: readonly RouteChange[]) => void;

export class ControlNode extends EventEmitter implements ChannelHost {
  readonly name: string;
  readonly address: string;
  readonly asn: number;
  readonly routerId: string;
  readonly rib = new Rib();
  private readonly server: XmppServer;
  private readonly channels = new Map<string, AgentChannel>();
  private readonly reflection: RouteReflection;
  private readonly logLine: LogFn;
  private readonly endOfRib: EndOfRibScheduler<AgentChannel>;
  private readonly gracefulRestart: AgentGracefulRestart | null;
  private readonly configSent = new Map<AgentChannel, string>();
  private readonly routeListeners = new Set<RouteChangeListener>();
  private configGeneration = 0;
  private stopConfig: (() => void) | null = null;
  private xmppEndpoint: { address: string; port: number } | null = null;
  /** The network instanceNetwork gave last, and the instance configuration it came from. */
  private lastNetwork: { config: RoutingInstanceConfig | null; network: { name: string; vnIndex: number } } = { config: null, network: { name: '', vnIndex: 0 } };

  constructor(private readonly options: ControlNodeOptions) {
    super();
    this.name = options.name;
    this.address = options.address;
    this.asn = options.asn;
    this.routerId = options.routerId ?? options.address;
    this.logLine = options.log ?? (() => {});
    const quietMs = options.endOfRibQuietMs ?? DEFAULT_END_OF_RIB_TIMING.quietMs;
    this.endOfRib = new EndOfRibScheduler<AgentChannel>({
      timing: {
        quietMs,
        checkMs: Math.min(DEFAULT_END_OF_RIB_TIMING.checkMs, quietMs),
        timeoutMs: options.endOfRibTimeoutMs ?? DEFAULT_END_OF_RIB_TIMING.timeoutMs,
        deferralMs: options.endOfRibDeferralMs ?? DEFAULT_END_OF_RIB_TIMING.deferralMs,
      },
      expectedAgents: options.expectedAgents ?? [],
      send: (channel) => this.sendEndOfRib(channel),
      groupsOf: (channel) => channel.subscriptions.keys(),
      log: (line) => this.log(line),
    });
    this.gracefulRestart = options.gracefulRestart ? new AgentGracefulRestart(this.rib, options.gracefulRestart, (line) => this.log(line)) : null;
    const allowed = options.allowedAgents;
    this.server = new XmppServer({
      host: options.address,
      port: options.xmppPort,
      name: options.name,
      holdTimeSeconds: options.holdTimeSeconds,
      tap: options.tap,
      log: (line) => this.log(line),
      segmentScope: (work) => void this.rib.batch(work),
      ...(options.xmppTls ? { tls: options.xmppTls } : {}),
      acceptPeer: allowed
        ? (peer, remote) => {
            const expected = allowed.get(peer);
            if (expected === undefined) return `${peer} is not a compute of this topology`;
            if (expected !== remote) return `${peer} must connect from ${expected}, not ${remote}`;
            return null;
          }
        : undefined,
    });
    this.reflection = new RouteReflection({
      agentItem: (instance, prefix) => agentItemOf(this.rib, instance, prefix),
      prefixes: (instance) => this.rib.prefixes(instanceTableName(instance)),
      subscribers: (instance) => this.subscribers(instance),
    });
    this.rib.onChange((changes) => {
      for (const c of changes) if (c.instance !== undefined) this.reflection.changed(c.instance, c.prefix);
      this.noteActivity(changes);
      for (const listener of this.routeListeners) listener(changes);
    });
  }

  log(line: string, level?: LogLevel): void {
    this.logLine(`${this.name}: ${line}`, level);
  }

  async start(): Promise<{ xmpp: { address: string; port: number } }> {
    this.syncInstances();
    this.stopConfig = this.options.config.onChange(() => this.onConfigChange());
    this.endOfRib.start();
    this.server.on('session', (session: XmppServerSession) => this.onSession(session));
    try {
      this.xmppEndpoint = await this.server.listen();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the address is in use (is another simulation running?)' : (e as Error).message;
      throw new Error(`${this.name}: cannot listen for XMPP on ${this.address}:${this.options.xmppPort}: ${why}`);
    }
    this.log(`XMPP listening on ${this.xmppEndpoint.address}:${this.xmppEndpoint.port}`);
    return { xmpp: this.xmppEndpoint };
  }

  async stop(): Promise<void> {
    this.stopConfig?.();
    this.stopConfig = null;
    this.endOfRib.stop();
    this.gracefulRestart?.stop();
    await this.server.close();
  }

  /** Other parts (BGP) follow every RIB change through this. */
  onRouteChange(listener: RouteChangeListener): () => void {
    this.routeListeners.add(listener);
    return () => this.routeListeners.delete(listener);
  }

  // ---- config ----

  private syncInstances(): void {
    const view = this.options.config.view();
    const wanted = new Map(view.networks.map((vn) => [vn.routingInstance, vn]));
    // A VRF imports its own target and those of the networks a policy connects it to (docs/protocol.md §6).
    const connected = policyImportTargets(view.networks, view.networkPolicies ?? []);
    const importsOf = (vn: { name: string; routeTarget: string }): string[] => [vn.routeTarget, ...(connected.get(vn.name) ?? [])];
    for (const instance of this.rib.instances()) {
      if (wanted.has(instance.name)) continue;
      this.rib.deleteInstance(instance.name);
      for (const channel of this.channels.values()) channel.instanceUnconfigured(instance.name);
    }
    for (const [name, vn] of wanted) {
      const existing = this.rib.instance(name);
      if (existing) {
        if (existing.importTargets.join() !== importsOf(vn).join() || existing.exportTargets.join() !== vn.routeTarget) {
          this.rib.setInstanceTargets(name, { importTargets: importsOf(vn), exportTargets: [vn.routeTarget] });
        }
        continue;
      }
      this.rib.createInstance({
        name,
        virtualNetwork: vn.name,
        vnIndex: vn.vnIndex,
        importTargets: importsOf(vn),
        exportTargets: [vn.routeTarget],
      });
      for (const channel of this.channels.values()) channel.instanceConfigured(name);
    }
  }

  /** Routing instances come and go with config (BGP originates RTarget routes for them, docs/protocol.md §6.6). */
  onInstancesChange(listener: () => void): () => void {
    this.on('instances', listener);
    return () => this.off('instances', listener);
  }

  private onConfigChange(): void {
    this.configGeneration++;
    this.syncInstances();
    this.emit('instances');
    for (const channel of this.channels.values()) if (channel.configSubscribed) this.pushConfig(channel);
  }

  private pushConfig(channel: AgentChannel): void {
    const config = agentConfigFor(channel.name, this.options.config.view(), this.options.globals, this.configGeneration);
    const fingerprint = JSON.stringify({ ...config, generation: 0 });
    if (this.configSent.get(channel) === fingerprint) return;
    this.configSent.set(channel, fingerprint);
    channel.session.send(encodeAgentConfig(channel.name, config));
  }

  // ---- XMPP sessions (ChannelHost) ----

  private onSession(session: XmppServerSession): void {
    const channel = new AgentChannel(session, this);
    this.channels.set(channel.name, channel);
    this.log(`agent ${channel.name} up from ${session.remoteAddress}`);
    this.gracefulRestart?.sessionUp(channel.name, session.remoteAddress);
    session.on('stanza', (raw: string, read?: ScannedAgentStanza) => channel.receive(raw, read));
    session.on('closed', (reason: string) => this.onSessionClosed(channel, reason));
    this.emit('agent-up', channel.name);
  }

  private onSessionClosed(channel: AgentChannel, reason: string): void {
    if (this.channels.get(channel.name) !== channel) return;
    this.channels.delete(channel.name);
    this.configSent.delete(channel);
    this.endOfRib.forget(channel);
    // docs/protocol.md §6.7: with the GR helper the paths stay as stale; without it every path of the agent goes at once.
    if (this.gracefulRestart?.sessionDown(channel.name, channel.session.remoteAddress) !== true) this.rib.removePeer(channel.name);
    this.log(`agent ${channel.name} down: ${reason}`, 'warn');
    this.emit('agent-down', channel.name, reason);
  }

  instanceNetwork(instance: string): { name: string; vnIndex: number } | undefined {
    const config = this.rib.instanceConfig(instance);
    if (config === undefined) return undefined;
    // One object per configuration, not per received route (a configuration is replaced, never changed).
    if (this.lastNetwork.config !== config) this.lastNetwork = { config, network: { name: config.virtualNetwork, vnIndex: config.vnIndex } };
    return this.lastNetwork.network;
  }


  addPath(instance: string, path: PathInput): void {
    this.rib.addPath(instance, path);
    this.gracefulRestart?.published(path.peer.name, instance, path);
  }

  removePath(instance: string, peer: PeerRef, prefix: string): void {
    this.rib.removePath(instance, prefix, peer.name);
    this.gracefulRestart?.withdrawn(peer.name, instance, prefix);
  }

  removePeerPaths(peer: PeerRef, instance?: string): void {
    if (instance === undefined) {
      this.rib.removePeer(peer.name);
      return;
    }
    this.gracefulRestart?.instanceDropped(peer.name, instance);
    if (!this.rib.instance(instance)) return;
    this.rib.batch(() => {
      for (const route of this.rib.routes(instanceTableName(instance))) {
        if (route.paths.some((p) => p.peer.name === peer.name && p.replicatedFrom === undefined)) {
          this.rib.removePath(instance, route.prefix, peer.name);
        }
      }
    });
  }

  walkInstance(channel: AgentChannel, instance: string): void {
    this.reflection.walk(channel, instance);
    this.scheduleEndOfRib(channel);
  }

  subscribeConfig(channel: AgentChannel): void {
    this.configSent.delete(channel);
    this.pushConfig(channel);
  }

  /** docs/protocol.md §3.4: the agent has re-published everything. */
  agentEndOfRib(channel: AgentChannel): void {
    this.endOfRib.agentEndOfRib(channel.name);
    this.gracefulRestart?.agentEndOfRib(channel.name);
  }

  /** Routes reflected to a channel still waiting for End-of-RIB restart its quiet time. */
  private noteActivity(changes: readonly RouteChange[]): void {
    // Per instance, not per waiting channel: the scheduler applies it to the instance's subscribers.
    let last: string | undefined;
    for (const c of changes) {
      if (c.instance === undefined || c.instance === last) continue;
      last = c.instance;
      this.endOfRib.groupActivity(c.instance);
    }
  }

  private scheduleEndOfRib(channel: AgentChannel): void {
    if (!channel.endOfRibSent) this.endOfRib.activity(channel);
  }

  private sendEndOfRib(channel: AgentChannel): boolean {
    if (this.channels.get(channel.name) !== channel || channel.endOfRibSent) return true;
    // Routes still queued for reflection go out before the marker; routes held back for a full socket
    // too, so the marker waits for the socket to drain.
    this.reflection.flush();
    if (this.reflection.isHeld(channel)) return false;
    channel.endOfRibSent = true;
    channel.session.send(encodeEndOfRib({ from: CONTROL_NODE_JID, to: `${channel.name}/bgp-peer` }));
    return true;
  }

  private *subscribers(instance: string): Iterable<AgentChannel> {
    for (const channel of this.channels.values()) if (channel.isSubscribed(instance)) yield channel;
  }

  // ---- introspection ----

  agentChannels(): AgentChannel[] {
    return [...this.channels.values()];
  }

  status(): ControlNodeStatus {
    return {
      name: this.name,
      kind: 'control-node',
      address: this.address,
      asn: this.asn,
      routerId: this.routerId,
      xmpp: this.xmppEndpoint,
      configGeneration: this.configGeneration,
      agents: this.agentChannels().map((c) => ({
        name: c.name,
        address: c.session.remoteAddress,
        establishedAt: c.session.establishedAt.toISOString(),
        subscriptions: [...c.subscriptions].map(([instance, s]) => ({ instance, instanceId: s.instanceId })),
        configSubscribed: c.configSubscribed,
        endOfRibSent: c.endOfRibSent,
        counters: { ...c.counters },
        stats: c.session.stats(),
      })),
      reflection: { ...this.reflection.counters },
      endOfRib: this.endOfRib.status(),
      gracefulRestart: this.gracefulRestart ? { helper: true, agents: this.gracefulRestart.status(), counters: { ...this.gracefulRestart.counters } } : { helper: false },
      peers: this.rib.peerPathCounts(),
    };
  }
}

export interface ControlNodeStatus {
  name: string;
  kind: 'control-node';
  address: string;
  asn: number;
  routerId: string;
  xmpp: { address: string; port: number } | null;
  configGeneration: number;
  agents: {
    name: string;
    address: string;
    establishedAt: string;
    subscriptions: { instance: string; instanceId: number }[];
    configSubscribed: boolean;
    endOfRibSent: boolean;
    counters: AgentChannel['counters'];
    stats: ReturnType<XmppServerSession['stats']>;
  }[];
  reflection: RouteReflection['counters'];
  endOfRib: EndOfRibStatus;
  gracefulRestart: { helper: false } | { helper: true; agents: AgentGracefulRestartStatus[]; counters: AgentGracefulRestart['counters'] };
  peers: ReturnType<Rib['peerPathCounts']>;
}
