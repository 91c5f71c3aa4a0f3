// Runs one scenario script against a simulation it brings up (and takes down) itself.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadTopologyFile, formatTopologyError } from '../topology/loader.ts';
import { Simulation, type LaunchMode } from '../topology/launcher.ts';
import { ScenarioContext, ScenarioFailure, ScenarioRefused, type Scenario, type ScenarioReport, type TimelineEntry } from './scenario.ts';

export const TOPOLOGIES_DIR = fileURLToPath(new URL('../../topologies/', import.meta.url));

export class ScenarioLoadError extends Error {}

/** Files `loadScenario` accepts: TypeScript or JavaScript ES modules. */
const SCENARIO_FILE = /\.(ts|mts|js|mjs)$/;
let hooksRegistered = false;

/** See scenario-module-hooks.mjs: `ecmpsim` names this package, and user files outside it load as ESM. */
function registerScenarioHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  register(new URL('./scenario-module-hooks.mjs', import.meta.url));
}

export async function loadScenario(file: string): Promise<Scenario> {
  if (!SCENARIO_FILE.test(file)) throw new ScenarioLoadError(`cannot load scenario ${file}: a scenario is a .ts, .mts, .js or .mjs file`);
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new ScenarioLoadError(`cannot load scenario ${file}: no such file`);
  registerScenarioHooks();
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  } catch (e) {
    throw new ScenarioLoadError(`cannot load scenario ${file}: ${(e as Error).message}`);
  }
  const scenario = module.default as Partial<Scenario> | undefined;
  if (!scenario || typeof scenario.run !== 'function' || typeof scenario.name !== 'string') {
    throw new ScenarioLoadError(`${file} must export default defineScenario({ name, description, run })`);
  }
  return scenario as Scenario;
}

export async function resolveTopologyFile(scenario: Scenario, override?: string): Promise<string> {
  if (override) return path.resolve(override);
  return path.join(TOPOLOGIES_DIR, scenario.topology ?? 'default.json');
}

export interface RunOptions {
  mode?: LaunchMode;
  topologyFile?: string;
  onEntry?: (entry: TimelineEntry) => void;
  onReady?: (sim: Simulation) => void;
  log?: (line: string) => void;
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const topologyFile = await resolveTopologyFile(scenario, options.topologyFile);
  const loaded = await loadTopologyFile(topologyFile);
  if (!loaded.ok) {
    throw new ScenarioLoadError(`${topologyFile} is not a valid topology:\n${loaded.errors.map((e) => `  ${formatTopologyError(e)}`).join('\n')}`);
  }
  const mode = options.mode ?? 'in-process';
  const sim = await Simulation.start(loaded.topology, { mode, topologyFile, log: options.log, endOfRibQuietMs: 500 });
  const context = new ScenarioContext(sim.api, options.onEntry);
  const meta = { scenario: scenario.name, topology: loaded.topology.name, mode };
  try {
    options.onReady?.(sim);
    await scenario.run(context);
    return context.report(meta);
  } catch (e) {
    // By name as well: a script loaded under another module loader (a test runner's CommonJS copy of
    // this package) throws its own copy of these classes.
    if (isNamed(e, ScenarioRefused)) return context.report(meta, undefined, (e as Error).message);
    const message = isNamed(e, ScenarioFailure) ? (e as Error).message : `the script threw: ${thrownAt(e)}`;
    return context.report(meta, message);
  } finally {
    await sim.stop();
  }
}

function isNamed(e: unknown, kind: typeof ScenarioFailure | typeof ScenarioRefused): boolean {
  return e instanceof kind || (e instanceof Error && e.name === kind.name);
}

/** The message and the first frame outside node's internals: where a script's own bug is, without a stack dump. */
function thrownAt(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const frame = (e.stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => /\((.*)\)$|at (\S+:\d+:\d+)$/.exec(line.trim()))
    .map((m) => m?.[1] ?? m?.[2])
    .find((where) => where !== undefined && !where.startsWith('node:') && !where.includes('/node_modules/'));
  return frame ? `${e.message} (at ${frame.replace(/^file:\/\//, '').replace(/\?.*?(:\d+:\d+)$/, '$1')})` : e.message;
}
