// The `<service-instance>` element of our config document (./config-stanza.ts): one haproxy of a proxy
// load balancer's service instance that runs on the receiving compute (docs/protocol.md §8.4), with what
// it balances. Owns this element's encoding and decoding only.
//
//   <service-instance name role="active|standby" local-preference vip vip-network vip-interface
//                     pool-network pool-address [pool-interface]>
//     <frontend listener protocol port pool method [monitor-type delay timeout max-retries url-path]>
//       <server member address port weight admin-state/>
//     </frontend>
//   </service-instance>
import { escapeXML, type Element } from 'ltx';

export interface ConfigProxyServer {
  member: string;
  address: string;
  port: number;
  weight: number;
  adminState: boolean;
}

export interface ConfigProxyMonitor {
  type: 'PING' | 'TCP' | 'HTTP' | 'HTTPS';
  delay: number;
  timeout: number;
  maxRetries: number;
  urlPath?: string;
}

export interface ConfigProxyFrontend {
  listener: string;
  protocol: string;
  port: number;
  pool: string;
  method: 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';
  servers: ConfigProxyServer[];
  monitor?: ConfigProxyMonitor;
}

export interface ConfigServiceInstance {
  name: string;
  role: 'active' | 'standby';
  localPreference: number;
  vip: string;
  vipNetwork: string;
  vipInterface: string;
  poolNetwork: string;
  poolAddress: string;
  poolInterface?: string;
  frontends: ConfigProxyFrontend[];
}

export class ServiceInstanceDecodeError extends Error {}

const a = (name: string, value: string | number | boolean): string => ` ${name}="${escapeXML(String(value))}"`;

export function encodeServiceInstance(si: ConfigServiceInstance): string {
  const parts = [
    `<service-instance${a('name', si.name)}${a('role', si.role)}${a('local-preference', si.localPreference)}${a('vip', si.vip)}` +
      `${a('vip-network', si.vipNetwork)}${a('vip-interface', si.vipInterface)}${a('pool-network', si.poolNetwork)}${a('pool-address', si.poolAddress)}` +
      `${si.poolInterface === undefined ? '' : a('pool-interface', si.poolInterface)}>`,
  ];
  for (const f of si.frontends) {
    const m = f.monitor;
    const monitor = m === undefined ? '' : `${a('monitor-type', m.type)}${a('delay', m.delay)}${a('timeout', m.timeout)}${a('max-retries', m.maxRetries)}${m.urlPath === undefined ? '' : a('url-path', m.urlPath)}`;
    parts.push(`<frontend${a('listener', f.listener)}${a('protocol', f.protocol)}${a('port', f.port)}${a('pool', f.pool)}${a('method', f.method)}${monitor}>`);
    for (const s of f.servers) parts.push(`<server${a('member', s.member)}${a('address', s.address)}${a('port', s.port)}${a('weight', s.weight)}${a('admin-state', s.adminState)}/>`);
    parts.push('</frontend>');
  }
  parts.push('</service-instance>');
  return parts.join('');
}

function text(el: Element, name: string): string {
  const v = el.attrs[name];
  if (typeof v !== 'string' || v === '') throw new ServiceInstanceDecodeError(`<${el.name}> lacks attribute ${name}`);
  return v;
}

function int(el: Element, name: string, min: number, max: number): number {
  const v = Number(text(el, name));
  if (!Number.isInteger(v) || v < min || v > max) throw new ServiceInstanceDecodeError(`<${el.name}> ${name}="${el.attrs[name]}" is not an integer in ${min}..${max}`);
  return v;
}

function pick<T extends string>(el: Element, name: string, allowed: readonly T[]): T {
  const v = text(el, name);
  if (!(allowed as readonly string[]).includes(v)) throw new ServiceInstanceDecodeError(`<${el.name}> ${name}="${v}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

export function decodeServiceInstance(el: Element): ConfigServiceInstance {
  const poolInterface = el.attrs['pool-interface'];
  return {
    name: text(el, 'name'),
    role: pick(el, 'role', ['active', 'standby'] as const),
    localPreference: int(el, 'local-preference', 0, 0xffffffff),
    vip: text(el, 'vip'),
    vipNetwork: text(el, 'vip-network'),
    vipInterface: text(el, 'vip-interface'),
    poolNetwork: text(el, 'pool-network'),
    poolAddress: text(el, 'pool-address'),
    ...(typeof poolInterface === 'string' && poolInterface !== '' ? { poolInterface } : {}),
    frontends: el.getChildElements().map((f) => {
      if (f.name !== 'frontend') throw new ServiceInstanceDecodeError(`<service-instance> has unknown child <${f.name}>`);
      const monitor: ConfigProxyMonitor | undefined = f.attrs['monitor-type'] === undefined ? undefined : {
        type: pick(f, 'monitor-type', ['PING', 'TCP', 'HTTP', 'HTTPS'] as const),
        delay: int(f, 'delay', 1, 86400),
        timeout: int(f, 'timeout', 1, 86400),
        maxRetries: int(f, 'max-retries', 1, 10),
        ...(typeof f.attrs['url-path'] === 'string' ? { urlPath: f.attrs['url-path'] as string } : {}),
      };
      return {
        listener: text(f, 'listener'),
        protocol: text(f, 'protocol'),
        port: int(f, 'port', 1, 65535),
        pool: text(f, 'pool'),
        method: pick(f, 'method', ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const),
        servers: f.getChildElements().map((s) => {
          if (s.name !== 'server') throw new ServiceInstanceDecodeError(`<frontend> has unknown child <${s.name}>`);
          return { member: text(s, 'member'), address: text(s, 'address'), port: int(s, 'port', 1, 65535), weight: int(s, 'weight', 0, 256), adminState: text(s, 'admin-state') === 'true' };
        }),
        ...(monitor ? { monitor } : {}),
      };
    }),
  };
}
