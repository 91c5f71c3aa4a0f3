// The BGP part of a control node's introspect API: peers, each peer's Adj-RIB-In and Adj-RIB-Out, and an
// administrative reset. Reads the control node's BGP attachment; owns only the HTTP shape.
import type { BgpAttachment } from '../control/bgp-routing.ts';
import type { BgpPeer } from '../bgp/peer.ts';
import { ApiError, type ApiRouter } from './api-router.ts';
import type { RouteSchema } from './request-schemas.ts';

const PEER_QUERY: RouteSchema['query'] = { peer: { type: 'string', description: 'peer name or address' } };

/**
 * An Established session shows no error from before it came up (a connect refused while the peer was
 * starting is history); an error of this session (a malformed UPDATE treated as withdraw) stays.
 */
function currentView<T extends { state: string; lastError?: string; lastReason?: { kind: string } }>(peer: T): T {
  if (peer.state !== 'Established' || peer.lastReason?.kind === 'malformed-update') return peer;
  const { lastError: _e, lastReason: _r, ...rest } = peer;
  return rest as T;
}

export function mountBgpApi(router: ApiRouter, nodeName: string, bgp: BgpAttachment): void {
  const requirePeer = (nameOrAddress: string | null): BgpPeer => {
    const names = bgp.peerNames();
    if (names.length === 0) throw new ApiError(404, `${nodeName} has no BGP peers`, 'not-found', 'query.peer');
    if (!nameOrAddress) throw new ApiError(400, `give peer=<name or address>; peers: ${names.join(', ')}`, 'invalid-query', 'query.peer');
    const peer = bgp.findPeer(nameOrAddress);
    if (!peer) throw new ApiError(404, `${nodeName} has no BGP peer ${nameOrAddress}; peers: ${names.join(', ')}`, 'not-found', 'query.peer');
    return peer;
  };
  /** Without peers both RIB views are empty lists (there is nothing to name); with peers, `peer` is required. */
  const ribOf = (which: 'adjRibIn' | 'adjRibOut', nameOrAddress: string | null): unknown => {
    if (bgp.peerNames().length === 0 && !nameOrAddress) return [];
    return requirePeer(nameOrAddress)[which]();
  };
  const tag = 'node: control-node';
  router.on('GET', '/bgp/peers', () => ({ status: 200, body: bgp.peerDetails().map(currentView) }), { tag, summary: 'BGP peers with state, negotiated families and counters' });
  router.on('GET', '/bgp/adj-rib-out', (req) => ({ status: 200, body: ribOf('adjRibOut', req.query.get('peer')) }), { tag, summary: "what this node sends a peer ([] with no peers)", query: PEER_QUERY });
  router.on('GET', '/bgp/adj-rib-in', (req) => ({ status: 200, body: ribOf('adjRibIn', req.query.get('peer')) }), { tag, summary: "what a peer sent this node ([] with no peers)", query: PEER_QUERY });
  router.on('POST', '/bgp/reset', (req) => {
    const peer = requirePeer(req.query.get('peer'));
    bgp.resetPeer(peer);
    return { status: 200, body: { reset: peer.name } };
  }, { tag, summary: 'administrative reset of one peer session', query: PEER_QUERY });
}
