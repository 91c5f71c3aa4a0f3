// `ecmpsim k8s apply <file|->` and `ecmpsim k8s sync -`: clients of `POST /api/k8s/apply`. `apply` sends
// a whole file; `sync` reads a watch stream from stdin and sends each object as soon as it is complete,
// so the simulation follows the cluster as kube-manager follows the apiserver. Same server code path.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ApiHandler } from '../api/api-router.ts';
import type { ApplyResponse } from '../k8s/k8s-api.ts';
import { summarize, type ObjectResult } from '../k8s/kube-manager.ts';
import { JsonValueSplitter, looksLikeJson } from '../k8s/manifest-parser.ts';
import { bold, dim, green, red } from './views.ts';
import { apiErrorMessage, CliError } from './api-client.ts';

/** Above this a file is sent in several requests (the API reads bodies of up to 1 MiB). */
export const MAX_REQUEST_TEXT = 768 * 1024;

async function post(api: ApiHandler, body: unknown): Promise<ApplyResponse> {
  let response;
  try {
    response = await api({ method: 'POST', path: '/api/k8s/apply', query: new URLSearchParams(), body, params: {} });
  } catch (e) {
    throw new Error(`${(e as Error).message} (is a simulation running? start one with \`ecmpsim up <topology>\` or pass --api URL)`);
  }
  if (!('body' in response)) throw new Error('/api/k8s/apply answered with a stream');
  if (response.status >= 400) throw new CliError(apiErrorMessage(response.body, response.status));
  return response.body as ApplyResponse;
}

export function resultLine(result: ObjectResult): string {
  const who = `${result.kind} ${result.namespace ? `${result.namespace}/` : ''}${result.name ?? ''}`.trimEnd();
  const action = result.action === 'error' ? red(result.action.padEnd(9)) : result.action === 'skipped' ? dim(result.action.padEnd(9)) : green(result.action.padEnd(9));
  const why = result.reason ? `  ${result.action === 'error' ? red(`${result.field ? `${result.field}: ` : ''}${result.reason}`) : dim(result.reason)}` : '';
  const lines = [`${action} ${who}${why}  ${dim(`(${result.at})`)}`];
  for (const change of result.config) lines.push(`          ${change}`);
  for (const note of result.notes) lines.push(`          ${dim(`note: ${note}`)}`);
  return lines.join('\n');
}

/** Whole top-level values (JSON) or documents (YAML) in groups that fit one request each. */
export function* requestTexts(text: string): Generator<{ text: string; firstDocument: number }> {
  if (text.length <= MAX_REQUEST_TEXT) {
    yield { text, firstDocument: 1 };
    return;
  }
  const parts = looksLikeJson(text) ? splitJson(text) : text.split(/^---[ \t]*$/m);
  let group: string[] = [];
  let size = 0;
  let first = 1;
  let index = 1;
  const separator = looksLikeJson(text) ? '\n' : '\n---\n';
  for (const part of parts) {
    // one object bigger than a request still goes alone; the API then says it is too large
    if (size + separator.length + part.length > MAX_REQUEST_TEXT && group.length > 0) {
      yield { text: group.join(separator), firstDocument: first };
      first = index;
      group = [];
      size = 0;
    }
    group.push(part);
    size += separator.length + part.length;
    index++;
  }
  if (group.length > 0) yield { text: group.join(separator), firstDocument: first };
}

function splitJson(text: string): string[] {
  const splitter = new JsonValueSplitter();
  const values = splitter.push(text);
  const rest = splitter.end();
  return rest === undefined ? values : [...values, rest];
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      // A plain Error: main.ts prints its message alone, no stack.
      throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}

function finish(results: readonly ObjectResult[], json: boolean): void {
  const summary = summarize(results);
  if (json) process.stdout.write(`${JSON.stringify({ results, summary }, null, 2)}\n`);
  else process.stdout.write(`${bold(Object.entries(summary).map(([action, n]) => `${n} ${action}`).join(', '))}\n`);
  process.exitCode = summary.error > 0 ? 1 : 0;
}

/** YAML watch output separates objects with `---` lines; JSON needs no separator at all. */
class YamlDocumentSplitter {
  #buffer = '';
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const docs = this.#buffer.split(/^---[ \t]*\r?\n/m);
    this.#buffer = docs.pop() ?? '';
    return docs.filter((d) => d.trim() !== '');
  }
  end(): string | undefined {
    const rest = this.#buffer;
    this.#buffer = '';
    return rest.trim() === '' ? undefined : rest;
  }
}

async function sync(api: ApiHandler, json: boolean): Promise<void> {
  const results: ObjectResult[] = [];
  let splitter: JsonValueSplitter | YamlDocumentSplitter | undefined;
  let document = 0;
  const send = async (text: string): Promise<void> => {
    const response = await post(api, { text, firstDocument: ++document });
    for (const result of response.results) {
      results.push(result);
      if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${resultLine(result)}\n`);
    }
  };
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    const text = chunk as string;
    if (!splitter) {
      if (text.trim() === '') continue;
      splitter = looksLikeJson(text) ? new JsonValueSplitter() : new YamlDocumentSplitter();
    }
    for (const value of splitter.push(text)) await send(value);
  }
  const rest = splitter?.end();
  if (rest !== undefined) await send(rest);
  const summary = summarize(results);
  process.stdout.write(json ? `${JSON.stringify({ summary })}\n` : `${bold(Object.entries(summary).map(([action, n]) => `${n} ${action}`).join(', '))}\n`);
  process.exitCode = summary.error > 0 ? 1 : 0;
}

export function registerK8sCommands(program: Command, apiOf: (command: Command) => ApiHandler): void {
  const k8s = program.command('k8s').description('Kubernetes through kube-manager: services become native load balancers, pods workloads');
  k8s
    .command('apply')
    .description('apply what `kubectl get … -o json|yaml` printed (objects, a v1 List, watch events) to the running simulation')
    .argument('<file>', 'file, or - for stdin')
    .option('--json', 'JSON output')
    .action(async (file: string, o: { json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      const text = await readInput(file);
      const results: ObjectResult[] = [];
      for (const request of requestTexts(text)) results.push(...(await post(api, request)).results);
      if (o.json !== true) for (const result of results) process.stdout.write(`${resultLine(result)}\n`);
      finish(results, o.json === true);
    });
  k8s
    .command('sync')
    .description('follow `kubectl get … --watch -o json --output-watch-events` from stdin, applying each object as it arrives (without the event types deletions are not seen)')
    .argument('<stdin>', 'must be - (the watch stream on stdin)')
    .option('--json', 'one JSON result per line')
    .action(async (source: string, o: { json?: boolean }, cmd: Command) => {
      if (source !== '-') throw new Error(`k8s sync reads a watch stream from stdin: give - (got ${source}); use k8s apply for a file`);
      await sync(apiOf(cmd), o.json === true);
    });
}
