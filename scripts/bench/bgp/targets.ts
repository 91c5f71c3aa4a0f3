// The BGP implementations under test, each started as its own OS process configured as a route reflector
// (iBGP, cluster id set) with the feeder and the monitor as passive clients: they connect to it, because
// gobgpd 3.x only dials out every 5-10 s (its connect-retry has a hard 5 s floor and a random delay, and the
// `connect-retry` setting does not shorten it), which would dominate every run. Every process is started
// here, stopped by its PID (TERM, then KILL after 5 s), and its files live in the run's temp dir.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipv4ToBytes } from '../../../src/net/ipv4.ts';
import { PeakRssSampler } from './process-stats.ts';
// The interop tests' helper: the benchmark starts the same daemons the same way.
import { freePort } from '../../../test/interop/bgp-daemons.ts';

export interface TargetPlacement {
  /** Where the target listens for BGP. */
  readonly address: string;
  readonly port: number;
  /** Source addresses of the feeder and the monitor (its two route-reflector clients). */
  readonly feeder: string;
  readonly monitor: string;
  readonly asn: number;
  readonly routerId: string;
  readonly clusterId: string;
  /** A temp dir of this run for configs, sockets and logs. */
  readonly dir: string;
}

export interface RunningTarget {
  readonly pid: number;
  readonly rss: PeakRssSampler;
  /** TERM, then KILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
  /** The end of its log, to explain a failed run. */
  logTail(): string;
}

export interface BgpTarget {
  readonly name: string;
  /** Why it cannot run here (a missing binary, with the install line), or undefined. */
  missing(): string | undefined;
  version(): Promise<string>;
  start(p: TargetPlacement): Promise<RunningTarget>;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const STOP_GRACE_MS = 5000;
const LISTEN_WAIT_MS = 15000;

/** A child process we started, known by PID only. */
class Daemon implements RunningTarget {
  readonly rss: PeakRssSampler;
  private exited = false;
  readonly exit: Promise<void>;

  constructor(private readonly child: ChildProcess, private readonly logFile: string) {
    if (child.pid === undefined) throw new Error(`could not start ${child.spawnfile}`);
    this.rss = new PeakRssSampler(child.pid);
    this.exit = new Promise((resolve) => child.once('exit', () => { this.exited = true; resolve(); }));
    child.once('error', () => { this.exited = true; });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      if (!this.exited) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // Already gone between the check and the kill.
        }
      }
    }, STOP_GRACE_MS);
    await this.exit;
    clearTimeout(timer);
  }

  /** Kills at once (process exit path: no time for a graceful stop). */
  killNow(): void {
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
    } catch {
      return '';
    }
  }
}

/** Daemons alive right now, so that an interrupted benchmark does not leave them behind. */
const live = new Set<Daemon>();

export function killAllStarted(): void {
  for (const d of live) d.killNow();
}

function launch(cmd: string, args: string[], dir: string, name: string): Daemon {
  const logFile = path.join(dir, `${name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], cwd: dir });
  closeSync(log);
  const daemon = new Daemon(child, logFile);
  live.add(daemon);
  void daemon.exit.then(() => live.delete(daemon));
  return daemon;
}

function onPath(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary);
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, binary)));
}

function missingBinaries(binaries: string[], aptPackage: string): string | undefined {
  const missing = binaries.filter((b) => !onPath(b));
  return missing.length === 0 ? undefined : `${missing.join(', ')} not installed: apt-get install -y --no-install-recommends ${aptPackage}`;
}

function output(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`.trim()));
  });
}


/** Whether something listens on address:port, from /proc/net/tcp: a probe connection would be a peer to the daemon. */
function listening(address: string, port: number): boolean {
  // /proc/net/tcp prints the address as a host-order (little-endian) 32-bit word.
  const hex = ipv4ToBytes(address).readUInt32LE().toString(16).toUpperCase().padStart(8, '0');
  const want = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === want && f[3] === '0A';
  });
}

