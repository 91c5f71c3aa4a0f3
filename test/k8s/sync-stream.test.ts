import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ConfigStore } from '../../src/model/config-store.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { storeConfigClient } from '../../src/k8s/config-client.ts';
import { KubeManager, type ObjectResult } from '../../src/k8s/kube-manager.ts';
import { k8sSettings } from '../../src/k8s/k8s-settings.ts';
import { SYNC_PATH, WatchStreamFeeder, handleSyncStream } from '../../src/k8s/sync-stream.ts';

const stream = readFileSync(new URL('../fixtures/k8s/watch-events.json', import.meta.url), 'utf8');
const NODES = { cent111: 'compute-1', cent222: 'compute-2', cent333: 'compute-3' };
const COMPUTES = [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.24.${i}` }));

function manager(store: ConfigStore): KubeManager {
  return new KubeManager({ client: storeConfigClient(store), settings: k8sSettings({ nodes: NODES }), computes: COMPUTES });
}

describe('k8s sync stream', () => {
  it('applies each object as its text completes, in order, whatever the chunk boundaries', async () => {
    const store = new ConfigStore({ reconcile: nativeDriverHook });
    const seen: string[] = [];
    const feeder = new WatchStreamFeeder(manager(store), (r) => seen.push(`${r.action} ${r.kind}`));
    for (let i = 0; i < stream.length; i += 777) feeder.push(stream.slice(i, i + 777));
    const results = await feeder.end();
    expect(results).to.have.length(12);
    expect(seen.slice(0, 4)).to.deep.equal(['created Endpoints', 'created Service', 'created Pod', 'skipped Service']);
    expect(store.list('loadbalancer-member').map((m) => m.address)).to.deep.equal(['10.47.255.238']);
  });

  it('reports a truncated last object as an error', async () => {
    const feeder = new WatchStreamFeeder(manager(new ConfigStore({ reconcile: nativeDriverHook })), () => {});
    feeder.push('{"type":"ADDED","object":{"apiVersion":"v1"');
    const [result] = await feeder.end();
    expect(result.action).to.equal('error');
    expect(result.reason).to.match(/^not valid JSON/);
  });

  it('serves POST /api/k8s/sync: NDJSON results while the request body streams, a summary at the end', async () => {
    const store = new ConfigStore({ reconcile: nativeDriverHook });
    const kubeManager = manager(store);
    const server = http.createServer((req, res) => {
      if (req.method === 'POST' && req.url === SYNC_PATH) handleSyncStream(kubeManager, req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const lines = await new Promise<string[]>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: SYNC_PATH, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text.trim().split('\n')));
        });
        req.on('error', reject);
        const half = Math.floor(stream.length / 2);
        req.write(stream.slice(0, half));
        setTimeout(() => req.end(stream.slice(half)), 50);
      });
      const results = lines.slice(0, -1).map((l) => JSON.parse(l) as ObjectResult);
      expect(results.map((r) => r.action)).to.deep.equal(['created', 'created', 'created', 'skipped', 'created', 'updated', 'created', 'created', 'skipped', 'updated', 'deleted', 'skipped']);
      expect(JSON.parse(lines[lines.length - 1])).to.deep.equal({ summary: { created: 6, updated: 2, deleted: 1, skipped: 3, error: 0 } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
