// The kube-manager's place in the simulation API: `POST /api/k8s/apply` takes kubectl output (a batch:
// JSON or YAML text, or a decoded JSON value) and answers one result per object; `GET /api/k8s` shows
// the cache and what kube-manager manages. Owns the routes and the one KubeManager of a simulation,
// made on first use; `ecmpsim k8s apply|sync` are its clients. The raw streaming variant is sync-stream.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type ApiHandler, type ApiRouter } from '../api/api-router.ts';
import { apiConfigClient } from './config-client.ts';
import { k8sSettings, type K8sSettings } from './k8s-settings.ts';
import { KubeManager, summarize, type ObjectResult, type K8sSummary } from './kube-manager.ts';
import { entriesOfValue, parseManifests, type ParsedEntry } from './manifest-parser.ts';
import { SYNC_PATH, handleSyncStream } from './sync-stream.ts';

/** What kube-manager needs of the simulation: its computes and k8s section, and the API to write config. */
export interface K8sHost {
  readonly topology: { readonly computes: readonly { name: string; address: string }[]; readonly k8s?: K8sSettings };
  readonly api: ApiHandler;
  readonly log?: (line: string) => void;
}

export interface ApplyResponse {
  readonly results: ObjectResult[];
  readonly summary: K8sSummary;
}

/** The request body: `{ text, firstDocument? }` (kubectl's printed output) or any decoded value (an object, a List, a watch event, an array). */
export function entriesOfBody(body: unknown): ParsedEntry[] {
  if (body === undefined) throw new ApiError(400, 'the body must hold Kubernetes objects: {"text": "<kubectl output>"} or the JSON of an object, a List or a watch event');
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'text' in body) {
    const { text, firstDocument } = body as { text: unknown; firstDocument?: unknown };
    if (typeof text !== 'string') throw new ApiError(400, 'text must be a string: what kubectl printed (JSON or YAML)');
    if (firstDocument !== undefined && (!Number.isInteger(firstDocument) || (firstDocument as number) < 1)) throw new ApiError(400, 'firstDocument must be an integer from 1');
    return parseManifests(text, (firstDocument as number | undefined) ?? 1);
  }
  return entriesOfValue(body, 'document 1');
}

export function kubeManagerFor(host: K8sHost): KubeManager {
  return new KubeManager({
    client: apiConfigClient(() => host.api),
    settings: host.topology.k8s ?? k8sSettings(undefined),
    computes: host.topology.computes.map((c) => ({ name: c.name, address: c.address })),
    log: host.log,
  });
}

/** What mounting gives the server: the raw streaming route, which needs the request before its body is read. */
export interface K8sMount {
  /** Serves `POST /api/k8s/sync` and returns true, or returns false for any other request. */
  rawRequest(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Registers `/api/k8s…` on the simulation router. `host` is called on first use (the router is built
 * before the simulation it belongs to is complete). The streaming `POST /api/k8s/sync` is served by
 * `rawRequest` of the result, which the HTTP server must offer each request before it reads the body.
 */
export function mountK8sApi(router: ApiRouter, host: () => K8sHost): K8sMount {
  let manager: KubeManager | undefined;
  const kubeManager = (): KubeManager => (manager ??= kubeManagerFor(host()));
  router
    .on('GET', '/api/k8s', () => ({ status: 200, body: kubeManager().status() }), { tag: 'k8s', summary: "kube-manager's cache and what it manages" })
    .on('POST', '/api/k8s/apply', async (req) => {
      const entries = entriesOfBody(req.body);
      const results = await kubeManager().apply(entries);
      const body: ApplyResponse = { results, summary: summarize(results) };
      return { status: 200, body };
    }, { tag: 'k8s', summary: 'apply kubectl output ({text}) or a decoded object, List or watch event; one result per object' })
    .on('POST', SYNC_PATH, () => {
      throw new ApiError(501, `${SYNC_PATH} streams a request body and is served only over HTTP; post each object to /api/k8s/apply`);
    }, { tag: 'k8s', summary: 'streaming sync: kubectl watch output in, one NDJSON result per object out (HTTP only)', stream: 'ndjson' });
  return {
    rawRequest: (req, res) => {
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://localhost').pathname !== SYNC_PATH) return false;
      handleSyncStream(kubeManager(), req, res);
      return true;
    },
  };
}
