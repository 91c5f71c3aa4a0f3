// The haproxy in the data plane (docs/protocol.md §8.4) on four in-process vRouters: client (compute-1),
// active haproxy (compute-2), member (compute-3, plus one on compute-2), standby haproxy (compute-4).
import { expect } from 'chai';
import { InProcessUnderlay, Vrouter, type RemoteNextHop } from '../../src/vrouter/vrouter.ts';
import type { ConfigServiceInstance } from '../../src/xmpp/config-stanza.ts';

const VRF = 'default-domain:demo:svc-vn:svc-vn';
const VN = 'default-domain:demo:svc-vn';
const VIP = '30.30.30.100';
const ADDRESS = ['127.3.40.1', '127.3.40.2', '127.3.40.3', '127.3.40.4'];
const nh = (compute: number, label: number): RemoteNextHop[] => [{ address: ADDRESS[compute], label, encapsulations: ['udp'] }];

function haproxy(role: 'active' | 'standby', monitor?: ConfigServiceInstance['frontends'][number]['monitor']): ConfigServiceInstance {
  return {
    name: 'lb1-haproxy', role, localPreference: role === 'active' ? 200 : 100, vip: VIP, vipNetwork: VN, vipInterface: `lb1-haproxy-${role}-vip`,
    poolNetwork: VN, poolAddress: VIP,
    frontends: [{
      listener: 'listener1', protocol: 'TCP', port: 80, pool: 'pool1', method: 'ROUND_ROBIN',
      servers: [
        { member: 'm-a', address: '30.30.30.10', port: 8080, weight: 1, adminState: true },
        { member: 'm-b', address: '30.30.30.11', port: 8080, weight: 1, adminState: true },
      ],
      ...(monitor ? { monitor } : {}),
    }],
  };
}

function world(monitor?: ConfigServiceInstance['frontends'][number]['monitor'], clock?: () => number) {
  const underlay = new InProcessUnderlay();
  const v = ADDRESS.map((address, i) => new Vrouter({ name: `compute-${i + 1}`, routerId: address, underlay, flowTableSize: 1 << 12, clock }));
  const add = (i: number, name: string, ip: string, label: number) =>
    v[i].upsertInterface({ name, vrf: VRF, ip, mac: `02:00:00:00:00:${label.toString(16)}`, label, virtualNetwork: VN, floatingIps: [] });
  add(0, 'client', '30.30.30.2', 16);
  add(1, 'lb1-haproxy-active-vip', VIP, 20);
  add(1, 'web-b', '30.30.30.11', 21);
  add(2, 'web-a', '30.30.30.10', 17);
  add(3, 'lb1-haproxy-standby-vip', VIP, 22);
  v[1].setServiceInstances([haproxy('active', monitor)]);
  v[3].setServiceInstances([haproxy('standby', monitor)]);
  // what the control node reflects: the VIP's best path is the active haproxy (LP 200)
  for (const i of [0, 2]) v[i].setRoute(VRF, `${VIP}/32`, nh(1, 20));
  for (const i of [1, 3]) {
    v[i].setRoute(VRF, '30.30.30.10/32', nh(2, 17));
    v[i].setRoute(VRF, '30.30.30.2/32', nh(0, 16));
  }
  v[3].setRoute(VRF, '30.30.30.11/32', nh(1, 21));
  return { v, close: () => Promise.all(v.map((r) => r.close())) };
}

const packet = (sport: number) => ({ src: '30.30.30.2', dst: VIP, proto: 6, sport, dport: 80 });

