// Checks one decoded JSON/YAML value against the narrow Kubernetes shapes of k8s-objects.ts. Owns the
// field-by-field validation and its error (kind, namespace/name, field, reason); it neither reads text
// (manifest-parser.ts) nor decides what an object means for config (desired-config.ts). Fields kube-manager
// does not use are left unchecked and dropped, as a client of a newer apiserver must.
import { isIpv4 } from '../net/ipv4.ts';
import {
  K8S_KINDS,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSlice,
  type EndpointSubset,
  type Endpoints,
  type K8sKind,
  type K8sNode,
  type K8sObject,
  type ObjectMeta,
  type ObjectReference,
  type Pod,
  type PodPhase,
  type PortProtocol,
  type Service,
  type ServicePort,
  type ServiceType,
  type SliceEndpoint,
} from './k8s-objects.ts';

/** A malformed object: which one (as far as it could be read) and which field is wrong. */
export class K8sObjectError extends Error {
  constructor(
    readonly kind: string,
    readonly namespace: string | undefined,
    readonly objectName: string | undefined,
    readonly field: string,
    readonly reason: string,
  ) {
    const who = `${kind}${objectName === undefined ? '' : ` ${namespace === undefined ? '' : `${namespace}/`}${objectName}`}`;
    super(`${who}: ${field}: ${reason}`);
  }
}

/** A kind kube-manager has no use for (Deployment, ReplicaSet …): skipped, not an error. */
export class UnusedKind extends Error {
  constructor(
    readonly kind: string,
    readonly namespace: string | undefined,
    readonly objectName: string | undefined,
  ) {
    super(`kind ${kind} is not read by kube-manager (it reads ${K8S_KINDS.join(', ')})`);
  }
}

const API_VERSIONS: Record<K8sKind, string> = {
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Pod: 'v1',
  Node: 'v1',
};

const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP'];
const PHASES: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
/** RFC 1123 label (namespaces, service names) or subdomain (pods, nodes, slices): one pattern covers both. */
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Field access that names the failing path in its error. */
class Fields {
  constructor(
    private readonly kind: string,
    private readonly namespace: string | undefined,
    private readonly name: string | undefined,
  ) {}

  fail(field: string, reason: string): never {
    throw new K8sObjectError(this.kind, this.namespace, this.name, field, reason);
  }

  object(value: unknown, field: string): Json {
    if (!isObject(value)) this.fail(field, `must be an object, got ${describe(value)}`);
    return value;
  }

  optionalObject(value: unknown, field: string): Json {
    return value === undefined || value === null ? {} : this.object(value, field);
  }

