import { readFile } from 'node:fs/promises';
import { buildConfigStore, TopologyBuildError } from './config-from-topology.ts';
import { resolveTopology } from './resolve-topology.ts';
import { checkTopologyShape } from './schema-check.ts';
import type { Topology, TopologyError, TopologyResult } from './topology.ts';
import { dirname } from 'node:path';
import { filesRelativeTo, type XmppAuthFiles } from './xmpp-auth.ts';
import { isYamlFile, parseYamlTopologyText } from './yaml-topology.ts';

export { formatTopologyError } from './topology.ts';
export type { Topology, TopologyError, TopologyResult } from './topology.ts';

/**
 * Validates a parsed topology: shape (JSON Schema), then meaning (names, references, addresses), then a
 * dry run of the config store. Every error of a stage is reported together; a later stage runs only when
 * the earlier ones passed, because it relies on their guarantees. `source` names the file in errors that
 * concern the whole document.
 */
export function validateTopology(json: unknown, source?: string): TopologyResult {
  const shape = checkTopologyShape(json);
  if (!shape.ok) return { ok: false, errors: shape.errors };
  const resolved = resolveTopology(shape.raw);
  if (!resolved.topology) return { ok: false, errors: resolved.errors };
  let store;
  try {
    store = buildConfigStore(resolved.topology);
  } catch (error) {
    if (error instanceof TopologyBuildError) return { ok: false, errors: [{ path: error.path, message: error.reason }] };
    const where = source ? ` (${source})` : '';
    return { ok: false, errors: [{ path: '', message: `the config store refused this topology${where}: ${(error as Error).message}` }] };
  }
  const memberPaths = memberPathsByName(resolved.topology);
  const lbPaths = new Map(resolved.topology.loadBalancers.map((lb, index) => [lb.name, `loadBalancers[${index}]`]));
  const driverNotices = [...store.lbaasReport.warnings, ...store.lbaasReport.problems]
    .filter((notice) => !notice.object.startsWith('loadbalancer-member ') || !isUnknownAddressNotice(notice.message))
    .map((notice): TopologyError => ({
      path: memberPaths.get(notice.object) ?? lbPaths.get(notice.loadBalancer) ?? '',
      message: notice.message,
    }));
  return { ok: true, topology: resolved.topology, warnings: [...resolved.warnings, ...driverNotices] };
}

// the resolver already warns about member addresses that match no workload, with a better path
function isUnknownAddressNotice(message: string): boolean {
  return message.includes('matches no virtual-machine-interface');
}

function memberPathsByName(topology: NonNullable<ReturnType<typeof resolveTopology>['topology']>): Map<string, string> {
  const paths = new Map<string, string>();
  topology.loadBalancers.forEach((lb, index) =>
    lb.listeners.forEach((listener, listenerIndex) => {
      const listenerPath = `loadBalancers[${index}].listeners[${listenerIndex}]`;
      paths.set(`loadbalancer-listener ${listener.name}`, listenerPath);
      listener.pool.members.forEach((member, memberIndex) => paths.set(`loadbalancer-member ${member.name}`, `${listenerPath}.pool.members[${memberIndex}]`));
    }),
  );
  return paths;
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

export function parseTopologyText(text: string, source = 'topology'): TopologyResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const { line, column } = lineAndColumn(text, offset);
    const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/ \(line \d+ column \d+\)$/, '');
    return { ok: false, errors: [{ path: '', message: `${source}:${line}:${column}: malformed JSON: ${reason}` }] };
  }
  return validateTopology(json, source);
}

export async function loadTopologyFile(path: string): Promise<TopologyResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, errors: [{ path: '', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }] };
  }
  const result = isYamlFile(path) ? parseYamlTopologyText(text, path, validateTopology) : parseTopologyText(text, path);
  return result.ok ? { ...result, topology: xmppAuthFilesRelativeTo(result.topology, dirname(path)) } : result;
}

/** docs/protocol.md §2.3: certificate and key files named in the topology are relative to the topology file. */
function xmppAuthFilesRelativeTo(topology: Topology, dir: string): Topology {
  const at = <T extends { xmppAuth?: XmppAuthFiles }>(node: T): T => (node.xmppAuth ? { ...node, xmppAuth: filesRelativeTo(node.xmppAuth, dir) } : node);
  return { ...topology, controlNodes: topology.controlNodes.map(at), computes: topology.computes.map(at) };
}
