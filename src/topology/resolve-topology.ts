import { HASH_FIELDS } from '../net/hash-fields.ts';
import { Ipam } from '../model/ipam.ts';
import { ipv4ToBytes, isLoopback, parseIpv4Address, parseIpv4Subnet } from '../net/ipv4.ts';
import type { RawTopology } from './raw-topology.ts';
import { resolveNorthSouth } from './resolve-north-south.ts';
import { DEFAULT_GRACEFUL_RESTART } from './topology.ts';
import { nodeXmppAuth, xmppAuthProblems, type XmppAuthFiles } from './xmpp-auth.ts';
import { k8sSectionProblems, k8sSettings } from '../k8s/k8s-settings.ts';
import { networkPolicyProblems, type NetworkPolicySpec } from '../model/network-policy.ts';
import type {
  ComputeSpec,
  ControlNodeSpec,
  LoadBalancerTopology,
  MemberTopology,
  NetworkSpec,
  Topology,
  TopologyError,
  WorkloadSpec,
} from './topology.ts';

const DEFAULT_ASN = 64512;
const DEFAULT_XMPP_PORT = 5269;
const DEFAULT_BGP_PORT = 179;
const DEFAULT_HOLD_SECONDS = 90;
const MAX_XMPP_SERVERS = 2;

/** Locally administered, unicast, and stable for a given address: `02:00:` + the four address bytes. */
export function macForAddress(address: string): string {
  return ['02', '00', ...[...ipv4ToBytes(address)].map((octet) => octet.toString(16).padStart(2, '0'))].join(':');
}

/** Remembers who first used a value so a clash can name them. */
class FirstUse {
  readonly #owners = new Map<string, string>();
  claim(value: string, owner: string): string | undefined {
    const previous = this.#owners.get(value);
    if (previous === undefined) this.#owners.set(value, owner);
    return previous;
  }
  has(value: string): boolean {
    return this.#owners.has(value);
  }
}

/**
 * Checks what the schema cannot (unique names and addresses, references, subnets, loopback-only nodes)
 * and fills every default, including addresses the IPAM allocates, exactly as the config store will.
 * All problems are collected; the topology is returned only when there are none.
 */
