import { expect } from 'chai';
import { ApiError, ApiRouter, bodyObject, queryInt, remoteHandler, serveApi, type ApiRequest, type ApiServer } from '../../src/api/api-router.ts';

const request = (method: string, path: string, extra: Partial<ApiRequest> = {}): ApiRequest =>
  ({ method, path, query: new URLSearchParams(), body: undefined, params: {}, ...extra });

describe('api/api-router', () => {
  const router = new ApiRouter()
    .on('GET', '/nodes/:node', (req) => ({ status: 200, body: { node: req.params.node } }))
    .on('GET', '/files/*rest', (req) => ({ status: 200, body: { rest: req.params.rest } }))
    .on('POST', '/echo', (req) => ({ status: 201, body: bodyObject(req) }))
    .on('GET', '/limit', (req) => ({ status: 200, body: { limit: queryInt(req.query, 'limit', 10) } }))
    .on('GET', '/refuse', () => { throw new ApiError(409, 'busy'); })
    .on('GET', '/stream', () => ({ status: 200, stream: (emit) => { emit({ n: 1 }); emit({ n: 2 }); return () => {}; } }));

  it('captures :params and *rest, decoding segments', async () => {
    expect(await router.dispatch(request('GET', '/nodes/compute%2D1'))).to.deep.equal({ status: 200, body: { node: 'compute-1' } });
    expect(await router.dispatch(request('GET', '/files/a/b/c'))).to.deep.equal({ status: 200, body: { rest: 'a/b/c' } });
  });

  it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
    expect(await router.dispatch(request('GET', '/nope'))).to.deep.equal({ status: 404, body: { error: 'no such resource: /nope' } });
    expect(await router.dispatch(request('DELETE', '/echo'))).to.deep.equal({ status: 405, body: { error: 'DELETE is not allowed on /echo' } });
  });

  it('turns refusals into their status with a one-line error', async () => {
    expect(await router.dispatch(request('GET', '/refuse'))).to.deep.equal({ status: 409, body: { error: 'busy' } });
    expect(await router.dispatch(request('POST', '/echo', { body: [1] }))).to.deep.equal({ status: 400, body: { error: 'the request body must be a JSON object' } });
    expect(await router.dispatch(request('GET', '/limit', { query: new URLSearchParams('limit=x') })))
      .to.deep.equal({ status: 400, body: { error: 'query parameter limit=x is not an integer' } });
    expect(await router.dispatch(request('GET', '/limit'))).to.deep.equal({ status: 200, body: { limit: 10 } });
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
      expect(((await res.json()) as { error: string }).error).to.match(/^the request body is not valid JSON: /);
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
