// `ecmpsim`: thin commands over the layers. Read commands and the config verbs are clients of the
// simulation API (`ecmpsim up` serves it; ./read-commands.ts, ./config-commands.ts); `demo`, `run`, `up`,
// `node` and `validate` run things here. Exit codes: 0 success, 1 a check or validation failed, 2 bad
// usage or an API/runtime error (commander's usage errors included). No stack trace reaches a user
// unless asked for with --log-level debug.
import { Command, CommanderError, Option } from 'commander';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isLoopback } from '../net/ipv4.ts';
import { loadTopologyFile, formatTopologyError, type Topology, type TopologyError } from '../topology/loader.ts';
import { Simulation } from '../topology/launcher.ts';
import { CapacityError } from '../topology/capacity.ts';
import { loadScenario, runScenario, ScenarioLoadError } from '../scenario/runner.ts';
import { reportSummary, timelineLine, red, dim } from './views.ts';
import { runDemo } from './demo.ts';
import { runNode } from './node-command.ts';
import { registerGraphCommand } from './graph-command.ts';
import { webView } from '../web/web-view.ts';
import { registerK8sCommands } from './k8s-command.ts';
import { registerCompareCommands } from './compare-command.ts';
import { registerLbaasV1Commands } from './lbaas-v1-command.ts';
import { registerNorthSouthCommands } from './north-south-command.ts';
import { apiOf, call, CliError, print } from './api-client.ts';
import { integerIn, ipv4Address, port } from './arguments.ts';
import { registerReadCommands } from './read-commands.ts';
import { registerConfigCommands } from './config-commands.ts';
import { registerCompletionCommand } from './completion.ts';
import { progress } from './progress.ts';
import { createLogger, logFnOf, LOG_FORMATS, type LogFormat } from './logger.ts';

const DEFAULT_API = process.env.ECMPSIM_API ?? 'http://127.0.0.1:7070';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('ecmpsim')
  .description('OpenContrail / Tungsten Fabric native load balancer simulator: XMPP, MP-BGP L3VPN and vRouter ECMP on loopback')
  .version(pkg.version)
  .addOption(new Option('--api <url>', 'simulation API of a running `ecmpsim up`').default(DEFAULT_API).env('ECMPSIM_API'))
  .addOption(new Option('--log-level <level>', 'debug shows the stack of an internal error').choices(LOG_LEVELS).default('info'))
  // Usage errors throw (exit 2, as the README says) instead of commander's exit 1; inherited by every command.
  .exitOverride()
  // One line per usage error: the reason, then where the usage is.
  .configureOutput({ outputError: (text, write) => write(`${red(text.trimEnd())} ${dim('(see --help)')}\n`) });