export function resolveTopology(raw: RawTopology): { topology?: Topology; errors: TopologyError[]; warnings: TopologyError[] } {
  const errors: TopologyError[] = [];
  const warnings: TopologyError[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });

  const nodeNames = new FirstUse();
  const nodeAddresses = new FirstUse();
  const checkNode = (path: string, node: { name: string; address: string }) => {
    const nameOwner = nodeNames.claim(node.name, path);
    if (nameOwner !== undefined) fail(`${path}.name`, `${node.name} is already used by ${nameOwner}`);
    if (!isLoopback(node.address)) fail(`${path}.address`, `${node.address} is outside 127.0.0.0/8 (nodes run on loopback addresses only)`);
    const addressOwner = nodeAddresses.claim(node.address, node.name);
    if (addressOwner !== undefined) fail(`${path}.address`, `${node.address} is already used by ${addressOwner}`);
  };

  const routerIds = new FirstUse();
  const controlNodes: ControlNodeSpec[] = raw.controlNodes.map((node, index) => {
    const path = `controlNodes[${index}]`;
    checkNode(path, node);
    const routerId = node.routerId ?? node.address;
    const idOwner = routerIds.claim(routerId, node.name);
    if (idOwner !== undefined) fail(`${path}.${node.routerId ? 'routerId' : 'address'}`, `router id ${routerId} is already used by ${idOwner}`);
    return {
      name: node.name,
      address: node.address,
      xmppPort: node.xmppPort ?? DEFAULT_XMPP_PORT,
      bgpPort: node.bgpPort ?? DEFAULT_BGP_PORT,
      routerId,
      ...(node.clusterId ? { clusterId: node.clusterId } : {}),
      ...withXmppAuth(nodeXmppAuth(raw.xmppAuth, node.xmppAuth, path, fail)),
    };
  });
  const controlNames = controlNodes.map((node) => node.name);
  for (const problem of xmppAuthProblems(raw.xmppAuth)) fail(problem.path, problem.message);

  const computes: ComputeSpec[] = raw.computes.map((compute, index) => {
    const path = `computes[${index}]`;
    checkNode(path, compute);
    (compute.xmppServers ?? []).forEach((server, serverIndex) => {
      if (!controlNames.includes(server)) fail(`${path}.xmppServers[${serverIndex}]`, `${server} is not a control node (known: ${controlNames.join(', ')})`);
    });
    return {
      name: compute.name,
      address: compute.address,
      external: compute.external ?? false,
      xmppServers: compute.xmppServers ?? controlNames.slice(0, MAX_XMPP_SERVERS),
      ...withXmppAuth(nodeXmppAuth(raw.xmppAuth, compute.xmppAuth, path, fail)),
    };
  });
  const computeNames = new Set(computes.map((compute) => compute.name));

  const bgpPeers = (raw.bgpPeers ?? []).map((peer, index) => {
    const path = `bgpPeers[${index}]`;
    checkNode(path, peer);
    if (peer.localAddress !== undefined && !controlNodes.some((node) => node.address === peer.localAddress)) {
      fail(`${path}.localAddress`, `${peer.localAddress} is not the address of any control node`);
    }
    return {
      name: peer.name,
      address: peer.address,
      port: peer.port ?? DEFAULT_BGP_PORT,
      asn: peer.asn,
      families: peer.families ?? ['inet-vpn', 'route-target'],
      ...(peer.localAddress ? { localAddress: peer.localAddress } : {}),
      holdTime: peer.holdTime ?? DEFAULT_HOLD_SECONDS,
      passive: peer.passive ?? false,
    };
  });

  const networkNames = new FirstUse();
  const ipams = new Map<string, Ipam>();
  const networks: NetworkSpec[] = raw.networks.map((network, index) => {
    const path = `networks[${index}]`;
    const owner = networkNames.claim(network.name, path);
    if (owner !== undefined) fail(`${path}.name`, `${network.name} is already used by ${owner}`);
    let valid = true;
    network.subnets.forEach((subnet, subnetIndex) => {
      const parsed = parseIpv4Subnet(subnet);
      if (typeof parsed === 'string') {
        fail(`${path}.subnets[${subnetIndex}]`, parsed);
        valid = false;
      }
    });
    if (valid) {
      const problems = Ipam.subnetProblems(network.subnets);
      for (const problem of problems) fail(`${path}.subnets`, problem);
      if (problems.length === 0 && owner === undefined) ipams.set(network.name, new Ipam(network.subnets));
    }
    return { name: network.name, subnets: [...network.subnets], ...(network.hashFields ? { hashFields: network.hashFields } : {}) };
  });
  const knownNetworks = networks.map((network) => network.name);
  const networkExists = (path: string, name: string): boolean => {
    if (networkNames.has(name)) return true;
    fail(path, `${name} is not a network (known: ${knownNetworks.join(', ') || 'none'})`);
    return false;
  };

  // explicit addresses first, so that allocation (file order) never takes an address someone asked for
  const workloadNames = new FirstUse();
  const refusedAddresses = new Set<string>();
  const rawWorkloads = raw.workloads ?? [];
  rawWorkloads.forEach((workload, index) => {
    const path = `workloads[${index}]`;
    const owner = workloadNames.claim(workload.name, path);
    if (owner !== undefined) fail(`${path}.name`, `${workload.name} is already used by ${owner}`);
    if (!computeNames.has(workload.compute)) fail(`${path}.compute`, `${workload.compute} is not a compute (known: ${[...computeNames].join(', ') || 'none'})`);
    if (networkExists(`${path}.network`, workload.network) && workload.address !== undefined) {
      if (!reserve(ipams.get(workload.network), workload.address, workload.name, `${path}.address`, fail)) refusedAddresses.add(path);
    }
  });

  const rawLoadBalancers = raw.loadBalancers ?? [];
  const lbNames = new FirstUse();
  rawLoadBalancers.forEach((lb, index) => {
    const path = `loadBalancers[${index}]`;
    const owner = lbNames.claim(lb.name, path);
    if (owner !== undefined) fail(`${path}.name`, `${lb.name} is already used by ${owner}`);
    if (workloadNames.has(`${lb.name}-vip`)) fail(`${path}.name`, `its VIP interface would be named ${lb.name}-vip, which is already a workload`);
    if (networkExists(`${path}.network`, lb.network) && lb.vip !== undefined) {
      reserve(ipams.get(lb.network), lb.vip, `the VIP of ${lb.name}`, `${path}.vip`, fail);
    }
  });

  const northSouth = resolveNorthSouth(raw, {
    fail,
    checkNode,
    networkExists,
    reserve: (network, address, owner, path) => void reserve(ipams.get(network), address, owner, path, fail),
    hasWorkload: (name) => workloadNames.has(name),
    workloadNetwork: (name) => rawWorkloads.find((w) => w.name === name)?.network,
    hasLoadBalancer: (name) => lbNames.has(name),
    controlNodes: controlNames,
    asn: raw.asn ?? DEFAULT_ASN,
  });

  const allocated = new Map<string, string>();
  const allocate = (network: string, owner: string, path: string): string => {
    const ipam = ipams.get(network);
    if (!ipam) return '';
    const address = ipam.nextFree();
    if (address === undefined) {
      fail(path, `no free address left in ${network} (${ipam.subnets.join(', ')}) for ${owner}`);
      return '';
    }
    ipam.reserve(address, owner);
    allocated.set(path, address);
    return address;
  };

  const macs = new Map<string, FirstUse>();
  const workloads: WorkloadSpec[] = rawWorkloads.map((workload, index) => {
    const path = `workloads[${index}]`;
    const address = workload.address ?? allocate(workload.network, workload.name, path);
    const mac = workload.mac ?? (address ? macForAddress(address) : '');
    // a derived MAC repeats an address clash that is already reported
    if (mac && (workload.mac !== undefined || !refusedAddresses.has(path))) {
      const used = macs.get(workload.network) ?? new FirstUse();
      macs.set(workload.network, used);
      const owner = used.claim(mac, workload.name);
      if (owner !== undefined) fail(`${path}.mac`, `${mac} is already used by ${owner} in ${workload.network}`);
    }
    return {
      name: workload.name, compute: workload.compute, network: workload.network, address, mac,
      ...(workload.hashFields ? { hashFields: workload.hashFields } : {}),
      ...(workload.allowedAddressPairs ? { allowedAddressPairs: workload.allowedAddressPairs.map((pair) => ({ prefix: pair.prefix, mode: pair.mode ?? 'active-standby' })) } : {}),
    };
  });

  const objectNames = { listener: new FirstUse(), pool: new FirstUse(), member: new FirstUse() };
  const claimName = (kind: keyof typeof objectNames, name: string, path: string) => {
    const owner = objectNames[kind].claim(name, path);
    if (owner !== undefined) fail(`${path}.name`, `${kind} name ${name} is already used by ${owner}`);
  };
  const workloadByAddress = new Map(workloads.map((workload) => [`${workload.network}\u0000${workload.address}`, workload]));

  const loadBalancers: LoadBalancerTopology[] = rawLoadBalancers.map((lb, index) => {
    const path = `loadBalancers[${index}]`;
    const vip = lb.vip ?? allocate(lb.network, `the VIP of ${lb.name}`, path);
    const ports = new FirstUse();
    const listeners = lb.listeners.map((listener, listenerIndex) => {
      const listenerPath = `${path}.listeners[${listenerIndex}]`;
      claimName('listener', listener.name, listenerPath);
      const portOwner = ports.claim(String(listener.port), listener.name);
      if (portOwner !== undefined) fail(`${listenerPath}.port`, `${listener.port} is already used by listener ${portOwner}`);
      const pool = listener.pool;
      const poolPath = `${listenerPath}.pool`;
      claimName('pool', pool.name, poolPath);
      const pairs = new FirstUse();
      const members: MemberTopology[] = pool.members.map((member, memberIndex) => {
        const memberPath = `${poolPath}.members[${memberIndex}]`;
        const name = member.name ?? `${pool.name}:${member.address}:${member.port}`;
        // a defaulted name repeats only when address and port do, which the pair check reports
        if (member.name !== undefined) claimName('member', name, memberPath);
        else objectNames.member.claim(name, memberPath);
        const pairOwner = pairs.claim(`${member.address}:${member.port}`, memberPath);
        if (pairOwner !== undefined) fail(`${memberPath}.address`, `${member.address} port ${member.port} is already a member (${pairOwner})`);
        checkMemberAddress(raw, ipams, lb.network, member, memberPath, fail);
        if (member.address === vip) fail(`${memberPath}.address`, `${member.address} is the VIP of ${lb.name}`);
        else if (![...workloadByAddress.values()].some((workload) => workload.address === member.address)) {
          warnings.push({ path: `${memberPath}.address`, message: `${member.address} is not the address of any workload: the native driver will leave this member out` });
        }
        return {
          name,
          address: member.address,
          port: member.port,
          weight: member.weight ?? 1,
          adminState: member.adminState ?? true,
          ...(member.subnet ? { subnet: member.subnet } : {}),
        };
      });
      const monitor = pool.healthMonitor;
      return {
        name: listener.name,
        protocol: listener.protocol,
        port: listener.port,
        pool: {
          name: pool.name,
          algorithm: pool.algorithm ?? 'ROUND_ROBIN',
          protocol: pool.protocol ?? listener.protocol,
          ...(monitor
            ? { healthMonitor: { type: monitor.type, delay: monitor.delay ?? 5, timeout: monitor.timeout ?? 5, maxRetries: monitor.maxRetries ?? 3, ...(monitor.urlPath ? { urlPath: monitor.urlPath } : {}) } }
            : {}),
          members,
        },
      };
    });
    // a monitor's urlPath only means something for HTTP(S) probes
    lb.listeners.forEach((listener, listenerIndex) => {
      const monitor = listener.pool.healthMonitor;
      if (monitor?.urlPath !== undefined && monitor.type !== 'HTTP' && monitor.type !== 'HTTPS') {
        fail(`${path}.listeners[${listenerIndex}].pool.healthMonitor.urlPath`, `applies only to HTTP and HTTPS monitors, not ${monitor.type}`);
      }
    });
    return { name: lb.name, provider: lb.provider ?? 'native', network: lb.network, vip, maglev: lb.maglev ?? false, listeners };
  });

  for (const problem of k8sSectionProblems(raw.k8s, computes.map((c) => c.name))) fail(problem.path, problem.message);
  // `rules` default to one rule passing everything between the attached networks, both ways
  const networkPolicies: NetworkPolicySpec[] = (raw.networkPolicies ?? []).map((policy, index) => {
    const spec = { name: policy.name, networks: [...policy.networks], rules: policy.rules ?? [{ action: 'pass' as const, direction: '<>' as const, sourceNetwork: 'any', destinationNetwork: 'any' }] };
    for (const problem of networkPolicyProblems(spec, networks.map((n) => n.name))) fail(`networkPolicies[${index}].${problem.field}`, problem.reason);
    return spec;
  });
  if (errors.length > 0) return { errors, warnings };
  const topology: Topology = {
    name: raw.name,
    ...(raw.description ? { description: raw.description } : {}),
    asn: raw.asn ?? DEFAULT_ASN,
    holdTimeSeconds: raw.holdTimeSeconds ?? DEFAULT_HOLD_SECONDS,
    hashFields: raw.hashFields ?? [...HASH_FIELDS],
    encapsulationPriorities: raw.encapsulationPriorities ?? ['MPLSoGRE', 'MPLSoUDP', 'VXLAN'],
    controlNodes,
    computes,
    networks,
    workloads,
    loadBalancers,
    bgpPeers,
    ...(raw.k8s ? { k8s: k8sSettings(raw.k8s) } : {}),
    networkPolicies,
    ...northSouth,
    ...(raw.gracefulRestart ? { gracefulRestart: { ...DEFAULT_GRACEFUL_RESTART, ...raw.gracefulRestart } } : {}),
  };
  return { topology, errors, warnings };
}

