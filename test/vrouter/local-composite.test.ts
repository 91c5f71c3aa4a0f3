// The local-ECMP composite (§7.2, §7.3): a compute with several members of one VIP publishes one label for
// all of them. Packets from the fabric with that label are hashed over the local members and stay on
// their member (§7.4, §7.5); the compute's own ECMP next-hop expands the composite into one slot per
// interface, keyed by interface so that slots survive composite and label changes; other computes see
// one next-hop for the whole compute.
import { expect } from 'chai';
import fc from 'fast-check';
import { TrafficGenerator } from '../../src/vrouter/traffic.ts';
import { InProcessUnderlay, Vrouter, type Packet, type RemoteNextHop, type RouteView } from '../../src/vrouter/vrouter.ts';

const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VN = 'default-domain:demo:svc-vn';
const VIP = '30.30.30.100';
const VIP_PREFIX = `${VIP}/32`;
const CLIENT_IP = '30.30.30.2';
const CLIENT2_IP = '30.30.30.3';
const COMPOSITE = 40;
const C1 = '127.0.20.1';
const C2 = '127.0.20.2';
const C3 = '127.0.20.3';

interface World {
  c1: Vrouter;
  c2: Vrouter;
  c3: Vrouter;
  /** the control node's item for the VIP, given to every compute */
  setVip(nextHops: RemoteNextHop[]): void;
  close(): Promise<void>;
}

const nh = (address: string, label: number): RemoteNextHop => ({ address, label, encapsulations: ['gre', 'udp'] });

/** compute-1: the client; compute-2: web-0..web-{n-1} (labels 17..) and a second client; compute-3: web-9 (label 17). */
function member(vrouter: Vrouter, index: number, label: number): void {
  const r = vrouter.upsertInterface({
    name: `web-${index}`, vrf: VRF, ip: `30.30.30.${10 + index}`, mac: `02:00:00:00:01:${(16 + index).toString(16)}`, label, virtualNetwork: VN,
    floatingIps: [{ address: VIP, vrf: VRF, virtualNetwork: VN, portMappingsEnable: true, direction: 'ingress', portMappings: [{ protocol: 'tcp', srcPort: 80, dstPort: 8080 }] }],
  });
  if (!r.ok) throw new Error(r.error);
}

function buildWorld(localMembers = 3): World {
  const underlay = new InProcessUnderlay();
  const common = { underlay, clock: () => 1000, flowTableSize: 1 << 14 };
  const c1 = new Vrouter({ name: 'compute-1', routerId: C1, ...common });
  const c2 = new Vrouter({ name: 'compute-2', routerId: C2, ...common });
  const c3 = new Vrouter({ name: 'compute-3', routerId: C3, ...common });
  c1.upsertInterface({ name: 'client', vrf: VRF, ip: CLIENT_IP, mac: '02:00:00:00:00:02', label: 16, virtualNetwork: VN, floatingIps: [] });
  c2.upsertInterface({ name: 'client-2', vrf: VRF, ip: CLIENT2_IP, mac: '02:00:00:00:00:03', label: 16, virtualNetwork: VN, floatingIps: [] });
  for (let i = 0; i < localMembers; i++) member(c2, i, 17 + i);
  member(c3, 9, 17);
  for (const v of [c2, c3]) v.setRoute(VRF, `${CLIENT_IP}/32`, [nh(C1, 16)]);
  for (const v of [c1, c3]) v.setRoute(VRF, `${CLIENT2_IP}/32`, [nh(C2, 16)]);
  return {
    c1, c2, c3,
    setVip(nextHops) {
      for (const v of [c1, c2, c3]) {
        const r = v.setRoute(VRF, VIP_PREFIX, nextHops);
        if (!r.ok) throw new Error(r.error);
      }
    },
    async close() {
      for (const v of [c1, c2, c3]) await v.close();
    },
  };
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `web-${i}`);

function vipRoute(v: Vrouter): RouteView {
  const route = v.fib(VRF)[0]?.routes.find((r) => r.prefix === VIP_PREFIX && r.source === 'control');
  if (route === undefined) throw new Error(`${v.name} has no control route for the VIP`);
  return route;
}

