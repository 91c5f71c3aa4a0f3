import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { RawTopology } from './raw-topology.ts';
import type { TopologyError } from './topology.ts';

const SCHEMA_URL = new URL('../../topologies/schema.json', import.meta.url);

// shape-only patterns get a sentence instead of the regex itself
const PATTERN_MEANING: Record<string, string> = {
  nodeName: 'a node name (letters, digits, ".", "_", "-"; at most 63 characters, starting with a letter or digit)',
  objectName: 'a name made of letters, digits, ".", "_", "-", starting with a letter or digit',
  configName: 'a name of letters, digits and "_ . : -", starting with a letter, digit or "_" (no "/" or spaces)',
  networkName: 'a network fq-name such as default-domain:demo:svc-vn',
  ipv4: 'an IPv4 address (a.b.c.d)',
  cidr: 'an IPv4 subnet (a.b.c.d/len)',
  mac: 'a MAC address in lower-case hex (aa:bb:cc:dd:ee:ff)',
};

let compiled: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;

function validator() {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
    compiled = new Ajv({ allErrors: true, verbose: true, strict: true }).compile(schema);
  }
  return compiled;
}

/** `/computes/2/address` → `computes[2].address` */
export function jsonPathOf(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path;
}

function join(path: string, property: string): string {
  return path === '' ? property : `${path}.${property}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function describe(error: ErrorObject): TopologyError {
  const path = jsonPathOf(error.instancePath);
  const got = JSON.stringify(error.data);
  switch (error.keyword) {
    case 'required':
      return { path: join(path, String(error.params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const property = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const close = known.find((candidate) => editDistance(candidate, property) <= 2);
      const hint = close ? ` (did you mean "${close}"?)` : known.length > 0 ? ` (known: ${known.join(', ')})` : '';
      return { path: join(path, property), message: `is not a known property${hint}` };
    }
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ');
      const why = (error.parentSchema as { description?: string } | undefined)?.description;
      return { path, message: `must be one of ${allowed}, got ${got}${why ? ` (${why})` : ''}` };
    }
    case 'pattern': {
      const definition = /#\/definitions\/(\w+)\/pattern$/.exec(error.schemaPath)?.[1];
      const meaning = definition ? PATTERN_MEANING[definition] : undefined;
      return { path, message: `must be ${meaning ?? `a string matching ${String(error.params.pattern)}`}, got ${got}` };
    }
    case 'type':
      return { path, message: `must be ${/^[aeiou]/.test(String(error.params.type)) ? 'an' : 'a'} ${String(error.params.type)}, got ${got}` };
    case 'uniqueItems':
      return { path: `${path}[${String(error.params.i)}]`, message: `repeats item ${String(error.params.j)}` };
    case 'minItems':
    case 'maxItems':
    case 'minimum':
    case 'maximum':
      return { path, message: `${error.message ?? 'is out of range'}, got ${got}` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Shape check against topologies/schema.json; every violation is reported, none is fatal to the check. */
export function checkTopologyShape(json: unknown): { ok: true; raw: RawTopology } | { ok: false; errors: TopologyError[] } {
  const validate = validator();
  if (validate(json)) return { ok: true, raw: json as RawTopology };
  const seen = new Set<string>();
  const errors: TopologyError[] = [];
  for (const error of validate.errors ?? []) {
    const described = describe(error);
    const key = `${described.path}\u0000${described.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      errors.push(described);
    }
  }
  return { ok: false, errors };
}
