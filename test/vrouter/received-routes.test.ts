import { expect } from 'chai';
import { ReceivedRoutes, MAX_ECMP_MEMBERS } from '../../src/vrouter/received-routes.ts';
import { exportEntry } from '../../src/vrouter/route-export.ts';
import type { XmppRouteEntry } from '../../src/xmpp/route-entry.ts';

const VRF = 'default-domain:admin:blue:blue';
const VIP = '192.0.2.10/32';

/** An item as a control node reflects it: one next-hop per [compute, label]. */
function item(prefix: string, members: [string, number][]): XmppRouteEntry {
  const base = exportEntry({ instance: VRF, prefix, label: 16, virtualNetwork: 'blue', loadBalanceFields: [] }, '127.1.0.1', '02:00:7f:01:00:01');
  return { ...base, nextHops: members.map(([address, label]) => ({ ...base.nextHops[0], address, label })) };
}

function fixture(controlNodes = 1) {
  const fib = new Map<string, string[]>();
  const changed: string[] = [];
  const sessions = Array.from({ length: controlNodes }, (_, i) => ({ name: `control-${i + 1}`, established: true, synced: true }));
  const routes = new ReceivedRoutes({
    vrouter: {
      setRoute: (vrf, prefix, nextHops) => {
        fib.set(`${vrf} ${prefix}`, nextHops.map((nh) => `${nh.address}:${nh.label}`));
        return { ok: true, warnings: [] };
      },
      deleteRoute: (vrf, prefix) => {
        fib.delete(`${vrf} ${prefix}`);
        return { ok: true, warnings: [] };
      },
    },
    sessions,
    isMaglev: () => false,
    changed: (instance, prefix) => changed.push(`${instance} ${prefix}`),
  });
  const installed = (prefix: string): string[] | undefined => fib.get(`${VRF} ${prefix}`);
  return { routes, sessions, installed, changed };
}

describe('vrouter/received-routes', () => {
  it('installs an item as its next-hops, ignoring label 0, and removes it on retract', () => {
    const { routes, installed, changed } = fixture();
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17], ['127.1.0.3', 0], ['127.1.0.4', 18]]));
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17', '127.1.0.4:18']);
    routes.unlearn(0, VRF, VIP);
    expect(installed(VIP)).to.equal(undefined);
    expect(changed).to.deep.equal([`${VRF} ${VIP}`, `${VRF} ${VIP}`]);
  });

  it(`installs at most ${MAX_ECMP_MEMBERS} members`, () => {
    const { routes, installed } = fixture();
    routes.learn(0, VRF, item(VIP, Array.from({ length: 130 }, (_, i) => [`127.2.0.${i + 1}`, 16 + i] as [string, number])));
    expect(installed(VIP)).to.have.length(MAX_ECMP_MEMBERS);
  });

  it('a control node that comes back with a partial table does not shrink ECMP before its End-of-RIB', () => {
    const { routes, sessions, installed } = fixture();
    const other = '10.0.0.9/32';
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17], ['127.1.0.3', 18]]));
    routes.learn(0, VRF, item(other, [['127.1.0.5', 20]]));
    Object.assign(sessions[0], { established: false, synced: false });
    routes.sessionLost(0);
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17', '127.1.0.3:18']);
    Object.assign(sessions[0], { established: true });
    expect(routes.sessionStarted(0)).to.equal(true);
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17]]));
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17', '127.1.0.3:18']);
    expect(routes.list(VRF).map((r) => [r.prefix, r.stale])).to.deep.equal([[VIP, false], [VIP, true], [other, true]]);
    sessions[0].synced = true;
    routes.sweep(0);
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17']);
    expect(installed(other)).to.equal(undefined);
    expect(routes.staleCount(0)).to.equal(0);
    expect(routes.receivedCount(0)).to.equal(1);
  });

  it('a synced control node’s item wins over a lost one’s; on a tie the first configured wins', () => {
    const { routes, sessions, installed } = fixture(2);
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17]]));
    routes.learn(1, VRF, item(VIP, [['127.1.0.2', 17], ['127.1.0.3', 18]]));
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17']);
    Object.assign(sessions[0], { established: false, synced: false });
    routes.sessionLost(0);
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17', '127.1.0.3:18']);
    expect(routes.anyNextHop(VRF, VIP, (nh) => nh.label === 18)).to.equal(true);
    expect(routes.anyNextHop(VRF, VIP, (nh) => nh.label === 99)).to.equal(false);
  });

  it('a lost control node’s routes keep forwarding when the other one has none', () => {
    const { routes, sessions, installed } = fixture(2);
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17]]));
    Object.assign(sessions[0], { established: false, synced: false });
    routes.sessionLost(0);
    expect(installed(VIP)).to.deep.equal(['127.1.0.2:17']);
  });

  it('an unsubscribed VRF drops what the control node said about it, current and stale', () => {
    const { routes, sessions, installed } = fixture();
    routes.learn(0, VRF, item(VIP, [['127.1.0.2', 17]]));
    routes.learn(0, 'other-vrf', item(VIP, [['127.1.0.2', 17]]));
    Object.assign(sessions[0], { synced: false });
    routes.sessionStarted(0);
    routes.learn(0, VRF, item('10.0.0.9/32', [['127.1.0.5', 20]]));
    routes.dropInstance(0, VRF);
    expect(installed(VIP)).to.equal(undefined);
    expect(installed('10.0.0.9/32')).to.equal(undefined);
    expect(routes.list().map((r) => [r.instance, r.prefix, r.stale])).to.deep.equal([['other-vrf', VIP, true]]);
  });
});