  list(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, `must be a list, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, `must be a non-empty string, got ${describe(value)}`);
    return value;
  }

  optionalString(value: unknown, field: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, field);
  }

  port(value: unknown, field: string): number {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) this.fail(field, `must be a port from 1 to 65535, got ${describe(value)}`);
    return value as number;
  }

  ipv4(value: unknown, field: string): string {
    const text = this.string(value, field);
    if (!isIpv4(text)) this.fail(field, `${JSON.stringify(text)} is not an IPv4 address`);
    return text;
  }

  oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fallback?: T): T {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (!allowed.includes(value as T)) this.fail(field, `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
    return value as T;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${describe(value)}`);
    return value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function metadata(f: Fields, raw: Json, namespaced: boolean): ObjectMeta {
  const meta = f.object(raw.metadata, 'metadata');
  const name = f.string(meta.name, 'metadata.name');
  if (!DNS_NAME.test(name)) f.fail('metadata.name', `${JSON.stringify(name)} is not a DNS-1123 name`);
  let namespace: string | undefined;
  if (namespaced) {
    // kubectl fills the namespace in; a hand-written manifest without one lands in `default`, as kubectl apply does.
    namespace = f.optionalString(meta.namespace, 'metadata.namespace') ?? 'default';
    if (!DNS_NAME.test(namespace) || namespace.includes('.')) f.fail('metadata.namespace', `${JSON.stringify(namespace)} is not a DNS-1123 label`);
  }
  const resourceVersion = f.optionalString(meta.resourceVersion, 'metadata.resourceVersion');
  const uid = f.optionalString(meta.uid, 'metadata.uid');
  const deletionTimestamp = f.optionalString(meta.deletionTimestamp, 'metadata.deletionTimestamp');
  const labelsRaw = f.optionalObject(meta.labels, 'metadata.labels');
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(labelsRaw)) labels[key] = f.string(value, `metadata.labels.${key}`);
  return {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(uid === undefined ? {} : { uid }),
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
  };
}

function service(f: Fields, raw: Json, meta: ObjectMeta): Service {
  const spec = f.object(raw.spec, 'spec');
  const type = f.oneOf(spec.type, SERVICE_TYPES, 'spec.type', 'ClusterIP');
  let clusterIP: string | undefined;
  if (type !== 'ExternalName') {
    const text = f.optionalString(spec.clusterIP, 'spec.clusterIP');
    clusterIP = text === undefined || text === 'None' ? text : f.ipv4(text, 'spec.clusterIP');
  }
  const names = new Set<string>();
  const ports: ServicePort[] = f.list(spec.ports, 'spec.ports').map((item, i) => {
    const at = `spec.ports[${i}]`;
    const p = f.object(item, at);
    const name = f.optionalString(p.name, `${at}.name`);
    if (name !== undefined) {
      if (names.has(name)) f.fail(`${at}.name`, `port name ${name} is used twice`);
      names.add(name);
    }
    let targetPort: number | string | undefined;
    if (typeof p.targetPort === 'string') targetPort = p.targetPort;
    else if (p.targetPort !== undefined && p.targetPort !== null) targetPort = f.port(p.targetPort, `${at}.targetPort`);
    const nodePort = p.nodePort === undefined || p.nodePort === null ? undefined : f.port(p.nodePort, `${at}.nodePort`);
    return {
      ...(name === undefined ? {} : { name }),
      protocol: f.oneOf(p.protocol, PROTOCOLS, `${at}.protocol`, 'TCP'),
      port: f.port(p.port, `${at}.port`),
      ...(targetPort === undefined ? {} : { targetPort }),
      ...(nodePort === undefined ? {} : { nodePort }),
    };
  });
  if (ports.length > 1 && names.size < ports.length) f.fail('spec.ports', 'every port of a multi-port service needs a name');
  const externalIPs = f.list(spec.externalIPs, 'spec.externalIPs').map((ip, i) => f.ipv4(ip, `spec.externalIPs[${i}]`));
  const loadBalancerIP = f.optionalString(spec.loadBalancerIP, 'spec.loadBalancerIP');
  const status = f.optionalObject(raw.status, 'status');
  const lb = f.optionalObject(status.loadBalancer, 'status.loadBalancer');
  const ingress = f.list(lb.ingress, 'status.loadBalancer.ingress').map((item, i) => {
    const entry = f.object(item, `status.loadBalancer.ingress[${i}]`);
    const ip = entry.ip === undefined ? undefined : f.ipv4(entry.ip, `status.loadBalancer.ingress[${i}].ip`);
    const hostname = f.optionalString(entry.hostname, `status.loadBalancer.ingress[${i}].hostname`);
    return { ...(ip ? { ip } : {}), ...(hostname ? { hostname } : {}) };
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: {
      type,
      ...(clusterIP === undefined ? {} : { clusterIP }),
      ports,
      ...(externalIPs.length > 0 ? { externalIPs } : {}),
      ...(loadBalancerIP === undefined ? {} : { loadBalancerIP }),
    },
    ...(ingress.length > 0 ? { status: { loadBalancer: { ingress } } } : {}),
  };
}

function reference(f: Fields, value: unknown, at: string): ObjectReference | undefined {
  if (value === undefined || value === null) return undefined;
  const ref = f.object(value, at);
  const kind = f.optionalString(ref.kind, `${at}.kind`);
  const name = f.optionalString(ref.name, `${at}.name`);
  const namespace = f.optionalString(ref.namespace, `${at}.namespace`);
  return { ...(kind ? { kind } : {}), ...(name ? { name } : {}), ...(namespace ? { namespace } : {}) };
}

function endpointPorts(f: Fields, value: unknown, at: string, portRequired: boolean): EndpointPort[] {
  return f.list(value, at).flatMap((item, i) => {
    const p = f.object(item, `${at}[${i}]`);
    // In a slice a port without a number means "all ports" (selectorless services); kube-manager cannot map it.
    if (!portRequired && (p.port === undefined || p.port === null)) return [];
    const name = f.optionalString(p.name, `${at}[${i}].name`);
    return [{ ...(name === undefined ? {} : { name }), port: f.port(p.port, `${at}[${i}].port`), protocol: f.oneOf(p.protocol, PROTOCOLS, `${at}[${i}].protocol`, 'TCP') }];
  });
}

function endpoints(f: Fields, raw: Json, meta: ObjectMeta): Endpoints {
  const address = (item: unknown, at: string): EndpointAddress => {
    const a = f.object(item, at);
    const nodeName = f.optionalString(a.nodeName, `${at}.nodeName`);
    const targetRef = reference(f, a.targetRef, `${at}.targetRef`);
    return { ip: f.ipv4(a.ip, `${at}.ip`), ...(nodeName ? { nodeName } : {}), ...(targetRef ? { targetRef } : {}) };
  };
  const subsets: EndpointSubset[] = f.list(raw.subsets, 'subsets').map((item, i) => {
    const at = `subsets[${i}]`;
    const s = f.object(item, at);
    return {
      addresses: f.list(s.addresses, `${at}.addresses`).map((a, j) => address(a, `${at}.addresses[${j}]`)),
      notReadyAddresses: f.list(s.notReadyAddresses, `${at}.notReadyAddresses`).map((a, j) => address(a, `${at}.notReadyAddresses[${j}]`)),
      ports: endpointPorts(f, s.ports, `${at}.ports`, true),
    };
  });
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets };
}

function endpointSlice(f: Fields, raw: Json, meta: ObjectMeta): EndpointSlice {
  const addressType = f.oneOf(raw.addressType, ['IPv4', 'IPv6', 'FQDN'] as const, 'addressType');
  const list: SliceEndpoint[] = f.list(raw.endpoints, 'endpoints').map((item, i) => {
    const at = `endpoints[${i}]`;
    const e = f.object(item, at);
    const addresses = f.list(e.addresses, `${at}.addresses`).map((a, j) => (addressType === 'IPv4' ? f.ipv4(a, `${at}.addresses[${j}]`) : f.string(a, `${at}.addresses[${j}]`)));
    if (addresses.length === 0) f.fail(`${at}.addresses`, 'must hold at least one address');
    const c = f.optionalObject(e.conditions, `${at}.conditions`);
    const ready = f.boolean(c.ready, `${at}.conditions.ready`);
    const serving = f.boolean(c.serving, `${at}.conditions.serving`);
    const terminating = f.boolean(c.terminating, `${at}.conditions.terminating`);
    const nodeName = f.optionalString(e.nodeName, `${at}.nodeName`);
    const targetRef = reference(f, e.targetRef, `${at}.targetRef`);
    return {
      addresses,
      conditions: { ...(ready === undefined ? {} : { ready }), ...(serving === undefined ? {} : { serving }), ...(terminating === undefined ? {} : { terminating }) },
      ...(nodeName ? { nodeName } : {}),
      ...(targetRef ? { targetRef } : {}),
    };
  });
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta, addressType, endpoints: list, ports: endpointPorts(f, raw.ports, 'ports', false) };
}

function pod(f: Fields, raw: Json, meta: ObjectMeta): Pod {
  const spec = f.optionalObject(raw.spec, 'spec');
  const status = f.optionalObject(raw.status, 'status');
  const nodeName = f.optionalString(spec.nodeName, 'spec.nodeName');
  const hostNetwork = f.boolean(spec.hostNetwork, 'spec.hostNetwork');
  const podIP = status.podIP === undefined || status.podIP === null || status.podIP === '' ? undefined : f.ipv4(status.podIP, 'status.podIP');
  const phase = status.phase === undefined || status.phase === null ? undefined : f.oneOf(status.phase, PHASES, 'status.phase');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta,
    spec: { ...(nodeName ? { nodeName } : {}), ...(hostNetwork ? { hostNetwork } : {}) },
    status: { ...(podIP ? { podIP } : {}), ...(phase ? { phase } : {}) },
  };
}

function node(f: Fields, raw: Json, meta: ObjectMeta): K8sNode {
  const status = f.optionalObject(raw.status, 'status');
  const addresses = f.list(status.addresses, 'status.addresses').map((item, i) => {
    const a = f.object(item, `status.addresses[${i}]`);
    return { type: f.string(a.type, `status.addresses[${i}].type`), address: f.string(a.address, `status.addresses[${i}].address`) };
  });
  return { apiVersion: 'v1', kind: 'Node', metadata: meta, status: { addresses } };
}

/** Best-effort identity of a value that may be malformed, for the error that reports it. */
export function identityOf(raw: unknown): { kind: string; namespace?: string; name?: string } {
  if (!isObject(raw)) return { kind: '(not an object)' };
  const meta = isObject(raw.metadata) ? raw.metadata : {};
  return {
    kind: typeof raw.kind === 'string' && raw.kind !== '' ? raw.kind : '(no kind)',
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
  };
}

/** The typed object, or a K8sObjectError / UnusedKind naming what is wrong. */
export function checkObject(value: unknown): K8sObject {
  const id = identityOf(value);
  const f = new Fields(id.kind, id.namespace, id.name);
  const raw = f.object(value, '(document)');
  const kind = f.string(raw.kind, 'kind');
  if (!(K8S_KINDS as readonly string[]).includes(kind)) throw new UnusedKind(kind, id.namespace, id.name);
  const known = kind as K8sKind;
  const apiVersion = f.string(raw.apiVersion, 'apiVersion');
  if (apiVersion !== API_VERSIONS[known]) {
    f.fail('apiVersion', `${kind} is read as ${API_VERSIONS[known]}, got ${JSON.stringify(apiVersion)}${known === 'EndpointSlice' ? ' (discovery.k8s.io/v1beta1 was removed in Kubernetes 1.25)' : ''}`);
  }
  const meta = metadata(f, raw, known !== 'Node');
  switch (known) {
    case 'Service':
      return service(f, raw, meta);
    case 'Endpoints':
      return endpoints(f, raw, meta);
    case 'EndpointSlice':
      return endpointSlice(f, raw, meta);
    case 'Pod':
      return pod(f, raw, meta);
    case 'Node':
      return node(f, raw, meta);
  }
}
