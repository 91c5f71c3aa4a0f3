// The config channel between a control node and an agent.
//
// Real Contrail streams IF-MAP config over the same XMPP session (`to="…/config"`, docs/protocol.md §3.5). We keep the
// real request — the agent subscribes to `virtual-router:default-global-system-config:<agent>` on the
// `/config` resource — but answer with a compact document of our own: the whole configuration that
// concerns this compute (its VMIs, the floating-ips and service-health-checks attached to them, the
// networks both live in), sent again whole after every change. A snapshot instead of deltas keeps the
// agent idempotent: it diffs what it has against what it receives, and a lost or repeated message cannot
// leave it inconsistent.
//
//   <message from="network-control@contrailsystems.com" to="<agent>/config">
//     <config xmlns="urn:ecmpsim:config" generation="7" hash-fields="…" encapsulation-priorities="…">
//       <virtual-network name routing-instance vn-index route-target [hash-fields]/>
//       <virtual-machine-interface name network address mac [hash-fields]>
//         <service-health-check-ref name/>            (0..n: the checks that probe this VMI)
//         <shared-address prefix/>                    (0..n: further instance-ips, active-active allowed-address-pairs)
//       </virtual-machine-interface>
//       <floating-ip name address network direction port-mappings-enable maglev [fixed-ip]>
//         <port-mapping protocol src-port dst-port/>  <vmi-ref name/>
//       </floating-ip>
//       <service-health-check name type="link-local" monitor-type="PING|HTTP" delay timeout max-retries [url-path]/>
//       <service-instance …/>                         (0..n: haproxies on this compute, ./config-service-instance.ts)
//     </config>
//   </message>
//
// delay and timeout are seconds, as in Contrail's service-health-check-properties; every
// service-health-check-ref names a service-health-check of the same document.
import { parse, escapeXML, type Element } from 'ltx';
import { HASH_FIELDS, isHashField, type HashField } from '../net/hash-fields.ts';
import { CONTROL_NODE_JID } from './stanza-encoder.ts';
import { decodeServiceInstance, encodeServiceInstance, ServiceInstanceDecodeError, type ConfigServiceInstance } from './config-service-instance.ts';

export type { ConfigServiceInstance };

export const CONFIG_NAMESPACE = 'urn:ecmpsim:config';

export interface ConfigNetwork {
  name: string;
  routingInstance: string;
  vnIndex: number;
  routeTarget: string;
  hashFields?: HashField[];
}

export interface ConfigInterface {
  name: string;
  network: string;
  address: string;
  mac: string;
  hashFields?: HashField[];
  /** Names of the service-health-checks that probe this VMI (docs/protocol.md §8.2 step 5); absent or empty: none. */
  healthChecks?: string[];
  /**
   * Further prefixes the VMI answers on, published with its own label (docs/protocol.md §7.2): its other
   * instance-ips (a shared active-active VIP among them) and its active-active allowed-address-pairs.
   */
  sharedAddresses?: string[];
}

/** docs/protocol.md §8.2 step 5 / §7.2: a link-local service-health-check as the agent needs it. */
export interface ConfigHealthCheck {
  name: string;
  type: 'link-local';
  monitorType: 'PING' | 'HTTP';
  /** seconds between probes */
  delay: number;
  /** seconds a probe waits for its answer */
  timeout: number;
  /** consecutive failures that make the VMI L3-inactive */
  maxRetries: number;
  urlPath?: string;
}

export interface ConfigPortMapping {
  protocol: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
}

export interface ConfigFloatingIp {
  name: string;
  address: string;
  network: string;
  direction: 'ingress' | 'egress' | 'both';
  portMappingsEnable: boolean;
  portMappings: ConfigPortMapping[];
  /** Local VMIs only: the control node sends each agent the refs that concern it. */
  interfaces: string[];
  maglev: boolean;
  /** The address a pool FIP translates to (its associated instance-ip); absent: each VMI's own address. */
  fixedIp?: string;
}

export interface AgentConfig {
  /** Increases with every change on the sending control node; the agent ignores older snapshots. */
  generation: number;
  hashFields: HashField[];
  encapsulationPriorities: string[];
  networks: ConfigNetwork[];
  interfaces: ConfigInterface[];
  floatingIps: ConfigFloatingIp[];
  healthChecks: ConfigHealthCheck[];
  /** The haproxies of proxy load balancers that run on this compute (docs/protocol.md §8.4); absent: none. */
  serviceInstances?: ConfigServiceInstance[];
}

export function virtualRouterNode(agentName: string): string {
  return `virtual-router:default-global-system-config:${agentName}`;
}

