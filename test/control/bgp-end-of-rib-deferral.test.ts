// A control node starting with graceful restart on holds its BGP End-of-RIB until the agents the topology
// expects on it are back (docs/protocol.md §6.7, RFC 4724 §4.1), or until end-of-rib-timeout: a peer
// helping with our restart must not sweep the routes of agents that have not reconnected yet.
import { expect } from 'chai';
import { CONTROL_NODE_JID, encodeEndOfRib, encodeSubscribe } from '../../src/xmpp/stanza-encoder.ts';
import { eventually } from '../bgp/harness.ts';
import { RawAgent, VRF } from './raw-agent.ts';
import { ASN, scriptedSetup, type ScriptedSetup } from './bgp-scripted-setup.ts';

describe('control node: BGP End-of-RIB deferred until the expected agents are back', function () {
  this.timeout(20_000);
  let s: ScriptedSetup | undefined;
  let agent: RawAgent | undefined;
  afterEach(async () => {
    agent?.socket.destroy();
    await s?.stop();
    s = undefined;
  });

  /** End-of-RIB markers the gateway receives from now on, by family. */
  function watch(setup: ScriptedSetup): { eor: string[] } {
    const seen = { eor: [] as string[] };
    setup.speakers.gw!.on('end-of-rib', (_peer, family) => seen.eor.push(family));
    return seen;
  }

  it('sends End-of-RIB once compute-1’s agent has re-published and got its own End-of-RIB', async () => {
    s = await scriptedSetup({ gw: { asn: ASN, families: ['inet-vpn', 'route-target'], gracefulRestart: { restartTime: 60 } } },
      { gracefulRestart: { enable: true, restartTime: 60, endOfRibTimeout: 60 }, expectAgent: true });
    const seen = watch(s);
    // A new session (watched from its start): the table goes, its End-of-RIB does not.
    const gw = s.speakers.gw!.peer(s.controlAddress)!;
    const sessions = gw.status().counters.establishedTransitions;
    gw.reset();
    await eventually(() => gw.status().counters.establishedTransitions > sessions && gw.status().prefixesIn > 0, 'the gateway got our RTarget route again');
    expect(seen.eor).to.deep.equal([]);
    agent = await RawAgent.connect('compute-1', s.computeAddress, s.xmppPort, s.controlAddress);
    agent.send(encodeSubscribe({ from: 'compute-1', instance: VRF, instanceId: 3 }));
    // The agent's own End-of-RIB (docs/protocol.md §3.4): the control node's selection deferral waits for it.
    agent.send(encodeEndOfRib({ from: 'compute-1', to: CONTROL_NODE_JID }));
    await eventually(() => agent!.received.includes('EndOfRib'), 'the agent got its End-of-RIB', 10_000);
    await eventually(() => seen.eor.length === 2, 'End-of-RIB for both families', 5000);
    expect(seen.eor.sort()).to.deep.equal(['inet-vpn', 'route-target']);
  });

  it('sends it at end-of-rib-timeout when an expected agent never comes', async () => {
    s = await scriptedSetup({ gw: { asn: ASN, families: ['inet-vpn'] } },
      { gracefulRestart: { enable: true, restartTime: 60, endOfRibTimeout: 1 }, expectAgent: true });
    const seen = watch(s);
    await eventually(() => seen.eor.length === 1, 'End-of-RIB after the deferral timer', 5000);
    expect(seen.eor).to.deep.equal(['inet-vpn']);
  });

  it('does not wait when the node expects no agent (all computes external)', async () => {
    s = await scriptedSetup({ gw: { asn: ASN, families: ['inet-vpn'] } }, { gracefulRestart: { enable: true, endOfRibTimeout: 60 } });
    const seen = watch(s);
    s.speakers.gw!.peer(s.controlAddress)!.reset();
    await eventually(() => seen.eor.length === 1, 'End-of-RIB with the table of the new session');
  });
});
