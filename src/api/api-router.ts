// The introspect API's request model and router. A node (control node or agent) exposes one
// `ApiHandler`; the simulation API routes `/api/nodes/<name>/…` to it — by a function call when the node
// lives in the same process, over HTTP when it runs in its own process — so both modes serve the same
// documents.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequest {
  method: string;
  /** Path below the handler's mount point, e.g. `/routes`. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  params: Record<string, string>;
}

/** A stream of JSON records (NDJSON on the wire); returns the function that stops it. */
export type ApiStream = (emit: (record: unknown) => void) => () => void;

export type ApiResponse = { status: number; body: unknown } | { status: number; stream: ApiStream };

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

/** A request the API refuses; `status` is a 4xx code and `message` says why. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type RouteHandler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

export class ApiRouter {
  private readonly routes: Route[] = [];

  /** `pattern` segments starting with `:` capture into `req.params`. */
  on(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  get handler(): ApiHandler {
    return (req) => this.dispatch(req);
  }

  async dispatch(req: ApiRequest): Promise<ApiResponse> {
    const parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      try {
        return await route.handler({ ...req, params: { ...req.params, ...params } });
      } catch (e) {
        return errorResponse(e);
      }
    }
    return pathMatched
      ? { status: 405, body: { error: `${req.method} is not allowed on ${req.path}` } }
      : { status: 404, body: { error: `no such resource: ${req.path}` } };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const last = pattern[pattern.length - 1];
  const rest = last?.startsWith('*');
  if (rest ? parts.length < pattern.length - 1 : parts.length !== pattern.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      params[p.slice(1)] = parts.slice(i).join('/');
      return params;
    }
    if (p.startsWith(':')) params[p.slice(1)] = parts[i];
    else if (p !== parts[i]) return null;
  }
  return params;
}

export function errorResponse(e: unknown): ApiResponse {
  if (e instanceof ApiError) return { status: e.status, body: { error: e.message } };
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, body: { error: message } };
}

export function queryInt(query: URLSearchParams, name: string, fallback?: number): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new ApiError(400, `query parameter ${name}=${text} is not an integer`);
  return n;
}

export function bodyObject(req: ApiRequest): Record<string, unknown> {
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw new ApiError(400, 'the request body must be a JSON object');
  }
  return req.body as Record<string, unknown>;
}

const MAX_BODY_BYTES = 1 << 20;

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new ApiError(400, `the request body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Answers an HTTP request outside the JSON API (the web page, its assets, server-sent events); true when it did. */
export type HttpHook = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Serves `handler` over HTTP on a loopback address; streams are NDJSON, one record per line. */
export async function serveApi(handler: ApiHandler, host: string, port: number, hook?: HttpHook): Promise<ApiServer> {
  const server = http.createServer((req, res) => {
    if (hook?.(req, res)) return;
    void (async () => {
      let response: ApiResponse;
      try {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
        response = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, params: {} });
      } catch (e) {
        response = errorResponse(e);
      }
      if ('stream' in response) {
        res.writeHead(response.status, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        res.flushHeaders();
        const stop = response.stream((record) => res.write(`${JSON.stringify(record)}\n`));
        const finish = (): void => stop();
        req.on('close', finish);
        res.on('close', finish);
        return;
      }
      const text = JSON.stringify(response.body, null, 2);
      res.writeHead(response.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostPart}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The client side: turns an HTTP endpoint back into an ApiHandler (how a multi-process node is reached). */
export function remoteHandler(baseUrl: string): ApiHandler {
  return async (req) => {
    const url = `${baseUrl}${req.path}${req.query.size > 0 ? `?${req.query}` : ''}`;
    const init: RequestInit = { method: req.method };
    if (req.body !== undefined) {
      init.body = JSON.stringify(req.body);
      init.headers = { 'content-type': 'application/json' };
    }
    const controller = new AbortController();
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: controller.signal });
    } catch (e) {
      throw new ApiError(502, `node API at ${baseUrl} is unreachable: ${(e as Error).message}`);
    }
    if ((res.headers.get('content-type') ?? '').includes('ndjson') && res.body) {
      const body = res.body;
      return {
        status: res.status,
        stream: (emit) => {
          void readNdjson(body, emit).catch(() => {});
          return () => controller.abort();
        },
      };
    }
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : JSON.parse(text) };
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
