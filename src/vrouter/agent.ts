// The vRouter agent: one per compute. It talks XMPP to at most two control nodes (§7.3), takes its
// config from them (our /config channel), allocates labels and VRF indexes (§7.1), publishes the routes of
// its local interfaces and of the floating-ips attached to them (§7.2: once per compute, through a
// local-ECMP composite when several local VMIs share a floating-ip), and programs what the control nodes
// reflect back into its vRouter (§7.3). It probes the VMIs that have a service-health-check and withdraws
// every route of a VMI whose check fails (§7.2 last paragraph). The data plane itself lives in ./vrouter.ts.
import { EventEmitter } from 'node:events';
import { XmppAgentClient } from '../xmpp/agent-client.ts';
import {
  CONTROL_NODE_JID,
  decodeControlStanza,
  encodeEndOfRib,
  encodeRoutePublish,
  encodeSubscribe,
  encodeUnsubscribe,
  isStanzaError,
} from '../xmpp/stanza-codec.ts';
import type { LoadBalanceField, XmppRouteEntry } from '../xmpp/route-entry.ts';
import {
  decodeAgentConfig,
  encodeConfigSubscribe,
  ConfigDecodeError,
  type AgentConfig,
  type ConfigHashField,
  type ConfigHealthCheck,
} from '../xmpp/config-stanza.ts';
import { HealthCheckState } from '../lbaas/health-check-state.ts';
import type { StanzaTap } from '../inspect/stanza-tap.ts';
import { Vrouter, type HashField, type LocalInterfaceSpec, type RemoteNextHop, type Underlay } from './vrouter.ts';
import { labelAllocator, vrfIndexAllocator } from './agent-ids.ts';

/** §7.3: the agent keeps sessions to at most two control nodes (MAX_XMPP_SERVERS). */
export const MAX_CONTROL_NODES = 2;
/** §7.3: the agent installs at most 128 ECMP members. */
export const MAX_ECMP_MEMBERS = 128;
/** §7.2: a member whose VM has sent traffic advertises LOCAL_PREF HIGH; the simulator marks every member so. */
const LOCAL_PREF_HIGH = 200;

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
  tap?: StanzaTap;
  log?: (line: string) => void;
  /** Routes learned from a control node that went away are swept this long after it is back, if its EoR has not come. */
  staleSweepMs?: number;
  /**
   * Health-check delay and timeout are seconds (as in Contrail); one second lasts this many real seconds.
   * Default 1; tests use e.g. 0.02 to probe every 20 ms.
   */
  healthCheckTimeScale?: number;
}

/** One service-health-check probing one local VMI. */
interface HealthProbe {
  check: ConfigHealthCheck;
  state: HealthCheckState;
  interval: NodeJS.Timeout;
  /** Probes to an unhealthy workload, failing when their timeout is up. */
  pending: Set<NodeJS.Timeout>;
}

/** A local workload's health as the agent sees it (GET/POST …/workloads/<name>/health). */
export interface WorkloadHealth {
  workload: string;
  /** The simulated workload's own health: what a probe gets as its answer. */
  healthy: boolean;
  /** false once a check has failed max-retries times in a row: all the VMI's routes are withdrawn. */
  l3Active: boolean;
  probesSent: number;
  /** The longest current run of failed probes over its checks. */
  failuresInRow: number;
  checks: {
    name: string;
    monitorType: ConfigHealthCheck['monitorType'];
    delay: number;
    timeout: number;
    maxRetries: number;
    urlPath?: string;
    probesSent: number;
    failuresInRow: number;
    active: boolean;
  }[];
}

/** §7.2: the local-ECMP composite of the VMIs on this compute that share one floating-ip. */
interface PlannedComposite {
  label: number;
  instance: string;
  prefix: string;
  interfaces: string[];
}

interface ExportedRoute {
  instance: string;
  prefix: string;
  label: number;
  virtualNetwork: string;
  loadBalanceFields: LoadBalanceField[];
}

