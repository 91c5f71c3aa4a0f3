// The web view's server side without a browser: the page and its bundled assets are served by the
// simulator, `/api/events` is a server-sent event stream whose first `view` holds the live state, the
// JSON API still answers beside it; and the timeline names what changed between two views.
import { expect } from 'chai';
import http from 'node:http';
import { LiveStateReader } from '../../src/web/live-state.ts';
import { timelineChanges } from '../../src/web/timeline.ts';
import type { LiveView, VipView } from '../../src/web/view-model.ts';
import { isolatedTopology, startWebSimulation, type WebSimulation } from './web-fixture.ts';

/** The first `event: <name>` of an SSE stream, parsed; the connection is closed after it. */
function firstEvent(url: string, name: string, timeoutMs = 10_000): Promise<{ contentType: string; data: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let buffered = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (const block of buffered.split('\n\n').slice(0, -1)) {
          const lines = block.split('\n');
          if (!lines.includes(`event: ${name}`)) continue;
          const data = lines.find((l) => l.startsWith('data: '));
          clearTimeout(timer);
          req.destroy();
          resolve({ contentType: String(res.headers['content-type']), data: JSON.parse(data!.slice(6)) });
          return;
        }
      });
    });
    req.on('error', (e) => {
      if (!(e as NodeJS.ErrnoException).code?.startsWith('ECONNRESET')) reject(e);
    });
  });
}

