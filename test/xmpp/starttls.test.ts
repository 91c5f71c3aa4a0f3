// XMPP over TLS (docs/protocol.md §2.3) on real loopback sockets with certificates made by openssl: STARTTLS in
// the stream, mutual authentication, refusals that disturb nothing else, and an external TLS client
// (Python's ssl module) completing the handshake against the control node's listener.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { encodeAgentStreamOpen } from '../../src/xmpp/stanza-encoder.ts';
import { promisify } from 'node:util';
import { XmppServer, type XmppServerSession } from '../../src/xmpp/server.ts';
import { XmppAgentClient } from '../../src/xmpp/agent-client.ts';
import { certificateMismatch, findStartTls } from '../../src/xmpp/starttls.ts';
import { TestPki, type CertificateFiles } from './test-certificates.ts';

const run = promisify(execFile);
const SERVER = '127.6.30.1';
const SERVER_NAME = 'control-tls';

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The external client: plain TCP, our stream header, STARTTLS by hand, then Python's TLS with a client
// certificate (server name checked against the CA-signed certificate), the header again over TLS.
const PYTHON_CLIENT = String.raw`
import socket, ssl, sys
host, port, src, ca, cert, key, name, server_name = sys.argv[1:9]
header = ('<stream:stream from="%s" to="network-control@contrailsystems.com" version="1.0" xml:lang="en" '
          'xmlns="" xmlns:stream="http://etherx.jabber.org/streams">' % name).encode()
def read_until(sock, token):
    buf = b''
    while token not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit('closed before %r: %r' % (token, buf))
        buf += chunk
    return buf
s = socket.create_connection((host, int(port)), source_address=(src, 0))
s.sendall(header)
features = read_until(s, b'</stream:features>')
assert b'<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>' in features, features
s.sendall(b'<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>')
read_until(s, b'<proceed')
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
t = ctx.wrap_socket(s, server_hostname=server_name)
t.sendall(header)
reply = read_until(t, b'xmlns:stream="http://etherx.jabber.org/streams" >')
print('OK', t.version(), dict(x[0] for x in t.getpeercert()['subject'])['commonName'])
t.close()
`;