function withXmppAuth(files: XmppAuthFiles | undefined): { xmppAuth?: XmppAuthFiles } {
  return files ? { xmppAuth: files } : {};
}

/** false when the address was refused (and the refusal reported) */
function reserve(ipam: Ipam | undefined, address: string, owner: string, path: string, fail: (path: string, message: string) => void): boolean {
  if (!ipam) return true; // the network's own errors are already reported
  const problem = ipam.problemWith(address);
  if (problem) fail(path, problem);
  else ipam.reserve(address, owner);
  return problem === undefined;
}

function checkMemberAddress(
  raw: RawTopology,
  ipams: ReadonlyMap<string, Ipam>,
  network: string,
  member: { address: string; subnet?: string },
  path: string,
  fail: (path: string, message: string) => void,
): void {
  if (member.subnet !== undefined) {
    const subnet = parseIpv4Subnet(member.subnet);
    if (typeof subnet === 'string') {
      fail(`${path}.subnet`, subnet);
      return;
    }
    if (!raw.networks.some((candidate) => candidate.subnets.includes(member.subnet as string))) {
      fail(`${path}.subnet`, `${member.subnet} is not a subnet of any network`);
    }
    const address = parseIpv4Address(member.address);
    if (typeof address !== 'string' && !subnet.contains(address)) fail(`${path}.address`, `${member.address} is outside the member's subnet ${member.subnet}`);
    return;
  }
  const ipam = ipams.get(network);
  if (ipam && !ipam.contains(member.address)) {
    fail(`${path}.address`, `${member.address} is outside the subnets of ${network} (${ipam.subnets.join(', ')})`);
  }
}
