// A control node with BGP neighbours the tests drive: scripted peers (raw sockets that dial the control node
// and send exactly the bytes a test gives) and real speakers (which the control node dials). Addresses come
// from this suite's loopback range 127.5.0.0/16, a fresh /24 per setup.
import type { LocalGracefulRestart } from '../../src/bgp/graceful-restart-capability.ts';
import type { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { validateTopology } from '../../src/topology/loader.ts';
import { startControlNode, type RunningControlNode } from '../../src/topology/node-runtime.ts';
import { freePort } from '../interop/bgp-daemons.ts';
import { ScriptedPeer, eventually, startSpeaker } from '../bgp/harness.ts';

export const ASN = 64512;

let nextBlock = (process.pid % 40) * 6;
/** A fresh 127.5.x.0 block (hosts 1..254). */
export function grBlock(): (host: number) => string {
  const third = nextBlock++ % 250;
  return (host) => `127.5.${third}.${host}`;
}

export interface PeerSpec {
  asn: number;
  families: ('inet-vpn' | 'route-target')[];
  /** Scripted: the test opens the session itself (ScriptedSetup.connect); else a BgpSpeaker the control node dials. */
  scripted?: boolean;
  /** The real speaker offers graceful restart (RFC 4724, and LLGR with a long-lived stale time). */
  gracefulRestart?: LocalGracefulRestart;
}

export interface ScriptedSetup {
  control: RunningControlNode;
  controlAddress: string;
  bgpPort: number;
  xmppPort: number;
  /** compute-1's address. */
  computeAddress: string;
  addresses: Record<string, string>;
  speakers: Record<string, BgpSpeaker>;
  /** A new raw session from the named scripted peer's address (not yet Established). */
  connect(name: string): Promise<ScriptedPeer>;
  stop(): Promise<void>;
}

export async function scriptedSetup(
  peers: Record<string, PeerSpec>,
  /** expectAgent: compute-1 is a simulated (not external) compute, so the control node expects its agent. */
  options: { clusterId?: string; gracefulRestart?: Record<string, unknown>; expectAgent?: boolean } = {},
): Promise<ScriptedSetup> {
  const ip = grBlock();
  const controlAddress = ip(1);
  const bgpPort = await freePort(controlAddress);
  const xmppPort = await freePort(controlAddress);
  const addresses: Record<string, string> = {};
  const speakers: Record<string, BgpSpeaker> = {};
  const bgpPeers: unknown[] = [];
  let host = 10;
  for (const [name, spec] of Object.entries(peers)) {
    const address = ip(host++);
    addresses[name] = address;
    if (spec.scripted) {
      bgpPeers.push({ name, address, port: 179, asn: spec.asn, families: spec.families, passive: true });
      continue;
    }
    const speaker = await startSpeaker({
      asn: spec.asn, routerId: `10.255.5.${host}`, address, families: spec.families, ...(spec.gracefulRestart && { gracefulRestart: spec.gracefulRestart }),
    });
    speaker.addPeer({ address: controlAddress, asn: ASN, passive: true });
    speakers[name] = speaker;
    bgpPeers.push({ name, address, port: speaker.listenAddress()!.port, asn: spec.asn, families: spec.families });
  }
  const loaded = validateTopology({
    name: 'bgp-scripted',
    asn: ASN,
    controlNodes: [{
      name: 'control-1', address: controlAddress, xmppPort, bgpPort,
      ...(options.clusterId && { clusterId: options.clusterId }),
    }],
    ...(options.gracefulRestart && { gracefulRestart: options.gracefulRestart }),
    computes: [{ name: 'compute-1', address: ip(2), external: !options.expectAgent }],
    networks: [{ name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] }],
    bgpPeers,
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const control = await startControlNode(loaded.topology, 'control-1', { endOfRibQuietMs: 100 });
  for (const [name, speaker] of Object.entries(speakers)) {
    await eventually(() => speaker.peers()[0]?.state === 'established', `${name} established`);
  }
  const scripted: ScriptedPeer[] = [];
  return {
    control, controlAddress, bgpPort, xmppPort, computeAddress: ip(2), addresses, speakers,
    connect: async (name) => {
      const p = await ScriptedPeer.connect(addresses[name]!, { address: controlAddress, port: bgpPort });
      scripted.push(p);
      return p;
    },
    stop: async () => {
      for (const p of scripted) p.close();
      await control.stop();
      await Promise.all(Object.values(speakers).map((s) => s.stop()));
    },
  };
}
