import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Helpers for BGP interop tests against real daemons on loopback. Every process is started here, remembered
 * by PID, and stopped by that PID only.
 */

export const inCi = process.env.CI === 'true';

function onPath(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary);
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, binary)));
}

/** In CI a missing peer fails the suite; elsewhere the test is skipped with the install hint. */
export function requireBinaries(ctx: Mocha.Context, binaries: string[], aptPackage: string): void {
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length === 0) return;
  const message = `missing ${missing.join(', ')}: apt-get install -y --no-install-recommends ${aptPackage}`;
  if (inCi) throw new Error(`${message} (CI=true: a missing interop peer is a failure)`);
  console.warn(`    skipping: ${message}`);
  ctx.skip();
}

/** A TCP port free right now on `address` (the kernel's pick for port 0). */
export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: address, port: 0 }, () => {
      const a = server.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let block = 0;
/** A 127.x.y.0 block for one interop test file, distinct per process and per call. */
export function interopBlock(): (host: number) => string {
  block += 1;
  const second = 200 + (process.pid % 50);
  const third = (Math.floor(process.pid / 50) * 7 + block * 13) % 250;
  return (host) => `127.${second}.${third}.${host}`;
}

export function run(cmd: string, args: string[], timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'ecmpsim-bgp-interop-'));
  file(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    if (process.env.KEEP !== '1') rmSync(this.path, { recursive: true, force: true });
  }
}

/** A daemon we started; `stop` sends TERM to its PID, then KILL after 5 s. */
export class Daemon {
  private readonly child: ChildProcess;
  private exited = false;
  readonly exit: Promise<void>;

  constructor(readonly name: string, cmd: string, args: string[], logFile: string) {
    const log = openSync(logFile, 'a');
    this.child = spawn(cmd, args, { stdio: ['ignore', log, log] });
    this.exit = new Promise((resolve) => this.child.once('exit', () => { this.exited = true; resolve(); }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, 5000);
    await this.exit;
    clearTimeout(timer);
  }
}

export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, ms = 20000, everyMs = 250): Promise<T> {
  const until = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) throw new Error(`never happened: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** dumpcap on lo for the given ports; resolves once the capture file exists (dumpcap is then capturing). */
export async function startCapture(dir: TempDir, ports: number[]): Promise<{ daemon: Daemon; file: string }> {
  const file = dir.file('bgp.pcapng');
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  const daemon = new Daemon('dumpcap', 'dumpcap', ['-q', '-i', 'lo', '-f', filter, '-w', file], dir.file('dumpcap.log'));
  await eventually(() => existsSync(file) || undefined, 'dumpcap started', 10000, 100);
  return { daemon, file };
}

/** Frames tshark flags as malformed or with an error-level expert info, decoding `ports` as BGP. */
export async function malformedFrames(file: string, ports: number[]): Promise<string> {
  const decodeAs = ports.flatMap((p) => ['-d', `tcp.port==${p},bgp`]);
  return (await run('tshark', ['-r', file, ...decodeAs, '-Y', '_ws.malformed || _ws.expert.severity >= error',
    '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Info', '-e', '_ws.expert.message'])).trim();
}

export async function tsharkFields(file: string, ports: number[], filter: string, fields: string[]): Promise<string[]> {
  const decodeAs = ports.flatMap((p) => ['-d', `tcp.port==${p},bgp`]);
  const out = await run('tshark', ['-r', file, ...decodeAs, '-Y', filter, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...fields.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/**
 * A gobgpd config with one passive neighbour (gobgpd dials slowly, 5-10 s, but accepts at once: README
 * pitfall 1), VPNv4 + route-target, and optionally a VRF importing a route target — without one, gobgpd
 * asks for no target over RFC 4684 and an RT-constrained speaker sends it nothing.
 */
export function gobgpdConfig(o: {
  asn: number; address: string; port: number; neighbor: string; neighborPort: number; importTarget?: string;
  /** Graceful restart (helper and restarting speaker) for both families, with this restart time in seconds. */
  gracefulRestartTime?: number;
  /** The importing VRF's name (default `svc`). */
  vrfName?: string;
  /** Keep every path of a prefix (use-multiple-paths), as a gateway doing ECMP does. */
  multipath?: boolean;
}): string {
  // GoBGP lists a family in its GR capability only with mp-graceful-restart on it.
  const mpGr = o.gracefulRestartTime === undefined ? '' : `
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true`;
  const gr = o.gracefulRestartTime === undefined ? '' : `
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = ${o.gracefulRestartTime}`;
  const vrf = o.importTarget
    ? `
[[vrfs]]
  [vrfs.config]
    name = "${o.vrfName ?? 'svc'}"
    id = 1
    rd = "10.0.0.254:1"
    import-rt-list = ["${o.importTarget}"]
    export-rt-list = ["${o.importTarget}"]
`
    : '';
  return `
[global.config]
  as = ${o.asn}
  router-id = "10.0.0.254"
  port = ${o.port}
  local-address-list = ["${o.address}"]${o.multipath ? `
[global.use-multiple-paths.config]
  enabled = true` : ''}
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${o.neighbor}"
    peer-as = ${o.asn}
  [neighbors.transport.config]
    local-address = "${o.address}"
    remote-port = ${o.neighborPort}
    passive-mode = true
  [neighbors.timers.config]
    hold-time = 90
    keepalive-interval = 30
    idle-hold-time-after-reset = 1${gr}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l3vpn-ipv4-unicast"${mpGr}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "rtc"${mpGr}
${vrf}`;
}

/**
 * A BIRD 2 config with one VPNv4 neighbour (routes stored in `vpntab`, nothing exported). `strict bind yes`:
 * without it BIRD listens on 0.0.0.0 (shared interop README, BIRD pitfalls).
 */
export function birdConfig(o: { asn: number; address: string; port: number; neighbor: string; neighborPort: number; passive?: boolean }): string {
  return `
router id 10.0.0.6;
log stderr all;
protocol device { }
vpn4 table vpntab;
protocol bgp sim {
  local ${o.address} port ${o.port} as ${o.asn};
  strict bind yes;${o.passive ? '\n  passive on;' : ''}
  neighbor ${o.neighbor} port ${o.neighborPort} as ${o.asn};
  vpn4 mpls { table vpntab; igp table master4; gateway recursive; import all; export none; };
  ipv4 { import all; export none; };
}
`;
}
