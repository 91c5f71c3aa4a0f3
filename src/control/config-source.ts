// The config store as the control node reads it: a view of the objects agents are told about, rebuilt
// only after a change (a thousand agents' config pushes after one change share one view).
import type { ConfigStore } from '../model/config-store.ts';
import type { ConfigView } from './agent-config.ts';
import type { ConfigSource } from './control-node.ts';

/** The config store seen as the control node needs it; the view is rebuilt only after a change. */
export function configSource(store: ConfigStore): ConfigSource {
  let cached: ConfigView | null = null;
  store.onChange(() => {
    cached = null;
  });
  return {
    view: () =>
      (cached ??= {
        networks: store.list('virtual-network'),
        interfaces: store.list('virtual-machine-interface'),
        instanceIps: store.list('instance-ip'),
        floatingIps: store.list('floating-ip'),
        loadBalancers: store.list('loadbalancer'),
        serviceHealthChecks: store.serviceHealthChecks(),
        networkPolicies: store.list('network-policy'),
        serviceInstances: store.serviceInstances(),
      }),
    onChange: (listener) => store.onChange(() => listener()),
  };
}