program
  .command('demo')
  .description('bring the default topology up, scale its load balancer out and in under traffic, and show what happens')
  .option('--processes', 'one OS process per node')
  .option('--flows <n>', 'flows to open from the client (1-1000000)', integerIn(1, 1_000_000), 10_000)
  .option('--json', 'print the report as JSON')
  .action(async (o: { processes?: boolean; flows: number; json?: boolean }) => {
    const ok = await runDemo({ mode: o.processes ? 'processes' : 'in-process', flows: o.flows, json: o.json === true });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('up')
  .description('run a topology until SIGINT/SIGTERM and serve the simulation API')
  .argument('[topology]', 'topology file (.json, .yaml or .yml)', 'topologies/default.json')
  .option('--processes', 'one OS process per node')
  .option('--agent-threads <n>', 'in-process: run the agents in n worker threads (default: 0 below 256 computes, else cores - 1)', integerIn(0, 64))
  .option('--host <address>', 'API listen address (loopback)', ipv4Address, '127.0.0.1')
  .option('--port <port>', 'API port, 0-65535 (0 = any free port)', port(true), 7070)
  .option('--strict', 'accept only XMPP agents named in the topology, each from its own address')
  .option('--stanza-log <file>', 'also append every stanza to this JSONL file')
  .option('-v, --verbose', 'log sessions and config changes')
  .option('--json', 'once up, print { topology, mode, api, web } as one JSON line instead of the greeting')
  .addOption(new Option('--log-format <format>', 'json: one JSON object a line; pretty: one human line (see --log-level)').choices(LOG_FORMATS).default('pretty'))
  .action(async (file: string, o: { processes?: boolean; agentThreads?: number; host: string; port: number; strict?: boolean; stanzaLog?: string; verbose?: boolean; json?: boolean; logFormat: LogFormat }) => {
    const topology = await loadValidTopology(file, 2);
    // Refuse a busy port or a foreign address before any node binds: a failed `up` leaves nothing listening.
    if (!isLoopback(o.host)) throw new CliError(`--host ${o.host}: the API serves loopback only (127.0.0.0/8)`);
    await assertBindable(o.host, o.port);
    // Without an explicit --log-level, `up` logs warnings only (-v: info); debug adds every API request.
    const logLevel = program.getOptionValueSource('logLevel') === 'default' ? (o.verbose ? 'info' : 'warn') : program.opts<{ logLevel: string }>().logLevel;
    const logger = createLogger({ level: logLevel, format: o.logFormat });
    const nodes = topology.controlNodes.length + topology.computes.filter((c) => !c.external).length;
    process.stderr.write(dim(`starting ${nodes} nodes of ${topology.name}…\n`));
    let sim: Simulation;
    try {
      sim = await progress(`starting ${nodes} nodes`, nodes >= 50, () =>
        Simulation.start(topology, {
          mode: o.processes ? 'processes' : 'in-process',
          topologyFile: file,
          strict: o.strict,
          stanzaLog: o.stanzaLog,
          log: logFnOf(logger),
          logLevel,
          agentThreads: o.agentThreads,
        }),
      );
    } catch (e) {
      // the capacity check's reason already names the topology
      if (e instanceof CapacityError) throw new CliError(e.message);
      throw new CliError(`cannot start ${topology.name}: ${(e as Error).message}`);
    }
    let url: string;
    try {
      url = await sim.serve(o.host, o.port, webView(sim.api, { log: (line) => logger.error(line) }), { logger });
    } catch (e) {
      await sim.stop();
      // serveApi says it in one line: `cannot serve the API on <host>:<port>: <why>`.
      throw new CliError((e as Error).message);
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ topology: topology.name, mode: sim.mode, api: `${url}/api`, web: `${url}/` })}\n`);
    } else {
      process.stdout.write(`${topology.name} is up (${sim.mode}${sim.agentThreads > 0 ? `, agents in ${sim.agentThreads} worker thread(s)` : ''}); API at ${url}/api\n`);
      process.stdout.write(`web view: ${url}/\n`);
      process.stdout.write(dim(`${tryLines(topology, url)}\n`));
    }
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
  .option('--api-port <port>', 'introspect API port on the node address (0 = any)', port(true), 0)
  .option('--strict', 'control node: accept only the topology computes')
  .option('--end-of-rib-quiet-ms <ms>', 'control node: quiet time before End-of-RIB', integerIn(0, 3_600_000))
  .option('--parent-pid <pid>', 'exit when this process is gone (set by the launcher)', integerIn(1, 2 ** 31 - 1))
  .addOption(new Option('--log-format <format>', 'json or pretty (under a launcher, lines go to it instead)').choices(LOG_FORMATS).default('pretty'))
  .action(async (name: string, o: { topology: string; apiPort: number; strict?: boolean; endOfRibQuietMs?: number; parentPid?: number; logFormat: LogFormat }) => {
    const topology = await loadValidTopology(o.topology, 2);
    await runNode(topology, name, { ...o, logLevel: program.opts<{ logLevel: string }>().logLevel });
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
    // A topology that cannot host the scenario is a usage error, not a failed check.
    process.exitCode = report.ok ? 0 : report.refused ? 2 : 1;
  });

program
  .command('validate')
  .description('check topology files against the schema and for meaning; exits 1 on any error')
  .argument('<files...>', 'topology files (.json, .yaml or .yml)')
  .option('--json', 'print the result as JSON')
  .action(async (files: string[], o: { json?: boolean }) => {
    // A file that cannot be read is a usage error (exit 2), not an invalid topology (exit 1).
    for (const file of files) {
      try {
        accessSync(file, constants.R_OK);
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
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

registerReadCommands(program);
registerConfigCommands(program);
registerK8sCommands(program, apiOf);
registerCompareCommands(program);
registerLbaasV1Commands(program);
registerNorthSouthCommands(program, apiOf, call);
registerCompletionCommand(program);

function isJsonSchemaFile(file: string): boolean {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { $schema?: unknown };
    return typeof json.$schema === 'string' && /^https?:\/\/json-schema\.org\//.test(json.$schema);
  } catch {
    return false;
  }
}

/** The topology, or a CliError: one line for one problem (a missing file), the list otherwise. */
async function loadValidTopology(file: string, exitCode = 1): Promise<Topology> {
  const result = await loadTopologyFile(file);
  if (result.ok) return result.topology;
  const lines = (errors: readonly TopologyError[]): string => errors.map((e) => formatTopologyError(e)).join('\n  ');
  if (result.errors.length === 1 && result.errors[0].path === '') throw new CliError(result.errors[0].message, exitCode);
  throw new CliError(`${file} is not a valid topology:\n  ${lines(result.errors)}`, exitCode);
}

/** Binds and releases host:port, so that a busy or foreign address fails before anything starts. */
async function assertBindable(host: string, p: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot serve the API on ${host}:${p}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no interface has this address' : e.message}`)),
    );
    server.listen(p, host, () => server.close(() => resolve()));
  });
}

