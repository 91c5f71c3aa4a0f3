// The web view `ecmpsim up` serves next to its JSON API: the page at `/`, its script and stylesheet, and
// two server-sent event streams — `/api/events` (live views and the timeline, from live-watcher.ts) and
// `/api/events/stanzas` (the stanza log with the CLI's filters, relayed from `/api/stanzas`). Everything
// comes from this process: no CDN, works offline. It is an HttpHook for the API server and reads the
// simulation only through its ApiHandler.
import type http from 'node:http';
import type { ApiHandler, HttpHook, RouteDescription } from '../api/api-router.ts';
import { clientAssets } from './client-bundle.ts';
import { LiveWatcher } from './live-watcher.ts';
import { pageHtml } from './page-html.ts';
import type { StanzaLine } from './view-model.ts';

export interface WebViewOptions {
  /** How often the live view polls the simulation while a page listens. */
  intervalMs?: number;
  log?: (line: string) => void;
}

const STANZA_FILTERS = ['node', 'peer', 'direction', 'vrf', 'prefix'] as const;
const STANZA_BACKLOG = 200;
/** Larger stanzas are cut in the page (the full XML stays available from `ecmpsim stanzas --xml`). */
const RAW_KEPT = 20_000;
const HEARTBEAT_MS = 15_000;

/** The hook, and `stop()` that ends its background polling (for a simulation stopped in a longer-lived process). */
export type WebView = HttpHook & { stop(): void };

export function webView(api: ApiHandler, options: WebViewOptions = {}): WebView {
  const watcher = new LiveWatcher(api, options.intervalMs);
  const log = options.log ?? (() => {});
  // Start the build now so that the first page load does not wait for it.
  clientAssets().catch((e: unknown) => log(`web client build failed: ${(e as Error).message}`));

  const hook: HttpHook = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    switch (url.pathname) {
      case '/':
      case '/index.html':
        send(res, 200, 'text/html; charset=utf-8', pageHtml());
        return true;
      case '/assets/app.js':
      case '/assets/app.css':
        void clientAssets().then(
          (a) => (url.pathname.endsWith('.js') ? send(res, 200, 'text/javascript; charset=utf-8', a.script) : send(res, 200, 'text/css; charset=utf-8', a.css)),
          (e: unknown) => send(res, 500, 'text/plain; charset=utf-8', `the web client could not be built: ${(e as Error).message}\n`),
        );
        return true;
      case '/favicon.ico':
        res.writeHead(204).end();
        return true;
      case '/api/events': {
        const event = openEventStream(req, res);
        const stop = watcher.subscribe({
          view: (v) => event('view', v),
          timeline: (e) => event('timeline', e),
          error: (message) => event('problem', { message }),
        });
        req.on('close', stop);
        return true;
      }
      case '/api/events/stanzas':
        relayStanzas(api, url.searchParams, req, res);
        return true;
      default:
        return false;
    }
  };
  return Object.assign(hook, { stop: () => watcher.stop(), routes: WEB_ROUTES });
}

/** What the hook serves, for the API's OpenAPI document. */
const WEB_ROUTES: RouteDescription[] = [
  { method: 'GET', pattern: '/', schema: { tag: 'web', summary: 'the live web view', stream: 'html' } },
  { method: 'GET', pattern: '/index.html', schema: { tag: 'web', summary: 'the live web view', stream: 'html' } },
  { method: 'GET', pattern: '/assets/app.js', schema: { tag: 'web', summary: "the web view's script", stream: 'javascript' } },
  { method: 'GET', pattern: '/assets/app.css', schema: { tag: 'web', summary: "the web view's style sheet" } },
  { method: 'GET', pattern: '/favicon.ico', schema: { tag: 'web', summary: 'no icon (204)' } },
  { method: 'GET', pattern: '/api/events', schema: { tag: 'web', summary: 'live state as server-sent events', stream: 'sse' } },
  { method: 'GET', pattern: '/api/events/stanzas', schema: { tag: 'web', summary: 'the stanza log as server-sent events (same filters as /api/stanzas)', stream: 'sse' } },
];

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
  res.end(body);
}

/** Starts a text/event-stream answer; returns the function that sends one named event. */
function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): (event: string, data: unknown) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 1000\n\n');
  // A comment line now and then keeps idle proxies and the browser from timing the stream out.
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  req.on('close', () => clearInterval(heartbeat));
  return (event, data) => {
    if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

function stanzaLine(r: StanzaLine): StanzaLine {
  const raw = r.raw.length > RAW_KEPT ? `${r.raw.slice(0, RAW_KEPT)}… (${r.raw.length} characters)` : r.raw;
  return { seq: r.seq, time: r.time, node: r.node, peer: r.peer, direction: r.direction, summary: r.summary, vrf: r.vrf, prefixes: r.prefixes, raw };
}

/** The last stanzas matching the filters, then every new one, as `stanza` events. */
function relayStanzas(api: ApiHandler, params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
  const filter = new URLSearchParams();
  for (const key of STANZA_FILTERS) {
    const value = params.get(key);
    if (value) filter.set(key, value);
  }
  const event = openEventStream(req, res);
  const seen = new Set<string>();
  const emit = (r: StanzaLine): void => {
    const key = `${r.node}|${r.seq}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > 10 * STANZA_BACKLOG) seen.delete(seen.values().next().value!);
    event('stanza', stanzaLine(r));
  };
  let stop: (() => void) | null = null;
  let closed = false;
  req.on('close', () => {
    closed = true;
    stop?.();
  });
  void (async () => {
    const listQuery = new URLSearchParams(filter);
    listQuery.set('limit', String(STANZA_BACKLOG));
    const backlog = await api({ method: 'GET', path: '/api/stanzas', query: listQuery, body: undefined, params: {} }).catch(() => null);
    if (backlog && 'body' in backlog && Array.isArray(backlog.body)) for (const r of backlog.body as StanzaLine[]) emit(r);
    event('backlog-done', { count: seen.size });
    if (closed) return;
    const followQuery = new URLSearchParams(filter);
    followQuery.set('follow', 'true');
    const live = await api({ method: 'GET', path: '/api/stanzas', query: followQuery, body: undefined, params: {} }).catch(() => null);
    if (!live || !('stream' in live)) {
      event('problem', { message: 'the simulation API did not stream stanzas' });
      return;
    }
    stop = live.stream((r) => emit(r as StanzaLine));
    if (closed) stop();
  })();
}
