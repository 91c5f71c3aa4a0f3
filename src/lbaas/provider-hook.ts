/**
 * The one reconcile hook the config store gets (model/reconcile-hook.ts): it dispatches per provider —
 * the native driver for `native` load balancers, the proxy driver for `opencontrail` ones — and returns
 * the complete set of derived objects (floating-ips, service-health-checks, service instances).
 * Owns only the dispatch; each driver owns its own rules.
 */
import type { ReconcileHook } from '../model/reconcile-hook.ts';
import { reconcileNativeLoadBalancers } from './native-driver.ts';
import { reconcileProxyLoadBalancers, type ProxyDriverOptions } from './proxy-driver.ts';

export type LbaasHookOptions = ProxyDriverOptions;

export function lbaasHook(options: LbaasHookOptions = {}): ReconcileHook {
  return (input) => {
    const native = reconcileNativeLoadBalancers(input);
    const proxy = reconcileProxyLoadBalancers(input, options);
    return {
      floatingIps: native.floatingIps,
      serviceHealthChecks: native.serviceHealthChecks,
      serviceInstances: proxy.serviceInstances,
      warnings: [...native.warnings, ...proxy.warnings],
      problems: [...native.problems, ...proxy.problems],
    };
  };
}
