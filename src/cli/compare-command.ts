// `ecmpsim compare <topology>`: native vs proxy load balancer on the same topology and traffic
// (src/compare), as a side-by-side table, JSON or an HTML report; and `ecmpsim lb-haproxy-config <lb>`:
// the haproxy.cfg of a proxy load balancer's service instance in a running simulation.
// Thin: parse, call, print. Errors are thrown as plain Errors with their reason (main.ts prints them).
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { apiOf, call } from './api-client.ts';
import { integerIn } from './arguments.ts';
import { comparisonHtml, comparisonJson, comparisonTable } from '../compare/compare-report.ts';
import { CompareError, compareProviders, DEFAULT_FLOWS } from '../compare/compare.ts';
import { formatTopologyError, loadTopologyFile } from '../topology/loader.ts';

const positiveInt = integerIn(1, 1_000_000);

export function registerCompareCommands(program: Command): void {
  program
    .command('compare')
    .description('run the first load balancer once native (ECMP) and once as a haproxy proxy, with the same connections and events, and compare')
    .argument('<topology>', 'topology file')
    .option('--flows <n>', `client connections (default ${DEFAULT_FLOWS})`, positiveInt)
    .option('--json', 'print JSON: the metrics under "native" and "proxy"')
    .option('--report <file.html>', 'also write a self-contained HTML page with per-compute charts')
    .action(async (file: string, o: { flows?: number; json?: boolean; report?: string }) => {
      const loaded = await loadTopologyFile(file);
      if (!loaded.ok) throw new Error(`${file} is not a valid topology:\n${loaded.errors.map((e) => `  ${formatTopologyError(e)}`).join('\n')}`);
      let comparison;
      try {
        comparison = await compareProviders(loaded.topology, { flows: o.flows });
      } catch (error) {
        if (error instanceof CompareError) throw new Error(`compare: ${error.message}`);
        throw error;
      }
      if (o.report !== undefined) {
        try {
          writeFileSync(o.report, comparisonHtml(comparison));
        } catch (error) {
          throw new Error(`cannot write ${o.report}: ${(error as Error).message}`);
        }
        if (o.json !== true) process.stderr.write(`${o.report}: HTML report written\n`);
      }
      process.stdout.write(`${o.json === true ? JSON.stringify(comparisonJson(comparison), null, 2) : comparisonTable(comparison)}\n`);
    });

  program
    .command('lb-haproxy-config')
    .description('the haproxy.cfg Contrail generates for a proxy (provider opencontrail) load balancer')
    .argument('<loadbalancer>', 'load balancer or service-instance name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const answer = await call<{ config: string }>(apiOf(cmd), 'GET', `/api/config/service-instance/${encodeURIComponent(name)}/haproxy`);
      process.stdout.write(answer.config);
    });
}
