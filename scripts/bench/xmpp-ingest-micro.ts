// CPU-time micro-benchmark of the control node's XMPP ingest pieces, per publish + collection pair:
// framing (StreamFramer), decoding (decodeAgentStanza, both stanzas) and storing (Rib.addPath through
// pathFromItem, as AgentChannel does). process.cpuUsage, not wall time: the machine is shared.
// Usage: node --expose-gc --import tsx scripts/bench/xmpp-ingest-micro.ts [pairs]  (--expose-gc adds bytes retained)
import { StreamFramer } from '../../src/xmpp/stream-framer.ts';
import { encodeRoutePublish } from '../../src/xmpp/stanza-encoder.ts';
import { decodeAgentStanza, isStanzaError, type AgentStanza } from '../../src/xmpp/stanza-decoder.ts';
import { Rib } from '../../src/rib/index.ts';
import { pathFromItem } from '../../src/control/agent-channel.ts';
import type { PeerRef } from '../../src/rib/index.ts';
import { agentEntry } from './light-publisher.ts';

const pairs = Number(process.argv[2] ?? 100_000);
const instance = 'default-domain:bench:vn:vn';
const agents = 100;

function cpuMicros(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const text: string[] = [];
for (let i = 0; i < pairs; i++) {
  const agent = i % agents;
  const address = `127.2.0.${agent + 1}`;
  const prefix = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
  text.push(encodeRoutePublish({ from: `agent-${agent}`, instance, entry: agentEntry(prefix, address, 16 + (i % 1000), 'vn'), seq: i }));
}

const framedRaw: string[] = [];
const framer = new StreamFramer(1 << 22, false);
// Segments of 64 pairs (~90 KB), as a socket delivers them.
const segments: string[] = [];
for (let i = 0; i < pairs; i += 64) segments.push(text.slice(i, i + 64).join(''));
const frameUs = cpuMicros(() => {
  for (const segment of segments) for (const ev of framer.push(segment)) if (ev.type === 'stanza') framedRaw.push(ev.raw);
});

// Decoded stanzas are dropped at once, as AgentChannel does, so that GC sees the same young garbage.
let publishes = 0;
const decodeUs = cpuMicros(() => {
  for (const raw of framedRaw) {
    const s = decodeAgentStanza(raw);
    if (isStanzaError(s)) throw new Error(s.error);
    if (s.kind === 'publish') publishes++;
  }
});
if (publishes !== pairs) throw new Error(`decoded ${publishes} publishes of ${pairs}`);

const rib = new Rib();
rib.createInstance({ name: instance, virtualNetwork: 'default-domain:bench:vn', vnIndex: 5, importTargets: ['target:64512:5'], exportTargets: ['target:64512:5'] });
const peers: PeerRef[] = [];
for (let a = 0; a < agents; a++) peers.push({ kind: 'xmpp', name: `agent-${a}`, address: `127.2.0.${a + 1}` });
const network = { name: 'default-domain:bench:vn', vnIndex: 5 };
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
// The channel's work per pair: decode both stanzas, look the instance up, build the path, store it.
const pipelineUs = cpuMicros(() => {
  for (let i = 0; i < framedRaw.length; i += 2) {
    const p = decodeAgentStanza(framedRaw[i]) as AgentStanza;
    decodeAgentStanza(framedRaw[i + 1]);
    if (p.kind !== 'publish' || !p.entry) throw new Error('not a publish');
    rib.instance(instance);
    rib.addPath(instance, pathFromItem(peers[(i / 2) % agents], p.prefix, p.entry, 1, network));
  }
});
global.gc?.();
const retained = (process.memoryUsage().heapUsed - heapBefore) / pairs;
const addUs = pipelineUs - decodeUs;

const f = (us: number): string => (us / pairs).toFixed(2);
console.log(`pairs ${pairs}: frame ${f(frameUs)} µs, decode ${f(decodeUs)} µs, addPath (pipeline − decode) ${f(addUs)} µs per pair; ` +
  `frame + pipeline ${f(frameUs + pipelineUs)} µs → ${Math.round(pairs / ((frameUs + pipelineUs) / 1e6))} items/CPU-s` +
  (global.gc ? `; ${Math.round(retained)} B retained per route (VRF + VPN copy)` : ''));