/** What to try next, one command a line, with this topology's own node names. */
function tryLines(topology: Topology, url: string): string {
  const control = topology.controlNodes[0]?.name;
  const compute = topology.computes.find((c) => !c.external)?.name;
  const commands = ['nodes', control && `routes ${control}`, compute && `fib ${compute}`, 'stanzas --follow'].filter(Boolean);
  return `try:\n${commands.map((c) => `  ecmpsim --api ${url} ${c}`).join('\n')}`;
}

function debugWanted(): boolean {
  try {
    return program.opts<{ logLevel?: string }>().logLevel === 'debug' || program.opts<{ logLevel?: string }>().logLevel === 'trace';
  } catch {
    return false;
  }
}

/** One line (or the lines of a listed error) for the user; the stack only with --log-level debug. */
function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the usage error itself
  const debug = debugWanted() && e instanceof Error ? `\n${e.stack ?? ''}` : '';
  if (e instanceof CliError) {
    process.stderr.write(`${red(`ecmpsim: ${e.message}`)}${debug}\n`);
    return e.exitCode;
  }
  if (e instanceof ScenarioLoadError || (e instanceof Error && !(e instanceof TypeError) && !(e instanceof ReferenceError) && !(e instanceof SyntaxError))) {
    // Errors the layers raise on purpose carry their reason in the message.
    process.stderr.write(`${red(`ecmpsim: ${(e as Error).message}`)}${debug}\n`);
    return 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${red(`ecmpsim: internal error: ${message}`)}${debug || dim(' (--log-level debug shows where)')}\n`);
  return 2;
}

// Whatever escapes later (a socket error while `up` runs) is reported the same way, then the process ends.
process.on('uncaughtException', (e) => process.exit(reportError(e)));
process.on('unhandledRejection', (e) => process.exit(reportError(e)));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // exit now: a half-started command may hold sockets or timers that would keep the process alive
  process.exit(reportError(e));
}
