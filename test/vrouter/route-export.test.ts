import { expect } from 'chai';
import { emptyPublishedState, exportEntry, syncControlNode, vhostMac, type ExportedRoute } from '../../src/vrouter/route-export.ts';
import { routeKey } from '../../src/vrouter/agent-plan.ts';

const VRF = 'default-domain:admin:red:red';
const route = (prefix: string, label: number): ExportedRoute => ({ instance: VRF, prefix, label, virtualNetwork: 'default-domain:admin:red', loadBalanceFields: [] });

/** What each stanza sent is, in order: `sub <vrf>`, `pub <label>`, `unsub <vrf>`, `eor`. */
function kinds(sent: string[]): string[] {
  return sent.map((raw) => {
    if (raw.includes('EndOfRib')) return 'eor';
    const unsub = /<unsubscribe node="([^"]+)"/.exec(raw);
    if (unsub) return `unsub ${unsub[1]}`;
    const sub = /<subscribe node="([^"]+)"/.exec(raw);
    if (sub) return `sub ${sub[1]}`;
    const label = /<label>(\d+)<\/label>/.exec(raw);
    return `pub ${label?.[1]}`;
  });
}

describe('vrouter/route-export', () => {
  function session() {
    const sent: string[] = [];
    const unsubscribed: string[] = [];
    let seq = 0;
    const state = emptyPublishedState();
    const ctx = {
      from: 'compute-1', address: '127.1.0.1', mac: vhostMac('127.1.0.1'),
      instanceId: () => 2, nextSeq: () => ++seq,
      send: (raw: string) => sent.push(raw), unsubscribed: (vrf: string) => unsubscribed.push(vrf),
    };
    return { sent, unsubscribed, sync: (instances: Map<string, string>, exports: Map<string, ExportedRoute>) => syncControlNode(state, instances, exports, ctx) };
  }

  it('subscribes before publishing, sends its End-of-RIB once and re-sends only what changed', () => {
    const { sent, sync } = session();
    const instances = new Map([[VRF, 'default-domain:admin:red']]);
    sync(instances, new Map([[routeKey(VRF, '10.0.0.3/32'), route('10.0.0.3/32', 16)]]));
    expect(kinds(sent)).to.deep.equal([`sub ${VRF}`, 'pub 16', 'eor']);
    sent.length = 0;
    sync(instances, new Map([[routeKey(VRF, '10.0.0.3/32'), route('10.0.0.3/32', 16)], [routeKey(VRF, '10.0.0.4/32'), route('10.0.0.4/32', 17)]]));
    expect(kinds(sent)).to.deep.equal(['pub 17']);
  });

  it('withdraws (label 0) before unsubscribing, and says which VRF it left', () => {
    const { sent, unsubscribed, sync } = session();
    sync(new Map([[VRF, 'default-domain:admin:red']]), new Map([[routeKey(VRF, '10.0.0.3/32'), route('10.0.0.3/32', 16)]]));
    sent.length = 0;
    sync(new Map(), new Map());
    expect(kinds(sent)).to.deep.equal(['pub 0', `unsub ${VRF}`]);
    expect(sent[0]).to.include('dissociate');
    expect(unsubscribed).to.deep.equal([VRF]);
  });

  it('builds the entry the control node expects: own address, label, LOCAL_PREF 200 (docs/protocol.md §7.2)', () => {
    const entry = exportEntry(route('10.0.0.3/32', 16), '127.1.0.1', vhostMac('127.1.0.1'));
    expect(entry.nextHops).to.have.length(1);
    expect(entry.nextHops[0]).to.include({ address: '127.1.0.1', mac: '02:00:7f:01:00:01', label: 16 });
    expect(entry.nextHops[0].encapsulations).to.deep.equal(['gre', 'udp']);
    expect(entry.localPreference).to.equal(200);
    expect(exportEntry(route('10.0.0.3/32', 0), '127.1.0.1', '02:00:7f:01:00:01').localPreference).to.equal(0);
  });
});
