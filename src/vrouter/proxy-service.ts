// The haproxies running on one compute (docs/protocol.md §8.4): a client connection delivered to a
// haproxy's VIP interface ends there; the haproxy opens its own connection from its pool-side address to
// a server its backend picks, and answers the client once the server has answered. Connection state lives
// here only: a packet of a connection this haproxy never saw (its peer failed over to it) starts a new one,
// which is how a failover breaks every connection the failed haproxy held. Health checks probe each
// server from the pool side through the data plane and take failed ones out of rotation
// (lbaas/health-check-state.ts, the verdicts the native path's monitor uses).
// Owns: connection bookkeeping, backend choice, health probes. Not: the packet path (./forwarding.ts).
import { HealthCheckState } from '../lbaas/health-check-state.ts';
import { ipv4ToInt } from '../net/ipv4.ts';
import type { ConfigServiceInstance } from '../xmpp/config-stanza.ts';
import type { ForwardResult, Packet } from './packet.ts';
import { ProxyBalancer } from './proxy-balancer.ts';

/** What a haproxy did with one client packet. */
export interface ProxiedLeg {
  serviceInstance: string;
  role: 'active' | 'standby';
  /** true when this packet opened the connection at this haproxy (a known connection: false) */
  opened: boolean;
  /** the server (member name) the connection is bound to, undefined when none was eligible */
  server?: string;
  /** the haproxy's own packet towards the server, as it crossed the data plane */
  backend?: ForwardResult;
}

/** Sends a packet from a local interface through this compute's data plane. */
export type SendFrom = (interfaceName: string, p: Packet) => ForwardResult;

interface FrontendState {
  readonly port: number;
  readonly balancer: ProxyBalancer;
  readonly health: (HealthCheckState | undefined)[];
}

interface Connection {
  frontend: FrontendState;
  server: number;
  backendPort: number;
  lastSeen: number;
}

interface RunningProxy {
  readonly config: ConfigServiceInstance;
  readonly fingerprint: string;
  readonly frontends: FrontendState[];
  readonly connections: Map<string, Connection>;
  nextPort: number;
  probeTimers: NodeJS.Timeout[];
}

const FIRST_BACKEND_PORT = 32768;
/** haproxy.cfg's `timeout client 50000` (haproxy-config.ts): an idle connection is closed after it. */
const IDLE_TIMEOUT_MS = 50_000;

function connectionKey(p: Packet): string {
  return `${p.proto}|${p.src}|${p.sport}|${p.dport}`;
}

export class ProxyService {
  /** by VIP interface name */
  private readonly proxies = new Map<string, RunningProxy>();

  constructor(
    private readonly send: SendFrom,
    private readonly clock: () => number = Date.now,
  ) {}

  isProxyInterface(name: string): boolean {
    return this.proxies.has(name);
  }

  /** The haproxies this compute runs now; one whose config is unchanged keeps its connections. */
  set(list: readonly ConfigServiceInstance[]): void {
    const wanted = new Map(list.map((si) => [si.vipInterface, si]));
    for (const [name, running] of this.proxies) {
      if (!wanted.has(name)) this.stop(name, running);
    }
    for (const [name, si] of wanted) {
      const fingerprint = JSON.stringify(si);
      const running = this.proxies.get(name);
      if (running?.fingerprint === fingerprint) continue;
      // a reload keeps open connections on servers that remain (haproxy -sf hands them over)
      const next: RunningProxy = { config: si, fingerprint, frontends: [], connections: new Map(), nextPort: running?.nextPort ?? FIRST_BACKEND_PORT, probeTimers: [] };
      for (const f of si.frontends) {
        const old = running?.frontends.find((candidate) => candidate.port === f.port);
        next.frontends.push({
          port: f.port,
          balancer: new ProxyBalancer(f.method, f.servers),
          health: f.servers.map((server) => {
            if (f.monitor === undefined) return undefined;
            const index = old?.balancer.servers.findIndex((s) => s.address === server.address && s.port === server.port) ?? -1;
            return index >= 0 ? (old!.health[index] ?? new HealthCheckState(f.monitor.maxRetries)) : new HealthCheckState(f.monitor.maxRetries);
          }),
        });
      }
      if (running) {
        for (const [key, c] of running.connections) {
          const server = c.frontend.balancer.servers[c.server];
          const frontend = next.frontends.find((candidate) => candidate.port === c.frontend.port);
          if (frontend === undefined) continue;
          // a removed server keeps its open connections (the old haproxy drains them); they are re-bound to the reloaded one when still listed
          const index = frontend.balancer.servers.findIndex((s) => s.address === server.address && s.port === server.port);
          if (index >= 0) {
            frontend.balancer.connections[index]++;
            next.connections.set(key, { frontend, server: index, backendPort: c.backendPort, lastSeen: c.lastSeen });
          } else {
            next.connections.set(key, c);
          }
        }
        this.stop(name, running);
      }
      this.proxies.set(name, next);
      this.startProbes(next);
    }
  }

