// Request schemas: the JSON Schema a route declares for its body and query, and their checks. Names,
// addresses and ports come from the topology file's own schema (topologies/schema.json `definitions`),
// so a name the topology refuses the API refuses too; they appear in the OpenAPI document as
// `components.schemas`. Owns the checks and their one-line errors; not the routes (each API module
// declares its own) nor the document (openapi.ts).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ApiError } from './api-error.ts';

/** A JSON Schema object (draft-07 subset that OpenAPI 3.1 accepts as is). */
export type JsonSchema = Record<string, unknown>;

export interface RouteSchema {
  summary?: string;
  description?: string;
  /** OpenAPI tag: the group the route is listed under. */
  tag?: string;
  /** The body's schema; a route without one takes any body (or none). */
  body?: JsonSchema;
  /** One schema per query parameter; values arrive as text and are checked after type coercion. */
  query?: Record<string, JsonSchema>;
  /** Refuse query parameters not listed in `query`. */
  strictQuery?: boolean;
  /** The success answer's schema, for the document only. */
  response?: JsonSchema;
  /** Left out of the document (a refusal that only points elsewhere). */
  hidden?: boolean;
  /** The success status is 201 (a create), for the document only. */
  created?: boolean;
  /** Answers NDJSON records (or server-sent events) instead of one JSON document. */
  stream?: 'ndjson' | 'sse' | 'html' | 'javascript';
}

const TOPOLOGY_SCHEMA_URL = new URL('../../topologies/schema.json', import.meta.url);
const COMPONENTS = '#/components/schemas/';

let components: Record<string, JsonSchema> | undefined;

/** The topology schema's definitions, with their refs pointing at `#/components/schemas/…`. */
export function sharedSchemas(): Record<string, JsonSchema> {
  if (!components) {
    const text = readFileSync(TOPOLOGY_SCHEMA_URL, 'utf8').replaceAll('"#/definitions/', `"${COMPONENTS}`);
    components = (JSON.parse(text) as { definitions: Record<string, JsonSchema> }).definitions;
  }
  return components;
}

/** A reference to one of the topology schema's definitions (`port`, `ipv4`, `configName` …). */
export function ref(name: string, description?: string): JsonSchema {
  if (!(name in sharedSchemas())) throw new Error(`topologies/schema.json has no definition ${name}`);
  return description ? { $ref: `${COMPONENTS}${name}`, description } : { $ref: `${COMPONENTS}${name}` };
}

// `components` carries the shared definitions beside each compiled schema so that `#/components/…` resolves.
const bodyAjv = new Ajv({ allErrors: false, strict: true, verbose: true });
const queryAjv = new Ajv({ allErrors: false, strict: true, verbose: true, coerceTypes: true });
for (const ajv of [bodyAjv, queryAjv]) ajv.addKeyword({ keyword: 'components' }).addKeyword({ keyword: 'example' });

const compiledBodies = new WeakMap<JsonSchema, ValidateFunction>();
const compiledQueries = new WeakMap<RouteSchema, ValidateFunction>();
const compiledQueryTexts = new Map<string, ValidateFunction>();

function compile(ajv: Ajv, schema: JsonSchema): ValidateFunction {
  return ajv.compile({ ...schema, components: { schemas: sharedSchemas() } });
}

/** `/listeners/0/port` → `listeners[0].port` */
function jsonPath(prefix: string, pointer: string): string {
  let path = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return path;
}

const PATTERN_MEANING: Record<string, string> = {
  configName: 'a name of letters, digits and "_ . : -", starting with a letter, digit or "_" (no "/" or spaces)',
  nodeName: 'a node name (letters, digits, ".", "_", "-"; at most 63 characters)',
  objectName: 'a name made of letters, digits, ".", "_", "-", starting with a letter or digit',
  networkName: 'a network fq-name such as default-domain:demo:svc-vn',
  ipv4: 'an IPv4 address (a.b.c.d)',
  cidr: 'an IPv4 subnet (a.b.c.d/len)',
  mac: 'a MAC address in lower-case hex (aa:bb:cc:dd:ee:ff)',
};

