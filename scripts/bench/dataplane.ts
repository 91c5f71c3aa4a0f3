// Data-plane benchmark: flow-table and vRouter throughput, memory per flow at 1M flows, and how many
// placements move on scale-out under Contrail's rule (with/without the flow table) and Maglev.
// A module of the bench harness (./run.ts, key `dataplane`); run alone it prints its section as JSON.
import { pathToFileURL } from 'node:url';
import { figure, type BenchOptions, type BenchSection } from './bench-section.ts';
import { ecmpHash, ALL_FIELDS } from '../../src/vrouter/ecmp-hash.ts';
import { MAX_ECMP_MEMBERS } from '../../src/net/ecmp.ts';
import { pickSlot } from '../../src/vrouter/composite-slots.ts';
import { MAGLEV_TARGET_ENTRIES_PER_MEMBER, maglevTableSize } from '../../src/vrouter/maglev.ts';
import { FlowTable, keyWord0, keyWord3 } from '../../src/vrouter/flow-table.ts';
import { InProcessUnderlay, Vrouter } from '../../src/vrouter/vrouter.ts';
import { TrafficGenerator, addressRange } from '../../src/vrouter/traffic.ts';

const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VIP = '30.30.30.100';

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The hot path the vRouter runs per new / established flow, on the bare flow table (2 entries per connection). */
function flowTableCore(FLOWS: number, preallocate: boolean): { newFlowsPerSec: number; lookupsPerSec: number; bytesPerEntry: number; bytesPerConnection: number } {
  const table = new FlowTable(2 * FLOWS, { preallocate });
  const out = new Uint32Array(2);
  const active = new Uint8Array(MAX_ECMP_MEMBERS).fill(1);
  const activeList = Int16Array.from({ length: MAX_ECMP_MEMBERS }, (_, i) => i);
  const k0 = keyWord0(1, 0, 6);
  const r0 = keyWord0(1, 1, 6);
  const vip = 0x1e1e1e64;
  let t = process.hrtime.bigint();
  for (let i = 0; i < FLOWS; i++) {
    const src = (0x1e000000 + (i >>> 16)) >>> 0;
    const sport = i & 0xffff;
    if (table.lookup(k0, src, vip, keyWord3(sport, 80)) >= 0) throw new Error('duplicate tuple');
    ecmpHash(out, 0x7f001401, ALL_FIELDS, src, vip, 6, sport, 80);
    const slot = pickSlot(out[0], out[1], 5, active, activeList, 5);
    const f = table.insertPair(k0, src, vip, keyWord3(sport, 80), r0, vip, src, keyWord3(80, sport), 0);
    table.slot[f] = slot;
  }
  const newFlowsPerSec = FLOWS / seconds(t);
  // established: look up in a scrambled order so that the caches see a realistic spread
  const order = new Uint32Array(FLOWS);
  for (let i = 0; i < FLOWS; i++) order[i] = (i * 7919) % FLOWS; // 7919 is prime, so this is a permutation
  let found = 0;
  const rounds = 3;
  t = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < FLOWS; j++) {
      const i = order[j];
      const fi = table.lookup(k0, (0x1e000000 + (i >>> 16)) >>> 0, vip, keyWord3(i & 0xffff, 80));
      if (fi >= 0) { table.packets[fi]++; found++; }
    }
  }
  const lookupsPerSec = (rounds * FLOWS) / seconds(t);
  if (found !== rounds * FLOWS) throw new Error(`lookup found ${found} of ${rounds * FLOWS}`);
  const bytesPerEntry = table.memoryBytes() / table.capacity;
  return { newFlowsPerSec, lookupsPerSec, bytesPerEntry, bytesPerConnection: 2 * bytesPerEntry };
}

interface World { client: Vrouter; members: Vrouter[]; setMembers(n: number): void; close(): Promise<void> }

function world(memberCount: number, o: { maglev?: boolean; clock?: () => number; clientTable?: number; autoReply?: boolean }): World {
  const underlay = new InProcessUnderlay();
  const client = new Vrouter({ name: 'client', routerId: '127.0.20.1', underlay, maglev: o.maglev, clock: o.clock, flowTableSize: o.clientTable ?? 1 << 16, autoReply: o.autoReply });
  client.upsertInterface({ name: 'client', vrf: VRF, ip: '30.30.30.2', mac: '', label: 16, virtualNetwork: 'vn', floatingIps: [] });
  const members: Vrouter[] = [];
  for (let i = 0; i < memberCount; i++) {
    const address = `127.0.${21 + (i >> 8)}.${(i & 255) + 1}`;
    const v = new Vrouter({ name: `m${i}`, routerId: address, underlay, clock: o.clock, flowTableSize: 1 << 14, autoReply: o.autoReply });
    v.upsertInterface({
      name: `web-${i}`, vrf: VRF, ip: `30.31.${i >> 8}.${i & 255}`, mac: '', label: 17, virtualNetwork: 'vn',
      floatingIps: [{ address: VIP, vrf: VRF, virtualNetwork: 'vn', portMappingsEnable: true, direction: 'ingress', portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }] }],
    });
    v.setRoute(VRF, '30.30.0.0/16', [{ address: '127.0.20.1', label: 16, encapsulations: ['udp'] }]);
    members.push(v);
  }
  return {
    client,
    members,
    setMembers(n) {
      client.setRoute(VRF, `${VIP}/32`, members.slice(0, n).map((m) => ({ address: m.routerId, label: 17, encapsulations: ['udp'] })));
    },
    async close() { await client.close(); for (const m of members) await m.close(); },
  };
}