const slotInterfaces = (v: Vrouter): (string | null)[] => vipRoute(v).slots.map((s) => (s.empty ? null : (s.interface ?? s.address!)));

const fromClient = (w: World, flows: number, seed = 5): TrafficGenerator => new TrafficGenerator({
  vrouter: w.c1, interfaceName: 'client', vip: VIP, port: 80, flows, sourceAddresses: [CLIENT_IP], sourcePorts: 'random', seed,
});
const fromClient2 = (w: World, flows: number, seed = 6): TrafficGenerator => new TrafficGenerator({
  vrouter: w.c2, interfaceName: 'client-2', vip: VIP, port: 80, flows, sourceAddresses: [CLIENT2_IP], sourcePorts: 'random', seed,
});

/** |count - N p| <= 5 sigma of Binomial(N, p). */
const fair = (n: number, p: number): number => 5 * Math.sqrt(n * p * (1 - p));

describe('vrouter: local-ECMP composite of several members on one compute (§7.2, §7.3)', () => {
  let w: World;
  afterEach(async () => { await w?.close(); });

  describe('packets from the fabric with the composite label', () => {
    it('are hashed over the local members, DNATed per member, and stay on their member', () => {
      w = buildWorld();
      expect(w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3))).to.deep.equal({ ok: true, warnings: [] });
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      const flows = 6000;
      const g = fromClient(w, flows);
      const first = g.open();
      expect(first.delivered).to.equal(flows);
      expect(first.repliesFromVip).to.equal(flows);
      const count = (m: string): number => first.members.find((x) => x.member === m)?.flows ?? 0;
      // the client's compute sees two next-hops: half the flows go to compute-2, split there three ways
      expect(Math.abs(count('compute-3/web-9') - flows / 2)).to.be.at.most(fair(flows, 1 / 2));
      for (const m of ['compute-2/web-0', 'compute-2/web-1', 'compute-2/web-2']) expect(Math.abs(count(m) - flows / 6)).to.be.at.most(fair(flows, 1 / 6));
      const composite = w.c2.fib(VRF)[0].localComposites!;
      expect(composite.map((c) => ({ label: c.label, prefix: c.prefix, interfaces: c.slots.map((s) => s.interface) })))
        .to.deep.equal([{ label: COMPOSITE, prefix: VIP_PREFIX, interfaces: ['web-0', 'web-1', 'web-2'] }]);
      expect(composite[0].slots.map((s) => s.flows)).to.deep.equal(['web-0', 'web-1', 'web-2'].map((m) => count(`compute-2/${m}`)));
      // every member translates VIP:80 to its own address and port 8080
      for (const p of g.packets().slice(0, 50)) {
        const r = w.c1.sendFromInterface('client', p);
        const i = Number(r.interface!.slice(4));
        expect(r.packet).to.deep.include({ dst: `30.30.30.${10 + i}`, dport: 8080 });
        expect(r.reply?.packet).to.deep.include({ src: VIP, sport: 80 });
      }
      expect(g.resend().moved).to.equal(0);
    });

    it('keeps the flows of staying interfaces when the composite changes; only the leaving interface\'s flows move', () => {
      w = buildWorld(5);
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      const g = fromClient(w, 4000);
      const first = g.open();
      const onWeb1 = first.members.find((m) => m.member === 'compute-2/web-1')!.flows;
      // scale-out inside the composite: nobody moves, the new interface fills an appended slot
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, [...names(3), 'web-3']);
      expect(g.resend().moved).to.equal(0);
      // web-1 leaves: its slot becomes a hole and only its flows move, onto the members still there
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', 'web-2', 'web-3']);
      const after = g.resend();
      expect(after.moved).to.equal(onWeb1);
      expect(Object.keys(after.movedFrom)).to.deep.equal(['compute-2/web-1']);
      expect(after.members.map((m) => m.member)).to.not.include('compute-2/web-1');
      expect(w.c2.localComposites()[0].slots.map((s) => s.interface ?? null)).to.deep.equal(['web-0', null, 'web-2', 'web-3']);
      // a newcomer fills the hole
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', 'web-2', 'web-3', 'web-4']);
      expect(w.c2.localComposites()[0].slots.map((s) => s.interface)).to.deep.equal(['web-0', 'web-4', 'web-2', 'web-3']);
      expect(g.resend().moved).to.equal(0);
      expect(w.c2.counters().flows.rehashed).to.equal(onWeb1);
    });

    it('hash with the receiving compute\'s fields: by addresses only, one client stays on one member', () => {
      w = buildWorld();
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE)]);
      expect(w.c2.setHashFields(['source-ip', 'destination-ip']).ok).to.equal(true);
      const one = fromClient(w, 300).open();
      expect(one.members).to.have.length(1);
      const many = new TrafficGenerator({
        vrouter: w.c1, interfaceName: 'client', vip: VIP, port: 80, flows: 3000, sourceAddresses: Array.from({ length: 300 }, (_, i) => `30.31.${i >> 8}.${i & 255}`), addressOrder: 'random', seed: 3,
      }).open();
      expect(many.members.map((m) => m.member).sort()).to.deep.equal(['compute-2/web-0', 'compute-2/web-1', 'compute-2/web-2']);
    });

    it('drops with a reason when no member is present, and recovers when one appears', () => {
      w = buildWorld(1);
      const set = w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-7']);
      expect(set.ok).to.equal(true);
      expect(set.ok && set.warnings).to.deep.equal(['interface web-7 is not present (its slot stays inactive)']);
      w.setVip([nh(C2, COMPOSITE)]);
      const p: Packet = { src: CLIENT_IP, dst: VIP, proto: 6, sport: 40000, dport: 80 };
      const r = w.c1.sendFromInterface('client', p);
      expect(r.drop?.reason).to.equal('no-active-member');
      expect(r.drop?.detail).to.contain(`local composite label ${COMPOSITE}`);
      member(w.c2, 7, 30);
      expect(w.c2.localComposites()[0].slots[0]).to.include({ interface: 'web-7', active: true });
      expect(w.c1.sendFromInterface('client', { ...p, sport: 40001 })).to.deep.include({ delivered: true, interface: 'web-7' });
    });
  });

  describe('expansion on the compute that owns the composite (§7.3)', () => {
    it('puts each local member in its own slot; other computes see one next-hop per compute', () => {
      w = buildWorld();
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      const own = vipRoute(w.c2);
      expect(own.kind).to.equal('ecmp');
      expect(own.slots.map((s) => ({ address: s.address, label: s.label, local: s.local, interface: s.interface, localComposite: s.localComposite, active: s.active }))).to.deep.equal([
        { address: C2, label: 17, local: true, interface: 'web-0', localComposite: COMPOSITE, active: true },
        { address: C2, label: 18, local: true, interface: 'web-1', localComposite: COMPOSITE, active: true },
        { address: C2, label: 19, local: true, interface: 'web-2', localComposite: COMPOSITE, active: true },
        { address: C3, label: 17, local: false, interface: undefined, localComposite: undefined, active: true },
      ]);
      for (const other of [w.c1, w.c3]) {
        expect(vipRoute(other).slots.filter((s) => !s.empty).map((s) => [s.address, s.label])).to.have.deep.members([[C2, COMPOSITE], [C3, 17]]);
      }
      // a client on the owning compute reaches the local members directly and compute-3 through the fabric
      const flows = 4000;
      const report = fromClient2(w, flows).open();
      expect(report.delivered).to.equal(flows);
      for (const m of ['compute-2/web-0', 'compute-2/web-1', 'compute-2/web-2', 'compute-3/web-9']) {
        expect(Math.abs((report.members.find((x) => x.member === m)?.flows ?? 0) - flows / 4)).to.be.at.most(fair(flows, 1 / 4));
      }
    });

    it('keeps the expanded slots stable across composite updates, keyed by interface', () => {
      w = buildWorld(3);
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      member(w.c2, 3, 20);
      member(w.c2, 4, 21);
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', 'web-1', 'web-2', C3]);
      const g = fromClient2(w, 3000);
      const first = g.open();
      const onWeb1 = first.members.find((m) => m.member === 'compute-2/web-1')!.flows;
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', 'web-2']);
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', null, 'web-2', C3]);
      const after = g.resend();
      expect(after.moved).to.equal(onWeb1);
      expect(Object.keys(after.movedFrom)).to.deep.equal(['compute-2/web-1']);
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', 'web-2', 'web-3', 'web-4']);
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', 'web-3', 'web-2', C3, 'web-4']);
      expect(g.resend().moved).to.equal(0);
    });

    it('keeps a member\'s slot when its compute switches between the interface label and the composite label', () => {
      w = buildWorld(2);
      // one local member: the compute advertises that interface's label
      w.setVip([nh(C2, 17), nh(C3, 17)]);
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', C3]);
      const g = fromClient2(w, 3000);
      g.open();
      // a second local member: the composite is programmed first, then the control node reflects its label
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', 'web-1']);
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', C3, 'web-1']);
      expect(g.resend().moved).to.equal(0);
      const later = fromClient2(w, 3000, 8);
      const onWeb1 = later.open().members.find((m) => m.member === 'compute-2/web-1')?.flows ?? 0;
      expect(onWeb1).to.be.greaterThan(0);
      // back to one member: the interface label again, the composite goes away
      w.setVip([nh(C2, 17), nh(C3, 17)]);
      expect(w.c2.removeLocalComposite(COMPOSITE)).to.deep.equal({ ok: true, warnings: [] });
      expect(slotInterfaces(w.c2)).to.deep.equal(['web-0', C3, null]);
      expect(g.resend().moved).to.equal(0);
      const after = later.resend();
      expect(after.moved).to.equal(onWeb1);
      expect(Object.keys(after.movedFrom)).to.deep.equal(['compute-2/web-1']);
    });
  });

  describe('introspection', () => {
    it('trace shows the composite step on the receiving compute and the expansion on the owning one', () => {
      w = buildWorld();
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE), nh(C3, 17)]);
      const p = fromClient(w, 200).packets().find((x) => w.c1.sendFromInterface('client', x).node === 'compute-2')!;
      const steps = w.c1.trace('client', p);
      const atC2 = steps.filter((s) => s.node === 'compute-2').map((s) => s.step);
      expect(atC2.slice(0, 5)).to.deep.equal(['mpls', 'composite', 'flow', 'flow', 'nat']);
      expect(steps.find((s) => s.node === 'compute-2' && s.step === 'composite')!.detail)
        .to.equal(`local composite label ${COMPOSITE} for ${VIP_PREFIX}: 3 slots, 3 active: [0] web-0; [1] web-1; [2] web-2`);
      const fresh = Array.from({ length: 64 }, (_, i) => w.c1.trace('client', { ...p, sport: 1 + i }))
        .find((steps) => steps.some((s) => s.node === 'compute-2'))!;
      expect(fresh.find((s) => s.node === 'compute-2' && s.step === 'slot')!.detail).to.match(/^new flow: hash -> slot \d of local composite 40: interface web-\d \(30\.30\.30\.1\d\)$/);
      const own = Array.from({ length: 64 }, (_, i) => w.c2.trace('client-2', { src: CLIENT2_IP, dst: VIP, proto: 6, sport: 50000 + i, dport: 80 }))
        .find((steps) => steps.find((s) => s.step === 'label')!.detail.startsWith(`slot 0: ${C2}`))!;
      expect(own.find((s) => s.step === 'composite')!.detail).to.contain(`${C2} label 17 (local web-0 of local composite ${COMPOSITE})`);
      expect(own.find((s) => s.step === 'label')!.detail).to.match(/\(this compute: web-\d, expanded from local composite 40\)$/);
    });

    it('a fresh flow from the fabric traces the hash onto a slot, without creating state', () => {
      w = buildWorld();
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(3));
      w.setVip([nh(C2, COMPOSITE)]);
      const steps = w.c1.trace('client', { src: CLIENT_IP, dst: VIP, proto: 6, sport: 40000, dport: 80 });
      expect(steps.filter((s) => s.node === 'compute-2').map((s) => s.step).slice(0, 4)).to.deep.equal(['mpls', 'composite', 'slot', 'nat']);
      expect(w.c2.flows()).to.have.length(0);
      expect(w.c2.localComposites()[0].slots.map((s) => s.flows)).to.deep.equal([0, 0, 0]);
    });
  });

  describe('bad input', () => {
    it('is refused with a precise error and changes nothing', () => {
      w = buildWorld();
      w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, names(2));
      const before = JSON.stringify(w.c2.fib());
      const refused: [unknown, string][] = [
        [w.c2.setLocalComposite(17, VRF, VIP_PREFIX, names(2)), 'local composite label 17: already used by interface web-0'],
        [w.c2.setLocalComposite(5, VRF, VIP_PREFIX, names(2)), 'local composite label 5 must be 16..1048575 (0-15 are reserved, MPLS labels are 20 bits)'],
        [w.c2.setLocalComposite(COMPOSITE, '', VIP_PREFIX, names(2)), `local composite label ${COMPOSITE}: vrf must be a non-empty string`],
        [w.c2.setLocalComposite(COMPOSITE, VRF, '30.30.30.300/32', names(2)), `local composite label ${COMPOSITE}: `],
        [w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, []), `local composite label ${COMPOSITE}: needs at least one interface (remove the composite instead)`],
        [w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, ['web-0', '']), `local composite label ${COMPOSITE}: interfaces[1] must be a non-empty string`],
        [w.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, 'web-0' as unknown as string[]), `local composite label ${COMPOSITE}: interfaces is not a list`],
        [w.c2.removeLocalComposite(41), 'local composite label 41: not present'],
        [w.c2.upsertInterface({ name: 'web-8', vrf: VRF, ip: '30.30.30.18', mac: '02:00:00:00:01:28', label: COMPOSITE, virtualNetwork: VN, floatingIps: [] }),
          `interface web-8: label ${COMPOSITE} is already used by the local composite for ${VIP_PREFIX}`],
      ];
      for (const [result, error] of refused) {
        expect(result).to.have.property('ok', false);
        expect((result as { error: string }).error.startsWith(error), (result as { error: string }).error).to.equal(true);
      }
      expect(JSON.stringify(w.c2.fib())).to.equal(before);
      expect(w.c2.counters().routes.rejectedUpdates).to.equal(refused.length);
    });
  });

  it('property: a fabric flow keeps its interface while it stays in the composite, otherwise moves to a current member', () => {
    fc.assert(fc.property(
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
      (updates) => {
        const world = buildWorld(6);
        try {
          const set = (members: number[]): void => { world.c2.setLocalComposite(COMPOSITE, VRF, VIP_PREFIX, members.map((i) => `web-${i}`)); };
          set(updates[0]);
          world.setVip([nh(C2, COMPOSITE)]);
          const g = fromClient(world, 150, 9);
          g.open();
          let slots = world.c2.localComposites()[0].slots.map((s) => s.interface ?? null);
          for (const next of updates.slice(1)) {
            const before = g.memberPerFlow();
            set(next);
            g.resend();
            const current = new Set(next.map((i) => `compute-2/web-${i}`));
            g.memberPerFlow().forEach((m, i) => {
              expect(current.has(m!), `flow ${i} reached ${m}`).to.equal(true);
              if (current.has(before[i]!)) expect(m).to.equal(before[i]);
            });
            const now = world.c2.localComposites()[0].slots.map((s) => s.interface ?? null);
            slots.forEach((name, i) => { if (name !== null && current.has(`compute-2/${name}`)) expect(now[i]).to.equal(name); });
            slots = now;
          }
        } finally {
          void world.close();
        }
      }), { numRuns: 30 });
  });
});