function meaningOf(error: ErrorObject): string {
  const ref = /\/components\/schemas\/(\w+)/.exec(error.schemaPath)?.[1];
  return (ref && PATTERN_MEANING[ref]) ?? `text matching ${String(error.params.pattern)}`;
}

function describe(error: ErrorObject, prefix: string): { message: string; path: string } {
  const path = jsonPath(prefix, error.instancePath);
  const got = JSON.stringify(error.data);
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(error.params.additionalProperty);
      return { path: `${path}.${field}`, message: `${path}: unknown field ${field}` };
    }
    case 'required':
      return { path: `${path}.${String(error.params.missingProperty)}`, message: `${path}: ${String(error.params.missingProperty)} is required` };
    case 'enum':
      return { path, message: `${path}: ${got} is not one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { path, message: `${path}: ${got} is not ${meaningOf(error)}` };
    case 'type':
      return { path, message: `${path}: must be ${String(error.params.type)}, got ${got}` };
    case 'minimum':
    case 'maximum':
      return { path, message: `${path}: must be ${error.keyword === 'minimum' ? '≥' : '≤'} ${String(error.params.limit)}, got ${got}` };
    default:
      return { path, message: `${path}: ${error.message ?? 'is not valid'}` };
  }
}

/** The error to tell: for an `anyOf`, one sentence naming every alternative instead of the first one's failure. */
function explain(errors: ErrorObject[], prefix: string): { message: string; path: string } {
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  if (anyOf) {
    const branches = errors.filter((e) => e.instancePath === anyOf.instancePath && e !== anyOf);
    const meanings = branches.map((e) => (e.keyword === 'pattern' ? meaningOf(e) : e.keyword === 'enum' ? `one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` : e.keyword === 'type' ? `a ${String(e.params.type)}` : 'valid'));
    const path = jsonPath(prefix, anyOf.instancePath);
    return { path, message: `${path}: ${JSON.stringify(anyOf.data)} is not ${[...new Set(meanings)].join(' nor ')}` };
  }
  return describe(errors[0], prefix);
}

export function checkBody(schema: RouteSchema, body: unknown): void {
  if (!schema.body) return;
  let validate = compiledBodies.get(schema.body);
  if (!validate) compiledBodies.set(schema.body, (validate = compile(bodyAjv, schema.body)));
  if (body === undefined) throw new ApiError(400, 'the request needs a JSON body', 'invalid-body', 'body');
  if (validate(body)) return;
  const { message, path } = explain(validate.errors!, 'body');
  throw new ApiError(400, message, 'invalid-body', path);
}

export function checkQuery(schema: RouteSchema, query: URLSearchParams): void {
  if (!schema.query) {
    if (schema.strictQuery && query.size > 0) throw new ApiError(400, `query.${[...query.keys()][0]}: this resource takes no query parameters`, 'invalid-query', `query.${[...query.keys()][0]}`);
    return;
  }
  const declared = schema.query;
  if (schema.strictQuery) {
    for (const key of query.keys()) {
      if (!(key in declared)) throw new ApiError(400, `query.${key}: unknown parameter; known: ${Object.keys(declared).join(', ')}`, 'invalid-query', `query.${key}`);
    }
  }
  let validate = compiledQueries.get(schema);
  if (!validate) {
    // thousands of agents' routers declare the same query: compiled once per text, not once per router
    const text = JSON.stringify(declared);
    validate = compiledQueryTexts.get(text);
    if (!validate) compiledQueryTexts.set(text, (validate = compile(queryAjv, { type: 'object', properties: declared })));
    compiledQueries.set(schema, validate);
  }
  const values: Record<string, string> = {};
  for (const key of Object.keys(declared)) {
    // An empty value means "no filter", as the filters themselves read it.
    const value = query.get(key);
    if (value !== null && value !== '') values[key] = value;
  }
  if (validate(values)) return;
  const { message, path } = explain(validate.errors!, 'query');
  throw new ApiError(400, message, 'invalid-query', path);
}
