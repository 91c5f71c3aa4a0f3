// Interop, graceful restart (docs/protocol.md §6.7, RFC 4724): gobgpd with graceful restart on keeps a
// control node's routes, stale, while the control node's BGP restarts (sessions closed without a
// NOTIFICATION, a new speaker within the restart time), takes them fresh from the new session, and drops
// at our End-of-RIB the one we no longer have. With CI=true a missing gobgpd fails the test.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { attachBgp, type BgpAttachment } from '../../src/control/bgp-routing.ts';
import { medForXmppPath } from '../../src/rib/index.ts';
import { controlBgpConfig } from '../../src/topology/control-bgp-config.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { startControlNode, type RunningControlNode } from '../../src/topology/node-runtime.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { Daemon, TempDir, eventually, freePort, gobgpdConfig, malformedFrames, requireBinaries, run, startCapture, tsharkFields } from './bgp-daemons.ts';

const ASN = 64512;
const INSTANCE = 'default-domain:demo:svc-vn:svc-vn';
const VIP = '30.30.30.100/32';
const MEMBERS = [{ compute: '10.0.0.11', label: 17 }, { compute: '10.0.0.12', label: 18 }];

interface GobgpRibPath { stale?: boolean; nlri: { rd: { admin: string | number; assigned: number } } }

