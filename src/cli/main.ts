// `ecmpsim`: thin commands over the layers. Read commands and the LBaaS verbs are clients of the
// simulation API (`ecmpsim up` serves it); `demo`, `run`, `up`, `node` and `validate` run things here.
// Exit codes: 0 success, 1 a check or validation failed, 2 bad usage or an API/runtime error.
import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { ApiError, remoteHandler, type ApiHandler } from '../api/api-router.ts';
import { stanzaCapture, type CaptureTopology } from '../inspect/pcap-writer.ts';
import { loadTopologyFile, formatTopologyError } from '../topology/loader.ts';
import { Simulation } from '../topology/launcher.ts';
import { loadScenario, runScenario, ScenarioLoadError } from '../scenario/runner.ts';
import {
  configListView,
  fibView,
  flowsView,
  nodesView,
  reportSummary,
  routesView,
  stanzaView,
  timelineLine,
  traceView,
  trafficView,
  red,
  dim,
  type FibVrfJson,
  type NodeSummary,
  type StanzaJson,
} from './views.ts';
import { runDemo } from './demo.ts';
import { runNode } from './node-command.ts';
import { registerGraphCommand } from './graph-command.ts';
import { webView } from '../web/web-view.ts';
import { registerK8sCommands } from './k8s-command.ts';
import { registerNorthSouthCommands } from './north-south-command.ts';
import { registerCompareCommands } from './compare-command.ts';
import { registerLbaasV1Commands } from './lbaas-v1-command.ts';

const DEFAULT_API = process.env.ECMPSIM_API ?? 'http://127.0.0.1:7070';

