// The north-south verbs against `ecmpsim up topologies/north-south.json`: a gateway's table, outside
// traffic through it, scaling a shared VIP, and one-line refusals.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/ecmpsim.js');

async function ecmpsim(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('ecmpsim CLI: north-south verbs', function () {
  this.timeout(60_000);
  let up: ChildProcess;
  let api: string;

  before(async () => {
    up = spawn(process.execPath, [BIN, 'up', 'topologies/north-south.json', '--port', '0'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    api = await new Promise<string>((resolve, reject) => {
      let out = '';
      up.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = out.match(/API at (http:\/\/[^\s]+)\/api/);
        if (m) resolve(m[1]);
      });
      up.once('exit', (code) => reject(new Error(`up exited early with ${code}`)));
    });
    for (let i = 0; i < 100; i++) {
      const r = await ecmpsim(['--api', api, 'gateway-routes', 'gw-1']);
      if (r.stdout.includes('10.1.11.9/32  2 path(s)')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  after(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
  });

  it('shows the gateway in the node list and its table with one path per member compute', async () => {
    expect((await ecmpsim(['--api', api, 'nodes'])).stdout).to.match(/gw-1\s+│ gateway/);
    const routes = await ecmpsim(['--api', api, 'gateway-routes', 'gw-1']);
    expect(routes.stdout).to.include('10.1.11.9/32  2 path(s)');
    expect(routes.stdout).to.match(/127\.4\.20\.2\s+label \d+\s+rd 127\.4\.20\.2:\d+/);
  });

  it('sends outside clients through the gateway and scales the shared VIP', async () => {
    const traffic = await ecmpsim(['--api', api, 'traffic', '--from', 'gw-1', '--to', '10.1.11.9:80', '--count', '200', '--sources', '10']);
    expect(traffic.code).to.equal(0);
    expect(traffic.stdout).to.include('200/200 delivered');
    expect(traffic.stdout).to.include('compute-2/web-a');
    const scaled = await ecmpsim(['--api', api, 'shared-vip-set', 'vs2-vip', '--ports', 'avi-se-czpey,avi-se-pnjbb']);
    expect(scaled.stdout).to.equal('instance-ip vs2-vip is on avi-se-czpey, avi-se-pnjbb\n');
    expect((await ecmpsim(['--api', api, 'gateway-hash', 'gw-1', 'resilient'])).stdout).to.equal('gw-1: hash resilient\n');
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    const mode = await ecmpsim(['--api', api, 'gateway-hash', 'gw-1', 'random']);
    expect(mode.code).to.not.equal(0);
    expect(mode.stderr.trim()).to.equal('ecmpsim: mode must be one of stateless, resilient');
    const share = await ecmpsim(['--api', api, 'shared-vip-set', 'web-a', '--ports', 'web-a,web-b']);
    expect(share.code).to.not.equal(0);
    expect(share.stderr.trim().split('\n')).to.have.length(1);
    expect(share.stderr).to.include('needs mode active-active');
  });
});
