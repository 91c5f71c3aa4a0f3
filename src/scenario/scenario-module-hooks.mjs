// Module hooks for scenario files a user keeps outside this repository (docs/extending.md "Scenario API").
// Owns two resolution rules and nothing else:
//  - the bare name `ecmpsim` (and `ecmpsim/…`) always resolves to THIS package, through its `exports`
//    map, so a scenario shares the runner's module instances (one ScenarioFailure class, one registry);
//  - a `.ts`/`.js` file outside any `node_modules` whose package scope does not say `"type": "module"`
//    but which is written with import/export is loaded as ESM. Without this rule tsx compiles it to
//    CommonJS, which then `require()`s the ES modules of this package while they are still loading
//    ("Cannot require() ES Module … in a cycle").
// Plain JavaScript because it runs on Node's hooks thread, before any TypeScript loader is certain.
import { readFile } from 'node:fs/promises';

const SELF = new URL('../../package.json', import.meta.url).href;
const SELF_NAME = /^ecmpsim(\/|$)/;
const USER_SOURCE = /\.(ts|tsx|js|jsx)$/;
const MODULE_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;

export async function resolve(specifier, context, next) {
  if (SELF_NAME.test(specifier)) return next(specifier, { ...context, parentURL: SELF });
  const result = await next(specifier, context);
  if (result.format !== 'commonjs' || !result.url.startsWith('file:')) return result;
  const pathname = new URL(result.url).pathname;
  if (pathname.includes('/node_modules/') || !USER_SOURCE.test(pathname)) return result;
  let source;
  try {
    source = await readFile(new URL(result.url), 'utf8');
  } catch {
    return result;
  }
  return MODULE_SYNTAX.test(source) ? { ...result, format: 'module' } : result;
}
