// Reads what kubectl prints into watch events: `-o json` (one object or a `v1 List`), `-o yaml`
// (multi-document), and `get --watch -o json` (concatenated JSON values, not necessarily one per line,
// bare objects or `{type, object}` with --output-watch-events). Owns text → values → entries; every
// malformed value or object becomes an entry of its own so the rest of the batch goes on. Meaning is
// elsewhere (object-cache.ts, desired-config.ts).
import { parseAllDocuments } from 'yaml';
import { WATCH_EVENT_TYPES, type WatchEvent, type WatchEventType } from './k8s-objects.ts';
import { K8sObjectError, UnusedKind, checkObject, identityOf } from './object-checks.ts';

/** A value that could not be used: where it came from, which object, which field, why. */
export interface ParseProblem {
  /** `document 3`, `document 2 items[4]` … */
  readonly at: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly field?: string;
  readonly reason: string;
}

export type ParsedEntry =
  | { readonly ok: true; readonly at: string; readonly event: WatchEvent }
  | { readonly ok: false; readonly at: string; readonly skipped: boolean; readonly problem: ParseProblem };

/**
 * Splits a stream of concatenated JSON values as chunks arrive (kubectl --watch flushes objects whole
 * but pretty-printed across lines, and nothing separates them but whitespace). Strings and escapes are
 * tracked so braces inside them do not count.
 */
export class JsonValueSplitter {
  #buffer = '';
  #depth = 0;
  #inString = false;
  #escaped = false;
  #start = -1;
  #scanned = 0;

