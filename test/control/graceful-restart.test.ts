// The control node as XMPP graceful-restart helper (docs/protocol.md §6.7) against raw agents over real
// TCP: a dropped agent's paths stay (and stay in the ECMP set); a new session from the same name and
// address takes them over; what it does not re-publish before its End-of-RIB is swept; an agent away past
// the restart time is swept, or with a long-lived restart time first loses against fresh paths.
import { expect } from 'chai';
import type { ControlNode } from '../../src/control/control-node.ts';
import { encodeEndOfRib, CONTROL_NODE_JID } from '../../src/xmpp/stanza-encoder.ts';
import { RawAgent, VRF, defaultConfigControlNode, route, until } from './raw-agent.ts';

const CONTROL = '127.6.20.1';
const A = '127.6.21.1';
const B = '127.6.21.2';
const VIP = '30.30.30.100/32';
const TABLE = `${VRF}.inet.0`;

function vipSet(control: ControlNode): string[] {
  return control.rib.multipathPaths(TABLE, VIP).map((p) => `${p.peer.name} ${p.label}${p.attrs.llgrStale ? ' llgr-stale' : ''}`).sort();
}

function paths(control: ControlNode, prefix: string): string[] {
  return (control.rib.route(TABLE, prefix)?.paths ?? []).map((p) => `${p.peer.name} ${p.label}${p.attrs.llgrStale ? ' llgr-stale' : ''}`).sort();
}

function endOfRib(agent: RawAgent): void {
  agent.send(encodeEndOfRib({ from: agent.name, to: `${CONTROL_NODE_JID}/bgp-peer` }));
}

describe('control node: XMPP graceful restart helper', function () {
  this.timeout(20_000);
  let control: ControlNode;
  let port: number;
  const agents: RawAgent[] = [];

  async function agent(name: string, address: string): Promise<RawAgent> {
    const a = await RawAgent.connect(name, address, port, CONTROL);
    agents.push(a);
    return a;
  }

  /** compute-a publishes the VIP and 30.30.30.20/32; compute-b the VIP. */
  async function twoMembers(): Promise<{ a: RawAgent; b: RawAgent }> {
    const a = await agent('compute-a', A);
    const b = await agent('compute-b', B);
    a.subscribe();
    b.subscribe();
    a.publish(route(VIP, A, 17));
    a.publish(route('30.30.30.20/32', A, 18));
    b.publish(route(VIP, B, 17));
    await until(() => vipSet(control).length === 2 && paths(control, '30.30.30.20/32').length === 1, 'both members in the RIB');
    return { a, b };
  }

  async function start(timing: { restartTimeMs: number; longLivedRestartTimeMs: number; endOfRibTimeoutMs: number } | undefined): Promise<void> {
    ({ control, port } = await defaultConfigControlNode('control-gr', CONTROL, timing ? { gracefulRestart: timing } : {}));
  }

  afterEach(async () => {
    for (const a of agents.splice(0)) a.close();
    await control.stop();
  });

  it('keeps a dropped agent’s paths in the ECMP set; a new session takes them over and its End-of-RIB sweeps the rest', async () => {
    await start({ restartTimeMs: 10_000, longLivedRestartTimeMs: 0, endOfRibTimeoutMs: 10_000 });
    const { a } = await twoMembers();
    a.close();
    await until(() => control.agentChannels().length === 1, 'compute-a is down');
    expect(vipSet(control)).to.deep.equal(['compute-a 17', 'compute-b 17']);
    expect(paths(control, '30.30.30.20/32')).to.deep.equal(['compute-a 18']);
    expect(control.status().gracefulRestart).to.deep.include({ helper: true });

    const again = await agent('compute-a', A);
    again.subscribe();
    again.publish(route(VIP, A, 17));
    await until(() => control.agentChannels().some((c) => c.name === 'compute-a' && c.counters.routesAdded === 1), 'the VIP re-published');
    expect(paths(control, '30.30.30.20/32'), 'not swept before End-of-RIB').to.deep.equal(['compute-a 18']);
    endOfRib(again);
    await until(() => paths(control, '30.30.30.20/32').length === 0, 'the path not re-published is swept');
    expect(vipSet(control)).to.deep.equal(['compute-a 17', 'compute-b 17']);
    const status = control.status().gracefulRestart;
    expect(status.helper && status.counters).to.deep.include({ resurrected: 1, swept: 1 });
  });

  it('sweeps an agent that stays away past the restart time', async () => {
    await start({ restartTimeMs: 300, longLivedRestartTimeMs: 0, endOfRibTimeoutMs: 10_000 });
    const { a } = await twoMembers();
    a.close();
    await until(() => control.agentChannels().length === 1, 'compute-a is down');
    expect(vipSet(control)).to.have.length(2);
    await until(() => vipSet(control).length === 1, 'compute-a swept at restart time');
    expect(vipSet(control)).to.deep.equal(['compute-b 17']);
    expect(paths(control, '30.30.30.20/32')).to.deep.equal([]);
  });

  it('with a long-lived restart time, the stale paths turn LLGR-stale and lose against fresh ones, then go', async () => {
    await start({ restartTimeMs: 200, longLivedRestartTimeMs: 1_000, endOfRibTimeoutMs: 10_000 });
    const { a } = await twoMembers();
    a.close();
    await until(() => vipSet(control).length === 1, 'compute-a’s VIP path leaves the ECMP set once LLGR-stale');
    expect(vipSet(control)).to.deep.equal(['compute-b 17']);
    expect(paths(control, VIP)).to.deep.equal(['compute-a 17 llgr-stale', 'compute-b 17']);
    expect(paths(control, '30.30.30.20/32'), 'alone, an LLGR-stale path is still used').to.deep.equal(['compute-a 18 llgr-stale']);
    await until(() => paths(control, VIP).length === 1, 'swept at the end of the long-lived restart time', 3_000);
    expect(paths(control, '30.30.30.20/32')).to.deep.equal([]);
  });

  it('an agent back from another address does not take the stale paths over', async () => {
    await start({ restartTimeMs: 10_000, longLivedRestartTimeMs: 0, endOfRibTimeoutMs: 10_000 });
    const { a } = await twoMembers();
    a.close();
    await until(() => control.agentChannels().length === 1, 'compute-a is down');
    await agent('compute-a', '127.6.21.9');
    await until(() => paths(control, '30.30.30.20/32').length === 0, 'old paths swept at once');
    expect(vipSet(control)).to.deep.equal(['compute-b 17']);
  });

  it('without the helper every path of a dropped agent goes at once (docs/protocol.md §6.7)', async () => {
    await start(undefined);
    const { a } = await twoMembers();
    a.close();
    await until(() => vipSet(control).length === 1, 'compute-a’s paths removed');
    expect(paths(control, '30.30.30.20/32')).to.deep.equal([]);
    expect(control.status().gracefulRestart).to.deep.equal({ helper: false });
  });
});