/** A failure to report and exit with; never a stack trace for the user. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

async function call<T>(api: ApiHandler, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, 'http://simulation');
  let response;
  try {
    response = await api({ method, path: url.pathname, query: url.searchParams, body, params: {} });
  } catch (e) {
    if (e instanceof ApiError) throw new CliError(`${e.message}\n${dim('is a simulation running? start one with `ecmpsim up <topology>` or pass --api URL')}`);
    throw e;
  }
  if (!('body' in response)) throw new CliError(`${path} answered with a stream`);
  if (response.status >= 400) {
    const error = (response.body as { error?: string } | null)?.error ?? `HTTP ${response.status}`;
    throw new CliError(error, response.status === 404 ? 2 : 1);
  }
  return response.body as T;
}

function apiOf(command: Command): ApiHandler {
  const url = command.optsWithGlobals<{ api: string }>().api;
  return remoteHandler(url.replace(/\/$/, ''));
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== false) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

const program = new Command('ecmpsim')
  .description('OpenContrail / Tungsten Fabric native load balancer simulator: XMPP, MP-BGP L3VPN and vRouter ECMP on loopback')
  .version(pkg.version)
  .addOption(new Option('--api <url>', 'simulation API of a running `ecmpsim up`').default(DEFAULT_API).env('ECMPSIM_API'))
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(red(text)) });

program
  .command('demo')
  .description('bring the default topology up, scale its load balancer out and in under traffic, and show what happens')
  .option('--processes', 'one OS process per node')
  .option('--flows <n>', 'flows to open from the client', (v) => Number(v), 10_000)
  .option('--json', 'print the report as JSON')
  .action(async (o: { processes?: boolean; flows: number; json?: boolean }) => {
    const ok = await runDemo({ mode: o.processes ? 'processes' : 'in-process', flows: o.flows, json: o.json === true });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('up')
  .description('run a topology until SIGINT/SIGTERM and serve the simulation API')
  .argument('[topology]', 'topology file', 'topologies/default.json')
  .option('--processes', 'one OS process per node')
  .option('--host <address>', 'API listen address (loopback)', '127.0.0.1')
  .option('--port <port>', 'API port (0 = any free port)', (v) => Number(v), 7070)
  .option('--strict', 'accept only XMPP agents named in the topology, each from its own address')
  .option('--stanza-log <file>', 'also append every stanza to this JSONL file')
  .option('-v, --verbose', 'log sessions and config changes')
  .action(async (file: string, o: { processes?: boolean; host: string; port: number; strict?: boolean; stanzaLog?: string; verbose?: boolean }) => {
    const topology = await loadValidTopology(file);
    const nodes = topology.controlNodes.length + topology.computes.filter((c) => !c.external).length;
    process.stderr.write(dim(`starting ${nodes} nodes of ${topology.name}…\n`));
    const sim = await Simulation.start(topology, {
      mode: o.processes ? 'processes' : 'in-process',
      topologyFile: file,
      strict: o.strict,
      stanzaLog: o.stanzaLog,
      log: o.verbose ? (line) => process.stderr.write(`${dim(line)}\n`) : undefined,
    });
    const url = await sim.serve(o.host, o.port, webView(sim.api, { log: (line) => process.stderr.write(`${red(line)}\n`) }));
    process.stdout.write(`${topology.name} is up (${sim.mode}); API at ${url}/api\n`);
    process.stdout.write(`web view: ${url}/\n`);
    process.stdout.write(dim(`try: ecmpsim --api ${url} nodes | routes control-1 | fib compute-1 | stanzas --follow\n`));
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stderr.write(dim('stopping…\n'));
    await sim.stop();
  });

program
  .command('node')
  .description('run one node of a topology by itself (what `up --processes` starts per node)')
  .argument('<name>', 'control node or compute name')
  .requiredOption('--topology <file>', 'topology file')
  .option('--api-port <port>', 'introspect API port on the node address (0 = any)', (v) => Number(v), 0)
  .option('--strict', 'control node: accept only the topology computes')
  .option('--end-of-rib-quiet-ms <ms>', 'control node: quiet time before End-of-RIB', (v) => Number(v))
  .option('--parent-pid <pid>', 'exit when this process is gone (set by the launcher)', (v) => Number(v))
  .action(async (name: string, o: { topology: string; apiPort: number; strict?: boolean; endOfRibQuietMs?: number; parentPid?: number }) => {
    const topology = await loadValidTopology(o.topology);
    await runNode(topology, name, o);
  });

program
  .command('run')
  .description('run a scenario script; exits 1 when one of its checks fails')
  .argument('<script>', 'scenario file, e.g. scripts/scale-out.ts')
  .option('--topology <file>', 'topology to run it on (default: the script’s own)')
  .option('--processes', 'one OS process per node')
  .option('--json', 'print the report as JSON')
  .option('-v, --verbose', 'log what the nodes do')
  .action(async (file: string, o: { topology?: string; processes?: boolean; json?: boolean; verbose?: boolean }) => {
    const scenario = await loadScenario(file);
    const report = await runScenario(scenario, {
      mode: o.processes ? 'processes' : 'in-process',
      topologyFile: o.topology,
      onEntry: o.json ? undefined : (entry) => process.stdout.write(`${timelineLine(entry)}\n`),
      log: o.verbose ? (line) => process.stderr.write(`${dim(line)}\n`) : undefined,
    });
    print(report, o.json === true, () => reportSummary(report));
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command('validate')
  .description('check topology files against the schema and for meaning; exits 1 on any error')
  .argument('<files...>', 'topology files')
  .option('--json', 'print the result as JSON')
  .action(async (files: string[], o: { json?: boolean }) => {
    let failed = false;
    const results = [];
    for (const file of files) {
      if (isJsonSchemaFile(file)) {
        // `validate topologies/*.json` also matches the schema the topologies point at.
        if (!o.json) process.stdout.write(`${file}: skipped — the JSON Schema of topology files, not a topology\n`);
        continue;
      }
      const result = await loadTopologyFile(file);
      results.push({ file, ...result });
      if (!result.ok) failed = true;
      if (o.json) continue;
      if (result.ok) {
        const t = result.topology;
        const members = t.loadBalancers.reduce((n, lb) => n + lb.listeners.reduce((m, l) => m + l.pool.members.length, 0), 0);
        process.stdout.write(
          `${file}: ok — ${t.name}: ${t.controlNodes.length} control node(s), ${t.computes.length} computes, ${t.networks.length} network(s), ` +
            `${t.workloads.length} workloads, ${t.loadBalancers.length} load balancer(s) with ${members} member(s), ${t.bgpPeers.length} BGP peer(s)\n`,
        );
        for (const w of result.warnings) process.stdout.write(`  warning: ${formatTopologyError(w)}\n`);
      } else {
        process.stdout.write(`${red(`${file}: ${result.errors.length} error(s)`)}\n`);
        for (const e of result.errors) process.stdout.write(`  ${formatTopologyError(e)}\n`);
      }
    }
    if (o.json) print(results, true, () => '');
    process.exitCode = failed ? 1 : 0;
  });

registerGraphCommand(program);

// ---- read commands (clients of a running simulation) ----

program
  .command('nodes')
  .description('nodes of the running simulation and their sessions')
  .option('--json', 'JSON output')
  .action(async (o: { json?: boolean }, cmd: Command) => {
    const nodes = await call<NodeSummary[]>(apiOf(cmd), 'GET', '/api/nodes');
    print(nodes, o.json === true, () => nodesView(nodes));
  });

program
  .command('routes')
  .description('a control node’s routes with every path (RD, label, next hop, peer, best/ECMP), or what an agent received')
  .argument('<node>', 'control node (its RIB) or compute (routes received over XMPP)')
  .option('--vrf <name>', 'routing instance, VN or table (bgp.l3vpn.0)')
  .option('--prefix <prefix>', 'one prefix, e.g. 30.30.30.100/32')
  .option('--json', 'JSON output')
  .action(async (node: string, o: { vrf?: string; prefix?: string; json?: boolean }, cmd: Command) => {
    const routes = await call<unknown[]>(apiOf(cmd), 'GET', `/api/nodes/${encodeURIComponent(node)}/routes${query({ vrf: o.vrf, prefix: o.prefix })}`);
    print(routes, o.json === true, () =>
      routes.length > 0 && typeof routes[0] === 'object' && routes[0] !== null && 'paths' in routes[0]
        ? routesView(routes as Parameters<typeof routesView>[0])
        : flowsView((routes as Record<string, unknown>[]).map((r) => ({ ...r, nextHops: JSON.stringify(r.nextHops) }))),
    );
  });

program
  .command('fib')
  .description('a compute’s FIB: composite ECMP next-hops with their slots and labels')
  .argument('<compute>')
  .option('--vrf <name>', 'routing instance or VN')
  .option('--prefix <prefix>', 'one prefix')
  .option('--json', 'JSON output')
  .action(async (compute: string, o: { vrf?: string; prefix?: string; json?: boolean }, cmd: Command) => {
    const fib = await call<FibVrfJson[]>(apiOf(cmd), 'GET', `/api/nodes/${encodeURIComponent(compute)}/fib${query({ vrf: o.vrf })}`);
    print(fib, o.json === true, () => fibView(fib, o.prefix));
  });

program
  .command('flows')
  .description('a compute’s flow table')
  .argument('<compute>')
  .option('--vrf <name>')
  .option('--ip <address>', 'flows with this source or destination')
  .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
  .option('--json', 'JSON output')
  .action(async (compute: string, o: { vrf?: string; ip?: string; limit: number; json?: boolean }, cmd: Command) => {
    const flows = await call<Record<string, unknown>[]>(apiOf(cmd), 'GET', `/api/nodes/${encodeURIComponent(compute)}/flows${query({ vrf: o.vrf, ip: o.ip, limit: o.limit })}`);
    print(flows, o.json === true, () => flowsView(flows));
  });

program
  .command('stanzas')
  .description('the XMPP stanza log (pretty XML with --xml); --follow streams new ones')
  .option('--node <name>')
  .option('--peer <name>')
  .addOption(new Option('--direction <dir>').choices(['in', 'out']))
  .option('--vrf <name>')
  .option('--prefix <prefix>')
  .option('--limit <n>', 'the last n', (v) => Number(v), 50)
  .option('--xml', 'show each stanza as pretty XML')
  .option('-f, --follow', 'keep printing new stanzas')
  .option('--json', 'JSON lines')
  .option('--pcap <file>', 'write the selected stanzas as a capture (tshark -d tcp.port==5269,xmpp) instead of printing them')
  .action(async (o: { node?: string; peer?: string; direction?: string; vrf?: string; prefix?: string; limit: number; xml?: boolean; follow?: boolean; json?: boolean; pcap?: string }, cmd: Command) => {
    const api = apiOf(cmd);
    const filter = { node: o.node, peer: o.peer, direction: o.direction, vrf: o.vrf, prefix: o.prefix };
    if (o.pcap !== undefined) {
      if (o.follow) throw new CliError('--pcap writes the stanzas logged so far; it cannot be combined with --follow');
      const records = await call<StanzaJson[]>(api, 'GET', `/api/stanzas${query({ ...filter, limit: o.limit })}`);
      const topology = await call<CaptureTopology>(api, 'GET', '/api/topology');
      writeStanzaCapture(o.pcap, records, topology);
      return;
    }
    const show = (s: StanzaJson): void => {
      process.stdout.write(`${o.json ? JSON.stringify(s) : stanzaView(s, o.xml === true)}\n`);
    };
    if (!o.follow) {
      for (const s of await call<StanzaJson[]>(api, 'GET', `/api/stanzas${query({ ...filter, limit: o.limit })}`)) show(s);
      return;
    }
    const response = await api({ method: 'GET', path: '/api/stanzas', query: new URLSearchParams(query({ ...filter, follow: true }).slice(1)), body: undefined, params: {} });
    if (!('stream' in response)) throw new CliError('the API did not stream');
    const stop = response.stream((record) => show(record as StanzaJson));
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    stop();
  });

function writeStanzaCapture(file: string, records: StanzaJson[], topology: CaptureTopology): void {
  const capture = stanzaCapture(records, topology);
  try {
    writeFileSync(file, capture.pcap);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as Error).message}`);
  }
  const ports = [...new Set(topology.controlNodes.map((c) => c.xmppPort))].map((p) => `-d tcp.port==${p},xmpp`).join(' ');
  process.stdout.write(`${file}: ${capture.frames} segment(s) in ${capture.connections} TCP connection(s) from ${records.length} logged stanza(s)\n`);
  process.stdout.write(dim(`decode with: tshark -r ${file} ${ports}\n`));
  const shown = 5;
  for (const s of capture.skipped.slice(0, shown)) process.stderr.write(`  skipped #${s.seq}: ${s.reason}\n`);
  if (capture.skipped.length > shown) process.stderr.write(`  … and ${capture.skipped.length - shown} more skipped\n`);
}

program
  .command('trace')
  .description('the forwarding decision chain of one 5-tuple: route → composite → slot → label → remote compute → NAT → workload')
  .requiredOption('--from <workload>', 'sending workload')
  .requiredOption('--to <address:port>', 'destination, e.g. 30.30.30.100:80')
  .option('--sport <port>', 'source port', (v) => Number(v), 40000)
  .addOption(new Option('--protocol <p>').choices(['tcp', 'udp']).default('tcp'))
  .option('--json', 'JSON output')
  .action(async (o: { from: string; to: string; sport: number; protocol: string; json?: boolean }, cmd: Command) => {
    const result = await call<{ steps: { node: string; step: string; detail: string }[] }>(apiOf(cmd), 'POST', '/api/trace', o);
    print(result, o.json === true, () => traceView(result.steps));
  });

program
  .command('traffic')
  .description('open flows from a workload (or from outside clients through a gateway) to a destination and show how they spread over the members')
  .requiredOption('--from <workload|gateway>')
  .requiredOption('--to <address:port>')
  .option('--count <n>', 'flows', (v) => Number(v), 1000)
  .option('--sources <n>', 'client addresses the flows come from (a gateway: outside clients from 198.51.100.1)', (v) => Number(v))
  .addOption(new Option('--source-ports <order>').choices(['sequential', 'random']).default('sequential'))
  .option('--json', 'JSON output')
  .action(async (o: { from: string; to: string; count: number; sources?: number; sourcePorts: string; json?: boolean }, cmd: Command) => {
    const result = await call<{ report: Parameters<typeof trafficView>[0] }>(apiOf(cmd), 'POST', '/api/traffic', o);
    print(result, o.json === true, () => trafficView(result.report));
  });

for (const verb of ['kill', 'restart'] as const) {
  program
    .command(verb)
    .description(verb === 'kill' ? 'stop a node abruptly (a failure): its sessions drop' : 'start a node again')
    .argument('<node>')
    .action(async (node: string, _o: unknown, cmd: Command) => {
      await call(apiOf(cmd), 'POST', `/api/nodes/${encodeURIComponent(node)}/${verb}`);
      process.stdout.write(`${node}: ${verb === 'kill' ? 'killed' : 'restarted'}\n`);
    });
}

// ---- the seed's LBaaS workflow (neutron lbaas-* verbs) ----

function configVerbs(kind: string, noun: string): void {
  program
    .command(`${noun}-list`)
    .description(`list ${kind} objects`)
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const objects = await call<Record<string, unknown>[]>(apiOf(cmd), 'GET', `/api/config/${kind}`);
      print(objects, o.json === true, () => configListView(kind, objects));
    });
  program
    .command(`${noun}-show`)
    .description(`show one ${kind}`)
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const object = await call(apiOf(cmd), 'GET', `/api/config/${kind}/${encodeURIComponent(name)}`);
      print(object, true, () => '');
    });
  program
    .command(`${noun}-delete`)
    .description(`delete a ${kind}`)
    .argument('<name>')
    .option('--cascade', 'also delete its children')
    .action(async (name: string, o: { cascade?: boolean }, cmd: Command) => {
      await call(apiOf(cmd), 'DELETE', `/api/config/${kind}/${encodeURIComponent(name)}${query({ cascade: o.cascade })}`);
      process.stdout.write(`deleted ${kind} ${name}\n`);
    });
}

async function create(cmd: Command, kind: string, spec: Record<string, unknown>): Promise<void> {
  const result = await call<{ object: { name: string }; lbaas: { warnings: { message?: string }[]; problems: { message?: string }[] } }>(apiOf(cmd), 'POST', `/api/config/${kind}`, spec);
  process.stdout.write(`created ${kind} ${result.object.name}\n`);
  for (const w of result.lbaas.warnings) process.stdout.write(`  warning: ${w.message ?? JSON.stringify(w)}\n`);
  for (const p of result.lbaas.problems) process.stdout.write(`  problem: ${p.message ?? JSON.stringify(p)}\n`);
}

program
  .command('lb-create')
  .description('neutron lbaas-loadbalancer-create: a load balancer with its VIP (native ECMP, or an opencontrail haproxy pair)')
  .argument('<name>')
  .requiredOption('--network <vn>', 'VIP network (fq-name)')
  .option('--vip <address>', 'VIP address (default: allocated)')
  .addOption(new Option('--provider <p>', 'native: ECMP; opencontrail: active/standby haproxy').choices(['native', 'opencontrail']).default('native'))
  .option('--maglev', 'Maglev hashing for new flows (beyond Contrail)')
  .action(async (name: string, o: { network: string; vip?: string; provider: string; maglev?: boolean }, cmd: Command) =>
    create(cmd, 'loadbalancer', { name, provider: o.provider, virtualNetwork: o.network, vipAddress: o.vip, maglev: o.maglev === true }),
  );
program
  .command('listener-create')
  .description('neutron lbaas-listener-create')
  .argument('<name>')
  .requiredOption('--loadbalancer <lb>')
  .requiredOption('--protocol-port <port>', 'port clients use on the VIP', (v) => Number(v))
  .addOption(new Option('--protocol <p>').choices(['TCP', 'UDP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS']).default('TCP'))
  .action(async (name: string, o: { loadbalancer: string; protocolPort: number; protocol: string }, cmd: Command) =>
    create(cmd, 'loadbalancer-listener', { name, loadBalancer: o.loadbalancer, protocol: o.protocol, port: o.protocolPort }),
  );
program
  .command('pool-create')
  .description('neutron lbaas-pool-create')
  .argument('<name>')
  .requiredOption('--listener <listener>')
  .addOption(new Option('--protocol <p>').choices(['TCP', 'UDP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS']))
  .addOption(new Option('--lb-algorithm <m>').choices(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']).default('ROUND_ROBIN'))
  .action(async (name: string, o: { listener: string; protocol?: string; lbAlgorithm: string }, cmd: Command) =>
    create(cmd, 'loadbalancer-pool', { name, listener: o.listener, protocol: o.protocol, method: o.lbAlgorithm }),
  );
program
  .command('member-create')
  .description('neutron lbaas-member-create: add a member (its address must be a workload’s)')
  .argument('<pool>')
  .requiredOption('--address <address>')
  .requiredOption('--protocol-port <port>', 'target port on the member', (v) => Number(v))
  .option('--subnet <cidr>')
  .option('--weight <w>', 'weight (not used by native ECMP)', (v) => Number(v))
  .option('--name <name>')
  .action(async (pool: string, o: { address: string; protocolPort: number; subnet?: string; weight?: number; name?: string }, cmd: Command) =>
    create(cmd, 'loadbalancer-member', { pool, address: o.address, port: o.protocolPort, subnet: o.subnet, weight: o.weight, name: o.name }),
  );
program
  .command('member-update')
  .description('neutron lbaas-member-update: admin state up/down')
  .argument('<member>')
  .addOption(new Option('--admin-state <state>').choices(['up', 'down']).makeOptionMandatory())
  .action(async (member: string, o: { adminState: string }, cmd: Command) => {
    await call(apiOf(cmd), 'PATCH', `/api/config/loadbalancer-member/${encodeURIComponent(member)}`, { adminState: o.adminState === 'up' });
    process.stdout.write(`member ${member} admin ${o.adminState}\n`);
  });
configVerbs('loadbalancer', 'lb');
configVerbs('loadbalancer-listener', 'listener');
configVerbs('loadbalancer-pool', 'pool');
configVerbs('loadbalancer-member', 'member');
configVerbs('floating-ip', 'fip');
configVerbs('virtual-machine-interface', 'vmi');
configVerbs('network-policy', 'policy');
program
  .command('policy-create')
  .description('a network policy connecting networks: each imports the others\' route targets (routes of one appear in the other\'s VRF)')
  .argument('<name>')
  .requiredOption('--network <vn...>', 'networks to attach it to (two or more)')
  .addOption(new Option('--direction <d>', '<> both ways, > from the first network to the others').choices(['<>', '>']).default('<>'))
  .action(async (name: string, o: { network: string[]; direction: '<>' | '>' }, cmd: Command) => {
    const [first, ...others] = o.network;
    const rules = o.direction === '<>' ? [{ action: 'pass', direction: '<>', sourceNetwork: 'any', destinationNetwork: 'any' }] : others.map((vn) => ({ action: 'pass', direction: '>', sourceNetwork: first, destinationNetwork: vn }));
    await create(cmd, 'network-policy', { name, networks: o.network, rules });
  });
registerK8sCommands(program, apiOf);
registerNorthSouthCommands(program, apiOf, call);
registerCompareCommands(program);
registerLbaasV1Commands(program);

function isJsonSchemaFile(file: string): boolean {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { $schema?: unknown };
    return typeof json.$schema === 'string' && /^https?:\/\/json-schema\.org\//.test(json.$schema);
  } catch {
    return false;
  }
}

async function loadValidTopology(file: string) {
  const result = await loadTopologyFile(file);
  if (!result.ok) throw new CliError(`${file} is not a valid topology:\n${result.errors.map((e) => `  ${formatTopologyError(e)}`).join('\n')}`, 1);
  return result.topology;
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CliError || e instanceof ScenarioLoadError) {
    process.stderr.write(`${red(`ecmpsim: ${e.message}`)}\n`);
    process.exitCode = e instanceof CliError ? e.exitCode : 2;
  } else if (e instanceof Error && (e as NodeJS.ErrnoException).code === undefined && !(e instanceof TypeError) && !(e instanceof RangeError)) {
    // Errors the layers raise on purpose carry their reason in the message.
    process.stderr.write(`${red(`ecmpsim: ${e.message}`)}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`${red(`ecmpsim: unexpected error: ${(e as Error).stack ?? String(e)}`)}\n`);
    process.exitCode = 2;
  }
}
