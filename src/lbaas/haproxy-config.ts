/**
 * The haproxy configuration Contrail's haproxy driver writes for a service instance
 * (docs/protocol.md §8.4): global, defaults, the stats listener, one frontend bound to VIP:port per
 * listener and one backend per pool with its balance method and a `server` line per member (weight,
 * health check).
 * Owns the text only; what the proxy does with connections is src/vrouter/proxy-service.ts.
 */
import type { ListenerProtocol, PoolMethod, ProxyFrontend, ServiceInstance } from '../model/objects.ts';

const BALANCE: Record<PoolMethod, string> = { ROUND_ROBIN: 'roundrobin', LEAST_CONNECTIONS: 'leastconn', SOURCE_IP: 'source' };

/** HTTP listeners are proxied at layer 7; TCP, HTTPS (passed through) and TERMINATED_HTTPS (no certificate here) at layer 4. */
function modeOf(protocol: ListenerProtocol): 'http' | 'tcp' {
  return protocol === 'HTTP' ? 'http' : 'tcp';
}

/** haproxy names allow letters, digits, `-_.:`; anything else becomes `_`. */
function haproxyName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

function backendLines(frontend: ProxyFrontend, mode: 'http' | 'tcp'): string[] {
  const lines = [`backend ${haproxyName(frontend.pool)}`, `   mode ${mode}`, `   balance ${BALANCE[frontend.method]}`];
  const monitor = frontend.monitor;
  if (monitor !== undefined) {
    // haproxy has no ICMP check: PING and TCP monitors are TCP connect checks, as in Contrail's driver
    if (monitor.type === 'HTTP' || monitor.type === 'HTTPS') lines.push(`   option httpchk GET ${monitor.urlPath ?? '/'}`);
    lines.push(`   timeout check ${monitor.timeout}s`);
  }
  for (const backend of frontend.backends) {
    const check = monitor === undefined ? '' : ` check inter ${monitor.delay}s fall ${monitor.maxRetries} rise 1`;
    const disabled = backend.adminState ? '' : ' disabled';
    lines.push(`   server ${haproxyName(backend.member)} ${backend.address}:${backend.port} weight ${backend.weight}${check}${disabled}`);
  }
  return lines;
}

export function haproxyConfig(instance: ServiceInstance): string {
  const lines = [
    `# ${instance.name}: loadbalancer ${instance.loadBalancer}, VIP ${instance.vip}`,
    'global',
    '   daemon',
    '   user nobody',
    '   group nogroup',
    'defaults',
    '   log global',
    '   retries 3',
    '   option redispatch',
    '   timeout connect 5000',
    '   timeout client 50000',
    '   timeout server 50000',
    'listen contrail-config-stats',
    '   bind :5937',
    '   mode http',
    '   stats enable',
    '   stats uri /',
    '   stats auth haproxy:contrail123',
  ];
  for (const frontend of instance.frontends) {
    if (frontend.protocol === 'UDP') {
      lines.push(`# listener ${frontend.listener}: UDP port ${frontend.port} is not proxied (haproxy balances TCP only)`);
      continue;
    }
    const mode = modeOf(frontend.protocol);
    lines.push(`frontend ${haproxyName(frontend.listener)}`, `   bind ${instance.vip}:${frontend.port}`, `   mode ${mode}`, `   default_backend ${haproxyName(frontend.pool)}`);
    lines.push(...backendLines(frontend, mode));
  }
  return `${lines.join('\n')}\n`;
}