describe('XMPP over TLS (STARTTLS, mutual authentication)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let server: XmppServer;
  let port: number;
  const sessions: XmppServerSession[] = [];
  const serverLog: string[] = [];
  const clients: XmppAgentClient[] = [];
  let serverFiles: CertificateFiles;

  before(async () => {
    pki = TestPki.create();
    serverFiles = pki.issue(SERVER_NAME, { addresses: [SERVER] });
    server = new XmppServer({ host: SERVER, port: 0, tls: pki.material(serverFiles), log: (line) => serverLog.push(line) });
    server.on('session', (s: XmppServerSession) => sessions.push(s));
    ({ port } = await server.listen());
  });

  after(async () => {
    for (const c of clients) await c.stop();
    await server.close();
    pki.remove();
  });

  function agent(name: string, address: string, files: CertificateFiles | null): XmppAgentClient {
    const client = new XmppAgentClient({
      agentName: name,
      localAddress: address,
      host: SERVER,
      port,
      reconnectDelay: () => 60_000,
      ...(files ? { tls: { ...pki.material(files), serverNames: [SERVER_NAME, SERVER] } } : {}),
    });
    clients.push(client);
    client.start();
    return client;
  }

  it('an agent with a certificate for its name establishes over TLS and stanzas flow both ways', async () => {
    const client = agent('compute-tls-1', '127.6.30.11', pki.issue('compute-tls-1'));
    const received: string[] = [];
    client.on('stanza', (raw: string) => received.push(raw));
    await until(() => client.established, 'the agent is established');
    const session = server.session('compute-tls-1');
    expect(session?.secure, 'server side over TLS').to.equal(true);
    expect(client.stats().tls, 'agent side over TLS').to.equal(true);
    session!.send('<message from="network-control@contrailsystems.com" to="compute-tls-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="0/0/EndOfRib"></items></event></message>');
    await until(() => received.length === 1, 'the agent received the stanza over TLS');
    const inbound: string[] = [];
    session!.on('stanza', (raw: string) => inbound.push(raw));
    client.send('<message from="compute-tls-1" to="network-control@contrailsystems.com/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="0/0/EndOfRib"></items></event></message>');
    await until(() => inbound.length === 1, 'the server received the stanza over TLS');
  });

  it('refuses an agent whose certificate is not signed by the CA, and disturbs nothing else', async () => {
    const good = server.session('compute-tls-1');
    const rogue = agent('compute-tls-2', '127.6.30.12', pki.issue('compute-tls-2', { signer: 'rogue-ca' }));
    await until(() => serverLog.some((l) => l.includes('compute-tls-2') && l.includes('certificate refused')), 'the server refused the certificate');
    expect(rogue.established).to.equal(false);
    expect(server.session('compute-tls-2')).to.equal(undefined);
    expect(server.session('compute-tls-1')).to.equal(good);
    expect(good?.established).to.equal(true);
  });

  it('refuses an agent whose CA-signed certificate names another node', async () => {
    const liar = agent('compute-tls-3', '127.6.30.13', pki.issue('compute-tls-9', { fileName: 'issued-to-compute-tls-9' }));
    await until(() => serverLog.some((l) => l.includes('compute-tls-3') && l.includes('certificate is for compute-tls-9')), 'the server refused the name');
    expect(liar.established).to.equal(false);
    expect(server.session('compute-tls-3')).to.equal(undefined);
    expect(server.session('compute-tls-1')?.established).to.equal(true);
  });

  it('refuses an agent that does not STARTTLS', async () => {
    const plain = agent('compute-tls-4', '127.6.30.14', null);
    await until(() => serverLog.some((l) => l.includes('compute-tls-4') && l.includes('closed')), 'the plain agent is dropped');
    expect(plain.established).to.equal(false);
    expect(server.session('compute-tls-4')).to.equal(undefined);
  });

  it('an external TLS client (Python ssl) completes STARTTLS and the handshake with a client certificate', async () => {
    const files = pki.issue('compute-tls-5');
    const { stdout } = await run('python3', ['-c', PYTHON_CLIENT, SERVER, String(port), '127.6.30.15', pki.caFile, files.certFile, files.keyFile, 'compute-tls-5', SERVER_NAME]);
    expect(stdout.trim()).to.match(/^OK TLSv1\.[23] control-tls$/);
    await until(() => serverLog.some((l) => l.includes('compute-tls-5') && l.includes('established, certificate of compute-tls-5')), 'the server authenticated it');
  });

  it('openssl s_client completes the handshake after STARTTLS driven by hand (relayed on the same connection)', async () => {
    const files = pki.issue('compute-tls-6');
    // Plain part by hand: our header, the features, <starttls/>, <proceed/>.
    const upstream = net.connect({ host: SERVER, port, localAddress: '127.6.30.16' });
    await once(upstream, 'connect');
    let plain = '';
    const readUntil = async (token: string): Promise<void> => {
      while (!plain.includes(token)) plain += ((await once(upstream, 'data')) as [Buffer])[0].toString('utf8');
    };
    upstream.write(encodeAgentStreamOpen('compute-tls-6'));
    await readUntil('</stream:features>');
    upstream.write('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
    await readUntil('<proceed');
    // From here the bytes are TLS: openssl s_client speaks them through a relay into the same connection.
    const relay = net.createServer((downstream) => {
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.6.30.16', resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const client = spawn('openssl', ['s_client', '-connect', `127.6.30.16:${relayPort}`, '-CAfile', pki.caFile, '-cert', files.certFile, '-key', files.keyFile,
      '-verify_return_error', '-verify_hostname', SERVER_NAME, '-quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    client.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    client.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    try {
      // s_client sends stdin once the handshake is done: the header again, over TLS.
      client.stdin.write(encodeAgentStreamOpen('compute-tls-6'));
      await until(() => out.includes('xmlns:stream="http://etherx.jabber.org/streams"'), 'the server header came back over TLS', 10_000).catch((e: Error) => {
        throw new Error(`${e.message}; openssl said: ${err.trim()}`);
      });
      expect(server.session('compute-tls-6')?.secure).to.equal(true);
      expect(err).to.include('verify return:1');
    } finally {
      client.kill();
      upstream.destroy();
      relay.close();
    }
  });

  it('finds <starttls/> in pieces and names what else it refuses', () => {
    expect(findStartTls('  <start')).to.deep.equal({ kind: 'incomplete' });
    expect(findStartTls('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>')).to.deep.equal({ kind: 'found', rest: '' });
    expect(findStartTls('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"></starttls>')).to.deep.equal({ kind: 'found', rest: '' });
    expect(findStartTls('<iq type="set">')).to.deep.equal({ kind: 'refused', why: 'expected <starttls/> before anything else' });
    expect(certificateMismatch(undefined, ['a'])).to.equal('no certificate presented');
  });
});
