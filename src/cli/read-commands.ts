// The read commands (nodes, routes, fib, flows, stanzas, trace, traffic) and kill/restart: clients of
// a running simulation's API. Every option is parsed strictly (./arguments.ts); every filter is either
// applied or refused, and a node is checked to exist and to be of the kind the command reads.
// Owns how these commands ask and print; the documents themselves are the API's (src/api).
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import type { ApiHandler } from '../api/api-router.ts';
import { stanzaCapture, type CaptureTopology } from '../inspect/pcap-writer.ts';
import type { FlowView } from '../vrouter/views.ts';
import { apiOf, call, CliError, print, query } from './api-client.ts';
import { destination, integerIn, ipv4Address, ipv4Prefix, port } from './arguments.ts';
import { progress } from './progress.ts';
import {
  dim,
  fibView,
  flowsView,
  nodesView,
  routesView,
  stanzaView,
  traceView,
  trafficView,
  type FibVrfJson,
  type NodeSummary,
  type StanzaJson,
} from './views.ts';

/** The node, checked to exist and (when `kind` is given) to be of that kind. */
async function nodeOf(api: ApiHandler, name: string, kind?: 'compute' | 'control-node', verb?: string): Promise<NodeSummary> {
  const nodes = await call<NodeSummary[]>(api, 'GET', '/api/nodes');
  const node = nodes.find((n) => n.name === name);
  if (!node) throw new CliError(`no node named ${name}; nodes: ${nodes.map((n) => n.name).join(', ')}`);
  if (kind && node.kind !== kind) {
    const hint = kind === 'compute' && node.kind === 'control-node' ? ` (a control node's table: ecmpsim routes ${name})` : '';
    throw new CliError(`${name} is a ${node.kind}; ${verb ?? 'this command'} reads a ${kind}${hint}`);
  }
  return node;
}

/**
 * One route shape for both node kinds (README "Resources": route): a control node's RIB route as the API
 * gives it; an agent's received route with one path per next hop, `peer` the control node it came from.
 */
export interface RouteJson {
  node: string;
  table: string;
  instance: string;
  prefix: string;
  paths: { peer: string; peerKind: string; nextHop: string; label: number; encapsulations?: string[]; stale?: boolean; [more: string]: unknown }[];
  [more: string]: unknown;
}

interface ReceivedRouteJson {
  controlNode: string;
  instance: string;
  prefix: string;
  stale: boolean;
  nextHops: { address: string; label: number; encapsulations: string[] }[];
}

function agentRoutes(node: string, received: ReceivedRouteJson[]): RouteJson[] {
  const byKey = new Map<string, RouteJson>();
  for (const r of received) {
    const key = `${r.instance} ${r.prefix}`;
    let route = byKey.get(key);
    if (!route) byKey.set(key, (route = { node, table: `${r.instance}.inet.0`, instance: r.instance, prefix: r.prefix, paths: [] }));
    for (const nh of r.nextHops) route.paths.push({ peer: r.controlNode, peerKind: 'xmpp', nextHop: nh.address, label: nh.label, encapsulations: nh.encapsulations, stale: r.stale });
  }
  return [...byKey.values()];
}

function agentRoutesView(routes: RouteJson[]): string {
  if (routes.length === 0) return dim('no routes');
  const lines = routes.flatMap((r) => r.paths.map((p, i) => `${i === 0 ? `${r.table}  ${r.prefix}` : ' '.repeat(r.table.length + r.prefix.length + 2)}  → ${p.nextHop} label ${p.label} ${dim(`from ${p.peer}${p.stale ? ' (stale)' : ''}`)}`));
  return lines.join('\n');
}

function filterFib(vrfs: FibVrfJson[], prefix: string | undefined): FibVrfJson[] {
  if (!prefix) return vrfs;
  return vrfs
    .map((v) => ({ ...v, routes: v.routes.filter((r) => r.prefix === prefix), localComposites: (v.localComposites ?? []).filter((c) => c.prefix === prefix) }))
    .filter((v) => v.routes.length > 0 || v.localComposites.length > 0);
}

