// Topology files written in YAML (`.yaml`/`.yml`, as containerlab users write theirs): parsed with the
// `yaml` package, then validated exactly like JSON (same schema, same meaning checks), and every error
// gets the line of the node its JSON path points at. Owns YAML text → TopologyResult; the rules
// themselves are the loader's (./loader.ts).
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { TopologyError, TopologyResult } from './topology.ts';

export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** `computes[1].address` → ['computes', 1, 'address']. */
function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return segments;
    if (m[1] !== '') segments.push(m[1]);
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** The 1-based line of the deepest node along `path` (a missing field points at its parent). */
function lineOf(root: Node | null, path: string, lines: LineCounter): number | undefined {
  let node: unknown = root;
  let found = root;
  for (const segment of pathSegments(path)) {
    if (isMap(node)) node = node.get(segment, true);
    else if (isSeq(node) && typeof segment === 'number') node = node.get(segment, true);
    else break;
    if (!node) break;
    found = node as Node;
  }
  const offset = found?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

export function parseYamlTopologyText(text: string, source: string, validate: (json: unknown, source: string) => TopologyResult): TopologyResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: '', message: `${source}:${line}:${col}: malformed YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const result = validate(doc.toJS(), source);
  const withLine = (e: TopologyError): TopologyError => {
    const line = e.path === '' ? undefined : lineOf(doc.contents, e.path, lines);
    return line === undefined ? e : { ...e, path: `${e.path} (${source}:${line})` };
  };
  return result.ok ? { ...result, warnings: result.warnings.map(withLine) } : { ok: false, errors: result.errors.map(withLine) };
}
