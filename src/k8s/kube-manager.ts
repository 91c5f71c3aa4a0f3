// kube-manager: what contrail-kube-manager does between the kube-apiserver and the config API. Each
// watch event goes into the object cache; the pod or service it touches is reconciled: desired config
// (desired-config.ts) against the config as it is (read through the ConfigClient), and only the
// difference is written: workloads for pods, a native load balancer with its listeners, pools and
// members for a service (docs/protocol.md §8.1). Events are handled one at a time in arrival order.
// It owns the per-object report; parsing is manifest-parser.ts, the transport config-client.ts.
import type { ConfigKind } from '../model/objects.ts';
import { ConfigWriteError, type ConfigClient } from './config-client.ts';
import { desiredLoadBalancer, desiredWorkload, loadBalancerName, workloadName, type ComputeRef, type Desired, type DesiredLoadBalancer, type DesiredWorkload } from './desired-config.ts';
import { SERVICE_NAME_LABEL, keyOf, type K8sObject } from './k8s-objects.ts';
import { podServicePolicy, sharedNetwork, type K8sSettings } from './k8s-settings.ts';
import type { ParsedEntry } from './manifest-parser.ts';
import { ObjectCache } from './object-cache.ts';

export type K8sAction = 'created' | 'updated' | 'deleted' | 'skipped' | 'error';

/** What happened to one Kubernetes object of a batch or stream. */
export interface ObjectResult {
  readonly at: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly action: K8sAction;
  /** Why it was skipped or refused. */
  readonly reason?: string;
  /** The malformed field, for a parse error. */
  readonly field?: string;
  /** Config writes it caused, e.g. `create loadbalancer-member ns-web-TCP-8888-pool:10.32.0.5:80`. */
  readonly config: readonly string[];
  readonly notes: readonly string[];
}

export interface K8sSummary {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly skipped: number;
  readonly error: number;
}

export function summarize(results: readonly ObjectResult[]): K8sSummary {
  const count = (action: K8sAction): number => results.filter((r) => r.action === action).length;
  return { created: count('created'), updated: count('updated'), deleted: count('deleted'), skipped: count('skipped'), error: count('error') };
}

/** A pod (its workload) or a service (its load balancer): what one event makes kube-manager reconcile. */
type Unit = { readonly kind: 'pod' | 'service'; readonly namespace: string; readonly name: string };

const unitKey = (unit: Unit): string => `${unit.kind}/${unit.namespace}/${unit.name}`;

/** Collects the writes and notes of one reconcile for the report. */
class Work {
  readonly config: string[] = [];
  readonly notes: string[] = [];
  constructor(private readonly client: ConfigClient) {}

  async create(kind: ConfigKind, name: string, spec: Record<string, unknown>): Promise<void> {
    await this.client.create(kind, { name, ...spec });
    this.config.push(`create ${kind} ${name}`);
  }

  async update(kind: ConfigKind, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.client.update(kind, name, patch);
    this.config.push(`update ${kind} ${name} ${JSON.stringify(patch)}`);
  }

  async delete(kind: ConfigKind, name: string, cascade = false): Promise<void> {
    await this.client.delete(kind, name, cascade);
    this.config.push(`delete ${kind} ${name}${cascade ? ' (cascade)' : ''}`);
  }
}

export interface KubeManagerOptions {
  readonly client: ConfigClient;
  readonly settings: K8sSettings;
  readonly computes: readonly ComputeRef[];
  readonly log?: (line: string) => void;
}

export class KubeManager {
  readonly cache = new ObjectCache();
  readonly settings: K8sSettings;
  readonly #client: ConfigClient;
  readonly #computes: readonly ComputeRef[];
  readonly #log: (line: string) => void;
  readonly #ownedLoadBalancers = new Set<string>();
  /** Units whose last reconcile was refused (an address still held by a pod not deleted yet …): retried after every change. */
  readonly #failed = new Map<string, Unit>();
  #networksReady = false;
  #queue: Promise<unknown> = Promise.resolve();
  #handled = 0;

  constructor(options: KubeManagerOptions) {
    this.#client = options.client;
    this.settings = options.settings;
    this.#computes = options.computes;
    this.#log = options.log ?? (() => {});
  }