/** The agent's request for its config (docs/protocol.md §3.5 shape: `/config` resource, no id). */
export function encodeConfigSubscribe(agentName: string): string {
  return (
    `<iq type="set" from="${escapeXML(agentName)}" to="${CONTROL_NODE_JID}/config">` +
    `<pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="${escapeXML(virtualRouterNode(agentName))}"/></pubsub></iq>`
  );
}

function attr(name: string, value: string | number | boolean): string {
  return ` ${name}="${escapeXML(String(value))}"`;
}

function fieldsAttr(fields: HashField[] | undefined): string {
  return fields ? attr('hash-fields', fields.join(' ')) : '';
}

export function encodeAgentConfig(agentName: string, config: AgentConfig): string {
  const parts: string[] = [];
  parts.push(`<message from="${CONTROL_NODE_JID}" to="${escapeXML(agentName)}/config">`);
  parts.push(
    `<config xmlns="${CONFIG_NAMESPACE}"${attr('generation', config.generation)}${fieldsAttr(config.hashFields)}` +
      `${attr('encapsulation-priorities', config.encapsulationPriorities.join(' '))}>`,
  );
  for (const n of config.networks) {
    parts.push(
      `<virtual-network${attr('name', n.name)}${attr('routing-instance', n.routingInstance)}${attr('vn-index', n.vnIndex)}` +
        `${attr('route-target', n.routeTarget)}${fieldsAttr(n.hashFields)}/>`,
    );
  }
  for (const i of config.interfaces) {
    const head = `<virtual-machine-interface${attr('name', i.name)}${attr('network', i.network)}${attr('address', i.address)}${attr('mac', i.mac)}${fieldsAttr(i.hashFields)}`;
    const refs = i.healthChecks ?? [];
    const shared = i.sharedAddresses ?? [];
    if (refs.length === 0 && shared.length === 0) {
      parts.push(`${head}/>`);
    } else {
      parts.push(`${head}>`);
      for (const ref of refs) parts.push(`<service-health-check-ref${attr('name', ref)}/>`);
      for (const prefix of shared) parts.push(`<shared-address${attr('prefix', prefix)}/>`);
      parts.push('</virtual-machine-interface>');
    }
  }
  for (const f of config.floatingIps) {
    parts.push(
      `<floating-ip${attr('name', f.name)}${attr('address', f.address)}${attr('network', f.network)}` +
        `${attr('direction', f.direction)}${attr('port-mappings-enable', f.portMappingsEnable)}${attr('maglev', f.maglev)}` +
        `${f.fixedIp === undefined ? '' : attr('fixed-ip', f.fixedIp)}>`,
    );
    for (const m of f.portMappings) {
      parts.push(`<port-mapping${attr('protocol', m.protocol)}${attr('src-port', m.srcPort)}${attr('dst-port', m.dstPort)}/>`);
    }
    for (const ref of f.interfaces) parts.push(`<vmi-ref${attr('name', ref)}/>`);
    parts.push('</floating-ip>');
  }
  for (const h of config.healthChecks) {
    parts.push(
      `<service-health-check${attr('name', h.name)}${attr('type', h.type)}${attr('monitor-type', h.monitorType)}${attr('delay', h.delay)}` +
        `${attr('timeout', h.timeout)}${attr('max-retries', h.maxRetries)}${h.urlPath === undefined ? '' : attr('url-path', h.urlPath)}/>`,
    );
  }
  for (const si of config.serviceInstances ?? []) parts.push(encodeServiceInstance(si));
  parts.push('</config></message>');
  return parts.join('');
}

export class ConfigDecodeError extends Error {}

function required(el: Element, name: string): string {
  const v = el.attrs[name];
  if (typeof v !== 'string' || v === '') throw new ConfigDecodeError(`<${el.name}> lacks attribute ${name}`);
  return v;
}

function integer(el: Element, name: string, min: number, max: number): number {
  const text = required(el, name);
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigDecodeError(`<${el.name}> ${name}="${text}" is not an integer in ${min}..${max}`);
  }
  return n;
}

function hashFields(el: Element): HashField[] | undefined {
  const text = el.attrs['hash-fields'];
  if (typeof text !== 'string') return undefined;
  const fields = text.split(/\s+/).filter((f) => f !== '');
  for (const f of fields) {
    if (!isHashField(f)) throw new ConfigDecodeError(`<${el.name}> unknown hash field ${f}`);
  }
  return fields as HashField[];
}

