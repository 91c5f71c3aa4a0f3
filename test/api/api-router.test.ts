import { expect } from 'chai';
import { ApiError, ApiRouter, bodyObject, queryInt, remoteHandler, serveApi, type ApiRequest, type ApiServer } from '../../src/api/api-router.ts';
import { ref } from '../../src/api/request-schemas.ts';

const err = (code: string, message: string, path: string) => ({ error: { code, message, path } });

const request = (method: string, path: string, extra: Partial<ApiRequest> = {}): ApiRequest =>
  ({ method, path, query: new URLSearchParams(), body: undefined, params: {}, ...extra });

describe('api/api-router', () => {
  const router = new ApiRouter()
    .on('GET', '/nodes/:node', (req) => ({ status: 200, body: { node: req.params.node } }))
    .on('GET', '/files/*rest', (req) => ({ status: 200, body: { rest: req.params.rest } }))
    .on('POST', '/echo', (req) => ({ status: 201, body: bodyObject(req) }))
    .on('GET', '/limit', (req) => ({ status: 200, body: { limit: queryInt(req.query, 'limit', 10) } }))
    .on('GET', '/refuse', () => { throw new ApiError(409, 'busy'); })
    .on('GET', '/stream', () => ({ status: 200, stream: (emit) => { emit({ n: 1 }); emit({ n: 2 }); return () => {}; } }))
    .on<{ name: string; port: number }>('POST', '/typed', (req) => ({ status: 201, body: { name: req.body.name, port: req.body.port } }), {
      body: { type: 'object', additionalProperties: false, required: ['name', 'port'], properties: { name: ref('configName'), port: ref('port') } },
      query: { mode: { enum: ['a', 'b'] }, n: { type: 'integer', minimum: 1 } },
    });

  it('captures :params and *rest, decoding segments', async () => {
    expect(await router.dispatch(request('GET', '/nodes/compute%2D1'))).to.deep.equal({ status: 200, body: { node: 'compute-1' } });
    expect(await router.dispatch(request('GET', '/files/a/b/c'))).to.deep.equal({ status: 200, body: { rest: 'a/b/c' } });
  });

  it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
    expect(await router.dispatch(request('GET', '/nope'))).to.deep.equal({ status: 404, body: err('no-route', 'no such resource: /nope', '/nope') });
    expect(await router.dispatch(request('DELETE', '/echo'))).to.deep.equal({ status: 405, body: err('method-not-allowed', 'DELETE is not allowed on /echo', '/echo') });
  });

  it('turns refusals into their status with a one-line error', async () => {
    expect(await router.dispatch(request('GET', '/refuse'))).to.deep.equal({ status: 409, body: err('conflict', 'busy', '/refuse') });
    expect(await router.dispatch(request('POST', '/echo', { body: [1] }))).to.deep.equal({ status: 400, body: err('invalid-body', 'the request body must be a JSON object', 'body') });
    expect(await router.dispatch(request('GET', '/limit', { query: new URLSearchParams('limit=x') })))
      .to.deep.equal({ status: 400, body: err('invalid-query', 'query parameter limit=x is not an integer', 'query.limit') });
    expect(await router.dispatch(request('GET', '/limit'))).to.deep.equal({ status: 200, body: { limit: 10 } });
  });

  it('checks a body and query against the route schema before the handler runs', async () => {
    const ok = await router.dispatch(request('POST', '/typed', { body: { name: 'pool1:30.30.30.10:8080', port: 80 } }));
    expect(ok).to.deep.equal({ status: 201, body: { name: 'pool1:30.30.30.10:8080', port: 80 } });
    const refused = async (extra: Partial<ApiRequest>) => (await router.dispatch(request('POST', '/typed', extra))) as { status: number; body: unknown };
    expect(await refused({ body: { name: 'x', port: 80, colour: 'red' } })).to.deep.equal({ status: 400, body: err('invalid-body', 'body: unknown field colour', 'body.colour') });
    expect(await refused({ body: { name: 'a/b', port: 80 } })).to.deep.include({ status: 400, body: err('invalid-body', 'body.name: "a/b" is not a name of letters, digits and "_ . : -", starting with a letter, digit or "_" (no "/" or spaces)', 'body.name') });
    expect(await refused({ body: { name: 'x', port: 70000 } })).to.deep.equal({ status: 400, body: err('invalid-body', 'body.port: must be ≤ 65535, got 70000', 'body.port') });
    expect(await refused({ body: { name: 'x' } })).to.deep.equal({ status: 400, body: err('invalid-body', 'body: port is required', 'body.port') });
    expect(await refused({ body: undefined })).to.deep.equal({ status: 400, body: err('invalid-body', 'the request needs a JSON body', 'body') });
    expect(await refused({ body: { name: 'x', port: 1 }, query: new URLSearchParams('mode=c') }))
      .to.deep.equal({ status: 400, body: err('invalid-query', 'query.mode: "c" is not one of "a", "b"', 'query.mode') });
    expect(await refused({ body: { name: 'x', port: 1 }, query: new URLSearchParams('n=0') })).to.have.property('status', 400);
    expect(await refused({ body: { name: 'x', port: 1 }, query: new URLSearchParams('n=3&mode=b') })).to.have.property('status', 201);
  });

  it('describes its routes with their schemas for the OpenAPI document', () => {
    const typed = router.describe().find((r) => r.pattern === '/typed');
    expect(typed?.method).to.equal('POST');
    expect(typed?.schema.body).to.have.property('additionalProperties', false);
    expect(router.describe().map((r) => r.pattern)).to.include.members(['/nodes/:node', '/echo', '/stream']);
  });

  it('binds loopback only and says so', async () => {
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) {
      try {
        await serveApi(router.handler, host, 0);
        expect.fail(`bound ${host}`);
      } catch (e) {
        expect((e as Error).message).to.equal(`the API binds loopback only (127.0.0.0/8 or ::1); refusing to listen on ${host}`);
      }
    }
  });

  describe('over HTTP on loopback', () => {
    let server: ApiServer;
    before(async () => { server = await serveApi(router.handler, '127.0.0.1', 0); });
    after(async () => server.close());

    it('serves JSON and refuses a body that is not JSON', async () => {
      const remote = remoteHandler(server.url);
      expect(await remote(request('POST', '/echo', { body: { a: 1 } }))).to.deep.equal({ status: 201, body: { a: 1 } });
      const res = await fetch(`${server.url}/echo`, { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } });
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { error: { code: string; message: string; path: string } };
      expect(body.error).to.include({ code: 'invalid-json', path: 'body' });
      expect(body.error.message).to.match(/^the request body is not valid JSON: /);
      const plain = await fetch(`${server.url}/echo`, { method: 'POST', body: '{"b":2}' });
      expect(plain.status, 'a JSON body without a content type is still JSON').to.equal(201);
    });

    it('refuses a body over 1 MiB with the error shape', async () => {
      const res = await fetch(`${server.url}/echo`, { method: 'POST', body: JSON.stringify({ a: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } });
      expect(res.status).to.equal(413);
      expect(await res.json()).to.deep.equal(err('body-too-large', 'request body over 1048576 bytes', 'body'));
    });

    it('gives up on a node that does not answer within the deadline, naming it', async () => {
      const slow = await serveApi(new ApiRouter().on('GET', '/status', () => new Promise(() => {})).handler, '127.1.0.1', 0);
      try {
        const remote = remoteHandler(slow.url, { name: 'compute-4', deadlineMs: 300 });
        try {
          await remote(request('GET', '/status'));
          expect.fail('answered');
        } catch (e) {
          expect(e).to.be.instanceOf(ApiError);
          expect((e as ApiError).message).to.equal('compute-4: no answer in 0.3 s');
          expect((e as ApiError).code).to.equal('node-timeout');
        }
      } finally {
        await slow.close();
      }
    });

    it('says in one line that a port is taken, and leaves nothing listening', async () => {
      const port = Number(new URL(server.url).port);
      try {
        await serveApi(router.handler, '127.0.0.1', port);
        expect.fail('listened twice');
      } catch (e) {
        expect((e as Error).message).to.equal(`cannot serve the API on 127.0.0.1:${port}: the port is in use`);
      }
      expect((await fetch(`${server.url}/nodes/x`)).status, 'the first server is untouched').to.equal(200);
    });

    it('streams NDJSON records back through the remote handler', async () => {
      const response = await remoteHandler(server.url)(request('GET', '/stream'));
      if (!('stream' in response)) return expect.fail('expected a stream');
      const records = await new Promise<unknown[]>((resolve) => {
        const got: unknown[] = [];
        const stop = response.stream((r) => { got.push(r); if (got.length === 2) { stop(); resolve(got); } });
      });
      expect(records).to.deep.equal([{ n: 1 }, { n: 2 }]);
    });
  });
});
