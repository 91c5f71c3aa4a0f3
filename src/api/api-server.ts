// Serving an ApiHandler over HTTP with fastify: body parsing and size limit, the one error shape
// (api-error.ts), NDJSON streams, request logging through the caller's pino logger, and the OpenAPI 3
// document at /api/openapi.json (@fastify/swagger) built from the routes' own schemas. Raw requests
// outside the JSON API (the web page, server-sent events, kube-manager's streaming sync) go to an
// HttpHook before fastify sees them. Binds loopback only. Owns serving; not routing (api-router.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { ApiError, errorBody, errorResponse } from './api-error.ts';
import type { ApiHandler, ApiResponse, RouteDescription } from './api-router.ts';
import { openApiRouteSchema, openApiOptions, fastifyPattern } from './openapi.ts';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Answers an HTTP request outside the JSON API (the web page, its assets, server-sent events); true when it did. */
export type HttpHook = ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) & {
  /** What the hook serves, for the OpenAPI document. */
  routes?: readonly RouteDescription[];
};

export interface ServeOptions {
  hook?: HttpHook;
  /** The routes to describe at /api/openapi.json; without them no document is served. */
  routes?: () => readonly RouteDescription[];
  /** Title of the OpenAPI document. */
  title?: string;
  /** Requests are logged at debug level, failures at warn. */
  logger?: FastifyBaseLogger;
}

export const MAX_BODY_BYTES = 1 << 20;

/** The API binds loopback only: 127.0.0.0/8, ::1 or `localhost`. */
export function requireLoopback(host: string): void {
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback) throw new ApiError(400, `the API binds loopback only (127.0.0.0/8 or ::1); refusing to listen on ${host}`, 'bad-request', 'host');
}

function parseJson(_req: FastifyRequest, text: string, done: (err: Error | null, body?: unknown) => void): void {
  if (text.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(text));
  } catch (e) {
    done(new ApiError(400, `the request body is not valid JSON: ${(e as Error).message}`, 'invalid-json', 'body'));
  }
}

function sendError(reply: FastifyReply, e: unknown, path: string): void {
  let status: number;
  let body: unknown;
  const fastifyError = e as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    status = 413;
    body = errorBody('body-too-large', `request body over ${MAX_BODY_BYTES} bytes`, 'body');
  } else if (!(e instanceof ApiError) && typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    status = fastifyError.statusCode;
    body = errorBody('bad-request', String(fastifyError.message).split('\n')[0], path);
  } else {
    ({ status, body } = errorResponse(e, path));
  }
  reply.code(status).type('application/json').send(JSON.stringify(body, null, 2));
}

function answer(request: FastifyRequest, reply: FastifyReply, response: ApiResponse): void {
  if ('stream' in response) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(response.status, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    const stop = response.stream((record) => res.write(`${JSON.stringify(record)}\n`));
    let stopped = false;
    const finish = (): void => {
      if (stopped) return;
      stopped = true;
      stop();
    };
    request.raw.on('close', finish);
    res.on('close', finish);
    return;
  }
  reply.code(response.status).type('application/json').send(JSON.stringify(response.body, null, 2));
}

type Dispatch = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function buildApp(handler: ApiHandler, options: ServeOptions): { app: FastifyInstance<http.Server>; dispatch: Dispatch } {
  const hook = options.hook;
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: true,
    exposeHeadRoutes: false,
    // Our own onResponse hook logs each request once, at debug (fastify's lines are at info).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    // The raw hook answers first, so that fastify never reads a body the hook streams itself.
    serverFactory: (fastifyHandler) =>
      http.createServer((req, res) => {
        if (hook?.(req, res)) return;
        fastifyHandler(req, res);
      }),
  });
  // The router checks bodies and queries itself (the same checks in-process); fastify's schemas only document.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => parseJson(req, body as string, done));
  app.setErrorHandler((error, request, reply) => sendError(reply, error, new URL(request.url, 'http://localhost').pathname));
  app.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode >= 500 ? 'warn' : 'debug';
    request.log[level]({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request');
    done();
  });

  const dispatch: Dispatch = async (request, reply) => {
    const url = new URL(request.url, 'http://localhost');
    let response: ApiResponse;
    try {
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body;
      response = await handler({ method: request.method, path: url.pathname, query: url.searchParams, body, params: {} });
    } catch (e) {
      response = errorResponse(e, url.pathname);
    }
    answer(request, reply, response);
  };
  return { app, dispatch };
}

/** Serves `handler` over HTTP on a loopback address; streams are NDJSON, one record per line. */
export async function serveApi(handler: ApiHandler, host: string, port: number, hookOrOptions?: HttpHook | ServeOptions): Promise<ApiServer> {
  requireLoopback(host);
  const options: ServeOptions = typeof hookOrOptions === 'function' ? { hook: hookOrOptions } : (hookOrOptions ?? {});
  const { app, dispatch } = buildApp(handler, options);
  if (options.routes) {
    await app.register(swagger, openApiOptions(options.title ?? 'ecmpsim simulation API'));
    const seen = new Set<string>();
    const described = [...options.routes(), ...(options.hook?.routes ?? [])];
    for (const route of described) {
      const url = fastifyPattern(route.pattern);
      const key = `${route.method} ${url}`;
      if (seen.has(key) || url.includes('*')) continue;
      seen.add(key);
      app.route({ method: route.method as 'GET', url, schema: openApiRouteSchema(route), handler: dispatch });
    }
    app.get('/api/openapi.json', { schema: { summary: 'This OpenAPI 3.1 document', tags: ['api'] } }, async (_request, reply) => {
      reply.type('application/json').send(JSON.stringify(app.swagger(), null, 2));
    });
  }
  app.all('*', { schema: { hide: true } }, dispatch);
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : code === 'EADDRNOTAVAIL' ? 'no such local address' : (e as Error).message;
    // One line for the user; nothing is left listening.
    throw new Error(`cannot serve the API on ${host}:${port}: ${why}`);
  }
  const address = app.server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostPart}:${address.port}`,
    close: () => app.close(),
  };
}
