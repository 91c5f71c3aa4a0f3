// Builds the page's script (src/web/client/main.ts with Cytoscape.js and Chart.js) with esbuild, in
// memory, the first time it is needed, and keeps it for the life of the process. Why at run time rather
// than a `prepare` step: nothing generated to commit or to forget to rebuild, `npm ci` cannot fail on
// it, and a checkout with edited client code serves the edit; the cost is one build (well under a
// second) per `ecmpsim up`, started as soon as the web view is created so the first page load rarely
// waits.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));

export interface ClientAssets {
  readonly script: string;
  readonly css: string;
}

let assets: Promise<ClientAssets> | null = null;

export function clientAssets(): Promise<ClientAssets> {
  assets ??= build().catch((e: unknown) => {
    assets = null;
    throw e;
  });
  return assets;
}

async function build(): Promise<ClientAssets> {
  // esbuild is loaded only when a page is served, so commands that never serve one do not pay for it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [`${CLIENT_DIR}main.ts`],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'eof',
    logLevel: 'silent',
    tsconfig: `${CLIENT_DIR}tsconfig.json`,
  });
  const script = result.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no output for the web client');
  return { script, css: await readFile(`${CLIENT_DIR}app.css`, 'utf8') };
}