describe('web view server', function () {
  this.timeout(30_000);
  let web: WebSimulation;

  before(async () => {
    web = await startWebSimulation(await isolatedTopology('default'));
  });
  after(async () => web?.stop());

  it('serves the page, its script (bundled from node_modules, no CDN) and its stylesheet', async () => {
    const page = await fetch(`${web.url}/`);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).to.include('<script src="/assets/app.js"></script>');
    expect(html).to.not.match(/https?:\/\//);
    const script = await fetch(`${web.url}/assets/app.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    const js = await script.text();
    expect(js.length).to.be.greaterThan(100_000);
    expect(js).to.not.match(/\bimport\s*\(|from\s*["']https?:/);
    expect((await fetch(`${web.url}/assets/app.css`)).headers.get('content-type')).to.equal('text/css; charset=utf-8');
  });

  it('leaves the JSON API alone', async () => {
    const api = (await (await fetch(`${web.url}/api`)).json()) as { simulation: string };
    expect(api.simulation).to.equal('three-compute-native-lb');
    const missing = await fetch(`${web.url}/nope`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.deep.equal({ error: { code: 'no-route', message: 'no such resource: /nope', path: '/nope' } });
  });

  it('streams the live view as server-sent events', async () => {
    const { contentType, data } = await firstEvent(`${web.url}/api/events`, 'view');
    expect(contentType).to.equal('text/event-stream; charset=utf-8');
    const view = data as LiveView;
    expect(view.simulation).to.equal('three-compute-native-lb');
    expect(view.nodes.map((n) => n.name)).to.have.members(['control-1', 'compute-1', 'compute-2', 'compute-3']);
    expect(view.vips.map((v) => v.vip)).to.deep.equal(['30.30.30.100']);
    expect(view.vips[0].members.map((m) => m.workload)).to.have.members(['web-a', 'web-b']);
    expect(view.vips[0].composites.map((c) => c.compute)).to.deep.equal(['compute-1', 'compute-2', 'compute-3']);
    expect(view.sessions.filter((s) => s.kind === 'xmpp')).to.have.length(3);
  });

  it('streams stanzas with the CLI filters', async () => {
    const { data } = await firstEvent(`${web.url}/api/events/stanzas?node=compute-2&direction=in`, 'stanza');
    expect(data).to.include({ node: 'compute-2', direction: 'in' });
  });
});

describe('live state of two control nodes', function () {
  this.timeout(30_000);
  let web: WebSimulation;
  before(async () => {
    web = await startWebSimulation(await isolatedTopology('two-control'));
  });
  after(async () => web?.stop());

  /** Reads until `check` holds (the sessions come up and go down on their own time). */
  async function until(reader: LiveStateReader, check: (v: LiveView) => boolean): Promise<LiveView> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = await reader.read();
      if (check(view)) return view;
      if (Date.now() > deadline) throw new Error(`state not reached: ${JSON.stringify(view.sessions)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('colours the BGP session between the control nodes by its state, and the XMPP sessions of a killed control node down', async () => {
    const reader = new LiveStateReader(web.sim.api);
    const bgp = (v: LiveView) => v.sessions.find((s) => s.edgeId === 'bgp:control-1:control-2');
    const up = await until(reader, (v) => bgp(v)?.state === 'up' && v.sessions.every((s) => s.state === 'up'));
    expect(bgp(up)).to.include({ kind: 'bgp', detail: 'Established / Established' });
    expect(up.elements.find((e) => e.data.id === 'bgp:control-1:control-2')?.classes).to.equal('bgp up');
    await web.post('/api/nodes/control-2/kill');
    const down = await until(reader, (v) => bgp(v)?.state === 'down');
    expect(bgp(down)?.detail).to.equal('control-2 is down');
    expect(down.sessions.filter((s) => s.kind === 'xmpp' && s.b === 'control-2').map((s) => s.state)).to.deep.equal(['down', 'down', 'down', 'down']);
    expect(down.elements.find((e) => e.data.id === 'control-node:control-2')?.classes).to.equal('control-node dead');
  });
});

describe('timeline', () => {
  const vip = (members: VipView['members']): VipView => ({ loadBalancer: 'lb1', vip: '30.30.30.100', network: 'vn', ports: [80], members, composites: [], shares: [] });
  const member = (address: string, extra: Partial<VipView['members'][number]> = {}): VipView['members'][number] => ({
    name: `pool1:${address}:8080`, pool: 'pool1', address, port: 8080, adminState: true, workload: `w-${address}`, compute: 'compute-2', healthy: true, ...extra,
  });
  const view = (over: Partial<LiveView>): LiveView => ({
    simulation: 's', mode: 'in-process', time: '', elements: [], workloads: [],
    nodes: [{ name: 'compute-2', kind: 'compute', address: '127.0.0.2', alive: true }],
    sessions: [{ edgeId: 'xmpp:compute-2:control-1', kind: 'xmpp', a: 'compute-2', b: 'control-1', state: 'up', detail: 'established' }],
    vips: [vip([member('10.0.0.1')])],
    ...over,
  });

  it('names members added, removed, taken down and unhealthy, nodes killed and sessions lost', () => {
    const before = view({});
    const after = view({
      nodes: [{ name: 'compute-2', kind: 'compute', address: '127.0.0.2', alive: false }],
      sessions: [{ edgeId: 'xmpp:compute-2:control-1', kind: 'xmpp', a: 'compute-2', b: 'control-1', state: 'down', detail: 'compute-2 is down' }],
      vips: [vip([member('10.0.0.2'), member('10.0.0.3', { adminState: false })])],
    });
    const withThird = view({ vips: [vip([member('10.0.0.1'), member('10.0.0.3')])] });
    expect(timelineChanges(before, after).map((e) => e.kind)).to.have.members(['node-down', 'session-down', 'member-added', 'member-added', 'member-removed']);
    expect(timelineChanges(withThird, after).map((e) => `${e.kind} ${e.text}`)).to.include('member-admin member 10.0.0.3:8080 (w-10.0.0.3 on compute-2) of lb1 admin down');
    const sick = view({ vips: [vip([member('10.0.0.1', { healthy: false })])] });
    expect(timelineChanges(before, sick).map((e) => e.text)).to.deep.equal(['member 10.0.0.1:8080 (w-10.0.0.1 on compute-2) of lb1 is unhealthy']);
    expect(timelineChanges(before, before)).to.deep.equal([]);
  });
});
