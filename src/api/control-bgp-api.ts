// The BGP part of a control node's introspect API: peers, each peer's Adj-RIB-In and Adj-RIB-Out, and an
// administrative reset. Reads the control node's BGP attachment; owns only the HTTP shape.
import type { BgpAttachment } from '../control/bgp-routing.ts';
import type { BgpPeer } from '../bgp/peer.ts';
import { ApiError, type ApiRouter } from './api-router.ts';

export function mountBgpApi(router: ApiRouter, nodeName: string, bgp: BgpAttachment): void {
  const requirePeer = (nameOrAddress: string | null): BgpPeer => {
    const names = bgp.peerNames();
    if (names.length === 0) throw new ApiError(404, `${nodeName} has no BGP peers`);
    if (!nameOrAddress) throw new ApiError(400, `give peer=<name or address>; peers: ${names.join(', ')}`);
    const peer = bgp.findPeer(nameOrAddress);
    if (!peer) throw new ApiError(404, `${nodeName} has no BGP peer ${nameOrAddress}; peers: ${names.join(', ')}`);
    return peer;
  };
  router.on('GET', '/bgp/peers', () => ({ status: 200, body: bgp.peerDetails() }));
  router.on('GET', '/bgp/adj-rib-out', (req) => ({ status: 200, body: requirePeer(req.query.get('peer')).adjRibOut() }));
  router.on('GET', '/bgp/adj-rib-in', (req) => ({ status: 200, body: requirePeer(req.query.get('peer')).adjRibIn() }));
  router.on('POST', '/bgp/reset', (req) => {
    const peer = requirePeer(req.query.get('peer'));
    bgp.resetPeer(peer);
    return { status: 200, body: { reset: peer.name } };
  });
}
