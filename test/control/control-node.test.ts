// The control node against raw dialect clients over real TCP: every route-level violation closes only
// the offending session; every other session and path stays exactly as it was.
import { expect } from 'chai';
import net from 'node:net';
import { once } from 'node:events';
import { ControlNode } from '../../src/control/control-node.ts';
import {
  encodeAgentStreamOpen, encodeRoutePublish, encodeSubscribe, encodeUnsubscribe,
} from '../../src/xmpp/stanza-encoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';
import { RawAgent, VRF, defaultConfigControlNode, route, until } from './raw-agent.ts';

const CONTROL_ADDRESS = '127.0.12.1';


describe('control node: route-level rules and bad input over real sessions', function () {
  this.timeout(20_000);
  let control: ControlNode;
  let port: number;
  let healthy: RawAgent;
  const agents: RawAgent[] = [];

  async function agent(name: string, address: string): Promise<RawAgent> {
    const a = await RawAgent.connect(name, address, port);
    agents.push(a);
    return a;
  }

  /** Every path of the VRF, as (peer, prefix, label) strings: what must not change. */
  function vrfPaths(): string[] {
    return control.rib
      .routes(`${VRF}.inet.0`)
      .flatMap((r) => r.paths.map((p) => `${p.peer.name} ${r.prefix} ${p.label} ${p.rd}`))
      .sort();
  }

  before(async () => {
    ({ control, port } = await defaultConfigControlNode('control-test', CONTROL_ADDRESS));
    healthy = await agent('compute-2', '127.0.22.2');
    healthy.subscribe();
    healthy.publish(route('30.30.30.100/32', '127.0.22.2', 17));
    await until(() => vrfPaths().length === 1, 'the healthy path is in the RIB');
  });

  after(async () => {
    for (const a of agents) a.close();
    await control.stop();
  });

  const violations: [string, (a: RawAgent) => void][] = [
    ['a duplicate subscribe', (a) => (a.subscribe(), a.subscribe())],
    ['an unsubscribe without a subscribe', (a) => a.send(encodeUnsubscribe({ from: a.name, instance: VRF, instanceId: 3 }))],
    ['a route for an unsubscribed VRF', (a) => a.publish(route('30.30.30.100/32', '127.0.22.9', 20))],
    ['an item with no next-hop', (a) => (a.subscribe(), a.publish(makeRouteEntry({ prefix: '30.30.30.100/32', nextHops: [] })))],
    [
      'an item with two next-hops',
      (a) => (
        a.subscribe(),
        a.publish(makeRouteEntry({ prefix: '30.30.30.100/32', nextHops: [makeNextHop({ address: '127.0.22.9', label: 20 }), makeNextHop({ address: '127.0.22.8', label: 21 })] }))
      ),
    ],
    ['label 0 on an add', (a) => (a.subscribe(), a.publish(route('30.30.30.100/32', '127.0.22.9', 0)))],
    ['a label over 24 bits', (a) => (a.subscribe(), a.publish(route('30.30.30.100/32', '127.0.22.9', 0x1000000)))],
    ['a prefix that does not parse', (a) => (a.subscribe(), a.publish(route('30.30.300.1/32', '127.0.22.9', 20)))],
    ['malformed XML', (a) => a.send('<iq type="set" from="x" to="network-control@contrailsystems.com/bgp-peer"><pubsub><subscribe></iq>')],
  ];

  for (const [what, act] of violations) {
    it(`closes only the session that sends ${what}`, async () => {
      const before = vrfPaths();
      const bad = await agent('compute-9', '127.0.22.9');
      act(bad);
      await until(() => bad.closed, 'the offending session is closed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(healthy.closed, 'the other session').to.equal(false);
      expect(vrfPaths()).to.deep.equal(before);
      expect(control.agentChannels().map((c) => c.name)).to.deep.equal(['compute-2']);
    });
  }

  it('attributes paths to the session, never to a stanza’s from: an agent cannot remove another’s path', async () => {
    const before = vrfPaths();
    const spoofer = await agent('compute-3', '127.0.22.3');
    spoofer.subscribe();
    // Withdraw "compute-2's" VIP and publish a prefix in its name: both land on compute-3's own paths.
    spoofer.publish(route('30.30.30.100/32', '127.0.22.2', 17), { from: 'compute-2', withdraw: true });
    spoofer.publish(route('30.30.30.50/32', '127.0.22.3', 30), { from: 'compute-2' });
    await until(() => vrfPaths().length === before.length + 1, 'the spoofer’s route is in');
    expect(vrfPaths()).to.include.members(before);
    expect(vrfPaths()).to.include('compute-3 30.30.30.50/32 30 127.0.22.3:3');
    spoofer.close();
    await until(() => vrfPaths().length === before.length, 'the spoofer’s path is gone with its session');
    expect(vrfPaths()).to.deep.equal(before);
  });

  it('a collection without its publish is dropped and the session stays up', async () => {
    const a = await agent('compute-4', '127.0.22.4');
    a.subscribe();
    a.send(
      '<iq type="set" from="compute-4" to="network-control@contrailsystems.com/bgp-peer" id="collection1"><pubsub xmlns="http://jabber.org/protocol/pubsub">' +
        `<collection node="${VRF}"><associate node="1/1/${VRF}/30.30.30.60/32"/></collection></pubsub></iq>`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.closed).to.equal(false);
    expect(control.agentChannels().find((c) => c.name === 'compute-4')?.counters.collectionsWithoutPublish).to.equal(1);
    a.close();
  });

  it('keeps a subscribe for an unconfigured VRF pending, with its routes queued, until the VRF exists', async () => {
    const a = await agent('compute-5', '127.0.22.5');
    a.send(encodeSubscribe({ from: 'compute-5', instance: 'default-domain:demo:later:later', instanceId: 4 }));
    a.send(encodeRoutePublish({ from: 'compute-5', instance: 'default-domain:demo:later:later', entry: route('40.0.0.1/32', '127.0.22.5', 40), seq: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.closed).to.equal(false);
    expect(control.rib.instance('default-domain:demo:later:later')).to.equal(undefined);
    a.close();
  });
});

describe('control node: strict mode', function () {
  this.timeout(10_000);
  it('accepts only the topology’s computes, each from its own address', async () => {
    const { control, port } = await defaultConfigControlNode('control-strict', CONTROL_ADDRESS, { allowedAgents: new Map([['compute-1', '127.0.22.1']]) });
    try {
      const stranger = net.connect({ host: CONTROL_ADDRESS, port, localAddress: '127.0.22.7' });
      stranger.on('error', () => {});
      stranger.write(encodeAgentStreamOpen('compute-7'));
      await once(stranger, 'close');
      const impostor = net.connect({ host: CONTROL_ADDRESS, port, localAddress: '127.0.22.8' });
      impostor.on('error', () => {});
      impostor.write(encodeAgentStreamOpen('compute-1'));
      await once(impostor, 'close');
      const good = await RawAgent.connect('compute-1', '127.0.22.1', port);
      expect(control.agentChannels().map((c) => c.name)).to.deep.equal(['compute-1']);
      good.close();
    } finally {
      await control.stop();
    }
  });
});