async function waitListening(d: Daemon, p: TargetPlacement, what: string): Promise<void> {
  const until = Date.now() + LISTEN_WAIT_MS;
  while (!listening(p.address, p.port)) {
    if (!d.running) throw new Error(`${what} exited before listening on ${p.address}:${p.port}: ${d.logTail()}`);
    if (Date.now() > until) {
      await d.stop();
      throw new Error(`${what} did not listen on ${p.address}:${p.port} within ${LISTEN_WAIT_MS / 1000} s: ${d.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const gobgpd: BgpTarget = {
  name: 'gobgpd',
  missing: () => missingBinaries(['gobgpd'], 'gobgpd'),
  version: () => output('gobgpd', ['--version']),
  async start(p) {
    const neighbor = (address: string): string => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${address}"
    peer-as = ${p.asn}
  [neighbors.transport.config]
    local-address = "${p.address}"
    passive-mode = true
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "${p.clusterId}"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l3vpn-ipv4-unicast"
`;
    const config = path.join(p.dir, 'gobgpd.toml');
    writeFileSync(config, `[global.config]
  as = ${p.asn}
  router-id = "${p.routerId}"
  port = ${p.port}
  local-address-list = ["${p.address}"]
${neighbor(p.feeder)}${neighbor(p.monitor)}`);
    const api = await freePort(p.address);
    const d = launch('gobgpd', ['-f', config, '-p', '-l', 'warn', `--api-hosts=${p.address}:${api}`, '--pprof-disable'], p.dir, 'gobgpd');
    await waitListening(d, p, 'gobgpd');
    return d;
  },
};

export const bird: BgpTarget = {
  name: 'bird',
  missing: () => missingBinaries(['bird'], 'bird2'),
  version: () => output('bird', ['--version']),
  async start(p) {
    const config = path.join(p.dir, 'bird.conf');
    writeFileSync(config, `router id ${p.routerId};
log stderr { warning, error, fatal, bug };
protocol device { }
vpn4 table vpntab;
template bgp rrclient {
  local ${p.address} port ${p.port} as ${p.asn};
  strict bind yes;
  passive on;
  rr client;
  rr cluster id ${p.clusterId};
  vpn4 mpls { table vpntab; igp table master4; import all; export all; };
}
protocol bgp feeder from rrclient { neighbor ${p.feeder} as ${p.asn}; }
protocol bgp monitor from rrclient { neighbor ${p.monitor} as ${p.asn}; }
`);
    const d = launch('bird', ['-f', '-c', config, '-s', path.join(p.dir, 'bird.ctl'), '-P', path.join(p.dir, 'bird.pid')], p.dir, 'bird');
    await waitListening(d, p, 'bird');
    return d;
  },
};

const FRR_BGPD = '/usr/lib/frr/bgpd';

export const frr: BgpTarget = {
  name: 'frr',
  missing: () => missingBinaries([FRR_BGPD], 'frr'),
  version: () => output(FRR_BGPD, ['--version']).then((v) => v.split('\n')[0] ?? v),
  async start(p) {
    const config = path.join(p.dir, 'bgpd.conf');
    const peers = [p.feeder, p.monitor];
    writeFileSync(config, `frr defaults traditional
hostname bench-frr
log stdout warnings
router bgp ${p.asn}
 bgp router-id ${p.routerId}
 bgp cluster-id ${p.clusterId}
 no bgp default ipv4-unicast
${peers.map((a) => ` neighbor ${a} remote-as ${p.asn}\n neighbor ${a} passive\n`).join('')} address-family ipv4 vpn
${peers.map((a) => `  neighbor ${a} activate\n  neighbor ${a} route-reflector-client\n`).join('')} exit-address-family
exit
`);
    // -Z: no zebra (next hops count as reachable), -S: stay root, -P 0: no TCP vty.
    const d = launch(FRR_BGPD, ['-f', config, '-Z', '-S', '-p', String(p.port), '-l', p.address, '-P', '0',
      '--vty_socket', p.dir, '-i', path.join(p.dir, 'bgpd.pid')], p.dir, 'bgpd');
    await waitListening(d, p, 'frr bgpd');
    return d;
  },
};

/**
 * Ours: the ecmpsim control node, alone in its own process (`ecmpsim node`, as `up --processes` runs it),
 * from a topology whose bgpPeers are the feeder and the monitor and whose control node has a cluster id.
 */
export const ours: BgpTarget = {
  name: 'ours',
  missing: () => undefined,
  version: () => output('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).then((c) => `ecmpsim ${c}`),
  async start(p) {
    const topologyFile = path.join(p.dir, 'topology.json');
    const peer = (name: string, address: string, families: string[]) => ({ name, address, asn: p.asn, families, passive: true });
    writeFileSync(topologyFile, JSON.stringify({
      name: 'bench-bgp',
      asn: p.asn,
      controlNodes: [{ name: 'control-1', address: p.address, xmppPort: await freePort(p.address), bgpPort: p.port, routerId: p.routerId, clusterId: p.clusterId }],
      computes: [],
      networks: [],
      bgpPeers: [peer('feeder', p.feeder, ['inet-vpn']), peer('monitor', p.monitor, ['inet-vpn', 'route-target'])],
    }, null, 2));
    const logFile = path.join(p.dir, 'control-node.log');
    const log = createWriteStream(logFile);
    // BENCH_BGP_CPU_PROF=<dir>: a V8 CPU profile of the control node per run, written when it stops.
    const profile = process.env.BENCH_BGP_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_BGP_CPU_PROF)}`] : [];
    // BENCH_BGP_NODE_FLAGS='--trace-gc …': extra Node/V8 flags for the control node (its output lands in control-node.log; KEEP=1).
    profile.push(...(process.env.BENCH_BGP_NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''));
    const child = spawn(process.execPath, [...profile, path.join(REPO, 'bin/ecmpsim.js'), 'node', 'control-1', '--topology', topologyFile, '--api-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: p.dir });
    const d = new Daemon(child, logFile);
    live.add(d);
    void d.exit.then(() => live.delete(d));
    // The node says {"event":"ready"} on stdout once its listeners are up; everything it prints goes to the log.
    child.once('close', () => log.end());
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('was not ready in time')), LISTEN_WAIT_MS);
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        log.write(chunk);
        buffered += chunk.toString('utf8');
        if (buffered.includes('"event":"ready"')) {
          clearTimeout(timer);
          buffered = '';
          resolve();
        } else buffered = buffered.slice(-4096);
      });
      child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
      void d.exit.then(() => {
        clearTimeout(timer);
        reject(new Error('exited before it was ready'));
      });
    });
    try {
      await ready;
    } catch (e) {
      await d.stop();
      await new Promise<void>((resolve) => (log.closed ? resolve() : log.once('close', () => resolve())));
      throw new Error(`the control node ${(e as Error).message}: ${d.logTail()}`);
    }
    return d;
  },
};

export const TARGETS: readonly BgpTarget[] = [ours, bird, frr, gobgpd];
