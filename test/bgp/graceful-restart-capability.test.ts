// Byte-exact fixtures for the graceful restart capabilities (RFC 4724 §3 code 64, RFC 9494 §3 code 71) and
// what two OPENs negotiate (docs/protocol.md §6.7).
import { expect } from 'chai';
import {
  decodeGracefulRestart, decodeLongLivedGracefulRestart, encodeGracefulRestart, encodeLongLivedGracefulRestart,
  localCapabilities, negotiateGracefulRestart,
} from '../../src/bgp/graceful-restart-capability.ts';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

describe('bgp graceful restart capabilities', () => {
  it('GR (64): R bit, 12-bit restart time, per-family F bit', () => {
    const cap = {
      restarting: true, notification: false, restartTime: 120,
      families: [{ afi: 1, safi: 128, forwardingState: true }, { afi: 1, safi: 132, forwardingState: false }],
    };
    expect(encodeGracefulRestart(cap).toString('hex')).to.equal('8078' + '00018080' + '00018400');
    expect(decodeGracefulRestart(hex('8078 00018080 00018400'))).to.deep.equal(cap);
    // N bit (RFC 8538) and the largest restart time; no family at all is legal (a speaker that restarts nothing).
    expect(decodeGracefulRestart(hex('4fff'))).to.deep.equal({ restarting: false, notification: true, restartTime: 4095, families: [] });
  });

  it('LLGR (71): per family F bit and 24-bit long-lived stale time', () => {
    const cap = { families: [{ afi: 1, safi: 128, forwardingState: true, staleTime: 3600 }, { afi: 1, safi: 132, forwardingState: false, staleTime: 0xffffff }] };
    expect(encodeLongLivedGracefulRestart(cap).toString('hex')).to.equal('00018080000e10' + '00018400ffffff');
    expect(decodeLongLivedGracefulRestart(hex('00018080000e10 00018400ffffff'))).to.deep.equal(cap);
  });

  it('refuses values its fields cannot hold, and ignores malformed capabilities (kept as other)', () => {
    expect(() => encodeGracefulRestart({ restarting: false, notification: false, restartTime: 4096, families: [] })).to.throw(/restart time 4096/);
    expect(() => encodeLongLivedGracefulRestart({ families: [{ afi: 1, safi: 128, forwardingState: false, staleTime: 0x1000000 }] })).to.throw(/stale time/);
    expect(decodeGracefulRestart(hex('0078 000180'))).to.equal(undefined);
    expect(decodeLongLivedGracefulRestart(hex('000180800e10'))).to.equal(undefined);
    const body = '04 fc00 005a 0a000001 0b 02 09 4003 007800 4702 0001';
    const msg = decodeMessage(hex(`${MARKER} ${(19 + hex(body).length).toString(16).padStart(4, '0')} 01 ${body}`));
    if (msg.type !== 'open') throw new Error('not an OPEN');
    expect(msg.capabilities.gracefulRestart).to.equal(undefined);
    expect(msg.capabilities.other.map((o) => o.code)).to.deep.equal([64, 71]);
  });

  it('an OPEN carries both, after 4-octet AS, and decodes back', () => {
    const capabilities = {
      multiprotocol: [{ afi: 1, safi: 128 }], routeRefresh: true, fourOctetAs: 64512,
      ...localCapabilities({ restartTime: 120, longLivedStaleTime: 3600 }, ['inet-vpn'], true), other: [],
    };
    const bytes = encodeMessage({ type: 'open', asn: 64512, holdTime: 90, routerId: '10.0.0.1', capabilities });
    expect(bytes.toString('hex')).to.equal(`${MARKER}003e 01 04 fc00 005a 0a000001 21 02 1f
      0104 00010080 0200 4104 0000fc00 4006 8078 00018080 4707 0001808000 0e10`.replace(/\s+/g, ''));
    const msg = decodeMessage(bytes);
    if (msg.type !== 'open') throw new Error('not an OPEN');
    expect(msg.capabilities).to.deep.equal(capabilities);
  });

  it('negotiates GR only when both sides sent 64, LLGR only when both sent 71; families are the session’s', () => {
    const ours = localCapabilities({ restartTime: 90, longLivedStaleTime: 600 }, ['inet-vpn', 'route-target'], false);
    const theirs = localCapabilities({ restartTime: 30, longLivedStaleTime: 300 }, ['inet-vpn', 'route-target'], true);
    theirs.gracefulRestart.families[1]!.forwardingState = false;
    expect(negotiateGracefulRestart(ours, theirs, ['inet-vpn'])).to.deep.equal({
      restartTime: 30, families: ['inet-vpn'], forwarding: ['inet-vpn'], longLived: { 'inet-vpn': 300 }, restarting: true,
    });
    expect(negotiateGracefulRestart(ours, theirs, ['inet-vpn', 'route-target'])!.forwarding).to.deep.equal(['inet-vpn']);
    expect(negotiateGracefulRestart({ gracefulRestart: ours.gracefulRestart }, theirs, ['inet-vpn'])!.longLived).to.deep.equal({});
    expect(negotiateGracefulRestart({}, theirs, ['inet-vpn'])).to.equal(undefined);
    expect(negotiateGracefulRestart(ours, {}, ['inet-vpn'])).to.equal(undefined);
  });
});