  /** Complete top-level values (as text) that `chunk` finished. */
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const out: string[] = [];
    for (let i = this.#scanned; i < this.#buffer.length; i++) {
      const c = this.#buffer[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === '\\') this.#escaped = true;
        else if (c === '"') this.#inString = false;
        continue;
      }
      if (this.#depth === 0 && this.#start < 0) {
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
        this.#start = i;
        if (c !== '{' && c !== '[') {
          // Not a JSON object or list: hand the rest of the line over, JSON.parse will say what is wrong.
          const end = this.#buffer.indexOf('\n', i);
          if (end < 0) break;
          out.push(this.#buffer.slice(i, end));
          this.#start = -1;
          i = end;
          continue;
        }
      }
      if (c === '"') this.#inString = true;
      else if (c === '{' || c === '[') this.#depth++;
      else if (c === '}' || c === ']') {
        this.#depth--;
        if (this.#depth === 0) {
          out.push(this.#buffer.slice(this.#start, i + 1));
          this.#start = -1;
        }
      }
    }
    // Keep only the unfinished value so a long stream does not grow the buffer.
    const keepFrom = this.#start >= 0 ? this.#start : this.#buffer.length;
    this.#buffer = this.#buffer.slice(keepFrom);
    if (this.#start >= 0) this.#start = 0;
    this.#scanned = this.#buffer.length;
    return out;
  }

  /** What is left when the stream ends: a truncated value, or nothing. */
  end(): string | undefined {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    this.#start = -1;
    this.#depth = 0;
    this.#scanned = 0;
    this.#inString = false;
    return rest === '' ? undefined : rest;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function problemEntry(at: string, raw: unknown, reason: string, field?: string): ParsedEntry {
  const id = identityOf(raw);
  return { ok: false, at, skipped: false, problem: { at, kind: id.kind, ...(id.namespace ? { namespace: id.namespace } : {}), ...(id.name ? { name: id.name } : {}), ...(field ? { field } : {}), reason } };
}

function objectEntry(at: string, raw: unknown, type: WatchEventType): ParsedEntry {
  try {
    return { ok: true, at, event: { type, object: checkObject(raw) } };
  } catch (e) {
    if (e instanceof UnusedKind) {
      return { ok: false, at, skipped: true, problem: { at, kind: e.kind, ...(e.namespace ? { namespace: e.namespace } : {}), ...(e.objectName ? { name: e.objectName } : {}), reason: e.message } };
    }
    if (e instanceof K8sObjectError) {
      return {
        ok: false,
        at,
        skipped: false,
        problem: { at, kind: e.kind, ...(e.namespace ? { namespace: e.namespace } : {}), ...(e.objectName ? { name: e.objectName } : {}), field: e.field, reason: e.reason },
      };
    }
    throw e;
  }
}

/**
 * One decoded value → entries: a `List` (`v1 List`, `ServiceList` …) yields its items, a watch event
 * its object with its type, a bare object an ADDED. kubectl's ERROR event (a Status) is reported.
 */
export function entriesOfValue(value: unknown, at: string): ParsedEntry[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => entriesOfValue(item, `${at}[${i}]`));
  if (!isRecord(value)) return [problemEntry(at, value, `must be a Kubernetes object, a List or a watch event, got ${JSON.stringify(value).slice(0, 40)}`)];
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && 'items' in value) {
    if (!Array.isArray(value.items)) return [problemEntry(at, value, 'must be a list', 'items')];
    return value.items.flatMap((item, i) => entriesOfValue(item, `${at} items[${i}]`));
  }
  if ('type' in value && 'object' in value && !('apiVersion' in value)) {
    if (value.type === 'ERROR') {
      const status = isRecord(value.object) ? value.object : {};
      return [problemEntry(at, value.object, `the watch ended with an error: ${String(status.message ?? status.reason ?? 'no message')}`)];
    }
    if (!(WATCH_EVENT_TYPES as readonly unknown[]).includes(value.type)) {
      return [problemEntry(at, value.object, `watch event type must be one of ${WATCH_EVENT_TYPES.join(', ')}, got ${JSON.stringify(value.type)}`, 'type')];
    }
    return [objectEntry(at, value.object, value.type as WatchEventType)];
  }
  return [objectEntry(at, value, 'ADDED')];
}

/** JSON text (one value or several concatenated) → entries; a value that does not parse is one problem. */
export function parseJsonStream(text: string, firstDocument = 1): ParsedEntry[] {
  const splitter = new JsonValueSplitter();
  const values = splitter.push(text);
  const rest = splitter.end();
  if (rest !== undefined) values.push(rest);
  return values.flatMap((valueText, i) => parseJsonValue(valueText, `document ${firstDocument + i}`));
}

export function parseJsonValue(text: string, at: string): ParsedEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return [{ ok: false, at, skipped: false, problem: { at, kind: '(unreadable)', reason: `not valid JSON: ${(e as Error).message}` } }];
  }
  return entriesOfValue(value, at);
}

/** YAML text, `---`-separated documents; a document with a syntax error is one problem, the others go on. */
export function parseYaml(text: string, firstDocument = 1): ParsedEntry[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    const at = `document ${firstDocument + i}`;
    if (doc.errors.length > 0) {
      const error = doc.errors[0];
      return [{ ok: false as const, at, skipped: false, problem: { at, kind: '(unreadable)', reason: `not valid YAML: ${error.message.split('\n')[0]}` } }];
    }
    return entriesOfValue(doc.toJS(), at);
  });
}

/** kubectl output of either format: JSON when it starts with `{` or `[`, YAML otherwise. */
export function parseManifests(text: string, firstDocument = 1): ParsedEntry[] {
  return looksLikeJson(text) ? parseJsonStream(text, firstDocument) : parseYaml(text, firstDocument);
}

export function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/** A problem as one line: `document 2 items[1] Service ns/web: spec.ports[0].port: must be …`. */
export function formatProblem(problem: ParseProblem): string {
  const who = `${problem.kind}${problem.name === undefined ? '' : ` ${problem.namespace === undefined ? '' : `${problem.namespace}/`}${problem.name}`}`;
  return `${problem.at} ${who}: ${problem.field ? `${problem.field}: ` : ''}${problem.reason}`;
}
