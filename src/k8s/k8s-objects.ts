// Narrow shapes of the Kubernetes objects kube-manager reads: only the fields it uses of Service,
// Endpoints, EndpointSlice (discovery.k8s.io/v1), Pod and Node, plus the watch event that wraps them.
// Owns the types and the identity of an object (kind/namespace/name); checking raw JSON against these
// shapes is object-checks.ts, reading text is manifest-parser.ts.

export const WATCH_EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED'] as const;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

export interface ObjectMeta {
  readonly name: string;
  /** Cluster-scoped kinds (Node) have none. */
  readonly namespace?: string;
  readonly uid?: string;
  /** Opaque to clients by contract; etcd makes it a decimal counter, which is what ordering relies on. */
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly name?: string;
  readonly protocol: PortProtocol;
  readonly port: number;
  /** A number or the name of a container port; the Endpoints carry the resolved number. */
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}

export interface Service {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type: ServiceType;
    /** `None` for a headless service; absent for ExternalName. */
    readonly clusterIP?: string;
    readonly ports: readonly ServicePort[];
    readonly externalIPs?: readonly string[];
    readonly loadBalancerIP?: string;
  };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string; readonly hostname?: string }[] } };
}

export interface ObjectReference {
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface EndpointAddress {
  readonly ip: string;
  readonly nodeName?: string;
  readonly targetRef?: ObjectReference;
}

export interface EndpointPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: PortProtocol;
}

export interface EndpointSubset {
  readonly addresses: readonly EndpointAddress[];
  readonly notReadyAddresses: readonly EndpointAddress[];
  readonly ports: readonly EndpointPort[];
}

export interface Endpoints {
  readonly apiVersion: 'v1';
  readonly kind: 'Endpoints';
  readonly metadata: ObjectMeta;
  readonly subsets: readonly EndpointSubset[];
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  /** `ready` absent means ready (discovery.k8s.io/v1 contract). */
  readonly conditions: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  readonly nodeName?: string;
  readonly targetRef?: ObjectReference;
}

export interface EndpointSlice {
  readonly apiVersion: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: ObjectMeta;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints: readonly SliceEndpoint[];
  readonly ports: readonly EndpointPort[];
}

/** The label that names an EndpointSlice's service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface Pod {
  readonly apiVersion: 'v1';
  readonly kind: 'Pod';
  readonly metadata: ObjectMeta;
  readonly spec: { readonly nodeName?: string; readonly hostNetwork?: boolean };
  readonly status: { readonly podIP?: string; readonly phase?: PodPhase };
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface K8sNode {
  readonly apiVersion: 'v1';
  readonly kind: 'Node';
  readonly metadata: ObjectMeta;
  readonly status: { readonly addresses: readonly NodeAddress[] };
}

export type K8sObject = Service | Endpoints | EndpointSlice | Pod | K8sNode;
export type K8sKind = K8sObject['kind'];
export const K8S_KINDS: readonly K8sKind[] = ['Service', 'Endpoints', 'EndpointSlice', 'Pod', 'Node'];

/** What `kubectl get --watch --output-watch-events` prints per change; a bare object reads as ADDED. */
export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: K8sObject;
}

/** `Service/ns-user-1/service-web-clusterip`, `Node/worker-1`: how reports and the cache name an object. */
export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind}/${name}` : `${kind}/${namespace}/${name}`;
}

export function keyOf(object: K8sObject): string {
  return objectKey(object.kind, object.metadata.namespace, object.metadata.name);
}
