import { expect } from 'chai';
import { TrafficGenerator } from '../../src/vrouter/traffic.ts';
import { formatTrace } from '../../src/vrouter/trace-text.ts';
import type { Packet } from '../../src/vrouter/vrouter.ts';
import { buildWorld, CLIENT_IP, memberName, VIP, VRF, type LbWorld, type WorldOptions } from './lb-fixture.ts';

const FLOWS = 10_000;

function generator(w: LbWorld, o: { flows?: number; sourcePorts?: 'sequential' | 'random'; port?: number; proto?: number } = {}): TrafficGenerator {
  return new TrafficGenerator({
    vrouter: w.client, interfaceName: 'client', vip: VIP, port: o.port ?? 80, proto: o.proto, flows: o.flows ?? FLOWS,
    sourceAddresses: [CLIENT_IP], sourcePorts: o.sourcePorts ?? 'sequential', seed: 7,
  });
}

const member = (i: number, iface = `web-${i}`): string => `${memberName(i)}/${iface}`;
const tcp = (sport: number, dport = 80): Packet => ({ src: CLIENT_IP, dst: VIP, proto: 6, sport, dport });

/** |count - N/k| <= 5 sigma of Binomial(N, 1/k): a fair hash fails this with probability < 1e-6 per member. */
function fairBound(n: number, k: number): number {
  return 5 * Math.sqrt(n * (1 / k) * (1 - 1 / k));
}

