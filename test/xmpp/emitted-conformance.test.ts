// Every <entry> the simulator's own agents and control node put on the wire (taken from the stanza
// tap of a running default topology) checked against xmpp_unicast.xsd, and every agent publish
// against the control node's docs/protocol.md §3/§5 route rules.
import { expect } from 'chai';
import { parse, type Element } from 'ltx';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { TOPOLOGIES_DIR } from '../../src/scenario/runner.ts';
import {
  decodeAgentStanza, decodeControlStanza, isStanzaError, validateAgentRoute,
} from '../../src/xmpp/stanza-decoder.ts';
import { unicastItemsSchema, type XsdStructure } from './xsd-structure.ts';
import { sleep } from './raw-peer.ts';

const VIP = '30.30.30.100/32';

function entries(el: Element, out: Element[] = []): Element[] {
  if (el.name === 'entry') out.push(el);
  else for (const c of el.getChildElements()) entries(c, out);
  return out;
}

describe('conformance of what our agents and control node emit (default topology, real sessions)', function () {
  this.timeout(30_000);
  let sim: Simulation | undefined;
  const xsd: XsdStructure = unicastItemsSchema();
  after(async () => sim?.stop());

  it('every emitted <entry> fits xmpp_unicast.xsd; every agent publish passes the route rules', async () => {
    const loaded = await loadTopologyFile(`${TOPOLOGIES_DIR}default.json`);
    if (!loaded.ok) throw new Error('default topology invalid');
    sim = await Simulation.start(loaded.topology, { endOfRibQuietMs: 200 });
    const deadline = Date.now() + 15_000;
    while (sim.tap.list({ prefix: VIP, direction: 'out' }).filter((r) => r.summary.startsWith('items')).length === 0) {
      if (Date.now() > deadline) throw new Error('the VIP was never reflected');
      await sleep(50);
    }
    let checkedEntries = 0;
    let publishes = 0;
    for (const r of sim.tap.list({ direction: 'out' })) {
      if (r.raw.startsWith('<stream:stream')) continue;
      const isAgentRoute = r.raw.startsWith('<iq') && r.raw.includes('/bgp-peer"');
      const isControlRoute = r.raw.startsWith('<message') && r.raw.includes('/bgp-peer"');
      if (!isAgentRoute && !isControlRoute) continue;
      const d = isAgentRoute ? decodeAgentStanza(r.raw) : decodeControlStanza(r.raw);
      expect(isStanzaError(d), `${r.node} → ${r.peer}: ${r.raw.slice(0, 200)}`).to.equal(false);
      if (!isStanzaError(d) && d.kind === 'publish') {
        publishes++;
        const next = sim.tap.list({ node: r.node, sinceSeq: r.seq, direction: 'out' })[0];
        const withdraw = next?.raw.includes('<dissociate') ?? false;
        expect(validateAgentRoute(d, withdraw), r.raw.slice(0, 200)).to.equal(null);
      }
      for (const e of entries(parse(r.raw))) {
        checkedEntries++;
        expect(xsd.check(e, 'EntryType'), `${r.node} → ${r.peer}`).to.deep.equal([]);
      }
    }
    expect(publishes).to.be.greaterThan(0);
    expect(checkedEntries).to.be.greaterThan(publishes);
  });
});
