import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ApiRouter, type ApiHandler, type ApiResponse } from '../../src/api/api-router.ts';
import { mountConfigApi } from '../../src/api/config-api.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { nativeDriverHook } from '../../src/lbaas/native-driver.ts';
import { mountK8sApi, type ApplyResponse, type K8sMount } from '../../src/k8s/k8s-api.ts';
import { k8sSettings } from '../../src/k8s/k8s-settings.ts';

const manifest = readFileSync(new URL('../../topologies/k8s/service-web-clusterip.yaml', import.meta.url), 'utf8');

function simulationLike(): { store: ConfigStore; api: ApiHandler; mount: K8sMount } {
  const store = new ConfigStore({ reconcile: nativeDriverHook });
  const config = new ApiRouter();
  mountConfigApi(config, store);
  const router = new ApiRouter();
  // what the simulation does: /api/config/… goes to the control node's /config/…
  router.on('GET', '/api/config/*rest', (req) => config.dispatch({ ...req, path: `/config/${req.params.rest}` }));
  for (const method of ['POST', 'PATCH', 'DELETE']) router.on(method, '/api/config/*rest', (req) => config.dispatch({ ...req, path: `/config/${req.params.rest}` }));
  const topology = { computes: [1, 2, 3].map((i) => ({ name: `compute-${i}`, address: `127.0.24.${i}` })), k8s: k8sSettings({ nodes: { cent222: 'compute-2', cent333: 'compute-3' } }) };
  const mount = mountK8sApi(router, () => ({ topology, api: router.handler }));
  return { store, api: router.handler, mount };
}

const request = (api: ApiHandler, method: string, path: string, body?: unknown): Promise<ApiResponse> => api({ method, path, query: new URLSearchParams(), body, params: {} });

describe('k8s API', () => {
  it('POST /api/k8s/apply takes kubectl text and answers one result per object, through the config API', async () => {
    const { store, api } = simulationLike();
    const response = await request(api, 'POST', '/api/k8s/apply', { text: manifest });
    expect(response.status).to.equal(200);
    const body = (response as { body: ApplyResponse }).body;
    expect(body.summary).to.deep.equal({ created: 4, updated: 0, deleted: 0, skipped: 0, error: 0 });
    expect(store.get('loadbalancer', 'ns-user-1-service-web-clusterip')?.vipAddress).to.equal('10.96.0.88');
    const status = (await request(api, 'GET', '/api/k8s')) as { body: { objects: number; loadBalancers: string[] } };
    expect(status.body).to.deep.include({ objects: 4, loadBalancers: ['ns-user-1-service-web-clusterip'] });
  });

  it('takes a decoded object or watch event as the body too, and refuses a body with nothing in it', async () => {
    const { store, api } = simulationLike();
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1' }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } };
    await request(api, 'POST', '/api/k8s/apply', svc);
    expect(store.list('loadbalancer').map((lb) => lb.name)).to.deep.equal(['ns1-web']);
    await request(api, 'POST', '/api/k8s/apply', { type: 'DELETED', object: svc });
    expect(store.list('loadbalancer')).to.deep.equal([]);
    const refused = (await request(api, 'POST', '/api/k8s/apply')) as { status: number; body: { error: { message: string } } };
    expect(refused.status).to.equal(400);
    expect(refused.body.error.message).to.match(/^the body must hold Kubernetes objects/);
    const badText = (await request(api, 'POST', '/api/k8s/apply', { text: 42 })) as { status: number };
    expect(badText.status).to.equal(400);
  });

  it('routes POST /api/k8s/sync to the raw handler; the JSON router explains it cannot stream', async () => {
    const { store, api, mount } = simulationLike();
    const viaRouter = (await request(api, 'POST', '/api/k8s/sync', {})) as { status: number; body: { error: string } };
    expect(viaRouter.status).to.equal(501);
    const server = http.createServer((req, res) => {
      if (!mount.rawRequest(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1', resourceVersion: '1' }, spec: { clusterIP: '10.96.0.6', ports: [{ port: 80 }] } };
      const response = await fetch(`http://127.0.0.1:${port}/api/k8s/sync`, { method: 'POST', body: `${JSON.stringify(svc)}${JSON.stringify(svc)}` });
      const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { action?: string; summary?: unknown });
      expect(lines.map((l) => l.action ?? 'summary')).to.deep.equal(['created', 'skipped', 'summary']);
      expect(store.list('loadbalancer').map((lb) => lb.name)).to.deep.equal(['ns1-web']);
      expect((await fetch(`http://127.0.0.1:${port}/api/k8s/apply`, { method: 'POST', body: '{}' })).status).to.equal(404);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