describe('vrouter: native load balancer end to end', () => {
  let w: LbWorld;
  let now = 0;
  const world = (o: Partial<WorldOptions> = {}): LbWorld => {
    w = buildWorld({ memberComputes: 5, clock: () => now, ...o });
    return w;
  };
  beforeEach(() => { now = 1_000; });
  afterEach(async () => { await w?.close(); });

  describe('port translation (docs/protocol.md §7.6)', () => {
    it('DNATs VIP:80 to member:8080 on the member compute and un-NATs the reply back to VIP:80', () => {
      world();
      w.setVipMembers([0, 1]);
      const r = w.client.sendFromInterface('client', tcp(40000));
      expect(r.delivered).to.equal(true);
      expect(r.hops).to.deep.equal(['compute-1', r.node]);
      const m = w.members.find((x) => x.name === r.node)!;
      expect(r.packet).to.deep.include({ src: CLIENT_IP, dst: m.ip, sport: 40000, dport: 8080 });
      expect(r.nat).to.deep.equal([{ kind: 'dnat', from: { ip: VIP, port: 80 }, to: { ip: m.ip, port: 8080 } }]);
      expect(r.member).to.include({ address: m.address, label: m.label, by: 'hash' });
      // the reply comes straight from the member's compute, source translated back
      expect(r.reply?.delivered).to.equal(true);
      expect(r.reply?.node).to.equal('compute-1');
      expect(r.reply?.packet).to.deep.include({ src: VIP, sport: 80, dst: CLIENT_IP, dport: 40000 });
      expect(r.reply?.nat?.[0]).to.deep.include({ kind: 'snat' });
      // the client's compute does no NAT
      expect(w.client.flows().every((f) => f.nat === null)).to.equal(true);
      const memberFlows = m.vrouter.flows();
      expect(memberFlows.map((f) => f.nat?.kind).sort()).to.deep.equal(['dnat', 'snat']);
      // later packets follow the stored flows
      const again = w.client.sendFromInterface('client', tcp(40000));
      expect(again.member?.by).to.equal('flow');
      expect(again.node).to.equal(r.node);
      expect(again.reply?.packet).to.deep.include({ src: VIP, sport: 80 });
      expect(w.client.flows({ direction: 'forward' })[0].packets).to.equal(2);
    });

    it('drops a destination port without a mapping, counted and explained on the member compute', () => {
      world();
      w.setVipMembers([0]);
      const r = w.client.sendFromInterface('client', tcp(40000, 81));
      expect(r.delivered).to.equal(false);
      expect(r.drop?.reason).to.equal('port-map-drop');
      expect(r.drop?.detail).to.contain('port 81');
      expect(r.node).to.equal('compute-2');
      expect(w.members[0].vrouter.counters().drops['port-map-drop']).to.equal(1);
      expect(w.members[0].vrouter.flows()).to.have.length(0);
      // the mapping is per protocol: UDP 53 maps to 5353, TCP 53 has no mapping
      const udp = w.client.sendFromInterface('client', { ...tcp(40001, 53), proto: 17 });
      expect(udp.packet?.dport).to.equal(5353);
      expect(w.client.sendFromInterface('client', tcp(40002, 53)).drop?.reason).to.equal('port-map-drop');
    });

    it('leaves ports untouched when port mappings are disabled', () => {
      world({ portMappingsEnable: false });
      w.setVipMembers([0]);
      const r = w.client.sendFromInterface('client', tcp(40000, 81));
      expect(r.packet).to.deep.include({ dst: w.members[0].ip, dport: 81 });
      expect(r.reply?.packet).to.deep.include({ src: VIP, sport: 81 });
    });
  });

  describe('stickiness and slot stability with 10,000 flows (docs/protocol.md §7.3, §7.5)', () => {
    it('scale-out 2 -> 5 moves no existing flow; new flows use the new members', () => {
      world();
      w.setVipMembers([0, 1]);
      const g = generator(w);
      const first = g.open();
      expect(first.delivered).to.equal(FLOWS);
      expect(first.members.map((m) => m.member).sort()).to.deep.equal([member(0), member(1)]);
      w.setVipMembers([0, 1, 2, 3, 4]);
      const after = g.resend();
      expect(after.moved).to.equal(0);
      expect(after.delivered).to.equal(FLOWS);
      const fresh = new TrafficGenerator({
        vrouter: w.client, interfaceName: 'client', vip: VIP, port: 80, flows: 5_000, sourceAddresses: ['30.30.31.1'], seed: 3,
      }).open();
      expect(fresh.members).to.have.length(5);
    });

    it('scale-in 5 -> 1 moves only the removed members\' flows, all onto the survivor', () => {
      world();
      w.setVipMembers([0, 1, 2, 3, 4]);
      const g = generator(w);
      const first = g.open();
      const onSurvivor = first.members.find((m) => m.member === member(0))!.flows;
      w.setVipMembers([0]);
      const after = g.resend();
      expect(after.moved).to.equal(FLOWS - onSurvivor);
      expect(Object.keys(after.movedFrom).sort()).to.deep.equal([member(1), member(2), member(3), member(4)]);
      expect(after.members).to.deep.equal([{ member: member(0), flows: FLOWS, share: 1 }]);
      expect(after.repliesFromVip).to.equal(FLOWS);
    });

    it('removing one member of five moves exactly that member\'s flows', () => {
      world();
      w.setVipMembers([0, 1, 2, 3, 4]);
      const g = generator(w);
      const first = g.open();
      w.setVipMembers([0, 1, 3, 4]);
      const after = g.resend();
      expect(after.moved).to.equal(first.members.find((m) => m.member === member(2))!.flows);
      expect(Object.keys(after.movedFrom)).to.deep.equal([member(2)]);
    });

    it('refills holes: a new member takes the first empty slot, and existing flows stay', () => {
      world();
      w.setVipMembers([0, 1, 2, 3, 4]);
      w.setVipMembers([0, 2, 4]);
      const slotsOf = (): (string | null)[] => w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.slots
        .map((s) => (s.empty ? null : s.address!));
      expect(slotsOf()).to.deep.equal(['127.0.20.2', null, '127.0.20.4', null, '127.0.20.6']);
      const g = generator(w);
      g.open();
      w.setVipMembers([0, 2, 4, 3]);
      expect(slotsOf()).to.deep.equal(['127.0.20.2', '127.0.20.5', '127.0.20.4', null, '127.0.20.6']);
      expect(g.resend().moved).to.equal(0);
      w.setVipMembers([0, 2, 4, 3, 1]);
      expect(slotsOf()).to.deep.equal(['127.0.20.2', '127.0.20.5', '127.0.20.4', '127.0.20.3', '127.0.20.6']);
      expect(g.resend().moved).to.equal(0);
    });

    it('re-hashes a removed member\'s flows at once: a member filling the hole later does not take them', () => {
      world({ memberComputes: 6 });
      w.setVipMembers([0, 1, 2, 3, 4]);
      const g = generator(w);
      const first = g.open();
      w.setVipMembers([0, 1, 3, 4]);
      w.setVipMembers([0, 1, 5, 3, 4]); // no packet in between
      const after = g.resend();
      expect(after.moved).to.equal(first.members.find((m) => m.member === member(2))!.flows);
      expect(after.members.map((m) => m.member)).to.not.include(member(5));
    });

    it('a flow on a non-ECMP route keeps its member when the route becomes ECMP (old next-hop in slot 0)', () => {
      world();
      w.setVipMembers([3]);
      const g = generator(w, { flows: 2_000 });
      expect(g.open().members).to.deep.equal([{ member: member(3), flows: 2_000, share: 1 }]);
      w.setVipMembers([0, 1, 3]);
      expect(w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.slots[0].address).to.equal('127.0.20.5');
      expect(g.resend().moved).to.equal(0);
    });
  });

  describe('distribution and hash fields (docs/protocol.md §7.4)', () => {
    it('keeps every member within 5 sigma of a fair binomial share with 10,000 flows', () => {
      for (const [sourcePorts, members] of [['sequential', [0, 1]], ['random', [0, 1, 2, 3, 4]], ['sequential', [0, 1, 2]]] as const) {
        world();
        w.setVipMembers([...members]);
        const r = generator(w, { sourcePorts }).open();
        expect(r.members).to.have.length(members.length);
        for (const m of r.members) expect(Math.abs(m.flows - FLOWS / members.length)).to.be.at.most(fairBound(FLOWS, members.length));
        void w.close();
      }
    });

    it('changing the hash fields changes the distribution: source-ip only puts one client on one member', () => {
      world({ clientHashFields: ['source-ip'] });
      w.setVipMembers([0, 1, 2, 3, 4]);
      expect(generator(w, { flows: 1_000 }).open().members).to.have.length(1);
      void w.close();

      // the item's load-balance fields apply when neither VMI nor VN configures any
      world();
      w.setVipMembers([0, 1, 2, 3, 4], { loadBalanceFields: ['source-ip', 'destination-ip'] });
      expect(generator(w, { flows: 1_000 }).open().members).to.have.length(1);
      w.setVipMembers([0, 1, 2, 3, 4]);
      expect(new TrafficGenerator({
        vrouter: w.client, interfaceName: 'client', vip: VIP, port: 80, flows: 1_000, sourceAddresses: ['30.30.31.1'],
      }).open().members).to.have.length(5);
    });

    it('uses VMI over VN over global hash fields', () => {
      world({ clientHashFields: ['source-ip'] }); // global: source-ip only
      w.setVipMembers([0, 1, 2, 3, 4]);
      w.client.setHashFields(['source-ip'], new Map([['default-domain:demo:svc-vn', ['source-port']]]));
      const byVn = generator(w, { flows: 1_000 }).open();
      expect(byVn.members).to.have.length(5); // VN (source-port) beats global (source-ip)
      w.client.upsertInterface({
        name: 'client-2', vrf: VRF, ip: '30.30.30.3', mac: '02:00:00:00:00:03', label: 30,
        virtualNetwork: 'default-domain:demo:svc-vn', hashFields: ['destination-ip'], floatingIps: [],
      });
      const byVmi = new TrafficGenerator({
        vrouter: w.client, interfaceName: 'client-2', vip: VIP, port: 80, flows: 1_000, sourceAddresses: ['30.30.30.3'],
      }).open();
      expect(byVmi.members).to.have.length(1); // VMI (destination-ip) beats VN
      const flow = w.client.flows({ ip: '30.30.30.3', direction: 'forward', limit: 1 });
      expect(flow).to.have.length(1);
    });

    it('hashes with the compute\'s router-id: the same tuples spread differently on another compute', () => {
      world();
      w.setVipMembers([0, 1, 2, 3, 4]);
      const pick = (vr: typeof w.client, iface: string, src: string): (string | undefined)[] =>
        Array.from({ length: 200 }, (_, i) => vr.trace(iface, { src, dst: VIP, proto: 6, sport: 20000 + i, dport: 80 })
          .find((s) => s.step === 'slot')?.detail);
      w.members[0].vrouter.upsertInterface({
        name: 'other', vrf: VRF, ip: CLIENT_IP, mac: '02:00:00:00:00:09', label: 31, virtualNetwork: 'x', floatingIps: [],
      });
      expect(pick(w.client, 'client', CLIENT_IP)).to.not.deep.equal(pick(w.members[0].vrouter, 'other', CLIENT_IP));
    });
  });

  describe('Maglev mode for new flows', () => {
    /** share of tuples whose member as a *new* flow changes when a member joins (flows aged out between rounds) */
    function newFlowDisruption(maglev: boolean, n: number): number {
      world({ memberComputes: n + 1, maglev, flowTableSize: 4 * FLOWS });
      const members = Array.from({ length: n }, (_, i) => i);
      w.setVipMembers(members);
      const g = generator(w);
      g.open();
      w.setVipMembers([...members, n]);
      now += 10 * 60_000; // every flow ages out: the next round places all of them as new flows
      const r = g.resend();
      void w.close();
      return r.moved / FLOWS;
    }

    it('moves about 1/N of new-flow placements on scale-out, where Contrail\'s rule moves nearly all', () => {
      const contrail = newFlowDisruption(false, 10);
      const maglev = newFlowDisruption(true, 10);
      expect(contrail).to.be.greaterThan(0.8);
      expect(maglev).to.be.within(0.5 / 11, 3 / 11);
    });

    it('still keeps existing flows where they are on scale-out', () => {
      world({ memberComputes: 5, maglev: true });
      w.setVipMembers([0, 1]);
      const g = generator(w, { flows: 2_000 });
      g.open();
      w.setVipMembers([0, 1, 2, 3, 4]);
      expect(g.resend().moved).to.equal(0);
      expect(w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.maglev).to.equal(true);
    });

    it('can be enabled per route', () => {
      world();
      w.setVipMembers([0, 1, 2], { maglev: true });
      const r = w.client.sendFromInterface('client', tcp(40000));
      expect(r.member?.by).to.equal('maglev');
    });
  });

  describe('bad input: counted, explained drops, never exceptions', () => {
    it('a full flow table drops new flows until aging frees entries', () => {
      world({ flowTableSize: 4 });
      w.setVipMembers([0]);
      expect(w.client.sendFromInterface('client', tcp(1)).delivered).to.equal(true);
      expect(w.client.sendFromInterface('client', tcp(2)).delivered).to.equal(true);
      const full = w.client.sendFromInterface('client', tcp(3));
      expect(full.drop?.reason).to.equal('flow-table-full');
      expect(w.client.counters().drops['flow-table-full']).to.equal(1);
      // established flows keep working
      expect(w.client.sendFromInterface('client', tcp(1)).delivered).to.equal(true);
      now += 181_000;
      expect(w.client.sendFromInterface('client', tcp(3)).delivered).to.equal(true);
      expect(w.client.counters().flows.aged).to.be.at.least(1);
    });

    it('a next-hop at an unknown compute drops only the flows hashed to it', () => {
      world();
      w.client.setRoute(VRF, `${VIP}/32`, [
        { address: '127.0.20.2', label: 17, encapsulations: ['udp'] },
        { address: '127.0.20.99', label: 40, encapsulations: ['udp'] },
      ]);
      const r = generator(w, { flows: 1_000 }).open();
      expect(r.dropped['unknown-compute']).to.be.greaterThan(300);
      expect(r.delivered).to.be.greaterThan(300);
      expect(w.client.counters().drops['unknown-compute']).to.equal(r.dropped['unknown-compute']);
      expect(w.client.counters().recentDrops.at(-1)?.detail).to.contain('127.0.20.99');
    });

    it('unknown VRF, unknown interface, unknown label, no route and malformed packets', () => {
      world();
      expect(w.client.sendInVrf('no-such-vrf', tcp(1)).drop?.reason).to.equal('unknown-vrf');
      expect(w.client.sendFromInterface('nope', tcp(1)).drop?.reason).to.equal('unknown-interface');
      expect(w.client.sendFromInterface('client', tcp(1)).drop?.reason).to.equal('no-route'); // VIP not yet announced
      expect(w.client.sendFromInterface('client', { ...tcp(1), src: '300.1.1.1' }).drop?.reason).to.equal('bad-packet');
      expect(w.client.sendFromInterface('client', { ...tcp(1), sport: 70000 }).drop?.reason).to.equal('bad-packet');
      expect(w.client.sendFromInterface('client', null as unknown as Packet).drop?.reason).to.equal('bad-packet');
      expect(w.client.sendFromInterface('client', { ...tcp(1), dst: 7 as unknown as string }).drop?.reason).to.equal('bad-packet');
      w.client.setRoute(VRF, `${VIP}/32`, [{ address: '127.0.20.2', label: 99, encapsulations: [] }]);
      const r = w.client.sendFromInterface('client', tcp(1));
      expect(r.drop?.reason).to.equal('unknown-label');
      expect(r.node).to.equal('compute-2');
      const c = w.client.counters();
      expect(c.drops).to.include({ 'unknown-vrf': 1, 'unknown-interface': 1, 'no-route': 1, 'bad-packet': 4 });
      expect(w.members[0].vrouter.counters().drops['unknown-label']).to.equal(1);
    });

    it('rejects malformed routes and interfaces without losing state', () => {
      world();
      w.setVipMembers([0, 1]);
      expect(w.client.setRoute(VRF, '30.30.30.0/33', []).ok).to.equal(false);
      expect(w.client.setRoute(VRF, '30.30.30.1/24', []).ok).to.equal(false);
      expect(w.client.upsertInterface({ name: 'x', vrf: VRF, ip: 'nope', mac: '', label: 50, virtualNetwork: 'v', floatingIps: [] }).ok).to.equal(false);
      expect(w.client.upsertInterface({ name: 'x', vrf: VRF, ip: '1.2.3.4', mac: '', label: 5, virtualNetwork: 'v', floatingIps: [] }).ok).to.equal(false);
      expect(w.client.upsertInterface({ name: 'x', vrf: VRF, ip: '1.2.3.4', mac: '', label: CLIENT_LABEL_IN_USE, virtualNetwork: 'v', floatingIps: [] }).ok).to.equal(false);
      const partial = w.client.setRoute(VRF, '30.30.30.200/32', [
        { address: '127.0.20.2', label: 0, encapsulations: [] },
        { address: 'bogus', label: 17, encapsulations: [] },
        { address: '127.0.20.3', label: 18, encapsulations: ['mystery'] },
        { address: '127.0.20.4', label: 19, encapsulations: ['udp'] },
      ]);
      expect(partial.ok).to.equal(true);
      if (partial.ok) expect(partial.warnings).to.have.length(3);
      expect(w.client.counters().routes.rejectedUpdates).to.equal(5);
      expect(w.client.sendFromInterface('client', tcp(5)).delivered).to.equal(true);
    });

    it('installs at most 128 members of an item', () => {
      world();
      const nhs = Array.from({ length: 130 }, (_, i) => ({ address: `127.0.21.${i}`, label: 100 + i, encapsulations: ['udp'] }));
      const r = w.client.setRoute(VRF, `${VIP}/32`, nhs);
      expect(r.ok && r.warnings[0]).to.contain('128');
      expect(w.client.fib(VRF)[0].routes.find((x) => x.prefix === `${VIP}/32`)!.slots).to.have.length(128);
    });
  });

  describe('local members, routes and introspection', () => {
    it('prefers the control node\'s item over the local VIP route, and load-balances from a member compute too', () => {
      world();
      const m0 = w.members[0].vrouter;
      const local = m0.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!;
      expect(local).to.deep.include({ source: 'local', kind: 'local' });
      w.setVipMembers([0, 1, 2]);
      const ecmp = m0.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!;
      expect(ecmp).to.deep.include({ source: 'control', kind: 'ecmp' });
      expect(ecmp.slots[0]).to.deep.include({ local: true, interface: 'web-0', active: true });
      // a second workload on compute-2 reaches local and remote members; replies come back from the VIP
      m0.upsertInterface({ name: 'client-b', vrf: VRF, ip: '30.30.30.50', mac: '02:00:00:00:00:50', label: 40, virtualNetwork: 'v', floatingIps: [] });
      for (const m of w.members) m.vrouter.setRoute(VRF, '30.30.30.50/32', [{ address: '127.0.20.2', label: 40, encapsulations: ['udp'] }]);
      const r = new TrafficGenerator({ vrouter: m0, interfaceName: 'client-b', vip: VIP, port: 80, flows: 300, sourceAddresses: ['30.30.30.50'] }).open();
      expect(r.members.map((x) => x.member).sort()).to.deep.equal([member(0), member(1), member(2)]);
      expect(r.repliesFromVip).to.equal(300);
      const localHit = m0.sendFromInterface('client-b', { src: '30.30.30.50', dst: VIP, proto: 6, sport: 1024, dport: 80 });
      expect(localHit.hops).to.deep.equal(['compute-2', ...(localHit.node === 'compute-2' ? [] : [localHit.node])]);
    });

    it('re-sending unchanged or slightly changed interfaces (a config push) moves no flow of a local composite', () => {
      world();
      const m0 = w.members[0].vrouter;
      const vipSpec = (name: string, ip: string, label: number, mac: string) => ({
        name, vrf: VRF, ip, mac, label, virtualNetwork: 'vn',
        floatingIps: [{ address: '30.30.30.200', vrf: VRF, virtualNetwork: 'vn', portMappingsEnable: false, direction: 'ingress' as const, portMappings: [] }],
      });
      m0.upsertInterface(vipSpec('a', '30.30.30.60', 50, 'm1'));
      m0.upsertInterface(vipSpec('b', '30.30.30.61', 51, 'm2'));
      const composite = m0.fib(VRF)[0].routes.find((r) => r.prefix === '30.30.30.200/32')!;
      expect(composite).to.deep.include({ kind: 'ecmp', source: 'local' });
      const g = new TrafficGenerator({ vrouter: m0, interfaceName: 'web-0', vip: '30.30.30.200', port: 80, flows: 500, sourceAddresses: ['30.30.30.10'] });
      expect(g.open().members.map((x) => x.member).sort()).to.deep.equal(['compute-2/a', 'compute-2/b']);
      m0.upsertInterface(vipSpec('a', '30.30.30.60', 50, 'm1'));
      m0.upsertInterface(vipSpec('a', '30.30.30.60', 50, 'changed-mac'));
      m0.upsertInterface(vipSpec('b', '30.30.30.61', 51, 'm2'));
      expect(g.resend().moved).to.equal(0);
      expect(m0.counters().flows.rehashed).to.equal(0);
    });

    it('traces the decision chain without changing state', () => {
      world();
      w.setVipMembers([0, 1, 2]);
      const before = JSON.stringify(w.client.counters());
      const steps = w.client.trace('client', tcp(40000));
      expect(JSON.stringify(w.client.counters())).to.equal(before);
      expect(w.client.flows()).to.have.length(0);
      for (const m of w.members) expect(m.vrouter.flows()).to.have.length(0);
      const kinds = steps.map((s) => s.step);
      expect(kinds).to.include.members(['route', 'composite', 'slot', 'label', 'tunnel', 'mpls', 'remote', 'nat', 'deliver', 'reply']);
      expect(kinds.indexOf('route')).to.be.lessThan(kinds.indexOf('slot'));
      expect(kinds.indexOf('tunnel')).to.be.lessThan(kinds.indexOf('nat'));
      const text = formatTrace(steps);
      expect(text.split('\n')[0]).to.equal('compute-1:');
      expect(text).to.match(/\n {2}nat +floating-ip 30\.30\.30\.100 port-mapped: DNAT/);
      const last = steps.at(-1)!;
      expect(last).to.deep.include({ node: 'compute-1', step: 'deliver' });
      expect(last.detail).to.contain(`${VIP}:80 -> ${CLIENT_IP}:40000`);
      // a trace of an established flow shows the stored slot, and agrees with the real packet
      const sent = w.client.sendFromInterface('client', tcp(40000));
      const again = w.client.trace('client', tcp(40000));
      expect(again.find((s) => s.step === 'flow')?.detail).to.contain(`stored slot ${sent.member!.slot}`);
      expect(steps.find((s) => s.step === 'slot')?.detail).to.contain(`slot ${sent.member!.slot}`);
    });

    it('counts per flow and per member, and ages flows on demand', () => {
      world({ flowTableSize: 64 });
      w.setVipMembers([0, 1]);
      for (let i = 0; i < 10; i++) w.client.sendFromInterface('client', { ...tcp(1000 + i), bytes: 100 });
      w.client.sendFromInterface('client', { ...tcp(1000), bytes: 100 });
      const slots = w.client.fib(VRF)[0].routes.find((r) => r.prefix === `${VIP}/32`)!.slots;
      expect(slots.reduce((n, s) => n + s.flows, 0)).to.equal(10);
      expect(slots.reduce((n, s) => n + s.packets, 0)).to.equal(11);
      expect(slots.reduce((n, s) => n + s.bytes, 0)).to.equal(1100);
      const f = w.client.flows({ direction: 'forward' }).find((x) => x.sport === 1000)!;
      expect(f).to.deep.include({ packets: 2, bytes: 200, dst: VIP });
      expect(f.member?.address).to.match(/^127\.0\.20\.[23]$/);
      expect(w.client.counters().flows).to.deep.include({ entries: 20, created: 10 });
      now += 200_000;
      expect(w.client.ageFlows()).to.equal(10);
      expect(w.client.counters().flows.entries).to.equal(0);
    });

    it('removing a member interface withdraws its local routes and flows', () => {
      world();
      w.setVipMembers([0]);
      w.client.sendFromInterface('client', tcp(1));
      const m0 = w.members[0].vrouter;
      expect(m0.flows()).to.have.length(2);
      expect(m0.removeInterface('web-0').ok).to.equal(true);
      expect(m0.flows()).to.have.length(0);
      expect(m0.fib(VRF)[0].routes.find((r) => r.prefix === '30.30.30.10/32')).to.equal(undefined);
      expect(w.client.sendFromInterface('client', tcp(1)).drop?.reason).to.equal('unknown-label');
    });
  });
});

const CLIENT_LABEL_IN_USE = 16;
