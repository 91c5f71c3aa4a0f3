// /api/openapi.json: a valid OpenAPI 3 document (checked against the official schema by
// @seriousme/openapi-schema-validator) that covers every route the simulation answers, with the
// topology schema's definitions as its components.
import { expect } from 'chai';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Simulation } from '../../src/topology/launcher.ts';
import { webView } from '../../src/web/web-view.ts';
import { ERROR_CODES } from '../../src/api/api-error.ts';
import { apiTopology } from './api-fixture.ts';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; parameters?: { name: string; in: string }[] }>>;
  components: { schemas: Record<string, unknown> };
}

describe('api/openapi: the document at /api/openapi.json', function () {
  this.timeout(30_000);
  let sim: Simulation;
  let url: string;
  let doc: Doc;
  const view = { stop: () => {} };

  before(async () => {
    sim = await Simulation.start(apiTopology('openapi', 1), { endOfRibQuietMs: 200 });
    const hook = webView(sim.api, { intervalMs: 60_000 });
    view.stop = hook.stop;
    url = await sim.serve('127.0.0.1', 0, hook);
    const res = await fetch(`${url}/api/openapi.json`);
    expect(res.status).to.equal(200);
    doc = (await res.json()) as Doc;
  });
  after(async () => {
    view.stop();
    await sim?.stop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).to.equal('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
  });

  it('covers every route: the simulation, each node kind, the config kinds, kube-manager and the web view', () => {
    const operations = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    for (const route of sim.routeCatalog()) {
      const path = route.pattern.replace(/:(\w+)/g, '{$1}');
      expect(operations.has(`${route.method} ${path}`), `${route.method} ${path}`).to.equal(true);
    }
    for (const op of [
      'GET /api/nodes', 'GET /api/stanzas', 'POST /api/traffic', 'POST /api/trace', 'POST /api/k8s/apply', 'POST /api/k8s/sync',
      'GET /api/nodes/{node}/routes', 'GET /api/nodes/{node}/fib', 'GET /api/nodes/{node}/flows', 'GET /api/nodes/{node}/bgp/adj-rib-in',
      'POST /api/config/loadbalancer', 'PATCH /api/config/loadbalancer-member/{name}', 'DELETE /api/config/{kind}/{name}',
      'GET /', 'GET /api/events', 'GET /api/openapi.json',
    ]) expect(operations.has(op), op).to.equal(true);
  });

  it('still streams: the stanza log followed as NDJSON', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/api/stanzas?follow=true&node=compute-1`, { signal: controller.signal });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/x-ndjson');
    // Following shows what happens from now on: a new VMI on compute-1 makes its config stanza.
    const created = await fetch(`${url}/api/config/vmi`, { method: 'POST', body: JSON.stringify({ name: 'follow-me', virtualNetwork: 'default-domain:demo:svc-vn', compute: 'compute-1' }) });
    expect(created.status).to.equal(201);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const first = JSON.parse(new TextDecoder().decode(value).split('\n')[0]) as { node: string };
    expect(first.node).to.equal('compute-1');
    controller.abort();
  });

  it('takes names, addresses and ports from the topology schema, and documents the error codes', () => {
    for (const name of ['configName', 'networkName', 'ipv4', 'cidr', 'port', 'hashFields']) expect(doc.components.schemas).to.have.property(name);
    const lb = doc.paths['/api/config/loadbalancer'].post.requestBody!.content['application/json'].schema as { additionalProperties: boolean; properties: Record<string, unknown> };
    expect(lb.additionalProperties).to.equal(false);
    expect(lb.properties.name).to.deep.equal({ $ref: '#/components/schemas/configName' });
    expect(lb.properties.vipAddress).to.deep.include({ $ref: '#/components/schemas/ipv4' });
    const error = doc.components.schemas.error as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect(error.properties.error.properties.code.enum).to.deep.equal(Object.keys(ERROR_CODES));
    expect(doc.paths['/api/stanzas'].get.parameters?.map((p) => p.name)).to.include.members(['node', 'direction', 'follow']);
  });
});
