// `ecmpsim k8s apply|sync` as users run them: real processes of bin/ecmpsim.js against a served simulation.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateTopology } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/ecmpsim.js');

async function ecmpsim(args: string[], stdin?: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  for (const chunk of stdin ?? []) {
    child.stdin.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.stdin.end();
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('ecmpsim k8s', function () {
  this.timeout(60_000);
  let sim: Simulation;
  let api: string;

  before(async () => {
    const result = validateTopology({
      name: 'k8s-cli',
      controlNodes: [{ name: 'control-1', address: '127.0.14.2', xmppPort: 5269, bgpPort: 1179 }],
      computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.25.${i}` })),
      networks: [],
      k8s: { nodes: { cent111: 'compute-1', cent222: 'compute-2', cent333: 'compute-3' } },
    });
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    sim = await Simulation.start(result.topology, { endOfRibQuietMs: 200 });
    api = await sim.serve('127.0.0.1', 0);
  });
  after(async () => sim?.stop());

  it('apply prints one line per object and what it wrote', async () => {
    const r = await ecmpsim(['--api', api, 'k8s', 'apply', 'topologies/k8s/service-web-clusterip.yaml']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^created\s+Service ns-user-1\/service-web-clusterip {2}\(document 1\)$/m);
    expect(r.stdout).to.match(/^ +create loadbalancer-member ns-user-1-service-web-clusterip-TCP-8888-pool:10\.47\.255\.238:80$/m);
    expect(r.stdout).to.match(/^4 created, 0 updated, 0 deleted, 0 skipped, 0 error$/m);
  });

  it('sync follows a watch stream from stdin as it arrives; --json gives one result per line', async () => {
    const stream = readFileSync(path.join(ROOT, 'test/fixtures/k8s/watch-events.json'), 'utf8');
    const chunks = [stream.slice(0, 3000), stream.slice(3000, 9000), stream.slice(9000)];
    const r = await ecmpsim(['--api', api, 'k8s', 'sync', '-', '--json'], chunks);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action?: string; summary?: { error: number } });
    expect(lines).to.have.length(13);
    expect(lines[3]).to.include({ action: 'skipped' });
    expect(lines[12].summary).to.deep.include({ error: 0 });
    const members = (await (await fetch(`${api}/api/config/loadbalancer-member`)).json()) as { address: string }[];
    expect(members.map((m) => m.address)).to.deep.equal(['10.47.255.238']);
  });

  it('sync also reads a YAML watch stream (documents separated by ---)', async () => {
    const svc = (rv: string, port: number): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: yaml-web\n  namespace: ns2\n  resourceVersion: "${rv}"\nspec:\n  clusterIP: 10.96.5.5\n  ports:\n    - port: ${port}\n`;
    const r = await ecmpsim(['--api', api, 'k8s', 'sync', '-'], [`---\n${svc('7', 80)}`, `---\n${svc('8', 81)}`, `---\n${svc('8', 81)}`]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^created\s+Service ns2\/yaml-web/m);
    expect(r.stdout).to.match(/^updated\s+Service ns2\/yaml-web/m);
    expect(r.stdout).to.match(/^skipped\s+Service ns2\/yaml-web {2}repeated/m);
    const listeners = (await (await fetch(`${api}/api/config/loadbalancer-listener`)).json()) as { name: string }[];
    expect(listeners.map((l) => l.name)).to.include('ns2-yaml-web-TCP-81');
  });

  it('exits 1 with each malformed object named, and 2 with a one-line error for a missing file', async () => {
    const bad = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'ns1' }, spec: { clusterIP: '10.96.0.7', ports: [{ port: 'http' }] } });
    const r = await ecmpsim(['--api', api, 'k8s', 'apply', '-'], [bad]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^error\s+Service ns1\/x {2}spec\.ports\[0\]\.port: must be a port from 1 to 65535, got "http"/m);
    const missing = await ecmpsim(['--api', api, 'k8s', 'apply', 'no-such-file.yaml']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.match(/no-such-file\.yaml/);
  });
});

describe('ecmpsim k8s apply request splitting', () => {
  it('sends a file over the API body limit as whole documents, numbered from where each request starts', async () => {
    const { requestTexts, MAX_REQUEST_TEXT } = await import('../../src/cli/k8s-command.ts');
    const object = (i: number): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'ns1', annotations: { pad: 'x'.repeat(1000) } } });
    const count = Math.ceil((MAX_REQUEST_TEXT * 2.5) / 1100);
    const text = Array.from({ length: count }, (_, i) => object(i)).join('\n');
    const requests = [...requestTexts(text)];
    expect(requests.length).to.equal(3);
    expect(requests.every((r) => r.text.length <= MAX_REQUEST_TEXT)).to.equal(true);
    const names = requests.flatMap((r) => r.text.split('\n').map((line) => (JSON.parse(line) as { metadata: { name: string } }).metadata.name));
    expect(names).to.deep.equal(Array.from({ length: count }, (_, i) => `p${i}`));
    expect(requests[1].firstDocument).to.equal(requests[0].text.split('\n').length + 1);
  });
});
