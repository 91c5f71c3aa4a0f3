// What a control node passes on unchanged when it reflects or forwards a BGP path (issue #16 faults 2 and 3,
// docs/protocol.md §6.6): an unknown optional transitive attribute goes on with the Partial bit set (RFC 4271
// §5, §9), and AS_PATH segments keep their kinds (a SET stays a SET), with only our AS prepended toward eBGP.
import { expect } from 'chai';
import { encodeMessage } from '../../src/bgp/messages.ts';
import { emptyExtendedCommunities } from '../../src/bgp/extended-communities.ts';
import { defaultPathAttributes, type AsPathSegment } from '../../src/bgp/path-attributes.ts';
import { VPN_TABLE, instanceTableName } from '../../src/rib/index.ts';
import { eventually, type ScriptedPeer } from '../bgp/harness.ts';
import { ASN, scriptedSetup, type ScriptedSetup } from './bgp-scripted-setup.ts';

const RT = 'target:64512:8000001';
const SEGMENTS: AsPathSegment[] = [{ type: 'sequence', asns: [65001] }, { type: 'set', asns: [65002, 65003] }];

/** An UPDATE for one VPN route; the type-200 attribute goes out flagged 0xC0 as a peer that originates it would. */
function update(prefix: string, rd: string, opts: { asPath?: AsPathSegment[]; attr200?: string } = {}): Buffer {
  const bytes = encodeMessage({
    type: 'update',
    attributes: defaultPathAttributes({
      origin: 'igp', localPref: 100, asPath: opts.asPath ?? [],
      extCommunities: { ...emptyExtendedCommunities(), routeTargets: [RT] },
      unknown: opts.attr200 ? [{ flags: 0xc0, type: 200, value: opts.attr200 }] : [],
    }),
    mpReach: { nextHop: '10.8.8.8', nlri: { family: 'inet-vpn', routes: [{ rd, prefix, label: 50 }] } },
  });
  if (!opts.attr200) return bytes;
  // The codec always sets Partial on attributes it forwards; an originator does not: clear it for this test.
  const marker = Buffer.concat([Buffer.of(0xe0, 200, opts.attr200.length / 2), Buffer.from(opts.attr200, 'hex')]);
  const at = bytes.indexOf(marker);
  if (at < 0) throw new Error('type 200 attribute not found in the encoded UPDATE');
  bytes[at] = 0xc0;
  return bytes;
}

describe('control node: attributes kept on reflection (issue #16 faults 2, 3)', function () {
  this.timeout(20_000);
  let s: ScriptedSetup;
  let src: ScriptedPeer;
  before(async () => {
    s = await scriptedSetup({
      src: { asn: ASN, families: ['inet-vpn'], scripted: true },
      client: { asn: ASN, families: ['inet-vpn'] },
      gw: { asn: 65100, families: ['inet-vpn'] },
    }, { clusterId: '10.254.0.1' });
    src = await s.connect('src');
    await src.establish(ASN, '10.255.5.200');
  });
  after(async () => s?.stop());

  const learned = (name: string) => s.speakers[name]!.peer(s.controlAddress)!.adjRibIn().vpn;

  it('passes an unknown optional transitive attribute (type 200, 0xC0) on with the Partial bit: 0xE0, same value', async () => {
    src.send(update('30.30.30.71/32', '10.8.8.8:1', { attr200: 'deadbeef01' }));
    await eventually(() => learned('client').some((r) => r.rd === '10.8.8.8:1'), 'the client got the reflected route');
    const stored = s.control.control.rib.route(VPN_TABLE, '30.30.30.71/32', '10.8.8.8:1')!.paths[0]!;
    expect(stored.attrs.opaqueTransitive).to.deep.equal([{ flags: 0xc0, type: 200, value: 'deadbeef01' }]);
    const atClient = learned('client').find((r) => r.rd === '10.8.8.8:1')!;
    expect(atClient.attrs.unknown).to.deep.equal([{ flags: 0xe0, type: 200, value: 'deadbeef01' }]);
    await eventually(() => learned('gw').some((r) => r.rd === '10.8.8.8:1'), 'the gateway got the route');
    expect(learned('gw').find((r) => r.rd === '10.8.8.8:1')!.attrs.unknown).to.deep.equal([{ flags: 0xe0, type: 200, value: 'deadbeef01' }]);
  });

  it('reflects [SEQ 65001][SET 65002 65003] unchanged to an iBGP client, and prepends only our AS toward eBGP', async () => {
    src.send(update('30.30.30.72/32', '10.8.8.8:2', { asPath: SEGMENTS }));
    await eventually(() => learned('client').some((r) => r.rd === '10.8.8.8:2'), 'the client got the reflected route');
    expect(learned('client').find((r) => r.rd === '10.8.8.8:2')!.attrs.asPath).to.deep.equal(SEGMENTS);
    await eventually(() => learned('gw').some((r) => r.rd === '10.8.8.8:2'), 'the gateway got the route');
    expect(learned('gw').find((r) => r.rd === '10.8.8.8:2')!.attrs.asPath).to.deep.equal([
      { type: 'sequence', asns: [ASN, 65001] }, { type: 'set', asns: [65002, 65003] },
    ]);
  });

  it('counts a SET as one AS in the path length (RFC 4271 §9.1.2.2): [SEQ 65001][SET …] is ECMP-equal to [SEQ 65001 65009]', async () => {
    const rib = s.control.control.rib;
    src.send(update('30.30.30.73/32', '10.8.8.8:3', { asPath: SEGMENTS }));
    src.send(update('30.30.30.73/32', '10.8.8.7:3', { asPath: [{ type: 'sequence', asns: [65001, 65009] }] }));
    const table = instanceTableName('default-domain:demo:svc-vn:svc-vn');
    await eventually(() => rib.route(table, '30.30.30.73/32')?.paths.length === 2, 'both routes imported into the VRF');
    expect(rib.multipathPaths(table, '30.30.30.73/32').map((p) => p.rd).sort()).to.deep.equal(['10.8.8.7:3', '10.8.8.8:3']);
  });
});