/** One XMPP session to a control node and what the agent has told it and learned from it. */
interface ControlChannel {
  endpoint: ControlNodeEndpoint;
  client: XmppAgentClient;
  established: boolean;
  /** instance → instance-id subscribed on this session. */
  subscribed: Map<string, number>;
  /** route key → fingerprint of what was published, so a re-sync only sends changes. */
  published: Map<string, string>;
  /** What the current session has told us, per VRF and prefix. */
  received: Map<string, Map<string, XmppRouteEntry>>;
  /** What earlier sessions told us; kept until this session's End-of-RIB (§7.3: old-sequence paths are swept then). */
  staleEntries: Map<string, Map<string, XmppRouteEntry>>;
  /** The current session has sent its End-of-RIB: its table is complete. */
  synced: boolean;
  config: AgentConfig | null;
  endOfRibSent: boolean;
  sweepTimer: NodeJS.Timeout | null;
}

const routeKey = (instance: string, prefix: string): string => `${instance}\u0000${prefix}`;
const splitKey = (key: string): [string, string] => key.split('\u0000') as [string, string];
const probeKey = (vmi: string, check: string): string => `${vmi}\u0000${check}`;

const HASH_TO_LOAD_BALANCE: Record<ConfigHashField, LoadBalanceField> = {
  'source-ip': 'l3-source-address',
  'destination-ip': 'l3-destination-address',
  'ip-protocol': 'l4-protocol',
  'source-port': 'l4-source-port',
  'destination-port': 'l4-destination-port',
};
const LOAD_BALANCE_TO_HASH = Object.fromEntries(
  Object.entries(HASH_TO_LOAD_BALANCE).map(([hash, lb]) => [lb, hash]),
) as Record<LoadBalanceField, HashField>;

/** §5: the load-balance field list is sent only when not all five fields are on. */
function loadBalanceFieldsOf(fields: ConfigHashField[] | undefined): LoadBalanceField[] {
  if (!fields || fields.length === 5) return [];
  return fields.map((f) => HASH_TO_LOAD_BALANCE[f]);
}

/** A stable, locally administered MAC for the compute's vhost0, derived from its address. */
export function vhostMac(address: string): string {
  const bytes = address.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '00', ...bytes].join(':');
}