function oneOf<T extends string>(el: Element, name: string, allowed: readonly T[]): T {
  const v = required(el, name);
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigDecodeError(`<${el.name}> ${name}="${v}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

/** Decodes the `<config>` child of a `/config` message; throws ConfigDecodeError with the reason. */
export function decodeAgentConfig(message: Element | string): AgentConfig {
  let root: Element;
  try {
    root = typeof message === 'string' ? parse(message) : message;
  } catch (e) {
    throw new ConfigDecodeError(`config message is not well-formed XML: ${(e as Error).message}`);
  }
  const config = root.name === 'config' ? root : root.getChild('config', CONFIG_NAMESPACE);
  if (!config) throw new ConfigDecodeError('message carries no <config> element');
  const result: AgentConfig = {
    generation: integer(config, 'generation', 0, Number.MAX_SAFE_INTEGER),
    hashFields: hashFields(config) ?? [...HASH_FIELDS],
    encapsulationPriorities: (config.attrs['encapsulation-priorities'] ?? '').split(/\s+/).filter((s: string) => s !== ''),
    networks: [],
    interfaces: [],
    floatingIps: [],
    healthChecks: [],
  };
  for (const el of config.getChildElements()) {
    switch (el.name) {
      case 'virtual-network':
        result.networks.push({
          name: required(el, 'name'),
          routingInstance: required(el, 'routing-instance'),
          vnIndex: integer(el, 'vn-index', 1, 0xffffffff),
          routeTarget: required(el, 'route-target'),
          hashFields: hashFields(el),
        });
        break;
      case 'virtual-machine-interface': {
        const refs: string[] = [];
        const shared: string[] = [];
        for (const child of el.getChildElements()) {
          if (child.name === 'service-health-check-ref') refs.push(required(child, 'name'));
          else if (child.name === 'shared-address') shared.push(required(child, 'prefix'));
          else throw new ConfigDecodeError(`<virtual-machine-interface> has unknown child <${child.name}>`);
        }
        result.interfaces.push({
          name: required(el, 'name'),
          network: required(el, 'network'),
          address: required(el, 'address'),
          mac: required(el, 'mac'),
          hashFields: hashFields(el),
          ...(refs.length > 0 ? { healthChecks: refs } : {}),
          ...(shared.length > 0 ? { sharedAddresses: shared } : {}),
        });
        break;
      }
      case 'service-health-check': {
        const urlPath = el.attrs['url-path'];
        if (urlPath !== undefined && (typeof urlPath !== 'string' || urlPath === '')) throw new ConfigDecodeError('<service-health-check> has an empty url-path');
        result.healthChecks.push({
          name: required(el, 'name'),
          type: oneOf(el, 'type', ['link-local'] as const),
          monitorType: oneOf(el, 'monitor-type', ['PING', 'HTTP'] as const),
          delay: integer(el, 'delay', 1, 86400),
          timeout: integer(el, 'timeout', 1, 86400),
          maxRetries: integer(el, 'max-retries', 1, 10),
          ...(urlPath === undefined ? {} : { urlPath: urlPath as string }),
        });
        break;
      }
      case 'floating-ip':
        result.floatingIps.push({
          name: required(el, 'name'),
          address: required(el, 'address'),
          network: required(el, 'network'),
          direction: oneOf(el, 'direction', ['ingress', 'egress', 'both'] as const),
          portMappingsEnable: required(el, 'port-mappings-enable') === 'true',
          maglev: el.attrs.maglev === 'true',
          portMappings: el.getChildren('port-mapping').map((m) => ({
            protocol: oneOf(m, 'protocol', ['tcp', 'udp'] as const),
            srcPort: integer(m, 'src-port', 0, 65535),
            dstPort: integer(m, 'dst-port', 0, 65535),
          })),
          interfaces: el.getChildren('vmi-ref').map((r) => required(r, 'name')),
          ...(typeof el.attrs['fixed-ip'] === 'string' ? { fixedIp: el.attrs['fixed-ip'] as string } : {}),
        });
        break;
      case 'service-instance':
        try {
          (result.serviceInstances ??= []).push(decodeServiceInstance(el));
        } catch (e) {
          if (e instanceof ServiceInstanceDecodeError) throw new ConfigDecodeError(e.message);
          throw e;
        }
        break;
      default:
        throw new ConfigDecodeError(`unknown config element <${el.name}>`);
    }
  }
  const checkNames = new Set<string>();
  for (const check of result.healthChecks) {
    if (checkNames.has(check.name)) throw new ConfigDecodeError(`service-health-check ${check.name} is defined twice`);
    checkNames.add(check.name);
  }
  for (const vmi of result.interfaces) {
    const dangling = (vmi.healthChecks ?? []).find((name) => !checkNames.has(name));
    if (dangling !== undefined) throw new ConfigDecodeError(`virtual-machine-interface ${vmi.name} refers to service-health-check ${dangling}, which the config does not define`);
  }
  return result;
}
