/**
 * loadbalancer-healthmonitor: probe type, timers, retries and URL path, with neutron's defaults.
 * Does not own the service-health-checks derived from it (the reconcile hook, docs/protocol.md §8.2 step 5).
 */
import { randomUUID } from 'node:crypto';
import { FieldChecks } from '../field-checks.ts';
import { MONITOR_TYPES, type HealthMonitor, type MonitorType } from '../objects.ts';
import type { KindContext, KindRules } from './kind-context.ts';

export interface HealthMonitorSpec {
  name: string;
  type: MonitorType;
  delay?: number;
  timeout?: number;
  maxRetries?: number;
  urlPath?: string;
}

export const healthMonitorRules: KindRules<'loadbalancer-healthmonitor'> = {
  kind: 'loadbalancer-healthmonitor',
  refsOf: () => [],
};

function monitorFields(check: FieldChecks, name: string, spec: Partial<HealthMonitorSpec>, current: HealthMonitor | undefined): HealthMonitor {
  const type = spec.type === undefined && current ? current.type : check.oneOf(spec.type, MONITOR_TYPES, 'type');
  const urlPath = spec.urlPath === undefined ? current?.urlPath : check.text(spec.urlPath, 'urlPath');
  if (urlPath !== undefined && type !== 'HTTP' && type !== 'HTTPS') check.fail('urlPath', `applies only to HTTP and HTTPS monitors, not ${type}`);
  const delay = spec.delay === undefined ? (current?.delay ?? 5) : check.integer(spec.delay, 'delay', 1, 86400);
  const timeout = spec.timeout === undefined ? (current?.timeout ?? 5) : check.integer(spec.timeout, 'timeout', 1, 86400);
  const maxRetries = spec.maxRetries === undefined ? (current?.maxRetries ?? 3) : check.integer(spec.maxRetries, 'maxRetries', 1, 10);
  return { kind: 'loadbalancer-healthmonitor', uuid: current?.uuid ?? randomUUID(), name, type, delay, timeout, maxRetries, ...(urlPath ? { urlPath } : {}) };
}

export function createHealthMonitor(context: KindContext, spec: HealthMonitorSpec): HealthMonitor {
  const check = new FieldChecks('loadbalancer-healthmonitor', String(spec?.name));
  const name = check.name(spec.name);
  context.mustBeNew('loadbalancer-healthmonitor', name);
  context.put(monitorFields(check, name, spec, undefined));
  return context.get('loadbalancer-healthmonitor', name) as HealthMonitor;
}

export function updateHealthMonitor(context: KindContext, name: string, patch: Partial<Omit<HealthMonitorSpec, 'name'>>): HealthMonitor {
  const monitor = context.existing('loadbalancer-healthmonitor', name);
  const check = new FieldChecks('loadbalancer-healthmonitor', name);
  context.put(monitorFields(check, name, patch, monitor));
  return context.get('loadbalancer-healthmonitor', name) as HealthMonitor;
}

export function deleteHealthMonitor(context: KindContext, name: string): void {
  context.removeUnused('loadbalancer-healthmonitor', name);
}
