// GoBGP as the SDN gateway of seed 002 (an MX in real life): a running simulation's control node peers
// with gobgpd, which imports the public network's route target into a VRF with multipath on. A floating
// IP from the public pool on a native LB's VIP, and one on a shared active-active VIP, reach it as one
// VPNv4 route per member compute (own RD, own label, the public VN's target) — floating-IP ECMP homed at
// the gateway. gobgpd takes the 127/8 next hops of the simulated computes as they are (FRR would refuse
// them as martians, see bgp-control-node.test.ts); with CI=true a missing gobgpd fails the suite.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { ScenarioContext } from '../../src/scenario/scenario.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { Daemon, TempDir, eventually, freePort, gobgpdConfig, requireBinaries, run } from './bgp-daemons.ts';

const ASN = 64512;
const VN = 'default-domain:demo:svc-vn';
const PUBLIC = 'default-domain:admin:public';
/** The public network is the second of the file: vn-index 2. */
const PUBLIC_TARGET = '64512:8000002';
const LB_FIP = '10.1.11.9/32';
const SHARED_FIP = '10.1.11.4/32';

interface GobgpPath {
  nlri: { prefix: string; labels: number[]; rd: { type: number; admin: string | number; assigned: number } };
  attrs: { type: number; value?: unknown; nexthop?: string }[];
}

