// `ecmpsim node <name>`: one node of a topology in this process, as in a real deployment. It serves the
// node's introspect API on the node's own address and tells its launcher (if any) on stdout, one JSON
// object per line: {"event":"ready","api":…}, {"event":"log","line":…,"level":…}. Run by hand (no
// launcher), it logs to stderr with pino instead (cli/logger.ts).
import { serveApi } from '../api/api-router.ts';
import { StanzaTap } from '../inspect/stanza-tap.ts';
import { startCompute, startControlNode, startGateway, type RunningNode } from '../topology/node-runtime.ts';
import { nodeUnderlay } from '../topology/underlay-choice.ts';
import type { Topology } from '../topology/topology.ts';
import type { LogFn, LogLevel } from '../net/log.ts';
import { createLogger, levelPasses, logFnOf, type LogFormat } from './logger.ts';

export async function runNode(
  topology: Topology,
  name: string,
  o: { apiPort: number; strict?: boolean; endOfRibQuietMs?: number; parentPid?: number; logLevel?: string; logFormat?: LogFormat },
): Promise<void> {
  const say = (message: object): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  const threshold = o.logLevel ?? 'info';
  // Under a launcher the lines travel to it on stdout, at their level; alone, pino writes them to stderr.
  const log: LogFn =
    o.parentPid !== undefined
      ? (line: string, level: LogLevel = 'info') => {
          if (levelPasses(level, threshold)) say({ event: 'log', line, level });
        }
      : logFnOf(createLogger({ level: threshold, format: o.logFormat ?? 'pretty' }));
  const tap = new StanzaTap();
  const isControl = topology.controlNodes.some((c) => c.name === name);
  const isCompute = topology.computes.some((c) => c.name === name);
  const isGateway = (topology.gateways ?? []).some((g) => g.name === name);
  if (!isControl && !isCompute && !isGateway) throw new Error(`topology ${topology.name} has no node named ${name}`);

  let node: RunningNode;
  let closeUnderlay = async (): Promise<void> => {};
  if (isControl) {
    node = await startControlNode(topology, name, { tap, log, strict: o.strict, endOfRibQuietMs: o.endOfRibQuietMs });
  } else {
    const underlay = nodeUnderlay(log);
    closeUnderlay = underlay.close;
    node = isGateway ? await startGateway(topology, name, underlay.underlay, { log }) : await startCompute(topology, name, underlay.underlay, { tap, log });
    await underlay.ready();
  }
  const server = await serveApi(node.handler, node.address, o.apiPort);
  say({ event: 'ready', node: name, api: server.url });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (o.parentPid !== undefined) {
      // A launcher that dies without stopping its nodes must not leave them behind.
      const parent = o.parentPid;
      setInterval(() => {
        try {
          process.kill(parent, 0);
        } catch {
          resolve();
        }
      }, 1000).unref();
    }
  });
  await server.close();
  await node.stop();
  await closeUnderlay();
  await tap.close();
}
