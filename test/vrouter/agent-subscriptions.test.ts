// An agent holds routes only for the VRFs it is subscribed to on that session (docs/protocol.md §3.1, §4):
// an <items> that crosses the agent's unsubscribe on the wire, or names a VRF the agent never asked for,
// must not reach the FIB. Real control node and agent over XMPP on loopback.
import { expect } from 'chai';
import { ControlNode } from '../../src/control/control-node.ts';
import { configSource } from '../../src/control/config-source.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { VrouterAgent } from '../../src/vrouter/agent.ts';
import { InProcessUnderlay } from '../../src/vrouter/underlay.ts';
import { encodeRouteItems } from '../../src/xmpp/stanza-encoder.ts';
import { makeNextHop, makeRouteEntry } from '../../src/xmpp/route-entry.ts';

const VN = 'default-domain:demo:svc-vn';
const VRF = `${VN}:svc-vn`;
const OTHER_VRF = 'default-domain:demo:other-vn:other-vn';
const CONTROL = '127.16.2.1';
const COMPUTE = '127.16.2.11';

async function until(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('agent: routes only for subscribed VRFs', function () {
  this.timeout(20_000);
  let store: ConfigStore;
  let control: ControlNode;
  let agent: VrouterAgent;
  const logged: string[] = [];

  before(async () => {
    store = new ConfigStore({ reconcile: nativeDriverHook });
    store.batch(() => {
      store.createVirtualNetwork({ name: VN, subnets: ['30.30.30.0/24'] });
      store.createVirtualMachineInterface({ name: 'web-a', virtualNetwork: VN, compute: 'compute-1' });
      store.createInstanceIp({ name: 'web-a', virtualMachineInterface: 'web-a', address: '30.30.30.10' });
    });
    control = new ControlNode({ name: 'control-1', address: CONTROL, xmppPort: 0, asn: 64512, config: configSource(store), globals: { hashFields: [], encapsulationPriorities: ['MPLSoUDP'] }, endOfRibQuietMs: 100 });
    const { xmpp } = await control.start();
    agent = new VrouterAgent({ name: 'compute-1', address: COMPUTE, controlNodes: [{ name: 'control-1', host: CONTROL, port: xmpp.port }], underlay: new InProcessUnderlay(), log: (line) => logged.push(line) });
    agent.start();
    await until('the agent subscribed to its VRF', () => agent.status().sessions[0]?.subscriptions.some((s) => s.instance === VRF) === true);
  });

  after(async () => {
    await agent?.stop();
    await control?.stop();
  });

  const push = (instance: string, prefix: string): void => {
    const entry = makeRouteEntry({ prefix, nextHops: [makeNextHop({ address: '127.16.2.12', label: 33 })] });
    control.agentChannels()[0]!.session.send(encodeRouteItems({ to: 'compute-1', instance, entries: [entry] }));
  };
  const holds = (prefix: string): boolean => agent.receivedRoutes().some((r) => r.prefix === prefix);

  it('installs an item for a subscribed VRF and ignores one for a VRF it never subscribed to', async () => {
    push(OTHER_VRF, '40.40.40.40/32');
    push(VRF, '30.30.30.77/32');
    await until('the subscribed VRF route arrived', () => holds('30.30.30.77/32'));
    expect(holds('40.40.40.40/32')).to.equal(false);
    expect(agent.vrouter.fib(OTHER_VRF).flatMap((v) => v.routes)).to.deep.equal([]);
    expect(logged.some((line) => line.includes(OTHER_VRF) && line.includes('not subscribed'))).to.equal(true);
  });

  it('ignores an item that arrives after the agent unsubscribed the VRF', async () => {
    store.deleteInstanceIp('web-a');
    store.deleteVirtualMachineInterface('web-a');
    await until('the agent unsubscribed', () => agent.status().sessions[0]?.subscriptions.length === 0);
    expect(holds('30.30.30.77/32')).to.equal(false);
    push(VRF, '30.30.30.78/32');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(holds('30.30.30.78/32')).to.equal(false);
    expect(agent.vrouter.fib().flatMap((v) => v.routes.map((r) => r.prefix))).to.not.include('30.30.30.78/32');
  });
});
