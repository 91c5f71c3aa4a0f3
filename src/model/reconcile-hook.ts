/**
 * The hook through which a load-balancer provider's driver (e.g. the native driver in src/lbaas,
 * docs/protocol.md §8.2) reconciles the config inside every store transaction. Defined here, in the
 * bottom layer, so the store never imports a driver: whoever builds a ConfigStore passes one.
 * Owns: the hook's contract and applying its result to the store. Does not own any driver logic.
 */
import type { KindContext } from './kinds/kind-context.ts';
import { USER_FIP_REFS } from './kinds/floating-ip.ts';
import { withAssociations } from './floating-ip-association.ts';
import type {
  FloatingIp,
  HealthMonitor,
  InstanceIp,
  Listener,
  LoadBalancer,
  Member,
  Pool,
  ServiceHealthCheck,
  ServiceInstance,
  VirtualMachineInterface,
  VirtualNetwork,
} from './objects.ts';

/** Everything a reconcile reads; lists are in creation order, which decides "first member wins". */
export interface ReconcileInput {
  readonly virtualNetworks: readonly VirtualNetwork[];
  readonly virtualMachineInterfaces: readonly VirtualMachineInterface[];
  readonly instanceIps: readonly InstanceIp[];
  /** Current floating-ips, user-created and driver-created. */
  readonly floatingIps: readonly FloatingIp[];
  /** Own refs of user FIPs (what the user attached), keyed by FIP name; a driver adds members on top. */
  readonly userFloatingIpRefs: ReadonlyMap<string, readonly string[]>;
  readonly loadBalancers: readonly LoadBalancer[];
  readonly listeners: readonly Listener[];
  readonly pools: readonly Pool[];
  readonly members: readonly Member[];
  readonly healthMonitors: readonly HealthMonitor[];
}

export interface DriverNotice {
  readonly loadBalancer: string;
  /** e.g. `loadbalancer-member web-a` */
  readonly object: string;
  readonly message: string;
}

export interface ReconcileResult {
  /** The complete set of floating-ips after reconciling: replaces the previous set. */
  readonly floatingIps: readonly FloatingIp[];
  readonly serviceHealthChecks: readonly ServiceHealthCheck[];
  /** The proxy provider's service instances (docs/protocol.md §8.4); absent: none. */
  readonly serviceInstances?: readonly ServiceInstance[];
  /** Config that works but not as the user may expect. */
  readonly warnings: readonly DriverNotice[];
  /** Config the driver could not act on; never fatal. */
  readonly problems: readonly DriverNotice[];
}

/** A pure function of its input; a throw refuses the whole transaction. */
export type ReconcileHook = (input: ReconcileInput) => ReconcileResult;

/** For stores that run no driver (unit tests of the store itself): floating-ips stay as users made them. */
export const NO_RECONCILE: ReconcileHook = (input) => ({ floatingIps: input.floatingIps, serviceHealthChecks: [], warnings: [], problems: [] });

/** Runs the hook on the current objects and writes the floating-ips it wants (the rest go); returns its result. */
export function applyReconcile(context: KindContext, hook: ReconcileHook): ReconcileResult {
  const result = hook(withAssociations({
    virtualNetworks: context.list('virtual-network'),
    virtualMachineInterfaces: context.list('virtual-machine-interface'),
    instanceIps: context.list('instance-ip'),
    floatingIps: context.list('floating-ip'),
    userFloatingIpRefs: context.side(USER_FIP_REFS).view(),
    loadBalancers: context.list('loadbalancer'),
    listeners: context.list('loadbalancer-listener'),
    pools: context.list('loadbalancer-pool'),
    members: context.list('loadbalancer-member'),
    healthMonitors: context.list('loadbalancer-healthmonitor'),
  }));
  const wanted = new Set(result.floatingIps.map((fip) => fip.name));
  for (const fip of context.list('floating-ip')) if (!wanted.has(fip.name)) context.remove('floating-ip', fip.name);
  for (const fip of result.floatingIps) context.put(fip);
  return result;
}
