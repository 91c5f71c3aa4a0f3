// A small simulation for the API tests, on this suite's own loopback range (127.1.0.0/16) with free ports.
import { validateTopology } from '../../src/topology/loader.ts';
import type { Topology } from '../../src/topology/topology.ts';

export const NET = 'default-domain:demo:svc-vn';

/** One control node, `computes` computes; web-a/web-b members of lb1 (VIP 30.30.30.100:80 → 8080). */
export function apiTopology(name: string, third: number, computes = 3): Topology {
  const result = validateTopology({
    name,
    holdTimeSeconds: 3,
    controlNodes: [{ name: 'control-1', address: `127.1.${third}.1`, xmppPort: 5269, bgpPort: 1179 }],
    computes: Array.from({ length: computes }, (_, i) => ({ name: `compute-${i + 1}`, address: `127.1.${third}.${i + 11}` })),
    networks: [{ name: NET, subnets: ['30.30.30.0/24'] }],
    workloads: [
      { name: 'client', compute: 'compute-1', network: NET, address: '30.30.30.5' },
      { name: 'web-a', compute: 'compute-2', network: NET, address: '30.30.30.10' },
      { name: 'web-b', compute: `compute-${Math.min(3, computes)}`, network: NET, address: '30.30.30.11' },
    ],
    loadBalancers: [{
      name: 'lb1', provider: 'native', network: NET, vip: '30.30.30.100',
      listeners: [{ name: 'listener1', protocol: 'TCP', port: 80, pool: { name: 'pool1', algorithm: 'ROUND_ROBIN', members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.11', port: 8080 }] } }],
    }],
  });
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return result.topology;
}
