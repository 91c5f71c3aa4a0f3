// The API as `ecmpsim up` serves it: loopback only (one line, exit 2, nothing started), and pino logging
// in JSON lines with `--log-format json`, API requests included at debug level.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ecmpsim.js', import.meta.url));
const NET = 'default-domain:demo:svc-vn';

function topologyFile(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ecmpsim-api-')), 'topology.json');
  writeFileSync(file, JSON.stringify({
    name: 'cli-api',
    controlNodes: [{ name: 'control-1', address: '127.1.5.1', xmppPort: 5269, bgpPort: 1179 }],
    computes: [{ name: 'compute-1', address: '127.1.5.11' }],
    networks: [{ name: NET, subnets: ['30.30.30.0/24'] }],
    workloads: [{ name: 'client', compute: 'compute-1', network: NET }],
  }));
  return file;
}

describe('ecmpsim up: the API it serves', function () {
  this.timeout(60_000);

  it('refuses a non-loopback --host in one line with exit 2', async () => {
    const child = spawn(process.execPath, [BIN, 'up', topologyFile(), '--host', '0.0.0.0', '--port', '0'], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr.trimEnd().split('\n')).to.deep.equal(['ecmpsim: --host 0.0.0.0: the API serves loopback only (127.0.0.0/8)']);
  });

  it('logs JSON lines at the chosen level, API requests at debug', async () => {
    const child = spawn(process.execPath, [BIN, 'up', topologyFile(), '--port', '0', '--log-format', 'json', '--log-level', 'debug'], { env: { ...process.env, NO_COLOR: '1' } });
    try {
      const lines: string[] = [];
      createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (l) => {
          const m = /API at (http:\/\/[^ ]+)\/api$/.exec(l);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`up exited ${code}: ${lines.join('\n')}`)));
      });
      expect((await fetch(`${url}/api/nodes`)).status).to.equal(200);
      const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; url?: string; status?: number });
      expect(records.some((r) => r.level === 30 && /control-1 started/.test(r.msg)), 'an info line').to.equal(true);
      // The request line is written when the response ends: wait for it by asking once more.
      await fetch(`${url}/api`);
      const all = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; url?: string; status?: number });
      expect(all.some((r) => r.level === 20 && r.msg === 'api request' && r.url === '/api/nodes' && r.status === 200), 'a debug line per request').to.equal(true);
      expect(lines.filter((l) => !l.startsWith('{') && l.trim() !== '' && !l.startsWith('starting') && !l.startsWith('stopping'))).to.deep.equal([]);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  });
});