describe('haproxy in the data plane', () => {
  it('ends the client connection at the active haproxy, opens its own to a server from the pool side, and answers from the VIP', async () => {
    const { v, close } = world();
    try {
      const r = v[0].sendFromInterface('client', packet(1000));
      expect(r).to.include({ delivered: true, node: 'compute-2', interface: 'lb1-haproxy-active-vip' });
      expect(r.hops).to.deep.equal(['compute-1', 'compute-2']);
      expect(r.proxied).to.include({ serviceInstance: 'lb1-haproxy', role: 'active', opened: true, server: 'm-a' });
      const backend = r.proxied!.backend!;
      expect(backend).to.include({ delivered: true, node: 'compute-3', interface: 'web-a' });
      expect(backend.packet).to.deep.equal({ src: VIP, dst: '30.30.30.10', proto: 6, sport: 32768, dport: 8080 });
      expect(backend.reply, 'the server answers the haproxy').to.include({ delivered: true, node: 'compute-2', interface: 'lb1-haproxy-active-vip' });
      expect(r.reply, 'the haproxy answers the client').to.include({ delivered: true, node: 'compute-1', interface: 'client' });
      expect(r.reply!.packet).to.deep.include({ src: VIP, sport: 80, dst: '30.30.30.2', dport: 1000 });

      const next = v[0].sendFromInterface('client', packet(1001));
      expect(next.proxied).to.include({ server: 'm-b', opened: true });
      expect(next.proxied!.backend!.hops, 'a server on the haproxy’s own compute is reached without a tunnel').to.deep.equal(['compute-2']);

      const again = v[0].sendFromInterface('client', packet(1000));
      expect(again.proxied).to.include({ server: 'm-a', opened: false });
      expect(again.proxied!.backend!.packet!.sport, 'the same backend connection').to.equal(32768);
      expect(v[1].serviceInstances()[0].frontends[0].servers.map((s) => s.connections)).to.deep.equal([1, 1]);
    } finally {
      await close();
    }
  });

  it('breaks every connection on failover: the standby knows none of them and opens each anew', async () => {
    const { v, close } = world();
    try {
      const sports = [2000, 2001, 2002, 2003];
      for (const sport of sports) expect(v[0].sendFromInterface('client', packet(sport)).proxied?.opened).to.equal(true);
      // the active's compute fails: its route is withdrawn, the standby's (LP 100) becomes best
      v[0].setRoute(VRF, `${VIP}/32`, nh(3, 22));
      for (const sport of sports) {
        const r = v[0].sendFromInterface('client', packet(sport));
        expect(r.node).to.equal('compute-4');
        expect(r.proxied).to.include({ role: 'standby', opened: true });
        expect(r.reply?.delivered).to.equal(true);
      }
    } finally {
      await close();
    }
  });

  it('keeps a server its health check failed out of rotation (TCP monitor, max-retries 1)', async function () {
    this.timeout(10_000);
    const { v, close } = world({ type: 'TCP', delay: 1, timeout: 1, maxRetries: 1 });
    try {
      v[1].deleteRoute(VRF, '30.30.30.10/32'); // web-a unreachable from the active haproxy
      for (;;) {
        const servers = v[1].serviceInstances()[0].frontends[0].servers;
        if (!servers[0].healthy) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const servers = [3000, 3001, 3002, 3003].map((sport) => v[0].sendFromInterface('client', packet(sport)).proxied?.server);
      expect(servers).to.deep.equal(['m-b', 'm-b', 'm-b', 'm-b']);
    } finally {
      await close();
    }
  });

  it('closes a connection idle for longer than haproxy’s client timeout (50 s)', async () => {
    let now = 1_000_000;
    const { v, close } = world(undefined, () => now);
    try {
      expect(v[0].sendFromInterface('client', packet(5000)).proxied?.opened).to.equal(true);
      now += 40_000;
      expect(v[0].sendFromInterface('client', packet(5000)).proxied?.opened, 'still open after 40 s').to.equal(false);
      now += 51_000;
      expect(v[0].sendFromInterface('client', packet(5001)).proxied?.opened).to.equal(true);
      expect(v[1].serviceInstances()[0].connections, 'the idle one was closed').to.equal(1);
    } finally {
      await close();
    }
  });

  it('reloading with a server removed keeps that server’s open connections (haproxy hands them over)', async () => {
    const { v, close } = world();
    try {
      v[0].sendFromInterface('client', packet(4000));
      const changed = haproxy('active');
      changed.frontends[0].servers = changed.frontends[0].servers.slice(1);
      v[1].setServiceInstances([changed]);
      expect(v[0].sendFromInterface('client', packet(4000)).proxied).to.include({ server: 'm-a', opened: false });
      expect(v[0].sendFromInterface('client', packet(4001)).proxied).to.include({ server: 'm-b', opened: true });
    } finally {
      await close();
    }
  });
});
