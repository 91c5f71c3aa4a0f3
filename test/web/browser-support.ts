// Launches Debian's Chromium headless through playwright-core for the web tests. With CI=true a missing
// browser fails the test; otherwise the test is skipped with the reason.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.ECMPSIM_CHROMIUM ?? '/usr/bin/chromium';
export const OUTPUT_DIR = path.resolve('test-output', 'web');

export interface LaunchedBrowser {
  /** A persistent context on a fresh profile directory (playwright's way to pass --user-data-dir). */
  context: BrowserContext;
  close(): Promise<void>;
}

/** Null when there is no browser and this is not CI (the caller skips); throws under CI. */
export async function launchChromium(): Promise<LaunchedBrowser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    return null;
  }
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    viewport: { width: 1600, height: 1000 },
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return path.join(OUTPUT_DIR, name);
}