describe('interop: gobgpd as the gateway, holding floating IPs as one VPNv4 route per member compute', function () {
  this.timeout(90_000);
  const ip = (host: number) => `127.4.50.${host}`;
  const control = ip(1);
  const gateway = ip(2);
  const dir = new TempDir();
  let gobgpd: Daemon | undefined;
  let sim: Simulation | undefined;
  let ctx: ScenarioContext;
  let ports: { bgp: number; xmpp: number; gobgp: number; api: number };

  const gobgp = (...args: string[]) => run('gobgp', ['-p', String(ports.api), ...args]);
  const adjIn = async (): Promise<Record<string, GobgpPath[]>> => {
    const out = (await gobgp('neighbor', control, 'adj-in', '-a', 'vpnv4', '-j')).trim();
    return out === '' || out === 'null' ? {} : (JSON.parse(out) as Record<string, GobgpPath[]>);
  };
  const routesFor = (rib: Record<string, GobgpPath[]>, prefix: string) => Object.entries(rib).filter(([key]) => key.endsWith(`:${prefix}`));

  before(async function () {
    requireBinaries(this, ['gobgpd', 'gobgp'], 'gobgpd');
    ports = { bgp: await freePort(control), xmpp: await freePort(control), gobgp: await freePort(gateway), api: await freePort() };
    writeFileSync(dir.file('gobgpd.toml'), gobgpdConfig({
      asn: ASN, address: gateway, port: ports.gobgp, neighbor: control, neighborPort: ports.bgp,
      importTarget: PUBLIC_TARGET, vrfName: 'public', multipath: true,
    }));
    gobgpd = new Daemon('gobgpd', 'gobgpd', ['-f', dir.file('gobgpd.toml'), '-p', `--api-hosts=127.0.0.1:${ports.api}`, '--pprof-disable'], dir.file('gobgpd.log'));
    await eventually(() => gobgp('global').then(() => true), 'gobgpd API up');
    const loaded = validateTopology({
      name: 'gateway-gobgp',
      asn: ASN,
      controlNodes: [{ name: 'control-1', address: control, xmppPort: ports.xmpp, bgpPort: ports.bgp }],
      computes: [1, 2, 3].map((n) => ({ name: `compute-${n}`, address: ip(10 + n) })),
      networks: [{ name: VN, subnets: ['30.30.30.0/24'] }, { name: PUBLIC, subnets: ['10.1.11.0/24'] }],
      workloads: [
        { name: 'web-a', compute: 'compute-1', network: VN, address: '30.30.30.10' },
        { name: 'web-b', compute: 'compute-2', network: VN, address: '30.30.30.11' },
        { name: 'se-1', compute: 'compute-2', network: VN, address: '30.30.30.20' },
        { name: 'se-2', compute: 'compute-3', network: VN, address: '30.30.30.21' },
      ],
      loadBalancers: [{
        name: 'lb1', network: VN, vip: '30.30.30.100',
        listeners: [{ name: 'l1', protocol: 'TCP', port: 80, pool: { name: 'p1', members: [{ address: '30.30.30.10', port: 8080 }, { address: '30.30.30.11', port: 8080 }] } }],
      }],
      sharedVips: [{ name: 'vs2-vip', network: VN, address: '30.30.30.7', workloads: ['se-1', 'se-2'] }],
      floatingIpPools: [{ name: 'public-pool', network: PUBLIC }],
      floatingIps: [
        { name: 'lb1-fip', pool: 'public-pool', address: LB_FIP.split('/')[0], loadBalancer: 'lb1' },
        { name: 'vs2-fip', pool: 'public-pool', address: SHARED_FIP.split('/')[0], sharedVip: 'vs2-vip' },
      ],
      bgpPeers: [{ name: 'gobgp', address: gateway, port: ports.gobgp, asn: ASN, families: ['inet-vpn', 'route-target'] }],
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    sim = await Simulation.start(loaded.topology, { endOfRibQuietMs: 200 });
    ctx = new ScenarioContext(sim.api);
  });

  after(async () => {
    await sim?.stop();
    await gobgpd?.stop();
    dir.remove();
  });

  it('gobgpd holds each floating IP once per member compute, with the compute as next hop, its label and the public target', async () => {
    const rib = await eventually(async () => {
      const r = await adjIn();
      return routesFor(r, LB_FIP).length === 2 && routesFor(r, SHARED_FIP).length === 2 ? r : undefined;
    }, 'both floating IPs twice in gobgpd adj-in');
    for (const [prefix, computes] of [[LB_FIP, [ip(11), ip(12)]], [SHARED_FIP, [ip(12), ip(13)]]] as const) {
      const routes = routesFor(rib, prefix);
      const nextHops = routes.map(([, [path]]) => path!.attrs.find((a) => a.type === 14)?.nexthop).sort();
      expect(nextHops, prefix).to.deep.equal([...computes]);
      expect(new Set(routes.map(([key]) => key)).size).to.equal(2);
      for (const [, [path]] of routes) {
        expect(path!.nlri.labels[0]).to.be.within(16, 0xfffff);
        const ext = path!.attrs.find((a) => a.type === 16)?.value as { type: number; subtype: number; value: string }[];
        expect(ext).to.deep.include({ type: 0, subtype: 2, value: PUBLIC_TARGET });
      }
    }
    // the private VIPs stay private: their target is not the one gobgpd asked for (RFC 4684)
    expect(routesFor(rib, '30.30.30.100/32')).to.have.length(0);
  });

  it('its public VRF imports both paths of a floating IP, both valid (multipath), 127/8 next hops accepted', async () => {
    const lines = await eventually(async () => {
      const out = await gobgp('vrf', 'public', 'rib', '-a', 'ipv4');
      const found = out.split('\n').filter((line) => line.includes('10.1.11.9/32'));
      return found.length === 2 ? found : undefined;
    }, 'the public VRF holding both paths of the LB floating IP');
    expect(lines.every((line) => line.trimStart().startsWith('*'))).to.equal(true);
    expect(lines.map((line) => line.split(/\s+/)[2]).sort()).to.deep.equal([ip(11), ip(12)]);
  });

  it('a scale-in of the shared VIP withdraws that compute\'s route from gobgpd', async () => {
    await ctx.request('PATCH', '/api/config/instance-ip/vs2-vip', { virtualMachineInterfaces: ['se-1'] });
    const rib = await eventually(async () => {
      const r = await adjIn();
      return routesFor(r, SHARED_FIP).length === 1 ? r : undefined;
    }, 'one route left for the shared floating IP');
    expect(routesFor(rib, SHARED_FIP)[0]![1][0]!.attrs.find((a) => a.type === 14)?.nexthop).to.equal(ip(12));
  });
});
