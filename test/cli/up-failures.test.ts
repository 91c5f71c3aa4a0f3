// `ecmpsim up` that cannot run: a busy or invalid port, a missing file, a foreign address, a node address
// already taken. Each prints one line, exits 2 and leaves nothing listening (we bind the same ports after).
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { ecmpsim } from './support/run-cli.ts';

const ALT = 'topologies/alt-addresses.json';
/** Every listening address alt-addresses.json gives its nodes (XMPP and BGP of both control nodes). */
const NODE_PORTS: [string, number][] = [
  ['127.2.1.1', 5269],
  ['127.2.1.1', 1179],
  ['127.2.1.2', 5269],
  ['127.2.1.2', 1179],
];

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

async function expectNothingListening(extra: [string, number][] = []): Promise<void> {
  for (const [host, port] of [...NODE_PORTS, ...extra]) {
    const server = await listen(host, port).catch((e: Error) => {
      throw new Error(`${host}:${port} is still taken after a failed up: ${e.message}`);
    });
    await close(server);
  }
}

function expectOneLine(stderr: string, message: RegExp): void {
  const lines = stderr.trim().split('\n').filter((l) => !/^starting \d+ nodes/.test(l));
  expect(lines, stderr).to.have.length(1);
  expect(lines[0]).to.match(message);
  expect(stderr).to.not.match(/\n\s+at /);
}

describe('ecmpsim up: clean failures', function () {
  this.timeout(60_000);

  it('a busy API port: one line, exit 2, no node left listening', async () => {
    const busy = await listen('127.0.0.1', 0);
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await ecmpsim(['up', ALT, '--port', String(port)]);
      expect(r.code, r.stderr).to.equal(2);
      expectOneLine(r.stderr, new RegExp(`cannot serve the API on 127\\.0\\.0\\.1:${port}: the port is in use`));
    } finally {
      await close(busy);
    }
    await expectNothingListening();
  });

  it('a node address already taken: one line, exit 2, the nodes already started are gone', async () => {
    const taken = await listen('127.2.1.2', 5269);
    let r;
    try {
      r = await ecmpsim(['up', ALT, '--port', '0']);
    } finally {
      await close(taken);
    }
    expect(r.code, r.stderr).to.equal(2);
    expectOneLine(r.stderr, /cannot start alt-addresses: ctl-west: .*127\.2\.1\.2:5269.*in use/);
    await expectNothingListening();
  });

  for (const [what, args, message] of [
    ['--port abc', ['--port', 'abc'], /--port .*got "abc"/],
    ['--port 70000', ['--port', '70000'], /--port .*got 70000/],
    ['--host 10.9.9.9', ['--host', '10.9.9.9'], /--host 10\.9\.9\.9: the API serves loopback only/],
  ] as const) {
    it(`${what}: one line, exit 2`, async () => {
      const r = await ecmpsim(['up', ALT, ...args]);
      expect(r.code, r.stderr).to.equal(2);
      expectOneLine(r.stderr, message);
      await expectNothingListening();
    });
  }

  it('a missing topology file: one line, exit 2', async () => {
    const r = await ecmpsim(['up', 'topologies/no-such-file.json', '--port', '0']);
    expect(r.code).to.equal(2);
    expectOneLine(r.stderr, /cannot read topologies\/no-such-file\.json: ENOENT/);
  });
});
