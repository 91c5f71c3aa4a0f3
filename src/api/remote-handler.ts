// The client side of the API: turns an HTTP endpoint back into an ApiHandler (how the launcher reaches a
// node in its own process, and how the CLI reaches a simulation). The launcher gives every call to a node
// process a deadline (DEFAULT_DEADLINE_MS): a process that does not answer in time (stopped, hung) gives a
// clear 504 naming it instead of a hang (docs/api.md §Deadlines). A client of the simulation itself (the
// CLI) sets none: the simulation bounds its own calls. Owns the HTTP client; not serving (api-server.ts).
import { ApiError } from './api-error.ts';
import type { ApiHandler } from './api-router.ts';

export interface RemoteOptions {
  /** Who answers there, for messages ("compute-4: no answer in 2 s"); default: the URL. */
  name?: string;
  /** Deadline of a call unless the request carries its own `deadlineMs`; 0 or absent = none. */
  deadlineMs?: number;
}

export const DEFAULT_DEADLINE_MS = 2000;

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function remoteHandler(baseUrl: string, options: RemoteOptions = {}): ApiHandler {
  const who = options.name ?? baseUrl;
  return async (req) => {
    const url = `${baseUrl}${req.path}${req.query.size > 0 ? `?${req.query}` : ''}`;
    const init: RequestInit = { method: req.method };
    if (req.body !== undefined) {
      init.body = JSON.stringify(req.body);
      init.headers = { 'content-type': 'application/json' };
    }
    const deadline = req.deadlineMs ?? options.deadlineMs ?? 0;
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      deadline > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, deadline)
        : undefined;
    const late = (): ApiError => new ApiError(504, `${who}: no answer in ${seconds(deadline)}`, 'node-timeout', req.path);
    try {
      let res: Response;
      try {
        res = await fetch(url, { ...init, signal: controller.signal });
      } catch (e) {
        if (timedOut) throw late();
        throw new ApiError(502, `${who} is unreachable at ${baseUrl}: ${(e as Error).message}`, 'node-unreachable', req.path);
      }
      if ((res.headers.get('content-type') ?? '').includes('ndjson') && res.body) {
        // A stream answers its headers within the deadline and then runs for as long as it is followed.
        clearTimeout(timer);
        const body = res.body;
        return {
          status: res.status,
          stream: (emit) => {
            void readNdjson(body, emit).catch(() => {});
            return () => controller.abort();
          },
        };
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        if (timedOut) throw late();
        throw new ApiError(502, `${who} broke off its answer: ${(e as Error).message}`, 'node-unreachable', req.path);
      }
      try {
        return { status: res.status, body: text === '' ? null : JSON.parse(text) };
      } catch {
        throw new ApiError(502, `${who} answered ${res.status} with a body that is not JSON`, 'node-unreachable', req.path);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

async function readNdjson(body: ReadableStream<Uint8Array>, emit: (record: unknown) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') emit(JSON.parse(line));
    }
  }
}