export class VrouterAgent extends EventEmitter {
  readonly name: string;
  readonly address: string;
  readonly vrouter: Vrouter;
  private readonly mac: string;
  private readonly channels: ControlChannel[];
  private readonly labels = labelAllocator();
  private readonly vrfIndexes = vrfIndexAllocator();
  private readonly log: (line: string) => void;
  private readonly staleSweepMs: number;
  private config: AgentConfig | null = null;
  private exports = new Map<string, ExportedRoute>();
  /** `fip:<name>` → the composite programmed for a floating-ip with several local VMIs. */
  private composites = new Map<string, PlannedComposite>();
  /**
   * Composites no longer advertised but still named by a control node's item (it has not reflected our
   * re-publish yet): they keep forwarding to the remaining VMIs so that no flow moves in between.
   */
  private retiring = new Map<string, PlannedComposite>();
  /** instance → VN fq-name, for every VRF this compute needs. */
  private instances = new Map<string, string>();
  private maglevPrefixes = new Set<string>();
  /** `<vmi>\u0000<check>` → its probe. */
  private probes = new Map<string, HealthProbe>();
  /** Simulated workload health, by VMI name; absent means healthy. */
  private unhealthy = new Set<string>();
  private readonly healthCheckTimeScale: number;
  private started = false;

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
    this.healthCheckTimeScale = options.healthCheckTimeScale ?? 1;
    if (!(this.healthCheckTimeScale > 0) || !Number.isFinite(this.healthCheckTimeScale)) {
      throw new Error(`agent ${options.name}: healthCheckTimeScale must be a positive number, got ${options.healthCheckTimeScale}`);
    }
    this.vrouter = new Vrouter({
      name: options.name,
      routerId: options.address,
      underlay: options.underlay,
      flowTableSize: options.flowTableSize,
    });
    this.channels = options.controlNodes.map((endpoint) => this.makeChannel(endpoint));
  }

  private makeChannel(endpoint: ControlNodeEndpoint): ControlChannel {
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
    });
    const channel: ControlChannel = {
      endpoint,
      client,
      established: false,
      subscribed: new Map(),
      published: new Map(),
      received: new Map(),
      staleEntries: new Map(),
      synced: false,
      config: null,
      endOfRibSent: false,
      sweepTimer: null,
    };
    client.on('established', () => this.onEstablished(channel));
    client.on('disconnected', (reason: string) => this.onDisconnected(channel, reason));
    client.on('stanza', (raw: string) => this.onStanza(channel, raw));
    return channel;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.channels) c.client.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const key of [...this.probes.keys()]) this.stopProbe(key);
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
    channel.subscribed.clear();
    channel.published.clear();
    channel.endOfRibSent = false;
    channel.synced = false;
    // Everything learned on the previous session stays in force until this session's End-of-RIB.
    this.ageReceived(channel);
    if (channel.staleEntries.size > 0) {
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
    // §7.3: paths learned from a lost control node are kept; the other one's copy keeps forwarding.
    this.ageReceived(channel);
    for (const key of this.keysOf(channel.staleEntries)) this.refresh(...splitKey(key));
    this.log(`${this.name}: session to ${channel.endpoint.name} lost (${reason})`);
    if (channel.config && this.configChannel() !== channel) this.adoptConfig();
    this.emit('disconnected', channel.endpoint.name, reason);
  }

  private onStanza(channel: ControlChannel, raw: string): void {
    const stanza = decodeControlStanza(raw);
    if (isStanzaError(stanza)) {
      this.log(`${this.name}: dropped a stanza from ${channel.endpoint.name}: ${stanza.error}`);
      return;
    }
    switch (stanza.kind) {
      case 'items':
        for (const entry of stanza.entries) this.learn(channel, stanza.instance, entry);
        break;
      case 'retract':
        for (const prefix of stanza.prefixes) this.unlearn(channel, stanza.instance, prefix);
        break;
      case 'end-of-rib':
        this.sweepStale(channel);
        break;
      case 'other':
        if (stanza.resource === 'config') this.onConfig(channel, stanza.element);
        break;
    }
  }

  private onConfig(channel: ControlChannel, element: Parameters<typeof decodeAgentConfig>[0]): void {
    let config: AgentConfig;
    try {
      config = decodeAgentConfig(element);
    } catch (e) {
      const why = e instanceof ConfigDecodeError ? e.message : String(e);
      this.log(`${this.name}: ignored config from ${channel.endpoint.name}: ${why}`);
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
    this.reconcileProbes(config);
    this.program(config);
    this.emit('config', config.generation);
  }

  /** Interfaces, VRFs, composites and exports from the config, leaving out the routes of L3-inactive VMIs. */
  private program(config: AgentConfig): void {
    const networks = new Map(config.networks.map((n) => [n.name, n]));
    const instances = new Map<string, string>();
    const exports = new Map<string, ExportedRoute>();
    const interfaces: LocalInterfaceSpec[] = [];
    const liveInterfaces = new Set(config.interfaces.map((i) => i.name));

    for (const vmi of config.interfaces) {
      const network = networks.get(vmi.network);
      if (!network) {
        this.log(`${this.name}: interface ${vmi.name} names unknown network ${vmi.network}; skipped`);
        continue;
      }
      const label = this.labels.acquire(`vmi:${vmi.name}`);
      instances.set(network.routingInstance, network.name);
      const prefix = `${vmi.address}/32`;
      const lbFields = loadBalanceFieldsOf(vmi.hashFields ?? network.hashFields);
      if (this.l3Active(vmi.name)) {
        exports.set(routeKey(network.routingInstance, prefix), {
          instance: network.routingInstance,
          prefix,
          label,
          virtualNetwork: network.name,
          loadBalanceFields: lbFields,
        });
      }
      const floatingIps = config.floatingIps
        .filter((f) => f.interfaces.includes(vmi.name) && networks.has(f.network))
        .map((f) => ({
          address: f.address,
          vrf: networks.get(f.network)!.routingInstance,
          virtualNetwork: f.network,
          portMappingsEnable: f.portMappingsEnable,
          portMappings: f.portMappings.map((m) => ({ protocol: m.protocol, srcPort: m.srcPort, dstPort: m.dstPort })),
          direction: f.direction,
        }));
      interfaces.push({
        name: vmi.name,
        vrf: network.routingInstance,
        ip: vmi.address,
        mac: vmi.mac,
        label,
        virtualNetwork: network.name,
        hashFields: vmi.hashFields ?? network.hashFields,
        floatingIps,
      });
    }

    // §7.2: the VIP/32 is published once per compute, in the FIP's network: with the member's label when
    // one local VMI has the floating-ip, with the label of a local composite of them when several do.
    const composites = new Map<string, PlannedComposite>();
    const localMembers = new Map<string, string[]>();
    for (const fip of config.floatingIps) {
      const local = fip.interfaces.filter((name) => liveInterfaces.has(name) && this.l3Active(name)).sort();
      const network = networks.get(fip.network);
      if (local.length === 0 || !network) continue;
      const vmi = config.interfaces.find((i) => i.name === local[0])!;
      instances.set(network.routingInstance, network.name);
      const prefix = `${fip.address}/32`;
      const compositeKey = `fip:${fip.name}`;
      localMembers.set(compositeKey, local);
      let label: number;
      if (local.length > 1) {
        label = this.labels.acquire(compositeKey);
        composites.set(compositeKey, { label, instance: network.routingInstance, prefix, interfaces: local });
      } else {
        label = this.labels.acquire(`vmi:${vmi.name}`);
      }
      exports.set(routeKey(network.routingInstance, prefix), {
        instance: network.routingInstance,
        prefix,
        label,
        virtualNetwork: network.name,
        loadBalanceFields: loadBalanceFieldsOf(vmi.hashFields ?? network.hashFields),
      });
    }

    this.maglevPrefixes = new Set(config.floatingIps.filter((f) => f.maglev).map((f) => `${f.address}/32`));
    this.vrouter.setHashFields(config.hashFields, new Map(config.networks.filter((n) => n.hashFields).map((n) => [n.name, n.hashFields!])));
    for (const spec of interfaces) this.vrouter.upsertInterface(spec);
    // programmed before the VIP is published with their labels, so that the reflected item resolves
    this.programComposites(composites, localMembers);

    const removedInterfaces = this.vrouter.interfaceNames().filter((n) => !liveInterfaces.has(n));
    this.instances = instances;
    this.exports = exports;
    for (const c of this.channels) if (c.established) this.sync(c);
    for (const name of removedInterfaces) {
      this.vrouter.removeInterface(name);
      this.labels.release(`vmi:${name}`);
    }
    this.retireUnreferencedComposites();
    for (const [key] of this.vrfIndexes.entries()) {
      if (!instances.has(key)) this.vrfIndexes.release(key);
    }
  }

  // ---- service-health-checks (§7.2 last paragraph) ----

  /** A VMI without a health check is always active; with checks, while none of them has failed it out. */
  private l3Active(vmi: string): boolean {
    for (const probe of this.probesOf(vmi)) if (!probe.state.active) return false;
    return true;
  }

  private probesOf(vmi: string): HealthProbe[] {
    return [...this.probes].filter(([key]) => splitKey(key)[0] === vmi).map(([, probe]) => probe);
  }

  /** Starts a probe per (local VMI, check) of the config, restarts those whose timing changed, stops the rest. */
  private reconcileProbes(config: AgentConfig): void {
    const checks = new Map(config.healthChecks.map((check) => [check.name, check]));
    const wanted = new Map<string, ConfigHealthCheck>();
    for (const vmi of config.interfaces) {
      for (const name of vmi.healthChecks ?? []) {
        const check = checks.get(name);
        if (check) wanted.set(probeKey(vmi.name, name), check);
      }
    }
    for (const key of [...this.probes.keys()]) if (!wanted.has(key)) this.stopProbe(key);
    for (const [key, check] of wanted) {
      const probe = this.probes.get(key);
      if (!probe) {
        this.startProbe(key, check, new HealthCheckState(check.maxRetries));
        continue;
      }
      if (probe.check.delay !== check.delay || probe.check.timeout !== check.timeout) {
        // the counters survive a retiming: a failing workload stays out while its monitor is edited
        this.stopProbe(key);
        this.startProbe(key, check, probe.state);
      } else {
        probe.check = check;
      }
      probe.state.setMaxRetries(check.maxRetries);
    }
  }

  private startProbe(key: string, check: ConfigHealthCheck, state: HealthCheckState): void {
    const probe: HealthProbe = {
      check,
      state,
      interval: setInterval(() => this.sendProbe(key), check.delay * 1000 * this.healthCheckTimeScale),
      pending: new Set(),
    };
    probe.interval.unref();
    this.probes.set(key, probe);
  }

  private stopProbe(key: string): void {
    const probe = this.probes.get(key);
    if (!probe) return;
    clearInterval(probe.interval);
    for (const timer of probe.pending) clearTimeout(timer);
    this.probes.delete(key);
  }

  /** A healthy workload answers at once; an unhealthy one does not, and the probe fails at its timeout. */
  private sendProbe(key: string): void {
    const probe = this.probes.get(key);
    if (!probe) return;
    const [vmi] = splitKey(key);
    probe.state.probeSent();
    if (!this.unhealthy.has(vmi)) {
      this.recordAnswer(vmi, probe, true);
      return;
    }
    const timer = setTimeout(() => {
      probe.pending.delete(timer);
      if (this.probes.get(key) === probe) this.recordAnswer(vmi, probe, false);
    }, probe.check.timeout * 1000 * this.healthCheckTimeScale);
    timer.unref();
    probe.pending.add(timer);
  }

  private recordAnswer(vmi: string, probe: HealthProbe, ok: boolean): void {
    const wasActive = this.l3Active(vmi);
    probe.state.answer(ok);
    const active = this.l3Active(vmi);
    if (active === wasActive || !this.config) return;
    this.log(`${this.name}: ${vmi} is L3-${active ? 'active again' : `inactive (${probe.check.name}: ${probe.state.failuresInRow} failed probes)`}`);
    this.program(this.config);
    this.emit('health', vmi, active);
  }

  /** Sets what a local workload answers to probes (the simulator's stand-in for a VM that stops serving). */
  setWorkloadHealth(vmi: string, healthy: boolean): WorkloadHealth {
    if (healthy) this.unhealthy.delete(vmi);
    else this.unhealthy.add(vmi);
    return this.workloadHealth(vmi);
  }

  workloadHealth(vmi: string): WorkloadHealth {
    const probes = [...this.probes].filter(([key]) => splitKey(key)[0] === vmi).map(([key, probe]) => [splitKey(key)[1], probe] as const);
    return {
      workload: vmi,
      healthy: !this.unhealthy.has(vmi),
      l3Active: this.l3Active(vmi),
      probesSent: probes.reduce((n, [, p]) => n + p.state.probesSent, 0),
      failuresInRow: probes.reduce((n, [, p]) => Math.max(n, p.state.failuresInRow), 0),
      checks: probes.map(([name, p]) => ({
        name,
        monitorType: p.check.monitorType,
        delay: p.check.delay,
        timeout: p.check.timeout,
        maxRetries: p.check.maxRetries,
        ...(p.check.urlPath === undefined ? {} : { urlPath: p.check.urlPath }),
        probesSent: p.state.probesSent,
        failuresInRow: p.state.failuresInRow,
        active: p.state.active,
      })),
    };
  }

  /** Whether the current config has this local VMI. */
  hasInterface(vmi: string): boolean {
    return this.config?.interfaces.some((i) => i.name === vmi) ?? false;
  }

  /**
   * Installs the planned composites; one that is no longer planned keeps its label and forwards to the
   * floating-ip's remaining local VMIs until no control-node item names it (retireUnreferencedComposites).
   */
  private programComposites(planned: Map<string, PlannedComposite>, localMembers: Map<string, string[]>): void {
    for (const [key, c] of planned) {
      const result = this.vrouter.setLocalComposite(c.label, c.instance, c.prefix, c.interfaces);
      if (!result.ok) this.log(`${this.name}: local composite for ${c.prefix} (label ${c.label}) not programmed: ${result.error}`);
      this.retiring.delete(key);
    }
    for (const [key, c] of [...this.composites, ...this.retiring]) {
      if (planned.has(key)) continue;
      const remaining = localMembers.get(key) ?? [];
      if (remaining.length === 0) {
        this.dropComposite(key, c);
        continue;
      }
      this.vrouter.setLocalComposite(c.label, c.instance, c.prefix, remaining);
      this.retiring.set(key, { ...c, interfaces: remaining });
    }
    this.composites = planned;
  }

  private dropComposite(key: string, c: PlannedComposite): void {
    this.vrouter.removeLocalComposite(c.label);
    this.labels.release(key);
    this.retiring.delete(key);
  }

  /** Removes the retiring composites whose label no control node's item (current or stale) still carries. */
  private retireUnreferencedComposites(): void {
    for (const [key, c] of this.retiring) {
      const named = this.channels.some((channel) => [channel.received, channel.staleEntries].some((tables) =>
        tables.get(c.instance)?.get(c.prefix)?.nextHops.some((nh) => nh.address === this.address && nh.label === c.label) === true));
      if (!named) this.dropComposite(key, c);
    }
  }

  /** Brings one control node up to date: subscribe before publishing, withdraw before unsubscribing (§3.1). */
  private sync(channel: ControlChannel): void {
    const send = (raw: string): void => {
      channel.client.send(raw);
    };
    for (const instance of this.instances.keys()) {
      if (channel.subscribed.has(instance)) continue;
      const instanceId = this.vrfIndexes.acquire(instance);
      send(encodeSubscribe({ from: this.name, instance, instanceId }));
      channel.subscribed.set(instance, instanceId);
    }
    for (const [key, route] of this.exports) {
      const fingerprint = `${route.label}|${route.virtualNetwork}|${route.loadBalanceFields.join(',')}`;
      if (channel.published.get(key) === fingerprint) continue;
      send(encodeRoutePublish({ from: this.name, instance: route.instance, entry: this.exportEntry(route), seq: this.nextSeq() }));
      channel.published.set(key, fingerprint);
    }
    for (const key of [...channel.published.keys()]) {
      if (this.exports.has(key)) continue;
      const [instance, prefix] = key.split('\u0000');
      const withdrawn: ExportedRoute = { instance, prefix, label: 0, virtualNetwork: '', loadBalanceFields: [] };
      send(encodeRoutePublish({ from: this.name, instance, entry: this.exportEntry(withdrawn), seq: this.nextSeq(), withdraw: true }));
      channel.published.delete(key);
    }
    for (const [instance, instanceId] of [...channel.subscribed]) {
      if (this.instances.has(instance)) continue;
      send(encodeUnsubscribe({ from: this.name, instance, instanceId }));
      channel.subscribed.delete(instance);
      const prefixes = new Set([...(channel.received.get(instance)?.keys() ?? []), ...(channel.staleEntries.get(instance)?.keys() ?? [])]);
      channel.received.delete(instance);
      channel.staleEntries.delete(instance);
      for (const prefix of prefixes) this.refresh(instance, prefix);
    }
    if (!channel.endOfRibSent) {
      send(encodeEndOfRib({ from: this.name, to: `${CONTROL_NODE_JID}/bgp-peer` }));
      channel.endOfRibSent = true;
    }
  }

  private seq = 0;
  private nextSeq(): number {
    return ++this.seq;
  }

  /** §3.2 / §7.2: next-hop = own address, the VMI's label, LOCAL_PREF 200, sequence 0. */
  private exportEntry(route: ExportedRoute): XmppRouteEntry {
    return {
      af: 1,
      safi: 1,
      prefix: route.prefix,
      nextHops: [
        {
          af: 1,
          address: this.address,
          mac: this.mac,
          label: route.label,
          vni: 0,
          encapsulations: route.label === 0 ? ['gre', 'udp', 'vxlan'] : ['gre', 'udp'],
          virtualNetwork: route.virtualNetwork,
          tags: [],
          localSequenceNumber: 0,
        },
      ],
      version: 1,
      virtualNetwork: '',
      mobility: { seqno: 0, sticky: false },
      sequenceNumber: 0,
      securityGroups: [],
      communityTags: [],
      localPreference: route.label === 0 ? 0 : LOCAL_PREF_HIGH,
      med: 0,
      loadBalance: { fields: route.loadBalanceFields, decision: 'field-hash' },
      subProtocol: 'interface',
    };
  }

  // ---- routes reflected by the control nodes → FIB ----

  private learn(channel: ControlChannel, instance: string, entry: XmppRouteEntry): void {
    let table = channel.received.get(instance);
    if (!table) channel.received.set(instance, (table = new Map()));
    table.set(entry.prefix, entry);
    this.refresh(instance, entry.prefix);
  }

  private unlearn(channel: ControlChannel, instance: string, prefix: string): void {
    channel.received.get(instance)?.delete(prefix);
    this.refresh(instance, prefix);
  }

  /** Moves what the channel's session told us into its stale table (merged with older stale entries). */
  private ageReceived(channel: ControlChannel): void {
    for (const [instance, table] of channel.received) {
      let stale = channel.staleEntries.get(instance);
      if (!stale) channel.staleEntries.set(instance, (stale = new Map()));
      for (const [prefix, entry] of table) stale.set(prefix, entry);
    }
    channel.received.clear();
  }

  private keysOf(tables: Map<string, Map<string, XmppRouteEntry>>): string[] {
    const keys: string[] = [];
    for (const [instance, table] of tables) for (const prefix of table.keys()) keys.push(routeKey(instance, prefix));
    return keys;
  }

  /** End-of-RIB (or the sweep timer): the session's table is complete, older entries go. */
  private sweepStale(channel: ControlChannel): void {
    if (channel.sweepTimer) clearTimeout(channel.sweepTimer);
    channel.sweepTimer = null;
    if (channel.established) channel.synced = true;
    const keys = this.keysOf(channel.staleEntries);
    channel.staleEntries.clear();
    for (const key of keys) this.refresh(...splitKey(key));
  }

  /**
   * What one channel contributes for a prefix and how much to trust it: a synced session's entry (0), a
   * session still re-learning its table (1: its older entry stays in force until End-of-RIB, so that a
   * control node coming back with a partial table does not shrink ECMP sets), a lost session's (2).
   */
  private channelEntry(channel: ControlChannel, instance: string, prefix: string): { rank: number; entry: XmppRouteEntry } | undefined {
    const fresh = channel.received.get(instance)?.get(prefix);
    const stale = channel.staleEntries.get(instance)?.get(prefix);
    if (channel.established && channel.synced) return fresh ? { rank: 0, entry: fresh } : undefined;
    const entry = stale ?? fresh;
    if (!entry) return undefined;
    return { rank: channel.established ? 1 : 2, entry };
  }

  /** The route the FIB uses: the most trusted channel's entry, control nodes in configured order on a tie. */
  private effectiveEntry(instance: string, prefix: string): XmppRouteEntry | undefined {
    let best: { rank: number; entry: XmppRouteEntry } | undefined;
    for (const channel of this.channels) {
      const candidate = this.channelEntry(channel, instance, prefix);
      if (candidate && (!best || candidate.rank < best.rank)) best = candidate;
    }
    return best?.entry;
  }

  private refresh(instance: string, prefix: string): void {
    const entry = this.effectiveEntry(instance, prefix);
    // §5: the agent ignores received next-hops with label 0.
    const nextHops: RemoteNextHop[] = (entry?.nextHops ?? [])
      .filter((nh) => nh.label !== 0)
      .slice(0, MAX_ECMP_MEMBERS)
      .map((nh) => ({ address: nh.address, label: nh.label, encapsulations: nh.encapsulations }));
    if (nextHops.length === 0) {
      this.vrouter.deleteRoute(instance, prefix);
    } else {
      const fields = entry!.loadBalance.fields;
      this.vrouter.setRoute(instance, prefix, nextHops, {
        loadBalanceFields: fields.length > 0 ? fields.map((f) => LOAD_BALANCE_TO_HASH[f]) : undefined,
        maglev: this.maglevPrefixes.has(prefix),
      });
    }
    if (this.retiring.size > 0) this.retireUnreferencedComposites();
    this.emit('route', instance, prefix);
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
        subscriptions: [...c.subscribed].map(([instance, instanceId]) => ({ instance, instanceId })),
        published: c.published.size,
        received: [...c.received.values()].reduce((n, t) => n + t.size, 0),
        stale: [...c.staleEntries.values()].reduce((n, t) => n + t.size, 0),
        synced: c.synced,
      })),
      labels: this.labels.entries().filter(([key]) => key.startsWith('vmi:')).map(([key, label]) => ({ interface: key.slice(4), label })),
      localComposites: [...[...this.composites].map(([key, c]) => [key, c, false] as const), ...[...this.retiring].map(([key, c]) => [key, c, true] as const)]
        .map(([key, c, retiring]) => ({ floatingIp: key.slice(4), instance: c.instance, prefix: c.prefix, label: c.label, interfaces: [...c.interfaces], retiring })),
      vrfs: [...this.instances].map(([instance, network]) => ({ instance, network, index: this.vrfIndexes.get(instance) ?? null })),
      exports: [...this.exports.values()].map((r) => ({ instance: r.instance, prefix: r.prefix, label: r.label })),
      health: [...new Set([...this.probes.keys()].map((key) => splitKey(key)[0]))].map((vmi) => this.workloadHealth(vmi)),
    };
  }

  /** The routes received from each control node, per VRF, as the agent holds them. */
  receivedRoutes(instance?: string): ReceivedRoute[] {
    const out: ReceivedRoute[] = [];
    for (const c of this.channels) {
      for (const [stale, tables] of [[false, c.received], [true, c.staleEntries]] as const) {
        for (const [vrf, table] of tables) {
          if (instance && vrf !== instance) continue;
          for (const [prefix, entry] of table) {
            out.push({
              controlNode: c.endpoint.name,
              instance: vrf,
              prefix,
              stale,
              nextHops: entry.nextHops.map((nh) => ({ address: nh.address, label: nh.label, encapsulations: nh.encapsulations })),
            });
          }
        }
      }
    }
    return out;
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
  /** §7.2: local-ECMP composites; a retiring one is no longer advertised but still named by a control node's item */
  localComposites: { floatingIp: string; instance: string; prefix: string; label: number; interfaces: string[]; retiring: boolean }[];
  vrfs: { instance: string; network: string; index: number | null }[];
  exports: { instance: string; prefix: string; label: number }[];
  /** The local VMIs a service-health-check probes. */
  health: WorkloadHealth[];
}

export interface ReceivedRoute {
  controlNode: string;
  instance: string;
  prefix: string;
  stale: boolean;
  nextHops: RemoteNextHop[];
}
