// The shared reference (DESIGN.md, the real XSDs) lives beside the repository, not in it. A suite that
// checks against it is skipped with a reason when the clone has no shared/ beside it, except in CI
// (CI=true), where CI's clone always has it and its absence is a failure.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file under shared/, for a suite's before hook (skips or throws as above). */
export function sharedReference(ctx: Mocha.Context, relativePath: string): string {
  const file = fileURLToPath(new URL(`../../../shared/${relativePath}`, import.meta.url));
  if (!existsSync(file)) {
    const why = `the shared reference ${relativePath} is not at ${file} (clone the project beside shared/)`;
    if (process.env.CI === 'true') throw new Error(why);
    console.warn(`    skipping: ${why}`);
    ctx.skip();
  }
  return file;
}
