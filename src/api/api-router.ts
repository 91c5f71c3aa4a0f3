// The API's request model and router. A node (control node or agent) exposes one `ApiHandler`; the
// simulation API routes `/api/nodes/<name>/…` to it — by a function call when the node lives in the same
// process, over HTTP when it runs in its own process — so both modes serve the same documents.
// A route may carry a schema (request-schemas.ts): the router validates the body and the query against it
// before the handler runs, in both modes, and the OpenAPI document (openapi.ts) is built from the same
// schemas. Owns routing and validation; HTTP serving is api-server.ts, the HTTP client remote-handler.ts.
import { ApiError, errorBody, errorResponse } from './api-error.ts';
import { checkBody, checkQuery, type RouteSchema } from './request-schemas.ts';

export { ApiError, errorResponse } from './api-error.ts';
export type { RouteSchema } from './request-schemas.ts';
// Kept here too so that modules importing the server and the client from the router still build.
export { serveApi, type ApiServer, type HttpHook, type ServeOptions } from './api-server.ts';
export { remoteHandler, type RemoteOptions } from './remote-handler.ts';

export interface ApiRequest<TBody = unknown> {
  method: string;
  /** Path below the handler's mount point, e.g. `/routes`. */
  path: string;
  query: URLSearchParams;
  body: TBody;
  params: Record<string, string>;
  /** How long a call to another process may take (remote-handler.ts); the launcher's default is 2 s. */
  deadlineMs?: number;
}

/** A stream of JSON records (NDJSON on the wire); returns the function that stops it. */
export type ApiStream = (emit: (record: unknown) => void) => () => void;

export type ApiResponse = { status: number; body: unknown } | { status: number; stream: ApiStream };

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

export type RouteHandler<TBody = unknown> = (req: ApiRequest<TBody>) => Promise<ApiResponse> | ApiResponse;

/** One route as the OpenAPI document sees it (served here, or only documented: see `document`). */
export interface RouteDescription {
  method: string;
  pattern: string;
  schema: RouteSchema;
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: RouteHandler;
  schema: RouteSchema | undefined;
}

export class ApiRouter {
  private readonly routes: Route[] = [];
  private readonly documentedOnly: RouteDescription[] = [];

  /**
   * `pattern` segments starting with `:` capture into `req.params`, a last segment `*name` captures the
   * rest. With a `schema`, the body and query are checked first and `TBody` is what the body schema allows.
   */
  on<TBody = unknown>(method: string, pattern: string, handler: RouteHandler<TBody>, schema?: RouteSchema): this {
    this.routes.push({ method, pattern, segments: pattern.split('/').filter(Boolean), handler: handler as RouteHandler, schema });
    return this;
  }

  /** Documents a route this router does not answer itself (served by a raw HTTP hook or forwarded). */
  document(method: string, pattern: string, schema: RouteSchema): this {
    this.documentedOnly.push({ method, pattern, schema });
    return this;
  }

  /** Every route with its schema, for the OpenAPI document; catch-all forwards (`*rest`) without one are left out. */
  describe(): RouteDescription[] {
    const served = this.routes.filter((r) => !r.schema?.hidden && (r.schema || !r.pattern.includes('*'))).map((r) => ({ method: r.method, pattern: r.pattern, schema: r.schema ?? {} }));
    return [...served, ...this.documentedOnly];
  }

  get handler(): ApiHandler {
    return (req) => this.dispatch(req);
  }

  async dispatch(req: ApiRequest): Promise<ApiResponse> {
    let parts: string[];
    try {
      parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return { status: 400, body: errorBody('bad-request', `the path ${req.path} is not valid percent-encoding`, req.path) };
    }
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      try {
        if (route.schema) {
          checkQuery(route.schema, req.query);
          checkBody(route.schema, req.body);
        }
        return await route.handler({ ...req, params: { ...req.params, ...params } });
      } catch (e) {
        return errorResponse(e, req.path);
      }
    }
    return pathMatched
      ? { status: 405, body: errorBody('method-not-allowed', `${req.method} is not allowed on ${req.path}`, req.path) }
      : { status: 404, body: errorBody('no-route', `no such resource: ${req.path}`, req.path) };
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

export function queryInt(query: URLSearchParams, name: string, fallback?: number): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new ApiError(400, `query parameter ${name}=${text} is not an integer`, 'invalid-query', `query.${name}`);
  return n;
}

export function bodyObject(req: ApiRequest): Record<string, unknown> {
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw new ApiError(400, 'the request body must be a JSON object', 'invalid-body', 'body');
  }
  return req.body as Record<string, unknown>;
}
