// A subscriber that stops reading must not make the control node buffer without bound: once its socket holds
// the send window, the changes for it are held as a set of prefixes and sent as current items when it drains.
import { expect } from 'chai';
import { ControlNode } from '../../src/control/control-node.ts';
import { RawAgent, defaultConfigControlNode, route, until } from './raw-agent.ts';

const CONTROL = '127.0.12.2';
const ROUTES = 15_000;

describe('control node: back-pressure toward a subscriber that stops reading', function () {
  this.timeout(60_000);
  let control: ControlNode;
  const agents: RawAgent[] = [];

  after(async () => {
    for (const a of agents) a.close();
    await control?.stop();
  });

  it('holds the slow subscriber’s changes while its socket is full and sends them all when it drains', async () => {
    let port: number;
    ({ control, port } = await defaultConfigControlNode('control-bp', CONTROL));
    const slow = await RawAgent.connect('compute-3', '127.0.32.3', port, CONTROL);
    const publisher = await RawAgent.connect('compute-2', '127.0.32.2', port, CONTROL);
    agents.push(slow, publisher);
    slow.subscribe(4);
    publisher.subscribe(3);
    await until(() => control.agentChannels().every((c) => c.subscriptions.size === 1), 'both subscribed');
    slow.socket.pause();

    for (let i = 0; i < ROUTES; i++) {
      publisher.publish(route(`40.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, '127.0.32.2', 16 + (i % 1000)));
    }
    await until(() => control.rib.prefixes('default-domain:demo:svc-vn:svc-vn.inet.0').length >= ROUTES, 'every route is in the RIB', 30_000);
    await until(() => control.status().reflection.heldBack > 0, 'the slow subscriber’s changes are held back', 10_000);
    expect(publisher.closed, 'the publisher is unaffected').to.equal(false);
    // What the slow subscriber has not read stays in the control node as held prefixes, not bytes: its
    // socket holds at most the send window (256 KiB) plus the message that crossed it.
    const slowSession = control.agentChannels().find((c) => c.name === 'compute-3')!.session;
    expect(slowSession.unsentBytes).to.be.below(256 * 1024 + 64 * 1024);

    slow.socket.resume();
    const ids = (): number => new Set(slow.received.match(/<item id="40\.[^"]+"/g) ?? []).size;
    await until(() => ids() === ROUTES, 'the slow subscriber has an item for every route', 30_000);
    expect(slow.closed).to.equal(false);
  });
});