describe('interop: gobgpd keeps our routes across a control node BGP restart (graceful restart)', function () {
  this.timeout(120_000);
  // This suite's loopback range (127.5.0.0/16), its own /24.
  const block = 200 + (process.pid % 50);
  const ip = (host: number) => `127.5.${block}.${host}`;
  const controlAddress = ip(1);
  const gobgpAddress = ip(2);
  const dir = new TempDir();
  let gobgpd: Daemon | undefined;
  let capture: { daemon: Daemon; file: string } | undefined;
  let running: RunningControlNode | undefined;
  let topology: Topology;
  let restarted: BgpAttachment | undefined;
  let ports: { bgp: number; xmpp: number; gobgp: number; api: number };

  const gobgp = (...args: string[]) => run('gobgp', ['-p', String(ports.api), ...args]);
  /** The VIP's paths in gobgpd's global VPNv4 table, by RD. */
  const vipPaths = async (): Promise<Map<string, GobgpRibPath>> => {
    const out = (await gobgp('global', 'rib', '-a', 'vpnv4', '-j')).trim();
    const rib = out === '' || out === 'null' ? {} : (JSON.parse(out) as Record<string, GobgpRibPath[]>);
    const paths = new Map<string, GobgpRibPath>();
    for (const [key, list] of Object.entries(rib)) {
      if (!key.endsWith(`:${VIP}`)) continue;
      for (const p of list) paths.set(`${p.nlri.rd.admin}:${p.nlri.rd.assigned}`, p);
    }
    return paths;
  };
  const neighborState = async (): Promise<string> => {
    const out = JSON.parse(await gobgp('neighbor', controlAddress, '-j')) as { state?: { session_state?: number | string } };
    return String(out.state?.session_state ?? '');
  };
  const established = async () => ['6', 'established', 'ESTABLISHED'].includes((await neighborState()).toString());

  before(async function () {
    requireBinaries(this, ['gobgpd', 'gobgp', 'dumpcap', 'tshark'], 'gobgpd tshark');
    ports = { bgp: await freePort(controlAddress), xmpp: await freePort(controlAddress), gobgp: await freePort(gobgpAddress), api: await freePort() };
    writeFileSync(dir.file('gobgpd.toml'), gobgpdConfig({
      asn: ASN, address: gobgpAddress, port: ports.gobgp, neighbor: controlAddress, neighborPort: ports.bgp, importTarget: '64512:8000001', gracefulRestartTime: 60,
    }));
    capture = await startCapture(dir, [ports.bgp, ports.gobgp]);
    gobgpd = new Daemon('gobgpd', 'gobgpd', ['-f', dir.file('gobgpd.toml'), '-p', `--api-hosts=127.0.0.1:${ports.api}`, '--pprof-disable'], dir.file('gobgpd.log'));
    await eventually(() => gobgp('global').then(() => true), 'gobgpd API up');
    const loaded = validateTopology({
      name: 'bgp-gr-interop', asn: ASN,
      controlNodes: [{ name: 'control-1', address: controlAddress, xmppPort: ports.xmpp, bgpPort: ports.bgp }],
      computes: [{ name: 'compute-1', address: ip(11), external: true }],
      networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] }],
      bgpPeers: [{ name: 'gobgp', address: gobgpAddress, port: ports.gobgp, asn: ASN, families: ['inet-vpn', 'route-target'] }],
      gracefulRestart: { enable: true, restartTime: 60, longLivedRestartTime: 3600, endOfRibTimeout: 30 },
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    topology = loaded.topology;
    running = await startControlNode(topology, 'control-1', { endOfRibQuietMs: 200 });
  });

  after(async () => {
    await restarted?.stop();
    await running?.stop();
    await gobgpd?.stop();
    await capture?.daemon.stop();
    dir.remove();
  });

  it('negotiates graceful restart with gobgpd and hands it one VPNv4 route per member', async () => {
    await eventually(() => running!.bgp.peerDetails()[0]?.state === 'Established' || undefined, 'session with gobgpd', 30_000);
    expect(running!.bgp.peerDetails()[0]!.gracefulRestart).to.deep.include({ families: ['inet-vpn', 'route-target'] });
    for (const { compute, label } of MEMBERS) {
      running!.control.rib.addPath(INSTANCE, {
        peer: { kind: 'xmpp', name: `agent-${compute}`, address: compute }, rd: `${compute}:3`, prefix: VIP, label, nextHop: compute,
        attrs: { localPref: 200, med: medForXmppPath(0, 200), encapsulations: ['gre', 'udp'] },
      });
    }
    const paths = await eventually(async () => ((await vipPaths()).size === 2 ? vipPaths() : undefined), 'both members in gobgpd');
    expect([...paths.values()].map((p) => p.stale ?? false)).to.deep.equal([false, false]);
  });

  it('keeps them stale while our BGP is away, takes them fresh from the new session, drops at our End-of-RIB the one we lost', async () => {
    const stoppedAt = Date.now();
    await running!.bgp.stop({ abrupt: true });
    await eventually(async () => !(await established()) || undefined, 'gobgpd saw the session drop');
    const during = await eventually(async () => {
      const p = await vipPaths();
      return p.size === 2 && [...p.values()].every((x) => x.stale === true) ? p : undefined;
    }, 'both routes kept, stale, by gobgpd');
    expect(during.size).to.equal(2);
    // While we were away, one member went (its agent's path left the RIB): the new session will not announce it.
    running!.control.rib.removePeer(`agent-${MEMBERS[1]!.compute}`);
    restarted = await attachBgp(running!.control, controlBgpConfig(topology, topology.controlNodes[0]!), {});
    await eventually(() => restarted!.peerDetails()[0]?.state === 'Established' || undefined, 'new session with gobgpd', 60_000);
    const reestablishedAt = Date.now();
    const after = await eventually(async () => {
      const p = await vipPaths();
      return p.size === 1 && p.get(`${MEMBERS[0]!.compute}:3`)?.stale !== true ? p : undefined;
    }, 'the kept member fresh, the lost one swept at our End-of-RIB', 30_000);
    expect([...after.keys()]).to.deep.equal([`${MEMBERS[0]!.compute}:3`]);
    console.log(`      gap ${((reestablishedAt - stoppedAt) / 1000).toFixed(1)} s, converged ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the stop`);
  });

  it('tshark reads our GR capability as sent (R on the first OPEN of each speaker, restart time, F per family) and finds nothing malformed', async () => {
    await capture!.daemon.stop();
    const bgpPorts = [ports.bgp, ports.gobgp];
    expect(await malformedFrames(capture!.file, bgpPorts)).to.equal('');
    const opens = await tsharkFields(capture!.file, bgpPorts, `bgp.type==1 && ip.src==${controlAddress}`,
      ['bgp.cap.gr.timers.restart_flag', 'bgp.cap.gr.timers.restart_time', 'bgp.cap.gr.flag.pfs']);
    // Every OPEN of each speaker before its first session (gobgpd refuses connections for 5 s after a drop, so
    // the restarted one tries several times): restarting, 60 s, F for both families.
    expect(opens.length).to.be.greaterThanOrEqual(2);
    for (const line of opens) expect(line.replace(/True/g, '1').replace(/False/g, '0')).to.equal('1|60|1,1');
  });
});
