// The streaming variant of `/api/k8s/apply`: one long HTTP request whose body is a watch stream
// (`kubectl get --watch -o json`, concatenated JSON values) and whose response is NDJSON, one result
// line per object as it is applied, then a summary line when the body ends. Owns only the streaming;
// each value goes through the same parser and KubeManager.apply as a batch. It needs the raw request
// (the JSON router reads bodies whole), so the HTTP server hands `POST /api/k8s/sync` to it directly.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeManager, ObjectResult } from './kube-manager.ts';
import { summarize } from './kube-manager.ts';
import { JsonValueSplitter, parseJsonValue } from './manifest-parser.ts';

export const SYNC_PATH = '/api/k8s/sync';

/** Feeds chunks of a watch stream to kube-manager in order; `onResult` sees each object's result. */
export class WatchStreamFeeder {
  readonly #splitter = new JsonValueSplitter();
  readonly #results: ObjectResult[] = [];
  #documents = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly manager: KubeManager,
    private readonly onResult: (result: ObjectResult) => void,
  ) {}

  push(chunk: string): void {
    for (const text of this.#splitter.push(chunk)) this.#enqueue(text);
  }

  /** Waits for every value pushed so far; a truncated last value is reported as an error. */
  async end(): Promise<ObjectResult[]> {
    const rest = this.#splitter.end();
    if (rest !== undefined) this.#enqueue(rest);
    await this.#chain;
    return this.#results;
  }

  #enqueue(text: string): void {
    const at = `document ${++this.#documents}`;
    this.#chain = this.#chain.then(async () => {
      for (const result of await this.manager.apply(parseJsonValue(text, at))) {
        this.#results.push(result);
        this.onResult(result);
      }
    });
  }
}

/** Serves one sync request: NDJSON results while the body streams in, `{summary}` last. */
export function handleSyncStream(manager: KubeManager, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  const feeder = new WatchStreamFeeder(manager, (result) => res.write(`${JSON.stringify(result)}\n`));
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => feeder.push(chunk));
  req.on('end', () => {
    void feeder.end().then(
      (results) => res.end(`${JSON.stringify({ summary: summarize(results) })}\n`),
      (e: unknown) => res.end(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`),
    );
  });
}
