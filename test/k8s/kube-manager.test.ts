import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigStore } from '../../src/model/config-store.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { storeConfigClient } from '../../src/k8s/config-client.ts';
import { KubeManager, summarize, type ObjectResult } from '../../src/k8s/kube-manager.ts';
import { DEFAULT_POD_NETWORK, DEFAULT_SERVICE_NETWORK, k8sSettings, type RawK8sSection } from '../../src/k8s/k8s-settings.ts';
import { parseManifests, type ParsedEntry } from '../../src/k8s/manifest-parser.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/k8s/${name}`, import.meta.url), 'utf8');
const manifest = (name: string): string => readFileSync(new URL(`../../topologies/k8s/${name}`, import.meta.url), 'utf8');

const COMPUTES = [
  { name: 'compute-1', address: '127.0.20.1' },
  { name: 'compute-2', address: '127.0.20.2' },
  { name: 'compute-3', address: '127.0.20.3' },
];
const SEED_NODES = { cent111: 'compute-1', cent222: 'compute-2', cent333: 'compute-3' };
const LB = 'ns-user-1-service-web-clusterip';
const POOL = `${LB}-TCP-8888-pool`;
const [A, B, C, D] = ['10.47.255.238', '10.47.255.237', '10.47.255.236', '10.47.255.235'];

function setup(section: RawK8sSection = { nodes: SEED_NODES }): { store: ConfigStore; manager: KubeManager } {
  const store = new ConfigStore({ asn: 64512, reconcile: nativeDriverHook });
  const manager = new KubeManager({ client: storeConfigClient(store), settings: k8sSettings(section), computes: COMPUTES });
  return { store, manager };
}

const memberAddresses = (store: ConfigStore, pool = POOL): string[] =>
  store
    .list('loadbalancer-member')
    .filter((m) => m.pool === pool)
    .map((m) => `${m.address}:${m.port}`)
    .sort();

const line = (r: ObjectResult): string => `${r.action} ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${r.reason ? `: ${r.reason}` : ''}`;

