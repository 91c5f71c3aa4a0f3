// A shipped topology moved to a loopback block and ports of its own (so that it runs beside other
// suites), started in-process and served with the web view.
import { createServer } from 'node:net';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { webView } from '../../src/web/web-view.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const a = server.address();
      server.close(() => resolve(a && typeof a === 'object' ? a.port : 0));
    });
  });
}

let block = 0;

/** `topologies/<name>.json` on 127.<150-199>.<x>.0/24 with free XMPP/BGP ports. */
export async function isolatedTopology(name: string): Promise<Topology> {
  const loaded = await loadTopologyFile(new URL(`../../topologies/${name}.json`, import.meta.url).pathname);
  if (!loaded.ok) throw new Error(`${name}.json is invalid`);
  const t = loaded.topology;
  block += 1;
  const second = 150 + (process.pid % 50);
  const third = (Math.floor(process.pid / 50) * 11 + block * 17) % 250;
  const at = (host: number): string => `127.${second}.${third}.${host}`;
  const controlNodes = [];
  for (const [i, c] of t.controlNodes.entries()) controlNodes.push({ ...c, address: at(1 + i), routerId: at(1 + i), xmppPort: await freePort(), bgpPort: await freePort() });
  return { ...t, controlNodes, computes: t.computes.map((c, i) => ({ ...c, address: at(20 + i) })), bgpPeers: [] };
}

export interface WebSimulation {
  sim: Simulation;
  url: string;
  post(path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startWebSimulation(topology: Topology): Promise<WebSimulation> {
  const sim = await Simulation.start(topology, { endOfRibQuietMs: 200 });
  const view = webView(sim.api, { intervalMs: 250 });
  const url = await sim.serve('127.0.0.1', 0, view);
  return {
    sim,
    url,
    post: async (path, body) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
      const json = (await res.json()) as { error?: { message?: string } };
      if (!res.ok) throw new Error(`POST ${path}: ${json.error?.message ?? res.status}`);
      return json;
    },
    stop: async () => {
      view.stop();
      await sim.stop();
    },
  };
}