  /** Applies entries in order, after any batch already in progress (one writer, as one watch loop). */
  apply(entries: readonly ParsedEntry[]): Promise<ObjectResult[]> {
    const run = this.#queue.then(async () => {
      const results: ObjectResult[] = [];
      for (const entry of entries) results.push(await this.#applyOne(entry));
      return results;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  status(): { objects: number; handled: number; loadBalancers: string[]; waiting: string[]; settings: K8sSettings } {
    return { objects: this.cache.size, handled: this.#handled, loadBalancers: [...this.#ownedLoadBalancers].sort(), waiting: [...this.#failed.keys()].sort(), settings: this.settings };
  }

  async #applyOne(entry: ParsedEntry): Promise<ObjectResult> {
    this.#handled++;
    if (!entry.ok) {
      const { problem } = entry;
      return {
        at: entry.at,
        kind: problem.kind,
        ...(problem.namespace ? { namespace: problem.namespace } : {}),
        ...(problem.name ? { name: problem.name } : {}),
        action: entry.skipped ? 'skipped' : 'error',
        reason: problem.reason,
        ...(problem.field ? { field: problem.field } : {}),
        config: [],
        notes: [],
      };
    }
    const object = entry.event.object;
    const base = { at: entry.at, kind: object.kind, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}), name: object.metadata.name };
    const outcome = this.cache.apply(entry.event);
    if (!outcome.changed) return { ...base, action: 'skipped', reason: outcome.why, config: [], notes: [] };
    const work = new Work(this.#client);
    try {
      await this.#ensureNetworks(work);
    } catch (e) {
      return { ...base, action: 'error', reason: `networks: ${messageOf(e)}`, config: work.config, notes: work.notes };
    }
    const units = this.#unitsOf(object);
    let skipReason: string | undefined;
    let error: string | undefined;
    for (const unit of units) {
      try {
        const why = await this.#reconcile(unit, work);
        this.#failed.delete(unitKey(unit));
        // The reason a pod or service itself is left out is the object's; for Endpoints it is a note.
        if (why !== undefined && ((unit.kind === 'pod' && object.kind === 'Pod') || (unit.kind === 'service' && object.kind === 'Service'))) skipReason = why;
        else if (why !== undefined) work.notes.push(`${unit.kind} ${unit.namespace}/${unit.name}: ${why}`);
      } catch (e) {
        if (!(e instanceof ConfigWriteError)) throw e;
        this.#failed.set(unitKey(unit), unit);
        error = `${unit.kind} ${unit.namespace}/${unit.name}: ${e.message}`;
      }
    }
    await this.#retryFailed(units, work);
    this.#log(`k8s ${outcome.op} ${keyOf(object)}${work.config.length > 0 ? `: ${work.config.join('; ')}` : ''}`);
    if (error !== undefined) return { ...base, action: 'error', reason: error, config: work.config, notes: work.notes };
    if (outcome.op === 'deleted') return { ...base, action: 'deleted', config: work.config, notes: work.notes };
    if (skipReason !== undefined) return { ...base, action: 'skipped', reason: skipReason, config: work.config, notes: work.notes };
    return { ...base, action: outcome.op === 'added' ? 'created' : 'updated', config: work.config, notes: work.notes };
  }

  async #retryFailed(done: readonly Unit[], work: Work): Promise<void> {
    for (const [key, unit] of [...this.#failed]) {
      if (done.some((u) => unitKey(u) === key)) continue;
      try {
        await this.#reconcile(unit, work);
        this.#failed.delete(key);
        work.notes.push(`retried ${unit.kind} ${unit.namespace}/${unit.name}: done`);
      } catch (e) {
        if (!(e instanceof ConfigWriteError)) throw e;
      }
    }
  }

  #unitsOf(object: K8sObject): Unit[] {
    switch (object.kind) {
      case 'Pod':
        return [{ kind: 'pod', namespace: object.metadata.namespace as string, name: object.metadata.name }];
      case 'Node':
        return this.cache
          .pods()
          .filter((pod) => pod.spec.nodeName === object.metadata.name)
          .map((pod) => ({ kind: 'pod' as const, namespace: pod.metadata.namespace as string, name: pod.metadata.name }));
      case 'Service':
      case 'Endpoints':
        return [{ kind: 'service', namespace: object.metadata.namespace as string, name: object.metadata.name }];
      case 'EndpointSlice': {
        const service = object.metadata.labels?.[SERVICE_NAME_LABEL];
        return service === undefined ? [] : [{ kind: 'service', namespace: object.metadata.namespace as string, name: service }];
      }
    }
  }

