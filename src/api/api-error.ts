// The API's one error contract: every refused or failed request answers
// `{ "error": { "code", "message", "path" } }`. `code` is one of a fixed set (documented in
// docs/api.md §Errors) that clients may switch on; `message` is one line for a person; `path` says
// where the fault is: `body.<json path>`, `query.<name>`, or the request path when the whole request is.
// Owns the codes and the body shape; not the HTTP serving (api-server.ts) nor the routing (api-router.ts).

export const ERROR_CODES = {
  'bad-request': 400,
  'invalid-json': 400,
  'invalid-body': 400,
  'invalid-query': 400,
  'invalid-config': 400,
  'wrong-node-kind': 400,
  'not-found': 404,
  'no-route': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'body-too-large': 413,
  internal: 500,
  unsupported: 501,
  'node-unreachable': 502,
  unavailable: 503,
  'node-timeout': 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; path: string; [detail: string]: unknown };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'body-too-large',
  501: 'unsupported',
  502: 'node-unreachable',
  503: 'unavailable',
  504: 'node-timeout',
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad-request');
}

/** A request the API refuses; `status` is its HTTP status and `message` says why, in one line. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(
    readonly status: number,
    message: string,
    code?: ErrorCode,
    /** Where the fault is (`body.port`, `query.direction`); default: the request path. */
    readonly path?: string,
    /** Extra machine-readable fields for the error object (e.g. the config object and field). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.code = code ?? codeForStatus(status);
  }
}

export function errorBody(code: ErrorCode, message: string, path: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { ...details, code, message, path } };
}

/** Any thrown value as an error answer: an ApiError as it says, anything else a one-line 500. */
export function errorResponse(e: unknown, requestPath = ''): { status: number; body: ErrorBody } {
  if (e instanceof ApiError) return { status: e.status, body: errorBody(e.code, e.message, e.path ?? requestPath, e.details) };
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, body: errorBody('internal', message.split('\n')[0], requestPath) };
}

/**
 * The message of an error body, whichever shape it has: the current `{ error: { message } }` or the
 * older `{ error: "…" }` a node of an earlier version may still answer.
 */
export function errorMessage(body: unknown, fallback: string): string {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  return fallback;
}

/** The code of an error body, or undefined when it has none. */
export function errorCode(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  return error && typeof error === 'object' ? String((error as { code?: unknown }).code) : undefined;
}
