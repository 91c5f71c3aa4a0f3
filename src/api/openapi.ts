// The OpenAPI 3.1 description of the API, assembled by @fastify/swagger from each route's RouteSchema
// (request-schemas.ts): paths, parameters, bodies, the shared definitions of the topology schema as
// `components.schemas`, and the one error shape. Owns the mapping from RouteSchema to OpenAPI; not the
// checks themselves.
import type { SwaggerOptions } from '@fastify/swagger';
import { ERROR_CODES } from './api-error.ts';
import { sharedSchemas, type JsonSchema } from './request-schemas.ts';
import type { RouteDescription } from './api-router.ts';

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'path'],
      properties: {
        code: { enum: Object.keys(ERROR_CODES), description: 'stable: clients may switch on it (docs/api.md)' },
        message: { type: 'string', description: 'one line for a person' },
        path: { type: 'string', description: 'where the fault is: body.<json path>, query.<name>, or the request path' },
      },
    },
  },
};

const STREAM_TYPES = { ndjson: 'application/x-ndjson', sse: 'text/event-stream', html: 'text/html', javascript: 'text/javascript' } as const;

export function openApiOptions(title: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title,
        version: '1',
        description: 'Loopback-only HTTP API of a running simulation (see docs/api.md). Errors: { "error": { "code", "message", "path" } }.',
      },
      components: { schemas: { ...sharedSchemas(), error: ERROR_SCHEMA } as never },
    },
  };
}

/** `/api/nodes/:node/*rest` → `/api/nodes/:node/*` (fastify's wildcard has no name). */
export function fastifyPattern(pattern: string): string {
  return pattern.replace(/\*\w+$/, '*');
}

export function openApiRouteSchema(route: RouteDescription): Record<string, unknown> {
  const s = route.schema;
  const ok: Record<string, unknown> = { description: s.stream ? `a stream (${STREAM_TYPES[s.stream]})` : 'OK' };
  if (s.stream) ok.content = { [STREAM_TYPES[s.stream]]: { schema: s.response ?? {} } };
  else if (s.response) ok.content = { 'application/json': { schema: s.response } };
  const errorContent = { content: { 'application/json': { schema: { $ref: '#/components/schemas/error' } } } };
  const hasBody = s.body && route.method !== 'GET';
  return {
    ...(s.summary ? { summary: s.summary } : {}),
    ...(s.description ? { description: s.description } : {}),
    tags: [s.tag ?? tagOf(route.pattern)],
    ...(s.query ? { querystring: { type: 'object', properties: s.query } } : {}),
    ...(hasBody ? { body: s.body } : {}),
    response: { [route.method === 'POST' && s.created ? 201 : 200]: ok, '4XX': { description: 'refused', ...errorContent }, '5XX': { description: 'failed', ...errorContent } },
  };
}

function tagOf(pattern: string): string {
  const parts = pattern.split('/').filter(Boolean);
  if (parts[1] === 'nodes' && parts.length > 3) return `node ${parts[3]}`;
  return parts[1] ?? 'web';
}