  /** The pod and service networks, created on first use unless the topology (or a user) made them. */
  async #ensureNetworks(work: Work): Promise<void> {
    if (this.#networksReady) return;
    const existing = new Set((await this.#client.list('virtual-network')).map((vn) => vn.name));
    const { podNetwork, serviceNetwork } = this.settings;
    const wanted = sharedNetwork(this.settings)
      ? [{ name: podNetwork.name, subnets: [...new Set([...podNetwork.subnets, ...serviceNetwork.subnets])] }]
      : [podNetwork, serviceNetwork];
    for (const network of wanted) if (!existing.has(network.name)) await work.create('virtual-network', network.name, { subnets: [...network.subnets] });
    // The policy that makes VIPs of the service network routes of the pod network's VRF, and back.
    const policy = podServicePolicy(this.settings);
    if (policy && !(await this.#client.list('network-policy')).some((p) => p.name === policy.name)) {
      await work.create('network-policy', policy.name, { networks: policy.networks, rules: policy.rules });
    }
    this.#networksReady = true;
  }

  /** Brings the config of one unit to what the cache wants; returns why there is nothing to want. */
  async #reconcile(unit: Unit, work: Work): Promise<string | undefined> {
    return unit.kind === 'pod' ? this.#reconcilePod(unit, work) : this.#reconcileService(unit, work);
  }

  async #reconcilePod(unit: Unit, work: Work): Promise<string | undefined> {
    const pod = this.cache.get('Pod', unit.namespace, unit.name);
    const desired: Desired<DesiredWorkload> =
      pod?.kind === 'Pod' ? desiredWorkload(pod, this.cache, this.settings, this.#computes) : { want: null, reason: 'deleted', notes: [] };
    work.notes.push(...desired.notes);
    const name = workloadName(unit.namespace, unit.name);
    const vmi = (await this.#client.list('virtual-machine-interface')).find((v) => v.name === name);
    const iips = (await this.#client.list('instance-ip')).filter((i) => i.virtualMachineInterface === name);
    const want = desired.want;
    const removeAll = async (): Promise<void> => {
      for (const iip of iips) await work.delete('instance-ip', iip.name);
      if (vmi) await work.delete('virtual-machine-interface', name);
    };
    if (want === null) {
      await removeAll();
      return desired.want === null ? desired.reason : undefined;
    }
    if (vmi && vmi.virtualNetwork !== want.network) {
      await removeAll();
      return this.#createWorkload(want, work);
    }
    if (!vmi) return this.#createWorkload(want, work);
    if (vmi.compute !== want.compute) await work.update('virtual-machine-interface', name, { compute: want.compute });
    const current = iips.find((i) => i.name === name);
    if (current?.address !== want.address) {
      if (current) await work.delete('instance-ip', current.name);
      await work.create('instance-ip', name, { virtualMachineInterface: name, address: want.address });
    }
    return undefined;
  }

  async #createWorkload(want: DesiredWorkload, work: Work): Promise<undefined> {
    await work.create('virtual-machine-interface', want.name, { virtualNetwork: want.network, compute: want.compute });
    try {
      await work.create('instance-ip', want.name, { virtualMachineInterface: want.name, address: want.address });
    } catch (e) {
      // No half-made workload: an interface without its address would be published with none.
      await this.#client.delete('virtual-machine-interface', want.name).catch(() => undefined);
      work.config.push(`delete virtual-machine-interface ${want.name} (its instance-ip was refused)`);
      throw e;
    }
    return undefined;
  }

  async #reconcileService(unit: Unit, work: Work): Promise<string | undefined> {
    const service = this.cache.service(unit.namespace, unit.name);
    const lbName = loadBalancerName(unit.namespace, unit.name);
    const desired: Desired<DesiredLoadBalancer> = service
      ? desiredLoadBalancer(service, this.cache, this.settings)
      : { want: null, reason: `Service ${unit.namespace}/${unit.name} is not known (yet): its endpoints are held until it arrives`, notes: [] };
    work.notes.push(...desired.notes);
    let lb = (await this.#client.list('loadbalancer')).find((candidate) => candidate.name === lbName);
    if (desired.want === null) {
      if (lb && this.#ownedLoadBalancers.has(lbName)) {
        await this.#reconcileExternalIp(lbName, undefined, work);
        await work.delete('loadbalancer', lbName, true);
        this.#ownedLoadBalancers.delete(lbName);
      }
      return desired.reason;
    }
    const want = desired.want;
    if (lb && !this.#ownedLoadBalancers.has(lbName)) work.notes.push(`loadbalancer ${lbName} already existed: kube-manager manages it from now on`);
    if (lb && (lb.vipAddress !== want.vip || lb.virtualNetwork !== want.network)) {
      work.notes.push(`VIP ${lb.virtualNetwork} ${lb.vipAddress} → ${want.network} ${want.vip}: the load balancer is made again`);
      await this.#reconcileExternalIp(lbName, undefined, work);
      await work.delete('loadbalancer', lbName, true);
      lb = undefined;
    }
    if (!lb) await work.create('loadbalancer', lbName, { provider: 'native', virtualNetwork: want.network, vipAddress: want.vip });
    this.#ownedLoadBalancers.add(lbName);
    const listeners = (await this.#client.list('loadbalancer-listener')).filter((l) => l.loadBalancer === lbName);
    for (const extra of listeners.filter((l) => !want.listeners.some((w) => w.name === l.name))) await work.delete('loadbalancer-listener', extra.name, true);
    const pools = await this.#client.list('loadbalancer-pool');
    const members = await this.#client.list('loadbalancer-member');
    for (const listener of want.listeners) {
      const existing = listeners.find((l) => l.name === listener.name);
      if (!existing) await work.create('loadbalancer-listener', listener.name, { loadBalancer: lbName, protocol: listener.protocol, port: listener.port });
      if (!pools.some((p) => p.name === listener.pool && p.listener === listener.name)) {
        await work.create('loadbalancer-pool', listener.pool, { listener: listener.name, method: 'ROUND_ROBIN' });
      }
      const current = members.filter((m) => m.pool === listener.pool);
      for (const stale of current.filter((m) => !listener.members.some((w) => w.address === m.address && w.port === m.port))) {
        await work.delete('loadbalancer-member', stale.name);
      }
      for (const member of listener.members.filter((w) => !current.some((m) => m.address === w.address && m.port === w.port))) {
        await work.create('loadbalancer-member', `${listener.pool}:${member.address}:${member.port}`, { pool: listener.pool, address: member.address, port: member.port });
      }
    }
    await this.#reconcileExternalIp(lbName, want.external, work);
    return undefined;
  }

  /**
   * A LoadBalancer service's external IP: a floating IP `<lb>-external` from the first floating-ip pool,
   * associated with the VIP's instance-ip, so the native driver carries it to every member (floating-IP
   * ECMP, docs/protocol.md §8.2). `wanted` undefined removes it (service gone or no longer LoadBalancer).
   */
  async #reconcileExternalIp(lbName: string, wanted: DesiredLoadBalancer['external'], work: Work): Promise<void> {
    const name = `${lbName}-external`;
    const current = (await this.#client.list('floating-ip')).find((fip) => fip.name === name);
    if (wanted === undefined) {
      if (current) await work.delete('floating-ip', name);
      return;
    }
    if (current && (wanted.address === undefined || current.address === wanted.address)) {
      work.notes.push(`external IP ${current.address} (floating-ip ${name} from pool ${current.pool})`);
      return;
    }
    const pool = (await this.#client.list('floating-ip-pool'))[0];
    if (!pool) {
      work.notes.push('LoadBalancer: no floating-ip pool exists, so no external IP is given (create one on the public network); the ClusterIP load balancer is made');
      return;
    }
    const lb = (await this.#client.list('loadbalancer')).find((candidate) => candidate.name === lbName);
    const vipIp = lb ? (await this.#client.list('instance-ip')).find((iip) => iip.virtualMachineInterface === lb.virtualMachineInterface) : undefined;
    if (!vipIp) {
      work.notes.push(`LoadBalancer: the VIP of ${lbName} has no instance-ip yet; no external IP`);
      return;
    }
    if (current) await work.delete('floating-ip', name);
    await work.create('floating-ip', name, { pool: pool.name, fixedInstanceIp: vipIp.name, ...(wanted.address === undefined ? {} : { address: wanted.address }) });
    const made = (await this.#client.list('floating-ip')).find((fip) => fip.name === name);
    work.notes.push(`external IP ${made?.address ?? wanted.address} (floating-ip ${name} from pool ${pool.name})`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
