// The request bodies of the config API, per kind: what a create and an update may carry. Names, addresses,
// subnets, MACs, ports and hash fields are the topology schema's own definitions (request-schemas.ts
// `ref`), so the API and the topology file refuse the same values; unknown fields are refused. The store
// still checks meaning (references, ranges, clashes) and answers a ConfigError for what a schema cannot see.
import { CONFIG_KINDS, INSTANCE_IP_MODES, LISTENER_PROTOCOLS, MONITOR_TYPES, POOL_METHODS, SUPPORTED_PROVIDERS, TRAFFIC_DIRECTIONS, type ConfigKind } from '../model/objects.ts';
import { POLICY_ACTIONS, POLICY_DIRECTIONS } from '../model/network-policy.ts';
import { ref, type JsonSchema } from './request-schemas.ts';

type Props = Record<string, JsonSchema>;

const name = ref('configName');
const bool: JsonSchema = { type: 'boolean' };
const int = (minimum: number, maximum: number): JsonSchema => ({ type: 'integer', minimum, maximum });
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const hashFields = ref('hashFields');

const portMapping: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['protocol', 'srcPort', 'dstPort'],
  properties: { protocol: { type: 'string' }, srcPort: ref('port'), dstPort: ref('port') },
};

const policyRule: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'direction', 'sourceNetwork', 'destinationNetwork'],
  properties: {
    action: { enum: [...POLICY_ACTIONS] },
    direction: { enum: [...POLICY_DIRECTIONS] },
    sourceNetwork: { type: 'string', description: 'a network fq-name or any' },
    destinationNetwork: { type: 'string', description: 'a network fq-name or any' },
  },
};

interface KindBodies {
  required: string[];
  create: Props;
  /** What an update may change (a subset of create, sometimes nullable to clear). */
  update: Props;
}

const monitorFields: Props = { type: { enum: [...MONITOR_TYPES] }, delay: { type: 'integer' }, timeout: { type: 'integer' }, maxRetries: { type: 'integer' }, urlPath: { type: 'string' } };

const fipFields: Props = {
  direction: { enum: [...TRAFFIC_DIRECTIONS] },
  portMappingsEnable: bool,
  portMappings: { type: 'array', items: portMapping },
  virtualMachineInterfaces: { type: 'array', items: name },
};

/** Allowed-address-pairs of a VMI: a prefix (or an address, meaning /32) and its mode. */
const addressPairs: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['prefix'],
    properties: { prefix: { type: 'string', description: 'a.b.c.d or a.b.c.d/len' }, mode: { enum: [...INSTANCE_IP_MODES] } },
  },
};

const BODIES: Record<ConfigKind, KindBodies> = {
  'virtual-network': {
    required: ['name', 'subnets'],
    create: { name: ref('networkName'), subnets: { type: 'array', minItems: 1, items: ref('cidr') }, hashFields },
    update: { hashFields },
  },
  'virtual-machine-interface': {
    required: ['name', 'virtualNetwork'],
    create: { name, virtualNetwork: ref('networkName'), compute: ref('nodeName'), mac: ref('mac'), hashFields, allowedAddressPairs: addressPairs },
    update: { compute: nullable(ref('nodeName')), hashFields, allowedAddressPairs: addressPairs },
  },
  'instance-ip': {
    required: ['name'],
    create: {
      name,
      virtualMachineInterface: { ...name, description: 'the VMI holding the address; or give virtualMachineInterfaces' },
      virtualMachineInterfaces: { type: 'array', minItems: 1, items: name, description: 'several VMIs sharing the address (mode active-active)' },
      address: ref('ipv4'),
      mode: { enum: [...INSTANCE_IP_MODES] },
    },
    update: { mode: { enum: [...INSTANCE_IP_MODES] }, virtualMachineInterfaces: { type: 'array', minItems: 1, items: name } },
  },
  'floating-ip-pool': {
    required: ['name', 'virtualNetwork'],
    create: { name, virtualNetwork: ref('networkName') },
    update: {},
  },
  'floating-ip': {
    required: ['name'],
    create: {
      name,
      instanceIp: { ...name, description: 'parent instance-ip (its address and network); or give pool' },
      pool: { ...name, description: 'floating-ip-pool to allocate from' },
      address: ref('ipv4', 'with pool: the address to take (default: the lowest free one)'),
      fixedInstanceIp: { ...name, description: 'with pool: the instance-ip to follow (a native VIP or a shared address)' },
      ...fipFields,
    },
    update: { ...fipFields, fixedInstanceIp: nullable(name) },
  },
  loadbalancer: {
    required: ['name', 'virtualNetwork'],
    create: {
      name,
      provider: { enum: [...SUPPORTED_PROVIDERS] },
      virtualNetwork: ref('networkName'),
      vipAddress: ref('ipv4', 'default: allocated by the network IPAM'),
      virtualMachineInterface: name,
      adminState: bool,
      maglev: bool,
    },
    update: { adminState: bool, maglev: bool },
  },
  'loadbalancer-listener': {
    required: ['name', 'loadBalancer', 'protocol', 'port'],
    create: { name, loadBalancer: name, protocol: { enum: [...LISTENER_PROTOCOLS] }, port: ref('port'), adminState: bool },
    update: { protocol: { enum: [...LISTENER_PROTOCOLS] }, port: ref('port'), adminState: bool },
  },
  'loadbalancer-pool': {
    required: ['name', 'listener'],
    create: { name, listener: name, protocol: { enum: [...LISTENER_PROTOCOLS] }, method: { enum: [...POOL_METHODS] }, healthMonitor: name, adminState: bool },
    update: { method: { enum: [...POOL_METHODS] }, healthMonitor: nullable(name), adminState: bool },
  },
  'loadbalancer-member': {
    required: ['pool', 'address', 'port'],
    create: { name: { ...name, description: 'default: <pool>:<address>:<port>' }, pool: name, address: ref('ipv4'), port: ref('port'), weight: int(0, 256), adminState: bool, subnet: ref('cidr') },
    update: { port: ref('port'), weight: int(0, 256), adminState: bool },
  },
  'loadbalancer-healthmonitor': { required: ['name', 'type'], create: { name, ...monitorFields }, update: monitorFields },
  'network-policy': {
    required: ['name', 'networks', 'rules'],
    create: { name: ref('networkName'), networks: { type: 'array', minItems: 1, items: ref('networkName') }, rules: { type: 'array', items: policyRule } },
    update: { networks: { type: 'array', minItems: 1, items: ref('networkName') }, rules: { type: 'array', items: policyRule } },
  },
};

const createSchemas = new Map<ConfigKind, JsonSchema>();
const updateSchemas = new Map<ConfigKind, JsonSchema>();
for (const kind of CONFIG_KINDS) {
  const b = BODIES[kind];
  createSchemas.set(kind, { type: 'object', additionalProperties: false, required: b.required, properties: b.create });
  updateSchemas.set(kind, { type: 'object', additionalProperties: false, properties: b.update });
}

export function createBodySchema(kind: ConfigKind): JsonSchema {
  return createSchemas.get(kind)!;
}

export function updateBodySchema(kind: ConfigKind): JsonSchema {
  return updateSchemas.get(kind)!;
}