/** Whole vRouter path (route, composite, flow, tunnel, remote DNAT); no auto-reply so one direction is measured. */
async function vrouterPath(flows: number): Promise<{ newFlowsPerSec: number; establishedPerSec: number; flows: number }> {
  const w = world(5, { clientTable: 2 * flows, autoReply: false });
  w.setMembers(5);
  for (const m of w.members) m.setRoute(VRF, '30.30.0.0/16', []); // replies are not sent: keep member tables tiny
  const g = new TrafficGenerator({ vrouter: w.client, interfaceName: 'client', vip: VIP, port: 80, flows, sourceAddresses: addressRange('30.30.40.1', 4) });
  const packets = g.packets();
  let t = process.hrtime.bigint();
  for (const p of packets) w.client.sendFromInterface('client', p);
  const newFlowsPerSec = flows / seconds(t);
  t = process.hrtime.bigint();
  for (const p of packets) w.client.sendFromInterface('client', p);
  const establishedPerSec = flows / seconds(t);
  await w.close();
  return { newFlowsPerSec, establishedPerSec, flows };
}

async function disruption(n: number, mode: 'contrail-with-flows' | 'contrail-new-flows' | 'maglev-new-flows'): Promise<number> {
  let now = 0;
  const flows = 10_000;
  const w = world(n + 1, { maglev: mode === 'maglev-new-flows', clock: () => now, clientTable: 4 * flows });
  w.setMembers(n);
  const g = new TrafficGenerator({ vrouter: w.client, interfaceName: 'client', vip: VIP, port: 80, flows, sourceAddresses: ['30.30.30.2'], sourcePorts: 'random', seed: 5 });
  g.open();
  w.setMembers(n + 1);
  if (mode !== 'contrail-with-flows') now += 10 * 60_000; // all flows aged: every placement is new
  const r = g.resend();
  await w.close();
  return r.moved / flows;
}

export async function run(o: BenchOptions): Promise<BenchSection> {
  const flows = o.quick ? 100_000 : 1_000_000;
  const pathFlows = o.quick ? 20_000 : 200_000;
  const sizes = o.quick ? [10] : [10, 100];
  o.log(`dataplane: flow table with ${flows} connections`);
  flowTableCore(50_000, true); // warm-up: let the JIT compile the hot path before measuring
  const core = flowTableCore(flows, true);
  const growing = flowTableCore(flows, false);
  o.log(`dataplane: vRouter path with ${pathFlows} connections`);
  const path = await vrouterPath(pathFlows);
  const figures = [
    figure('flowTable.newFlowsPerSecond', `${flows} connections`, core.newFlowsPerSec, 'flows/s', { target: { op: '>=', value: 1e6 }, note: 'miss lookup + hash + member pick + forward/reverse insert' }),
    figure('flowTable.establishedLookupsPerSecond', `${flows} connections`, core.lookupsPerSec, 'lookups/s', { target: { op: '>=', value: 5e6 }, note: 'random order, counter update included' }),
    figure('flowTable.bytesPerFlowEntry', `${flows} connections`, core.bytesPerEntry, 'bytes', { target: { op: '<=', value: 100 }, note: 'a connection is two entries (forward + reverse), as in the vRouter' }),
    figure('flowTable.bytesPerConnection', `${flows} connections`, core.bytesPerConnection, 'bytes'),
    figure('flowTable.newFlowsPerSecond', `${flows} connections, growing from 1K slots`, growing.newFlowsPerSec, 'flows/s', { note: 'includes re-inserting on every doubling' }),
    figure('vrouter.newFlowsPerSecond', `${pathFlows} connections, 5 members`, path.newFlowsPerSec, 'flows/s', { note: 'route, composite, flow pair, in-process tunnel, remote DNAT flow pair; no reply' }),
    figure('vrouter.establishedPacketsPerSecond', `${pathFlows} connections, 5 members`, path.establishedPerSec, 'packets/s'),
  ];
  for (const n of sizes) {
    o.log(`dataplane: disruption N=${n} -> ${n + 1}`);
    const c = `N=${n}->${n + 1}, 10000 flows`;
    figures.push(
      figure('disruption.contrailWithFlowTable', c, await disruption(n, 'contrail-with-flows'), 'share moved', { note: 'existing flows' }),
      figure('disruption.contrailNewFlows', c, await disruption(n, 'contrail-new-flows'), 'share moved', { note: 'placements of the same tuples as new flows' }),
      figure('disruption.maglevNewFlows', c, await disruption(n, 'maglev-new-flows'), 'share moved', { target: { op: '<=', value: 1 / n + 0.01 }, note: `ideal ${(1 / (n + 1)).toFixed(4)}; target 1/N + 1 %` }),
    );
  }
  return {
    name: 'dataplane',
    title: 'vRouter data plane: flow table, forwarding path, scale-out disruption',
    params: { flows, pathFlows, disruptionSizes: sizes, maglevTableSizes: Object.fromEntries(sizes.map((n) => [`${n}->${n + 1}`, maglevTableSize(n + 1)])) },
    figures,
    notes: [
      'Flow table: open addressing, linear probing over interleaved 4-word keys, load <= 0.7; typed arrays only. Preallocated like the kernel table for the targets; simulated computes start small and grow.',
      'Disruption without the flow table is measured by ageing every flow out between rounds, so every tuple is placed again as a new flow.',
      `Maglev chooses its prime table size from the member count (smallest listed prime >= ${MAGLEV_TARGET_ENTRIES_PER_MEMBER} x N, src/vrouter/maglev.ts); both sides of each measured change use the same size.`,
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const section = await run({ quick: process.argv.includes('--quick'), log: (line) => process.stderr.write(`${line}\n`) });
  console.log(JSON.stringify(section, null, 2));
}