  /** Stops every haproxy (the compute goes away). */
  close(): void {
    for (const [name, running] of this.proxies) this.stop(name, running);
  }

  private stop(name: string, running: RunningProxy): void {
    for (const timer of running.probeTimers) clearInterval(timer);
    running.probeTimers = [];
    this.proxies.delete(name);
  }

  /** Open connections per server, by service instance and frontend port (introspection). */
  view(): { serviceInstance: string; role: string; connections: number; frontends: { port: number; servers: { member: string; connections: number; healthy: boolean }[] }[] }[] {
    return [...this.proxies.values()].map((p) => ({
      serviceInstance: p.config.name,
      role: p.config.role,
      connections: p.connections.size,
      frontends: p.frontends.map((f) => ({
        port: f.port,
        servers: f.balancer.servers.map((s, i) => ({ member: s.member, connections: f.balancer.connections[i], healthy: f.health[i]?.active ?? true })),
      })),
    }));
  }

  /** A client packet reached haproxy `vipInterface`: the connection's backend leg. */
  accept(vipInterface: string, p: Packet): ProxiedLeg | undefined {
    const proxy = this.proxies.get(vipInterface);
    if (proxy === undefined) return undefined;
    const leg: ProxiedLeg = { serviceInstance: proxy.config.name, role: proxy.config.role, opened: false };
    const key = connectionKey(p);
    const now = this.clock();
    this.closeIdle(proxy, now);
    let connection = proxy.connections.get(key);
    if (connection !== undefined) {
      // kept in last-seen order, so that closing idle ones looks at the oldest first
      proxy.connections.delete(key);
      proxy.connections.set(key, connection);
      connection.lastSeen = now;
    } else {
      const frontend = proxy.frontends.find((f) => f.port === p.dport);
      if (frontend === undefined) return leg;
      const server = frontend.balancer.pick(ipv4ToInt(p.src), (i) => frontend.health[i]?.active ?? true);
      if (server < 0) return leg;
      connection = { frontend, server, backendPort: proxy.nextPort, lastSeen: now };
      proxy.nextPort = proxy.nextPort >= 65535 ? FIRST_BACKEND_PORT : proxy.nextPort + 1;
      frontend.balancer.connections[server]++;
      proxy.connections.set(key, connection);
      leg.opened = true;
    }
    const server = connection.frontend.balancer.servers[connection.server];
    leg.server = server.member;
    const out: Packet = { src: proxy.config.poolAddress, dst: server.address, proto: p.proto, sport: connection.backendPort, dport: server.port };
    if (p.bytes !== undefined) out.bytes = p.bytes;
    leg.backend = this.send(proxy.config.poolInterface ?? proxy.config.vipInterface, out);
    return leg;
  }

  /** Closes the connections idle for longer than haproxy's client timeout (oldest first). */
  private closeIdle(proxy: RunningProxy, now: number): void {
    for (const [key, c] of proxy.connections) {
      if (now - c.lastSeen <= IDLE_TIMEOUT_MS) return;
      proxy.connections.delete(key);
      if (c.frontend.balancer.connections[c.server] > 0) c.frontend.balancer.connections[c.server]--;
    }
  }

  /** docs/protocol.md §8.4: one probe per server every `delay` seconds, from the pool side, through the data plane. */
  private startProbes(proxy: RunningProxy): void {
    const from = proxy.config.poolInterface ?? proxy.config.vipInterface;
    proxy.config.frontends.forEach((f, fi) => {
      if (f.monitor === undefined) return;
      const state = proxy.frontends[fi];
      const timer = setInterval(() => {
        f.servers.forEach((server, si) => {
          const check = state.health[si];
          if (check === undefined) return;
          check.probeSent();
          const port = proxy.nextPort;
          proxy.nextPort = proxy.nextPort >= 65535 ? FIRST_BACKEND_PORT : proxy.nextPort + 1;
          const probe: Packet = f.monitor!.type === 'PING'
            ? { src: proxy.config.poolAddress, dst: server.address, proto: 1, sport: 0, dport: 0 }
            : { src: proxy.config.poolAddress, dst: server.address, proto: 6, sport: port, dport: server.port };
          const result = this.send(from, probe);
          check.answer(result.delivered && result.reply?.delivered !== false);
        });
      }, f.monitor.delay * 1000);
      timer.unref();
      proxy.probeTimers.push(timer);
    });
  }
}
