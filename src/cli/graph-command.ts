// `ecmpsim graph <topology> --format …`: the static picture of a topology file (like containerlab's
// `graph`). Thin: load and validate the file, render through src/graph, write or print.
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { GRAPH_EXTENSION, GRAPH_FORMATS, renderGraph, type GraphFormat } from '../graph/graph-formats.ts';
import { formatTopologyError, loadTopologyFile } from '../topology/loader.ts';

export function registerGraphCommand(program: Command): void {
  program
    .command('graph')
    .description('draw a topology file: html (self-contained, interactive), svg, mermaid, dot or drawio')
    .argument('<topology>', 'topology file')
    .addOption(new Option('--format <format>', 'output format').choices([...GRAPH_FORMATS]).default('html'))
    .option('--out <file>', `write to this file (default: stdout; "-" is stdout too)`)
    .action(async (file: string, o: { format: GraphFormat; out?: string }) => {
      const result = await loadTopologyFile(file);
      if (!result.ok) {
        throw new Error(`${file} is not a valid topology:\n${result.errors.map((e) => `  ${formatTopologyError(e)}`).join('\n')}`);
      }
      const text = await renderGraph(result.topology, o.format);
      if (o.out === undefined || o.out === '-') {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(o.out, text);
      } catch (e) {
        throw new Error(`cannot write ${o.out}: ${(e as Error).message}`);
      }
      const hint = o.out.endsWith(`.${GRAPH_EXTENSION[o.format]}`) ? '' : ` (usual extension: .${GRAPH_EXTENSION[o.format]})`;
      process.stderr.write(`${o.out}: ${o.format} picture of ${result.topology.name}${hint}\n`);
    });
}
