// The CLI's side of the simulation API: one call, its errors turned into a CliError with the API's
// message and the CLI's exit code, and the one way to print a document (table or --json).
// Owns no command; commands live in main.ts and the *-command(s).ts modules.
import type { Command } from 'commander';
import { ApiError, remoteHandler, type ApiHandler } from '../api/api-router.ts';
import { dim } from './views.ts';

/** A failure to report in one line and exit with; never a stack trace for the user. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

/** The message of an API error body: `{ error: "…" }` or `{ error: { code, message, path } }`. */
export function apiErrorMessage(body: unknown, status: number): string {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    const { message, path } = error as { message: string; path?: unknown };
    // A field path (body.port, query.direction) helps unless the message names the field already; the
    // request path (/hash) only repeats what the user typed.
    const field = typeof path === 'string' && /^(body|query)\b/.test(path) ? path : '';
    const named = field !== '' && (message.includes(field) || message.includes(`${field.split('.').pop()}:`));
    return field !== '' && !named ? `${field}: ${message}` : message;
  }
  return `HTTP ${status}`;
}

export async function call<T>(api: ApiHandler, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, 'http://simulation');
  let response;
  try {
    response = await api({ method, path: url.pathname, query: url.searchParams, body, params: {} });
  } catch (e) {
    if (e instanceof ApiError) throw new CliError(`${e.message}\n${dim('is a simulation running? start one with `ecmpsim up <topology>` or pass --api URL')}`);
    throw e;
  }
  if (!('body' in response)) throw new CliError(`${path} answered with a stream`);
  if (response.status >= 400) throw new CliError(apiErrorMessage(response.body, response.status), 2);
  return response.body as T;
}

export function apiOf(command: Command): ApiHandler {
  const url = command.optsWithGlobals<{ api: string }>().api;
  return remoteHandler(url.replace(/\/$/, ''));
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== false) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