function flowRows(flows: FlowView[]): Record<string, unknown>[] {
  return flows.map((f) => ({
    dir: f.direction,
    vrf: f.vrf,
    proto: f.proto === 6 ? 'tcp' : f.proto === 17 ? 'udp' : f.proto,
    source: `${f.src}:${f.sport}`,
    destination: `${f.dst}:${f.dport}`,
    slot: f.slot ?? '',
    member: f.member ? `${f.member.address} label ${f.member.label}` : '',
    nat: f.nat ? `${f.nat.kind} ${f.nat.ip}:${f.nat.port}` : '',
    packets: f.packets,
    bytes: f.bytes,
  }));
}

export function registerReadCommands(program: Command): void {
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
    .option('--prefix <prefix>', 'one prefix, e.g. 30.30.30.100/32 (an address means its /32)', ipv4Prefix)
    .option('--json', 'JSON output: routes of one shape for both node kinds')
    .action(async (name: string, o: { vrf?: string; prefix?: string; json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      const node = await nodeOf(api, name);
      const path = `/api/nodes/${encodeURIComponent(name)}/routes${query({ vrf: o.vrf, prefix: node.kind === 'control-node' ? o.prefix : undefined })}`;
      if (node.kind === 'control-node') {
        const routes = (await call<Omit<RouteJson, 'node'>[]>(api, 'GET', path)).map((r) => ({ node: name, ...r }));
        print(routes, o.json === true, () => (routes.length ? routesView(routes as unknown as Parameters<typeof routesView>[0]) : dim('no routes')));
        return;
      }
      const routes = agentRoutes(name, await call<ReceivedRouteJson[]>(api, 'GET', path)).filter((r) => !o.prefix || r.prefix === o.prefix);
      print(routes, o.json === true, () => agentRoutesView(routes));
    });

  program
    .command('fib')
    .description('a compute’s FIB: composite ECMP next-hops with their slots and labels')
    .argument('<compute>')
    .option('--vrf <name>', 'routing instance or VN')
    .option('--prefix <prefix>', 'one prefix (an address means its /32)', ipv4Prefix)
    .option('--json', 'JSON output (the --prefix filter applies)')
    .action(async (compute: string, o: { vrf?: string; prefix?: string; json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      await nodeOf(api, compute, 'compute', 'fib');
      const fib = filterFib(await call<FibVrfJson[]>(api, 'GET', `/api/nodes/${encodeURIComponent(compute)}/fib${query({ vrf: o.vrf })}`), o.prefix);
      print(fib, o.json === true, () => fibView(fib, o.prefix));
    });

  program
    .command('flows')
    .description('a compute’s flow table: 5-tuple, slot, member, NAT, counters')
    .argument('<compute>')
    .option('--vrf <name>')
    .option('--ip <address>', 'flows with this source or destination', ipv4Address)
    .option('--limit <n>', 'at most this many (1-1000000)', integerIn(1, 1_000_000), 50)
    .option('--json', 'JSON output')
    .action(async (compute: string, o: { vrf?: string; ip?: string; limit: number; json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      await nodeOf(api, compute, 'compute', 'flows');
      const flows = await call<FlowView[]>(api, 'GET', `/api/nodes/${encodeURIComponent(compute)}/flows${query({ vrf: o.vrf, ip: o.ip, limit: o.limit })}`);
      print(flows, o.json === true, () => flowsView(flowRows(flows)));
    });

  program
    .command('stanzas')
    .description('the XMPP stanza log (pretty XML with --xml); --follow streams new ones')
    .option('--node <name>', 'a control node or compute of the simulation')
    .option('--peer <name>', 'a control node or compute of the simulation')
    .addOption(new Option('--direction <dir>').choices(['in', 'out']))
    .option('--vrf <name>')
    .option('--prefix <prefix>', 'an IPv4 prefix (an address means its /32)', ipv4Prefix)
    .option('--limit <n>', 'the last n (1-1000000)', integerIn(1, 1_000_000), 50)
    .option('--xml', 'show each stanza as pretty XML')
    .option('-f, --follow', 'keep printing new stanzas')
    .option('--json', 'JSON lines')
    .option('--pcap <file>', 'write the selected stanzas as a capture (tshark -d tcp.port==5269,xmpp) instead of printing them')
    .action(async (o: { node?: string; peer?: string; direction?: string; vrf?: string; prefix?: string; limit: number; xml?: boolean; follow?: boolean; json?: boolean; pcap?: string }, cmd: Command) => {
      const api = apiOf(cmd);
      for (const name of [o.node, o.peer]) if (name !== undefined) await nodeOf(api, name);
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
        const records = await call<StanzaJson[]>(api, 'GET', `/api/stanzas${query({ ...filter, limit: o.limit })}`);
        for (const s of records) show(s);
        if (records.length === 0 && !o.json) process.stderr.write(`${dim('no stanza matches')}\n`);
        return;
      }
      const response = await api({ method: 'GET', path: '/api/stanzas', query: new URLSearchParams(query({ ...filter, follow: true }).slice(1)), body: undefined, params: {} });
      if (!('stream' in response)) throw new CliError('the API did not stream');
      const stop = response.stream((record) => show(record as StanzaJson));
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      stop();
    });

  program
    .command('trace')
    .description('the forwarding decision chain of one 5-tuple: route → composite → slot → label → remote compute → NAT → workload')
    .requiredOption('--from <workload>', 'sending workload')
    .requiredOption('--to <address:port>', 'destination, e.g. 30.30.30.100:80', destination)
    .option('--sport <port>', 'source port (1-65535)', port(), 40000)
    .addOption(new Option('--protocol <p>').choices(['tcp', 'udp']).default('tcp'))
    .option('--json', 'JSON output')
    .action(async (o: { from: string; to: string; sport: number; protocol: string; json?: boolean }, cmd: Command) => {
      const { json, ...body } = o;
      const result = await call<{ steps: { node: string; step: string; detail: string }[] }>(apiOf(cmd), 'POST', '/api/trace', body);
      print(result, json === true, () => traceView(result.steps));
    });

  program
    .command('traffic')
    .description('open flows from a workload (or from outside clients through a gateway) to a destination and show how they spread over the members')
    .requiredOption('--from <workload|gateway>')
    .requiredOption('--to <address:port>', 'destination, e.g. 30.30.30.100:80', destination)
    .option('--count <n>', 'flows (1-1000000)', integerIn(1, 1_000_000), 1000)
    .option('--sources <n>', 'client addresses the flows come from (a gateway: outside clients from 198.51.100.1)', integerIn(1, 65536))
    .addOption(new Option('--source-ports <order>').choices(['sequential', 'random']).default('sequential'))
    .option('--json', 'JSON output')
    .action(async (o: { from: string; to: string; count: number; sources?: number; sourcePorts: string; json?: boolean }, cmd: Command) => {
      const { json, ...body } = o;
      const result = await progress(`opening ${o.count} flows from ${o.from} to ${o.to}`, o.count >= 10_000, () =>
        call<{ report: Parameters<typeof trafficView>[0] }>(apiOf(cmd), 'POST', '/api/traffic', body),
      );
      print(result, json === true, () => trafficView(result.report));
    });

  for (const verb of ['kill', 'restart'] as const) {
    program
      .command(verb)
      .description(verb === 'kill' ? 'stop a node abruptly (a failure): its sessions drop' : 'start a node again')
      .argument('<node>')
      .option('--json', 'JSON output: what the API answered')
      .action(async (node: string, o: { json?: boolean }, cmd: Command) => {
        const api = apiOf(cmd);
        await nodeOf(api, node);
        const result = await call(api, 'POST', `/api/nodes/${encodeURIComponent(node)}/${verb}`);
        print(result, o.json === true, () => `${node}: ${verb === 'kill' ? 'killed' : 'restarted'}`);
      });
  }
}

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