describe('kube-manager', () => {
  it("applies seed 001's service-web-clusterip: networks, pod workloads, a native LB with one listener, pool and two members", async () => {
    const { store, manager } = setup();
    const results = await manager.apply(parseManifests(manifest('service-web-clusterip.yaml')));
    expect(results.map(line)).to.deep.equal([
      'created Service ns-user-1/service-web-clusterip',
      'created Endpoints ns-user-1/service-web-clusterip',
      'created Pod ns-user-1/webserver-7c7c458cc5-4xkxh',
      'created Pod ns-user-1/webserver-7c7c458cc5-9vqtw',
    ]);
    expect(results[0].config.slice(0, 2)).to.deep.equal([`create virtual-network ${DEFAULT_POD_NETWORK.name}`, `create virtual-network ${DEFAULT_SERVICE_NETWORK.name}`]);
    expect(store.list('virtual-network').map((vn) => [vn.name, vn.subnets])).to.deep.equal([
      [DEFAULT_POD_NETWORK.name, ['10.32.0.0/12']],
      [DEFAULT_SERVICE_NETWORK.name, ['10.96.0.0/12']],
    ]);
    const lb = store.get('loadbalancer', LB);
    expect(lb).to.include({ provider: 'native', vipAddress: '10.96.0.88', virtualNetwork: DEFAULT_SERVICE_NETWORK.name });
    expect(store.list('loadbalancer-listener').map((l) => [l.name, l.protocol, l.port])).to.deep.equal([[`${LB}-TCP-8888`, 'TCP', 8888]]);
    expect(store.list('loadbalancer-pool').map((p) => p.name)).to.deep.equal([POOL]);
    expect(memberAddresses(store)).to.deep.equal([`${B}:80`, `${A}:80`]);
    expect(store.list('virtual-machine-interface').filter((v) => v.compute).map((v) => [v.name, v.compute, v.virtualNetwork])).to.deep.equal([
      ['ns-user-1__webserver-7c7c458cc5-4xkxh', 'compute-2', DEFAULT_POD_NETWORK.name],
      ['ns-user-1__webserver-7c7c458cc5-9vqtw', 'compute-3', DEFAULT_POD_NETWORK.name],
    ]);
    // the native driver's floating-ip: VIP on both pod VMIs, service port 8888 → targetPort 80
    const fip = store.list('floating-ip').find((f) => f.loadBalancer === LB);
    expect(fip).to.deep.include({ address: '10.96.0.88', portMappings: [{ protocol: 'TCP', srcPort: 8888, dstPort: 80 }] });
    expect([...(fip?.virtualMachineInterfaces ?? [])].sort()).to.deep.equal(['ns-user-1__webserver-7c7c458cc5-4xkxh', 'ns-user-1__webserver-7c7c458cc5-9vqtw']);
    expect(store.lbaasReport.problems).to.deep.equal([]);
    // the policy that connects the two networks (route-target import both ways)
    expect(results[0].config[2]).to.equal('create network-policy default-domain:k8s-default:k8s-default-pod-service-np');
    expect(store.list('network-policy')[0]).to.deep.include({ networks: [DEFAULT_POD_NETWORK.name, DEFAULT_SERVICE_NETWORK.name] });
  });

  it('gives the multi-port service one load balancer with a listener, pool and members per port', async () => {
    const { store, manager } = setup();
    await manager.apply(parseManifests(manifest('service-web-clusterip.yaml')));
    const results = await manager.apply(parseManifests(manifest('service-web-clusterip-mp.yaml')));
    expect(summarize(results)).to.include({ created: 2, error: 0 });
    const mp = 'ns-user-1-service-web-clusterip-mp';
    expect(store.list('loadbalancer-listener').filter((l) => l.loadBalancer === mp).map((l) => l.port)).to.deep.equal([8888, 9999]);
    expect(memberAddresses(store, `${mp}-TCP-8888-pool`)).to.deep.equal([`${B}:80`, `${A}:80`]);
    expect(memberAddresses(store, `${mp}-TCP-9999-pool`)).to.deep.equal([`${B}:90`, `${A}:90`]);
    const fip = store.list('floating-ip').find((f) => f.loadBalancer === mp);
    expect(fip?.portMappings).to.deep.equal([
      { protocol: 'TCP', srcPort: 8888, dstPort: 80 },
      { protocol: 'TCP', srcPort: 9999, dstPort: 90 },
    ]);
  });

  it('follows a watch stream with out-of-order, repeated and stale objects: 2 → 4 → 1 members', async () => {
    const { store, manager } = setup();
    const entries = parseManifests(fixture('watch-events.json'));
    const step = async (from: number, to: number): Promise<ObjectResult[]> => manager.apply(entries.slice(from, to));

    const first = await step(0, 5);
    expect(first.map(line)).to.deep.equal([
      'created Endpoints ns-user-1/service-web-clusterip',
      'created Service ns-user-1/service-web-clusterip',
      'created Pod ns-user-1/webserver-7c7c458cc5-4xkxh',
      'skipped Service ns-user-1/service-web-clusterip: repeated: resourceVersion 1001 is already held',
      'created Pod ns-user-1/webserver-7c7c458cc5-9vqtw',
    ]);
    expect(first[0].notes).to.deep.include('service ns-user-1/service-web-clusterip: Service ns-user-1/service-web-clusterip is not known (yet): its endpoints are held until it arrives');
    expect(memberAddresses(store)).to.deep.equal([`${B}:80`, `${A}:80`]);

    // scale to 4: the Endpoints come before two of the pods
    const scaled = await step(5, 8);
    expect(scaled[0].config).to.deep.equal([`create loadbalancer-member ${POOL}:${C}:80`, `create loadbalancer-member ${POOL}:${D}:80`]);
    expect(memberAddresses(store)).to.have.length(4);
    expect(store.list('floating-ip').find((f) => f.loadBalancer === LB)?.virtualMachineInterfaces).to.have.length(4);

    const last = await step(8, 12);
    expect(last.map(line)).to.deep.equal([
      'skipped Endpoints ns-user-1/service-web-clusterip: stale: resourceVersion 1015 is older than 1020',
      'updated Endpoints ns-user-1/service-web-clusterip',
      'deleted Pod ns-user-1/webserver-7c7c458cc5-q2dtn',
      'skipped Endpoints ns-user-1/service-web-clusterip: repeated: resourceVersion 1030 is already held',
    ]);
    // not-ready addresses are no members
    expect(last[1].config).to.deep.equal([`delete loadbalancer-member ${POOL}:${B}:80`, `delete loadbalancer-member ${POOL}:${C}:80`, `delete loadbalancer-member ${POOL}:${D}:80`]);
    expect(last[2].config).to.deep.equal(['delete instance-ip ns-user-1__webserver-7c7c458cc5-q2dtn', 'delete virtual-machine-interface ns-user-1__webserver-7c7c458cc5-q2dtn']);
    expect(memberAddresses(store)).to.deep.equal([`${A}:80`]);
  });

  it('takes a bare watch stream (no event types) the same way', async () => {
    const { store, manager } = setup();
    const results = await manager.apply(parseManifests(fixture('watch-bare.json')));
    expect(summarize(results)).to.deep.equal({ created: 5, updated: 2, deleted: 0, skipped: 2, error: 0 });
    expect(memberAddresses(store)).to.deep.equal([`${C}:80`, `${B}:80`]);
  });

  it('deletes the load balancer with its service, and a late copy of the deleted version does not revive it', async () => {
    const { store, manager } = setup();
    const results = await manager.apply(parseManifests(fixture('watch-delete-service.json')));
    expect(results.map((r) => r.action)).to.deep.equal(['created', 'created', 'created', 'deleted', 'skipped']);
    expect(results[3].config).to.deep.equal([`delete loadbalancer ${LB} (cascade)`]);
    expect(store.list('loadbalancer')).to.deep.equal([]);
    expect(store.list('loadbalancer-member')).to.deep.equal([]);
    expect(store.list('floating-ip')).to.deep.equal([]);
    expect(store.get('virtual-machine-interface', 'ns-user-1__webserver-7c7c458cc5-4xkxh')).to.not.equal(undefined);
  });

  it('skips headless and ExternalName services with a note; a LoadBalancer service with no floating-ip pool gets its ClusterIP LB and a note', async () => {
    const { store, manager } = setup();
    const svc = (name: string, spec: Record<string, unknown>, status?: unknown): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns1' }, spec, ...(status ? { status } : {}) });
    const results = await manager.apply(
      parseManifests(
        JSON.stringify({
          kind: 'List',
          apiVersion: 'v1',
          items: [
            svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] }),
            svc('ext', { type: 'ExternalName', externalName: 'example.org' }),
            svc('front', { type: 'LoadBalancer', clusterIP: '10.96.1.1', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }, { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } }),
          ],
        }),
      ),
    );
    expect(results.map(line)).to.deep.equal([
      'skipped Service ns1/db: headless service (clusterIP None): DNS only, no load balancer',
      'skipped Service ns1/ext: ExternalName service: a DNS alias, no load balancer',
      'created Service ns1/front',
    ]);
    expect(results[2].notes).to.include('nodePort 30080 is not simulated (the cluster IP is)');
    expect(results[2].notes.join('\n')).to.match(/no floating-ip pool exists, so no external IP is given/);
    expect(store.list('loadbalancer').map((lb) => [lb.name, lb.vipAddress])).to.deep.equal([['ns1-front', '10.96.1.1']]);
  });

  it('gives a LoadBalancer service an external IP from the public pool, associated with its VIP, and takes it back', async () => {
    const { store, manager } = setup();
    store.createVirtualNetwork({ name: 'default-domain:admin:public', subnets: ['192.0.2.0/24'] });
    store.createFloatingIpPool({ name: 'public-pool', virtualNetwork: 'default-domain:admin:public' });
    await manager.apply(parseManifests(manifest('service-web-clusterip.yaml')));
    let version = 1000;
    const service = (type: string, extra: Record<string, unknown> = {}, status?: unknown) =>
      JSON.stringify({
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'service-web-clusterip', namespace: 'ns-user-1', resourceVersion: String(version++) },
        spec: { type, clusterIP: '10.96.0.88', ports: [{ port: 8888, targetPort: 80 }], ...extra }, ...(status ? { status } : {}),
      });
    const [auto] = await manager.apply(parseManifests(service('LoadBalancer')));
    const fip = store.get('floating-ip', `${LB}-external`);
    expect(fip).to.include({ address: '192.0.2.2', pool: 'public-pool', virtualNetwork: 'default-domain:admin:public', loadBalancer: LB });
    expect(fip?.portMappings).to.deep.equal([{ protocol: 'TCP', srcPort: 8888, dstPort: 80 }]);
    // it follows the VIP to the members' VMIs, as the native driver does for the VIP's own floating-ip
    expect(fip?.virtualMachineInterfaces).to.include.members(['ns-user-1__webserver-7c7c458cc5-4xkxh', 'ns-user-1__webserver-7c7c458cc5-9vqtw']);
    expect(auto.notes).to.include(`external IP 192.0.2.2 (floating-ip ${LB}-external from pool public-pool)`);
    // spec.loadBalancerIP (or status.loadBalancer.ingress) is honoured: the floating IP is made again on that address
    await manager.apply(parseManifests(service('LoadBalancer', { loadBalancerIP: '192.0.2.50' })));
    expect(store.get('floating-ip', `${LB}-external`)?.address).to.equal('192.0.2.50');
    await manager.apply(parseManifests(service('LoadBalancer', {}, { loadBalancer: { ingress: [{ ip: '192.0.2.60' }] } })));
    expect(store.get('floating-ip', `${LB}-external`)?.address).to.equal('192.0.2.60');
    // back to ClusterIP: the external IP goes, the load balancer stays
    await manager.apply(parseManifests(service('ClusterIP')));
    expect(store.get('floating-ip', `${LB}-external`)).to.equal(undefined);
    expect(store.get('loadbalancer', LB)).to.not.equal(undefined);
    await manager.apply(parseManifests(service('LoadBalancer', { loadBalancerIP: '192.0.2.70' })));
    const [deleted] = await manager.apply(parseManifests(JSON.stringify({ type: 'DELETED', object: JSON.parse(service('LoadBalancer')) })));
    expect(deleted.config).to.include(`delete floating-ip ${LB}-external`);
    expect(store.list('floating-ip').filter((f) => f.pool !== undefined)).to.deep.equal([]);
    expect(store.get('loadbalancer', LB)).to.equal(undefined);
  });

  it('places a pod once its node can be mapped to a compute (Node InternalIP), and reports why until then', async () => {
    const { store, manager } = setup({});
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'ns1', resourceVersion: '1' }, spec: { nodeName: 'worker-b' }, status: { phase: 'Running', podIP: '10.32.0.20' } };
    const [first] = await manager.apply(parseManifests(JSON.stringify(pod)));
    expect(line(first)).to.match(/^skipped Pod ns1\/p1: node worker-b maps to no compute/);
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-b' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.20.2' }] } };
    const [second] = await manager.apply(parseManifests(JSON.stringify(node)));
    expect(second.config).to.deep.equal(['create virtual-machine-interface ns1__p1', 'create instance-ip ns1__p1']);
    expect(store.get('virtual-machine-interface', 'ns1__p1')?.compute).to.equal('compute-2');
    // the pod moves (a new pod of the same name on another node): the VMI follows
    const [third] = await manager.apply(parseManifests(JSON.stringify({ ...pod, metadata: { ...pod.metadata, resourceVersion: '2' }, spec: { nodeName: 'compute-3' } })));
    expect(third.config).to.deep.equal(['update virtual-machine-interface ns1__p1 {"compute":"compute-3"}']);
  });

  it('retries a pod whose address is still held by a pod not deleted yet', async () => {
    const { store, manager } = setup({});
    const pod = (name: string, rv: string): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns1', resourceVersion: rv }, spec: { nodeName: 'compute-1' }, status: { phase: 'Running', podIP: '10.32.0.30' } });
    await manager.apply(parseManifests(JSON.stringify(pod('old', '1'))));
    const [clash] = await manager.apply(parseManifests(JSON.stringify(pod('new', '2'))));
    expect(clash.action).to.equal('error');
    expect(clash.reason).to.match(/^pod ns1\/new: .*10\.32\.0\.30/);
    expect(store.get('virtual-machine-interface', 'ns1__new')).to.equal(undefined);
    expect(manager.status().waiting).to.deep.equal(['pod/ns1/new']);
    const [deleted] = await manager.apply(parseManifests(JSON.stringify({ type: 'DELETED', object: pod('old', '3') })));
    expect(deleted.notes).to.include('retried pod ns1/new: done');
    expect(store.instanceIpsOf('ns1__new').map((i) => i.address)).to.deep.equal(['10.32.0.30']);
  });

  it('reads EndpointSlices before Endpoints, leaving not-ready endpoints out', async () => {
    const { store, manager } = setup({});
    const objects = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1' }, spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'ns1' }, subsets: [{ addresses: [{ ip: '10.32.0.99' }], ports: [{ name: 'http', port: 8080 }] }] },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-x1', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.32.0.1'], conditions: { ready: true } }, { addresses: ['10.32.0.2'], conditions: { ready: false } }, { addresses: ['10.32.0.3'] }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ];
    await manager.apply(parseManifests(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects })));
    expect(memberAddresses(store, 'ns1-web-TCP-80-pool')).to.deep.equal(['10.32.0.1:8080', '10.32.0.3:8080']);
  });

  it('shares one network between pods and services when the topology says so', async () => {
    const { store, manager } = setup({ podNetwork: { name: 'default-domain:k8s:pods' }, serviceNetwork: { name: 'default-domain:k8s:pods' }, nodes: SEED_NODES });
    await manager.apply(parseManifests(manifest('service-web-clusterip.yaml')));
    expect(store.list('virtual-network').map((vn) => [vn.name, vn.subnets])).to.deep.equal([['default-domain:k8s:pods', ['10.32.0.0/12', '10.96.0.0/12']]]);
    expect(store.list('network-policy')).to.deep.equal([]);
    expect(store.get('loadbalancer', LB)?.virtualNetwork).to.equal('default-domain:k8s:pods');
  });

  it('follows a service whose port changes: the old listener goes with its pool and members, the new one gets the endpoints', async () => {
    const { store, manager } = setup({});
    const svc = (rv: string, port: number): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1', resourceVersion: rv }, spec: { clusterIP: '10.96.0.60', ports: [{ port, targetPort: 8080 }] } });
    const ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'ns1', resourceVersion: '2' }, subsets: [{ addresses: [{ ip: '10.32.0.61' }], ports: [{ port: 8080 }] }] };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'ns1' }, spec: { nodeName: 'compute-1' }, status: { phase: 'Running', podIP: '10.32.0.61' } };
    await manager.apply(parseManifests(JSON.stringify([pod, svc('1', 80), ep])));
    const [changed] = await manager.apply(parseManifests(JSON.stringify(svc('3', 8000))));
    expect(changed.config).to.deep.equal([
      'delete loadbalancer-listener ns1-web-TCP-80 (cascade)',
      'create loadbalancer-listener ns1-web-TCP-8000',
      'create loadbalancer-pool ns1-web-TCP-8000-pool',
      'create loadbalancer-member ns1-web-TCP-8000-pool:10.32.0.61:8080',
    ]);
    expect(store.list('floating-ip')[0].portMappings).to.deep.equal([{ protocol: 'TCP', srcPort: 8000, dstPort: 8080 }]);
  });

  it('goes on with the batch after a malformed object and after an object the config refuses', async () => {
    const { store, manager } = setup({});
    const entries: ParsedEntry[] = parseManifests(
      JSON.stringify([
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad', namespace: 'ns1' }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 0 }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside', namespace: 'ns1' }, spec: { clusterIP: '172.16.0.1', ports: [{ port: 80 }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'good', namespace: 'ns1' }, spec: { clusterIP: '10.96.0.2', ports: [{ port: 80 }] } },
      ]),
    );
    const results = await manager.apply(entries);
    expect(results.map((r) => `${r.action} ${r.name}${r.field ? ` ${r.field}` : ''}`)).to.deep.equal(['error bad spec.ports[0].port', 'error outside', 'created good']);
    expect(results[1].reason).to.match(/^service ns1\/outside: .*172\.16\.0\.1/);
    expect(store.list('loadbalancer').map((lb) => lb.name)).to.deep.equal(['ns1-good']);
  });
});
