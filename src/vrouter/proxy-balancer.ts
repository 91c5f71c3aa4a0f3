// How one haproxy backend picks a server for a new connection (docs/protocol.md §8.4): weighted round
// robin (smooth, so weights interleave), least connections per weight, or a hash of the client address
// over the weighted server list (`balance source`). Servers with weight 0, admin-state down or failed
// health checks get no new connections. Pure: the caller owns the connections and the health verdicts.
import type { ConfigProxyServer } from '../xmpp/config-service-instance.ts';

export type BalanceMethod = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';

export class ProxyBalancer {
  /** smooth weighted round robin: current weights, by server index */
  private current: number[] = [];
  /** open connections, by server index */
  readonly connections: number[];

  constructor(
    readonly method: BalanceMethod,
    readonly servers: readonly ConfigProxyServer[],
  ) {
    this.current = servers.map(() => 0);
    this.connections = servers.map(() => 0);
  }

  /** The index of the server for a new connection from `clientAddress` (an IPv4 as integer); -1: none eligible. */
  pick(clientAddress: number, healthy: (index: number) => boolean): number {
    const eligible = this.servers.flatMap((s, i) => (s.adminState && s.weight > 0 && healthy(i) ? [i] : []));
    if (eligible.length === 0) return -1;
    switch (this.method) {
      case 'ROUND_ROBIN': {
        let total = 0;
        let best = -1;
        for (const i of eligible) {
          this.current[i] += this.servers[i].weight;
          total += this.servers[i].weight;
          if (best < 0 || this.current[i] > this.current[best]) best = i;
        }
        this.current[best] -= total;
        return best;
      }
      case 'LEAST_CONNECTIONS': {
        let best = eligible[0];
        for (const i of eligible) if (this.connections[i] / this.servers[i].weight < this.connections[best] / this.servers[best].weight) best = i;
        return best;
      }
      case 'SOURCE_IP': {
        const total = eligible.reduce((sum, i) => sum + this.servers[i].weight, 0);
        // haproxy hashes the address and takes it modulo the total weight over the servers in order
        let point = (Math.imul(clientAddress >>> 0, 2654435761) >>> 0) % total;
        for (const i of eligible) {
          point -= this.servers[i].weight;
          if (point < 0) return i;
        }
        return eligible[eligible.length - 1];
      }
    }
  }
}
