// A whole simulation (control node + agents with a native LB) peering with real BGP daemons (docs/protocol.md §6.6):
// gobgpd receives the VIP as one VPNv4 route per member with the members' RDs, labels and the VN's route
// target; a VPNv4 route injected into gobgpd reaches the agents' tables and FIB; a session reset
// re-converges; BIRD receives the same routes; tshark finds no malformed packet in the capture. FRR is left
// out here: it refuses 127/8 next hops in MP_REACH as martian, and every simulated compute lives in 127/8.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import {
  Daemon, TempDir, eventually, freePort, interopBlock, malformedFrames, requireBinaries, run, startCapture, tsharkFields, gobgpdConfig, birdConfig,
} from './bgp-daemons.ts';

const ASN = 64512;
const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VIP = '30.30.30.100/32';
const MEMBERS = ['compute-2', 'compute-3', 'compute-4'];

interface GobgpPath {
  nlri: { prefix: string; labels: number[]; rd: { type: number; admin: string | number; assigned: number } };
  attrs: { type: number; value?: unknown; nexthop?: string }[];
}
interface AgentStatus {
  address: string;
  exports: { prefix: string; label: number }[];
  sessions: { subscriptions: { instance: string; instanceId: number }[] }[];
}
interface BgpPeerJson { name: string; state: string; counters: { establishedTransitions: number } }

