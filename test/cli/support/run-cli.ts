// Runs bin/ecmpsim.js as a user would (a real process), and starts `ecmpsim up` for the tests that need
// a simulation. Shared by the CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/ecmpsim.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function ecmpsim(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** `ecmpsim up <topology> --port 0`, resolved with the API URL once it is up. */
export async function startUp(topology: string, extra: string[] = []): Promise<{ up: ChildProcess; api: string; stdout: () => string }> {
  const up = spawn(process.execPath, [BIN, 'up', topology, '--port', '0', ...extra], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  up.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const api = await new Promise<string>((resolve, reject) => {
    up.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /API at (http:\/\/[\d.:]+)\/api/.exec(out);
      if (m) resolve(m[1]);
    });
    up.once('exit', (code) => reject(new Error(`up exited ${code}: ${err}`)));
  });
  return { up, api, stdout: () => out };
}

export async function stopUp(up: ChildProcess): Promise<number | null> {
  if (up.exitCode !== null) return up.exitCode;
  up.kill('SIGTERM');
  const [code] = (await once(up, 'exit')) as [number | null];
  return code;
}
