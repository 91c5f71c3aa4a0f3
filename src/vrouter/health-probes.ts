// The agent's service-health-check probes (docs/protocol.md §7.2 last paragraph): one probe per (local VMI,
// check) of the config, the simulated workloads' answers, and whether each VMI is L3-active. Owns the timers
// and counters; what an L3-inactive VMI means for the published routes is the plan's (./agent-plan.ts), and
// re-planning on a change is the agent's (it gets `onTransition`). The counting rules are HealthCheckState's.
import type { AgentConfig, ConfigHealthCheck } from '../xmpp/config-stanza.ts';
import { HealthCheckState } from '../lbaas/health-check-state.ts';

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

/** One service-health-check probing one local VMI. */
interface HealthProbe {
  vmi: string;
  check: ConfigHealthCheck;
  state: HealthCheckState;
  interval: NodeJS.Timeout;
  /** Probes to an unhealthy workload, failing when their timeout is up. */
  pending: Set<NodeJS.Timeout>;
}

export interface HealthProbesOptions {
  /** Check delays and timeouts are seconds; one second lasts this many real seconds. */
  timeScale: number;
  /** A VMI went L3-inactive (or active again) because of `check`'s last answer. */
  onTransition(vmi: string, active: boolean, check: string, failuresInRow: number): void;
}

const probeKey = (vmi: string, check: string): string => `${vmi}\u0000${check}`;

export class HealthProbes {
  /** `<vmi>\u0000<check>` → its probe. */
  private readonly probes = new Map<string, HealthProbe>();
  /** Simulated workload health, by VMI name; absent means healthy. */
  private readonly unhealthy = new Set<string>();

  constructor(private readonly options: HealthProbesOptions) {}

  /** A VMI without a health check is always active; with checks, while none of them has failed it out. */
  l3Active(vmi: string): boolean {
    for (const probe of this.probesOf(vmi)) if (!probe.state.active) return false;
    return true;
  }

  /** The VMIs some check currently holds L3-inactive. */
  l3Inactive(): Set<string> {
    const out = new Set<string>();
    for (const probe of this.probes.values()) if (!probe.state.active) out.add(probe.vmi);
    return out;
  }

  /** The VMIs with at least one probe, in probe order. */
  probedVmis(): string[] {
    return [...new Set([...this.probes.values()].map((p) => p.vmi))];
  }

  private probesOf(vmi: string): HealthProbe[] {
    return [...this.probes.values()].filter((probe) => probe.vmi === vmi);
  }

  /** Starts a probe per (local VMI, check) of the config, restarts those whose timing changed, stops the rest. */
  reconcile(config: AgentConfig): void {
    const checks = new Map(config.healthChecks.map((check) => [check.name, check]));
    const wanted = new Map<string, { vmi: string; check: ConfigHealthCheck }>();
    for (const vmi of config.interfaces) {
      for (const name of vmi.healthChecks ?? []) {
        const check = checks.get(name);
        if (check) wanted.set(probeKey(vmi.name, name), { vmi: vmi.name, check });
      }
    }
    for (const key of [...this.probes.keys()]) if (!wanted.has(key)) this.stop(key);
    for (const [key, { vmi, check }] of wanted) {
      const probe = this.probes.get(key);
      if (!probe) {
        this.start(key, vmi, check, new HealthCheckState(check.maxRetries));
        continue;
      }
      if (probe.check.delay !== check.delay || probe.check.timeout !== check.timeout) {
        // the counters survive a retiming: a failing workload stays out while its monitor is edited
        this.stop(key);
        this.start(key, vmi, check, probe.state);
      } else {
        probe.check = check;
      }
      probe.state.setMaxRetries(check.maxRetries);
    }
  }

  stopAll(): void {
    for (const key of [...this.probes.keys()]) this.stop(key);
  }

  private start(key: string, vmi: string, check: ConfigHealthCheck, state: HealthCheckState): void {
    const probe: HealthProbe = {
      vmi,
      check,
      state,
      interval: setInterval(() => this.send(key), check.delay * 1000 * this.options.timeScale),
      pending: new Set(),
    };
    probe.interval.unref();
    this.probes.set(key, probe);
  }

  private stop(key: string): void {
    const probe = this.probes.get(key);
    if (!probe) return;
    clearInterval(probe.interval);
    for (const timer of probe.pending) clearTimeout(timer);
    this.probes.delete(key);
  }

  /** A healthy workload answers at once; an unhealthy one does not, and the probe fails at its timeout. */
  private send(key: string): void {
    const probe = this.probes.get(key);
    if (!probe) return;
    probe.state.probeSent();
    if (!this.unhealthy.has(probe.vmi)) {
      this.recordAnswer(probe, true);
      return;
    }
    const timer = setTimeout(() => {
      probe.pending.delete(timer);
      if (this.probes.get(key) === probe) this.recordAnswer(probe, false);
    }, probe.check.timeout * 1000 * this.options.timeScale);
    timer.unref();
    probe.pending.add(timer);
  }

  private recordAnswer(probe: HealthProbe, ok: boolean): void {
    const wasActive = this.l3Active(probe.vmi);
    probe.state.answer(ok);
    const active = this.l3Active(probe.vmi);
    if (active !== wasActive) this.options.onTransition(probe.vmi, active, probe.check.name, probe.state.failuresInRow);
  }

  /** Sets what a local workload answers to probes (the simulator's stand-in for a VM that stops serving). */
  setWorkloadHealth(vmi: string, healthy: boolean): WorkloadHealth {
    if (healthy) this.unhealthy.delete(vmi);
    else this.unhealthy.add(vmi);
    return this.workloadHealth(vmi);
  }

  workloadHealth(vmi: string): WorkloadHealth {
    const probes = this.probesOf(vmi);
    return {
      workload: vmi,
      healthy: !this.unhealthy.has(vmi),
      l3Active: this.l3Active(vmi),
      probesSent: probes.reduce((n, p) => n + p.state.probesSent, 0),
      failuresInRow: probes.reduce((n, p) => Math.max(n, p.state.failuresInRow), 0),
      checks: probes.map((p) => ({
        name: p.check.name,
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
}