describe('interop: a control node of a running simulation with gobgpd and BIRD', function () {
  this.timeout(90_000);
  const ip = interopBlock();
  const control = ip(1);
  const gobgpAddress = ip(2);
  const birdAddress = ip(3);
  const dir = new TempDir();
  let gobgpd: Daemon | undefined;
  let bird: Daemon | undefined;
  let capture: { daemon: Daemon; file: string } | undefined;
  let sim: Simulation | undefined;
  let ctx: ScenarioContext;
  let ports: { bgp: number; xmpp: number; gobgp: number; gobgpApi: number; bird: number };
  /** compute → what it exports for the VIP: RD `<compute-ip>:<instance-id>` and label. */
  const members = new Map<string, { rd: string; address: string; label: number }>();

  const gobgp = (...args: string[]) => run('gobgp', ['-p', String(ports.gobgpApi), ...args]);
  const birdc = (...args: string[]) => run('birdc', ['-s', dir.file('bird.ctl'), ...args]);
  const gobgpAdjIn = async (): Promise<Record<string, GobgpPath[]>> => {
    const out = (await gobgp('neighbor', control, 'adj-in', '-a', 'vpnv4', '-j')).trim();
    return out === '' || out === 'null' ? {} : (JSON.parse(out) as Record<string, GobgpPath[]>);
  };
  const bgpPeer = async (name: string) => (await ctx.request<BgpPeerJson[]>('GET', '/api/nodes/control-1/bgp/peers')).find((p) => p.name === name)!;

  before(async function () {
    requireBinaries(this, ['gobgpd', 'gobgp', 'bird', 'birdc', 'dumpcap', 'tshark'], 'gobgpd bird2 tshark');
    ports = {
      bgp: await freePort(control), xmpp: await freePort(control), gobgp: await freePort(gobgpAddress), gobgpApi: await freePort(),
      bird: await freePort(birdAddress),
    };
    writeFileSync(dir.file('gobgpd.toml'), gobgpdConfig({ asn: ASN, address: gobgpAddress, port: ports.gobgp, neighbor: control, neighborPort: ports.bgp, importTarget: '64512:8000001' }));
    // Passive: the control node dials.
    writeFileSync(dir.file('bird.conf'), birdConfig({ asn: ASN, address: birdAddress, port: ports.bird, neighbor: control, neighborPort: ports.bgp, passive: true }));
    capture = await startCapture(dir, [ports.bgp, ports.gobgp, ports.bird]);
    // gobgpd dials slowly (README pitfall 1) and accepts at once: the control node dials both daemons.
    gobgpd = new Daemon('gobgpd', 'gobgpd', ['-f', dir.file('gobgpd.toml'), '-p', `--api-hosts=127.0.0.1:${ports.gobgpApi}`, '--pprof-disable'], dir.file('gobgpd.log'));
    bird = new Daemon('bird', 'bird', ['-f', '-c', dir.file('bird.conf'), '-s', dir.file('bird.ctl'), '-P', dir.file('bird.pid')], dir.file('bird.log'));
    await eventually(() => gobgp('global').then(() => true), 'gobgpd API up');

    const loaded = validateTopology({
      name: 'bgp-interop',
      asn: ASN,
      controlNodes: [{ name: 'control-1', address: control, xmppPort: ports.xmpp, bgpPort: ports.bgp }],
      computes: [1, 2, 3, 4].map((n) => ({ name: `compute-${n}`, address: ip(10 + n) })),
      networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] }],
      workloads: [
        { name: 'client', compute: 'compute-1', network: 'default-domain:demo:svc-vn', address: '30.30.30.2' },
        { name: 'web-a', compute: 'compute-2', network: 'default-domain:demo:svc-vn', address: '30.30.30.10' },
        { name: 'web-b', compute: 'compute-3', network: 'default-domain:demo:svc-vn', address: '30.30.30.11' },
        { name: 'web-c', compute: 'compute-4', network: 'default-domain:demo:svc-vn', address: '30.30.30.12' },
      ],
      loadBalancers: [{
        name: 'lb1', provider: 'native', network: 'default-domain:demo:svc-vn', vip: VIP.split('/')[0],
        listeners: [{ name: 'listener1', protocol: 'TCP', port: 80, pool: { name: 'pool1', algorithm: 'ROUND_ROBIN',
          members: ['30.30.30.10', '30.30.30.11', '30.30.30.12'].map((address) => ({ address, port: 8080 })) } }],
      }],
      bgpPeers: [
        { name: 'gobgp', address: gobgpAddress, port: ports.gobgp, asn: ASN, families: ['inet-vpn', 'route-target'] },
        { name: 'bird', address: birdAddress, port: ports.bird, asn: ASN, families: ['inet-vpn'] },
      ],
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    sim = await Simulation.start(loaded.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });

  after(async () => {
    await sim?.stop();
    await gobgpd?.stop();
    await bird?.stop();
    await capture?.daemon.stop();
    dir.remove();
  });

  it('the control node establishes with gobgpd (inet-vpn + route-target) and BIRD (inet-vpn)', async () => {
    for (const name of ['gobgp', 'bird']) await eventually(async () => (await bgpPeer(name)).state === 'Established' || undefined, `${name} established`);
    const status = await ctx.request<{ bgp: { peers: { name: string; families: string[] }[] } }>('GET', '/api/nodes/control-1/status');
    expect(status.bgp.peers.find((p) => p.name === 'gobgp')?.families).to.deep.equal(['inet-vpn', 'route-target']);
    expect(status.bgp.peers.find((p) => p.name === 'bird')?.families).to.deep.equal(['inet-vpn']);
  });

  it('gobgpd receives the VIP as one VPNv4 route per member with the member’s RD, label and the VN’s route target', async () => {
    for (const compute of MEMBERS) {
      const status = await ctx.eventually(`${compute} exports the VIP`, () => ctx.request<AgentStatus>('GET', `/api/nodes/${compute}/status`),
        (s) => s.exports.some((e) => e.prefix === VIP) && s.sessions[0]!.subscriptions.some((x) => x.instance === VRF));
      const instanceId = status.sessions[0]!.subscriptions.find((x) => x.instance === VRF)!.instanceId;
      members.set(compute, { rd: `${status.address}:${instanceId}`, address: status.address, label: status.exports.find((e) => e.prefix === VIP)!.label });
    }
    const rib = await eventually(async () => {
      const r = await gobgpAdjIn();
      const keys = Object.keys(r).filter((k) => k.endsWith(`:${VIP}`));
      return keys.length === MEMBERS.length ? r : undefined;
    }, 'the VIP three times in gobgpd adj-in');
    for (const [compute, { rd, address, label }] of members) {
      const [path] = rib[`${rd}:${VIP}`] ?? [];
      expect(path, compute).to.not.equal(undefined);
      expect(path!.nlri.labels).to.deep.equal([label]);
      expect(path!.nlri.rd).to.deep.equal({ type: 1, admin: address, assigned: Number(rd.split(':')[1]) });
      const ext = path!.attrs.find((a) => a.type === 16)?.value as { type: number; subtype: number; value: string }[];
      expect(ext).to.deep.include({ type: 0, subtype: 2, value: '64512:8000001' });
      expect(path!.attrs).to.deep.include({ type: 5, value: 200 });
      expect(path!.attrs.find((a) => a.type === 14)).to.deep.include({ nexthop: address });
    }
    expect(new Set(Object.keys(rib).filter((k) => k.endsWith(`:${VIP}`))).size).to.equal(3);
  });

  it('gobgpd holds the control node’s RTarget route for the VN (RFC 4684)', async () => {
    const out = await eventually(async () => {
      const text = await gobgp('neighbor', control, 'adj-in', '-a', 'rtc');
      return text.includes('8000001') ? text : undefined;
    }, 'RT membership in gobgpd adj-in');
    expect(out).to.match(/64512:64512:8000001/);
  });

  it('BIRD receives the same routes: each member’s RD, label, next hop and route target', async () => {
    const table = await eventually(async () => {
      const out = await birdc('show', 'route', 'table', 'vpntab', 'all');
      return [...members.values()].every(({ rd }) => out.includes(`${rd} ${VIP}`)) ? out : undefined;
    }, 'the VIP three times in BIRD vpntab');
    for (const { rd, address, label } of members.values()) {
      const entry = table.slice(table.indexOf(`${rd} ${VIP}`)).split(/\n(?=\S)/)[0]!;
      expect(entry).to.include(`BGP.next_hop: ${address}`);
      expect(entry).to.include(`BGP.mpls_label_stack: ${label}`);
      expect(entry).to.include('(rt, 64512, 8000001)');
      expect(entry).to.include('BGP.local_pref: 200');
    }
  });

  it('a VPNv4 route injected into gobgpd with the VN’s route target reaches the agents’ tables and FIB', async () => {
    await gobgp('global', 'rib', '-a', 'vpnv4', 'add', '30.30.30.50/32', 'label', '33', 'rd', '10.0.0.99:7', 'rt', '64512:8000001', 'nexthop', '10.0.0.99');
    for (const compute of ['compute-1', 'compute-2']) {
      const routes = await ctx.eventually(`${compute} received 30.30.30.50/32`,
        () => ctx.request<{ prefix: string; nextHops: { address: string; label: number }[] }[]>('GET', `/api/nodes/${compute}/routes?vrf=${VRF}`),
        (rs) => rs.some((r) => r.prefix === '30.30.30.50/32'), { timeoutMs: 15_000 });
      expect(routes.find((r) => r.prefix === '30.30.30.50/32')!.nextHops.map(({ address, label }) => ({ address, label })))
        .to.deep.equal([{ address: '10.0.0.99', label: 33 }]);
      const fib = await ctx.request<{ vrf: string; routes: { prefix: string; source: string }[] }[]>('GET', `/api/nodes/${compute}/fib`);
      expect(fib.flatMap((v) => v.routes).some((r) => r.prefix === '30.30.30.50/32' && r.source === 'control'), `${compute} FIB`).to.equal(true);
    }
  });

  it('a session reset re-converges: gobgpd gets the VIP again and the agents keep the injected route', async () => {
    const before = (await bgpPeer('gobgp')).counters.establishedTransitions;
    await ctx.request('POST', '/api/nodes/control-1/bgp/reset?peer=gobgp');
    // gobgpd refuses connections for 5 s after a drop (README pitfall 2); the control node retries every second.
    await eventually(async () => {
      const p = await bgpPeer('gobgp');
      return (p.state === 'Established' && p.counters.establishedTransitions > before) || undefined;
    }, 'gobgp re-established', 30_000);
    await eventually(async () => Object.keys(await gobgpAdjIn()).filter((k) => k.endsWith(`:${VIP}`)).length === MEMBERS.length || undefined, 'VIP re-sent to gobgpd');
    await ctx.eventually('compute-1 has 30.30.30.50/32 again', () => ctx.request<{ prefix: string }[]>('GET', `/api/nodes/compute-1/routes?vrf=${VRF}`),
      (rs) => rs.some((r) => r.prefix === '30.30.30.50/32'), { timeoutMs: 15_000 });
  });

  it('a withdraw in gobgpd leaves the agents’ tables', async () => {
    await gobgp('global', 'rib', '-a', 'vpnv4', 'del', '30.30.30.50/32', 'label', '33', 'rd', '10.0.0.99:7', 'rt', '64512:8000001', 'nexthop', '10.0.0.99');
    await ctx.eventually('compute-1 lost 30.30.30.50/32', () => ctx.request<{ prefix: string }[]>('GET', `/api/nodes/compute-1/routes?vrf=${VRF}`),
      (rs) => !rs.some((r) => r.prefix === '30.30.30.50/32'), { timeoutMs: 15_000 });
  });

  it('tshark decodes the captured sessions with no malformed packet', async () => {
    await capture!.daemon.stop();
    const bgpPorts = [ports.bgp, ports.gobgp, ports.bird];
    expect(await malformedFrames(capture!.file, bgpPorts)).to.equal('');
    const updates = await tsharkFields(capture!.file, bgpPorts, `bgp.type==2 && ip.src==${control}`, ['bgp.rd', 'bgp.label_stack', 'bgp.ext_com.value_an4']);
    const all = updates.join('\n');
    for (const { rd, label } of members.values()) {
      expect(all).to.include(rd);
      expect(all).to.include(`${label} (bottom)`);
    }
    expect(all).to.include('8000001');
  });
});
