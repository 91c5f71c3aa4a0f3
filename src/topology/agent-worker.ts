// Inside an agent worker thread: runs the vRouter agents of the computes the main thread hands it, each on
// its own loopback address with its own XMPP session (the same wire as in the main thread), and answers
// their API requests. The computes of a thread share one MPLS-over-UDP underlay instance, whose sockets
// reach the computes of every other thread and process. Not here: which computes go to which thread or
// anything of the control node (./agent-thread.ts, ./launcher.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { ApiResponse } from '../api/api-router.ts';
import { MplsOverUdpUnderlay } from '../vrouter/mpls-udp-underlay.ts';
import { startCompute, type RunningCompute } from './node-runtime.ts';
import type { ThreadReply, ThreadRequest } from './agent-thread.ts';
import type { Topology } from './topology.ts';

const { topology } = workerData as { topology: Topology };
const port = parentPort!;
const underlay = new MplsOverUdpUnderlay({ log: (line) => port.postMessage({ kind: 'log', line } satisfies ThreadReply) });
const running = new Map<string, RunningCompute>();

function reply(message: ThreadReply): void {
  port.postMessage(message);
}

async function answer(request: ThreadRequest): Promise<ThreadReply> {
  switch (request.kind) {
    case 'start': {
      if (running.has(request.name)) return { kind: 'done', id: request.id };
      const compute = await startCompute(topology, request.name, underlay, {
        log: request.log ? (line) => reply({ kind: 'log', line }) : undefined,
      });
      running.set(request.name, compute);
      await underlay.ready();
      return { kind: 'done', id: request.id };
    }
    case 'stop': {
      const compute = running.get(request.name);
      running.delete(request.name);
      await compute?.stop();
      return { kind: 'done', id: request.id };
    }
    case 'api': {
      const compute = running.get(request.name);
      if (!compute) return { kind: 'api', id: request.id, status: 503, body: { error: `${request.name} is down` } };
      const response: ApiResponse = await compute.handler({
        method: request.method, path: request.path, query: new URLSearchParams(request.query), body: request.body, params: {},
      });
      if (!('body' in response)) return { kind: 'api', id: request.id, status: 501, body: { error: 'streams are not served across agent threads' } };
      return { kind: 'api', id: request.id, status: response.status, body: response.body };
    }
    case 'established': {
      let n = 0;
      for (const c of running.values()) if (c.agent.connected) n++;
      return { kind: 'count', id: request.id, count: n };
    }
  }
}

port.on('message', (request: ThreadRequest) => {
  answer(request).then(reply, (e: Error) => reply({ kind: 'error', id: request.id, message: e.message }));
});
