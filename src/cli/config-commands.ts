// The config verbs: the seed's neutron LBaaS workflow (lb-, listener-, pool-, member-create/-update,
// *-list/-show/-delete) and the workloads behind it (workload-create = a VMI on a compute with its
// instance-ip). Every verb takes --json and then prints what the API returned; without it, one line per
// change and the driver's notices about the object changed. Owns how these verbs read and print; the
// config rules are the control node's (model/, lbaas/).
import { Option, type Command } from 'commander';
import type { ApiHandler } from '../api/api-router.ts';
import { apiOf, call, CliError, print, query } from './api-client.ts';
import { integerIn, ipv4Address, port } from './arguments.ts';
import { configListView, dim, objectView, red } from './views.ts';

interface Notice {
  object?: string;
  loadBalancer?: string;
  message?: string;
}
interface WriteResult {
  object?: Record<string, unknown> & { name: string };
  deleted?: { kind: string; name: string };
  lbaas?: { warnings: Notice[]; problems: Notice[] };
}

/** The driver's notices about this object (the report covers the whole store; older notices are not news). */
function printNotices(result: WriteResult, kind: string, name: string, loadBalancer?: string): void {
  const concerns = (n: Notice): boolean => n.object === `${kind} ${name}` || (loadBalancer !== undefined && n.loadBalancer === loadBalancer && n.object === `loadbalancer ${loadBalancer}`);
  for (const w of (result.lbaas?.warnings ?? []).filter(concerns)) process.stdout.write(`  warning: ${w.message ?? JSON.stringify(w)}\n`);
  for (const p of (result.lbaas?.problems ?? []).filter(concerns)) process.stdout.write(`  ${red('problem')}: ${p.message ?? JSON.stringify(p)}\n`);
}

async function create(cmd: Command, json: boolean | undefined, kind: string, spec: Record<string, unknown>, describe?: (o: Record<string, unknown>) => string): Promise<WriteResult> {
  const result = await call<WriteResult>(apiOf(cmd), 'POST', `/api/config/${kind}`, spec);
  const name = result.object?.name ?? String(spec.name);
  print(result, json === true, () => `created ${kind} ${name}${describe && result.object ? ` ${describe(result.object)}` : ''}`);
  if (!json) printNotices(result, kind, name, kind === 'loadbalancer' ? name : undefined);
  return result;
}

/** list / show / delete of one kind. */
function readAndDeleteVerbs(program: Command, kind: string, noun: string, decorate?: (api: ApiHandler, objects: Record<string, unknown>[]) => Promise<Record<string, unknown>[]>): void {
  program
    .command(`${noun}-list`)
    .description(`list ${kind} objects`)
    .option('--json', 'JSON output: the API’s list')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      let objects = await call<Record<string, unknown>[]>(api, 'GET', `/api/config/${kind}`);
      if (decorate) objects = await decorate(api, objects);
      print(objects, o.json === true, () => configListView(kind, objects));
    });
  program
    .command(`${noun}-show`)
    .description(`show one ${kind}`)
    .argument('<name>')
    .option('--json', 'JSON output: the API’s object')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      let object = await call<Record<string, unknown>>(api, 'GET', `/api/config/${kind}/${encodeURIComponent(name)}`);
      if (decorate) [object] = await decorate(api, [object]);
      print(object, o.json === true, () => objectView(object));
    });
  program
    .command(`${noun}-delete`)
    .description(`delete a ${kind}`)
    .argument('<name>')
    .option('--cascade', 'also delete its children')
    .option('--json', 'JSON output: what the API answered')
    .action(async (name: string, o: { cascade?: boolean; json?: boolean }, cmd: Command) => {
      const result = await call<WriteResult>(apiOf(cmd), 'DELETE', `/api/config/${kind}/${encodeURIComponent(name)}${query({ cascade: o.cascade })}`);
      print(result, o.json === true, () => `deleted ${kind} ${name}`);
    });
}

const PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS'];

export function registerConfigCommands(program: Command): void {
  program
    .command('lb-create')
    .description('neutron lbaas-loadbalancer-create: a load balancer with its VIP (native ECMP, or an opencontrail haproxy pair)')
    .argument('<name>')
    .requiredOption('--network <vn>', 'VIP network (fq-name)')
    .option('--vip <address>', 'VIP address (default: allocated)', ipv4Address)
    .addOption(new Option('--provider <p>', 'native: ECMP; opencontrail: active/standby haproxy').choices(['native', 'opencontrail']).default('native'))
    .option('--maglev', 'Maglev hashing for new flows (beyond Contrail)')
    .option('--json', 'JSON output: the created object and the driver’s report')
    .action(async (name: string, o: { network: string; vip?: string; provider: string; maglev?: boolean; json?: boolean }, cmd: Command) => {
      await create(cmd, o.json, 'loadbalancer', { name, provider: o.provider, virtualNetwork: o.network, vipAddress: o.vip, maglev: o.maglev === true }, (lb) => `with VIP ${String(lb.vipAddress)}`);
    });
  program
    .command('listener-create')
    .description('neutron lbaas-listener-create')
    .argument('<name>')
    .requiredOption('--loadbalancer <lb>')
    .requiredOption('--protocol-port <port>', 'port clients use on the VIP (1-65535)', port())
    .addOption(new Option('--protocol <p>').choices(PROTOCOLS).default('TCP'))
    .option('--json', 'JSON output: the created object and the driver’s report')
    .action(async (name: string, o: { loadbalancer: string; protocolPort: number; protocol: string; json?: boolean }, cmd: Command) => {
      await create(cmd, o.json, 'loadbalancer-listener', { name, loadBalancer: o.loadbalancer, protocol: o.protocol, port: o.protocolPort });
    });
  program
    .command('pool-create')
    .description('neutron lbaas-pool-create')
    .argument('<name>')
    .requiredOption('--listener <listener>')
    .addOption(new Option('--protocol <p>').choices(PROTOCOLS))
    .addOption(new Option('--lb-algorithm <m>').choices(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']).default('ROUND_ROBIN'))
    .option('--json', 'JSON output: the created object and the driver’s report')
    .action(async (name: string, o: { listener: string; protocol?: string; lbAlgorithm: string; json?: boolean }, cmd: Command) => {
      await create(cmd, o.json, 'loadbalancer-pool', { name, listener: o.listener, protocol: o.protocol, method: o.lbAlgorithm });
    });
  program
    .command('member-create')
    .description('neutron lbaas-member-create: add a member (its address must be a workload’s: see workload-create)')
    .argument('<pool>')
    .requiredOption('--address <address>', 'the member workload’s address', ipv4Address)
    .requiredOption('--protocol-port <port>', 'target port on the member (1-65535)', port())
    .option('--subnet <cidr>')
    .option('--weight <w>', 'weight 1-256 (not used by native ECMP)', integerIn(1, 256))
    .option('--name <name>')
    .option('--json', 'JSON output: the created object and the driver’s report')
    .action(async (pool: string, o: { address: string; protocolPort: number; subnet?: string; weight?: number; name?: string; json?: boolean }, cmd: Command) => {
      const result = await create(cmd, o.json, 'loadbalancer-member', { pool, address: o.address, port: o.protocolPort, subnet: o.subnet, weight: o.weight, name: o.name });
      const name = result.object?.name ?? '';
      if (!o.json && result.lbaas?.problems.some((p) => p.object === `loadbalancer-member ${name}` && p.message?.includes('matches no virtual-machine-interface'))) {
        process.stdout.write(dim(`  the member stays out until a workload has ${o.address}: ecmpsim workload-create NAME --compute C --network VN --address ${o.address}\n`));
      }
    });
  program
    .command('member-update')
    .description('neutron lbaas-member-update: admin state up/down')
    .argument('<member>')
    .addOption(new Option('--admin-state <state>').choices(['up', 'down']).makeOptionMandatory())
    .option('--json', 'JSON output: the updated object and the driver’s report')
    .action(async (member: string, o: { adminState: string; json?: boolean }, cmd: Command) => {
      const result = await call<WriteResult>(apiOf(cmd), 'PATCH', `/api/config/loadbalancer-member/${encodeURIComponent(member)}`, { adminState: o.adminState === 'up' });
      print(result, o.json === true, () => `member ${member} admin ${o.adminState}`);
      if (!o.json) printNotices(result, 'loadbalancer-member', member);
    });
  readAndDeleteVerbs(program, 'loadbalancer', 'lb');
  readAndDeleteVerbs(program, 'loadbalancer-listener', 'listener');
  readAndDeleteVerbs(program, 'loadbalancer-pool', 'pool');
  readAndDeleteVerbs(program, 'loadbalancer-member', 'member', withMemberStatus);
  readAndDeleteVerbs(program, 'floating-ip', 'fip');
  readAndDeleteVerbs(program, 'virtual-machine-interface', 'vmi');
  readAndDeleteVerbs(program, 'network-policy', 'policy');
  program
    .command('policy-create')
    .description("a network policy connecting networks: each imports the others' route targets (routes of one appear in the other's VRF)")
    .argument('<name>')
    .requiredOption('--network <vn...>', 'networks to attach it to (two or more)')
    .addOption(new Option('--direction <d>', '<> both ways, > from the first network to the others').choices(['<>', '>']).default('<>'))
    .option('--json', 'JSON output: the created object and the driver’s report')
    .action(async (name: string, o: { network: string[]; direction: '<>' | '>'; json?: boolean }, cmd: Command) => {
      const [first, ...others] = o.network;
      const rules = o.direction === '<>' ? [{ action: 'pass', direction: '<>', sourceNetwork: 'any', destinationNetwork: 'any' }] : others.map((vn) => ({ action: 'pass', direction: '>', sourceNetwork: first, destinationNetwork: vn }));
      await create(cmd, o.json, 'network-policy', { name, networks: o.network, rules });
    });
  registerWorkloadCommands(program);
}

// ---- workloads: a VMI on a compute plus its instance-ip (what `addWorkload` does in a scenario) ----

interface VmiJson {
  name: string;
  virtualNetwork: string;
  compute?: string;
  mac?: string;
}
interface InstanceIpJson {
  name: string;
  address: string;
  virtualMachineInterface?: string;
}

/** The one documented shape of a workload (README "Resources"): what the agents' /workloads list too. */
export interface WorkloadJson {
  name: string;
  compute: string | null;
  network: string;
  address: string | null;
  mac: string | null;
}

function workloadOf(vmi: VmiJson, iips: InstanceIpJson[]): WorkloadJson {
  const iip = iips.find((i) => i.virtualMachineInterface === vmi.name);
  return { name: vmi.name, compute: vmi.compute ?? null, network: vmi.virtualNetwork, address: iip?.address ?? null, mac: vmi.mac ?? null };
}

async function workloads(api: ApiHandler): Promise<WorkloadJson[]> {
  const [vmis, iips] = await Promise.all([
    call<VmiJson[]>(api, 'GET', '/api/config/virtual-machine-interface'),
    call<InstanceIpJson[]>(api, 'GET', '/api/config/instance-ip'),
  ]);
  return vmis.map((v) => workloadOf(v, iips));
}

function registerWorkloadCommands(program: Command): void {
  program
    .command('workload-create')
    .description('a VM or pod: a VMI on a compute with its instance-ip in a network (address allocated when not given)')
    .argument('<name>')
    .requiredOption('--compute <compute>', 'the compute that hosts it')
    .requiredOption('--network <vn>', 'its virtual network (fq-name)')
    .option('--address <address>', 'its address (default: allocated from the network’s subnet)', ipv4Address)
    .option('--json', 'JSON output: the workload')
    .action(async (name: string, o: { compute: string; network: string; address?: string; json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      const topology = await call<{ computes: { name: string; external: boolean }[] }>(api, 'GET', '/api/topology');
      if (!topology.computes.some((c) => c.name === o.compute)) throw new CliError(`no compute named ${o.compute}; computes: ${topology.computes.map((c) => c.name).join(', ')}`);
      const vmi = await call<WriteResult>(api, 'POST', '/api/config/virtual-machine-interface', { name, virtualNetwork: o.network, compute: o.compute });
      let iip: WriteResult;
      try {
        iip = await call<WriteResult>(api, 'POST', '/api/config/instance-ip', { name, virtualMachineInterface: name, ...(o.address ? { address: o.address } : {}) });
      } catch (e) {
        // one workload or none: take the VMI back
        await call(api, 'DELETE', `/api/config/virtual-machine-interface/${encodeURIComponent(name)}`).catch(() => undefined);
        throw e;
      }
      const workload = workloadOf(vmi.object as unknown as VmiJson, [iip.object as unknown as InstanceIpJson]);
      print(workload, o.json === true, () => `created workload ${name} on ${o.compute} at ${workload.address ?? '?'} in ${o.network}`);
    });
  program
    .command('workload-delete')
    .description('delete a workload: its instance-ip(s), then its VMI')
    .argument('<name>')
    .option('--json', 'JSON output: what was deleted')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      await call(api, 'GET', `/api/config/virtual-machine-interface/${encodeURIComponent(name)}`);
      const iips = (await call<InstanceIpJson[]>(api, 'GET', '/api/config/instance-ip')).filter((i) => i.virtualMachineInterface === name);
      for (const iip of iips) await call(api, 'DELETE', `/api/config/instance-ip/${encodeURIComponent(iip.name)}`);
      await call(api, 'DELETE', `/api/config/virtual-machine-interface/${encodeURIComponent(name)}`);
      const result = { deleted: { kind: 'workload', name, instanceIps: iips.map((i) => i.name) } };
      print(result, o.json === true, () => `deleted workload ${name}${iips.length ? dim(` (instance-ip ${iips.map((i) => i.address).join(', ')})`) : ''}`);
    });
  program
    .command('workload-list')
    .description('workloads (VMIs with their instance-ip): name, compute, network, address')
    .option('--compute <compute>', 'only those on this compute')
    .option('--json', 'JSON output: the workloads')
    .action(async (o: { compute?: string; json?: boolean }, cmd: Command) => {
      // a VMI without a compute is no workload (a VIP's port, for one)
      const all = (await workloads(apiOf(cmd))).filter((w) => w.compute !== null);
      const list = o.compute ? all.filter((w) => w.compute === o.compute) : all;
      print(list, o.json === true, () => configListView('workload', list as unknown as Record<string, unknown>[]));
    });
}

// ---- member status: derived from the config and the agents ----

/** `active`, `no interface` (no workload has its address), `admin down` or `unhealthy` (its health check failed). */
export type MemberStatus = 'active' | 'no interface' | 'admin down' | 'unhealthy';

async function withMemberStatus(api: ApiHandler, members: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const all = await workloads(api);
  const health = new Map<string, boolean>();
  for (const compute of new Set(all.map((w) => w.compute).filter((c): c is string => c !== null))) {
    const status = await call<{ health?: { workload: string; l3Active: boolean }[] }>(api, 'GET', `/api/nodes/${encodeURIComponent(compute)}`).catch(() => ({ health: [] }));
    for (const h of status.health ?? []) health.set(h.workload, h.l3Active);
  }
  return members.map((m) => {
    const workload = all.find((w) => w.address === m.address);
    const status: MemberStatus = !workload ? 'no interface' : m.adminState === false ? 'admin down' : health.get(workload.name) === false ? 'unhealthy' : 'active';
    return { ...m, status, workload: workload?.name ?? null };
  });
}
