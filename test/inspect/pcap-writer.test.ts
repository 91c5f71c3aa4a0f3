import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  MAX_SEGMENT_PAYLOAD, PcapWriter, agentPort, stanzaCapture, type CaptureRecord, type CaptureTopology,
} from '../../src/inspect/pcap-writer.ts';
import type { StanzaRecord } from '../../src/inspect/stanza-tap.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { CONTROL_NODE_JID, encodeAgentStreamOpen, encodeSubscribe } from '../../src/xmpp/stanza-encoder.ts';
import { freePort, interopBlock, requireBinaries, run } from '../interop/bgp-daemons.ts';

interface Frame {
  sec: number; usec: number; src: string; dst: string; sport: number; dport: number;
  seq: number; ack: number; flags: number; payload: Buffer; ipChecksumOk: boolean; tcpChecksumOk: boolean;
}

function sum16(parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i] as number) * 256 + (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** An independent reader of what the writer produced (classic pcap, Ethernet or raw IPv4). */
function readPcap(buf: Buffer): { linkType: number; frames: Frame[] } {
  expect(buf.readUInt32LE(0)).to.equal(0xa1b2c3d4);
  expect([buf.readUInt16LE(4), buf.readUInt16LE(6)]).to.deep.equal([2, 4]);
  const linkType = buf.readUInt32LE(20);
  const frames: Frame[] = [];
  let at = 24;
  while (at < buf.length) {
    const sec = buf.readUInt32LE(at), usec = buf.readUInt32LE(at + 4), len = buf.readUInt32LE(at + 8);
    expect(buf.readUInt32LE(at + 12)).to.equal(len);
    let p = buf.subarray(at + 16, at + 16 + len);
    if (linkType === 1) {
      expect(p.readUInt16BE(12)).to.equal(0x0800);
      p = p.subarray(14);
    }
    const ip = p.subarray(0, 20);
    const total = ip.readUInt16BE(2);
    expect(total).to.equal(p.length);
    const tcp = p.subarray(20, 40);
    const payload = p.subarray(40);
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, (total - 20) >> 8, (total - 20) & 0xff])]);
    frames.push({
      sec, usec, src: [...ip.subarray(12, 16)].join('.'), dst: [...ip.subarray(16, 20)].join('.'),
      sport: tcp.readUInt16BE(0), dport: tcp.readUInt16BE(2), seq: tcp.readUInt32BE(4), ack: tcp.readUInt32BE(8),
      flags: tcp[13] as number, payload: Buffer.from(payload),
      ipChecksumOk: sum16([ip]) === 0xffff, tcpChecksumOk: sum16([pseudo, p.subarray(20)]) === 0xffff,
    });
    at += 16 + len;
  }
  return { linkType, frames };
}

const A = { address: '127.0.20.1', port: 40001 };
const C = { address: '127.0.10.1', port: 5269 };

describe('pcap writer', () => {
  it('writes segments whose seq/ack numbers follow the bytes sent each way, with valid checksums', () => {
    const w = new PcapWriter();
    w.addSegment({ timeMs: 1_700_000_000_123.5, from: A, to: C, payload: Buffer.from('hello') });
    w.addSegment({ timeMs: 1_700_000_001_000, from: A, to: C, payload: Buffer.from('world!') });
    w.addSegment({ timeMs: 1_700_000_002_000, from: C, to: A, payload: Buffer.from('é') });
    w.addSegment({ timeMs: 1_700_000_003_000, from: A, to: C, payload: Buffer.from('x') });
    const { linkType, frames } = readPcap(w.toBuffer());
    expect(linkType).to.equal(1);
    expect(w.frameCount).to.equal(4);
    const [f1, f2, f3, f4] = frames as [Frame, Frame, Frame, Frame];
    expect([f1.sec, f1.usec]).to.deep.equal([1_700_000_000, 123_500]);
    expect(f2.seq).to.equal((f1.seq + 5) >>> 0);
    expect(f3.src).to.equal('127.0.10.1');
    expect([f3.sport, f3.dport]).to.deep.equal([5269, 40001]);
    expect(f3.ack).to.equal((f2.seq + 6) >>> 0);
    expect(f4.seq).to.equal((f2.seq + 6) >>> 0);
    expect(f4.ack).to.equal((f3.seq + 2) >>> 0); // 'é' is two UTF-8 bytes
    expect(f1.ack).to.equal(f3.seq);
    expect(frames.every((f) => f.flags === 0x18 && f.ipChecksumOk && f.tcpChecksumOk)).to.equal(true);
    expect(f3.payload.toString('utf8')).to.equal('é');
  });

  it('splits a payload too big for one IPv4 packet into consecutive segments (raw IPv4 link type)', () => {
    const w = new PcapWriter('raw');
    const big = Buffer.alloc(MAX_SEGMENT_PAYLOAD * 2 + 10, 0x61);
    w.addSegment({ timeMs: 0, from: A, to: C, payload: big });
    const { linkType, frames } = readPcap(w.toBuffer());
    expect(linkType).to.equal(101);
    expect(frames.map((f) => f.payload.length)).to.deep.equal([MAX_SEGMENT_PAYLOAD, MAX_SEGMENT_PAYLOAD, 10]);
    expect(frames[1]!.seq).to.equal((frames[0]!.seq + MAX_SEGMENT_PAYLOAD) >>> 0);
    expect(Buffer.concat(frames.map((f) => f.payload)).equals(big)).to.equal(true);
  });

  it('rejects bad addresses, ports and times with the reason, keeping what was written', () => {
    const w = new PcapWriter();
    w.addSegment({ timeMs: 0, from: A, to: C, payload: Buffer.from('a') });
    expect(() => w.addSegment({ timeMs: 0, from: { address: '10.0.0.300', port: 1 }, to: C, payload: Buffer.alloc(1) })).to.throw(RangeError, '10.0.0.300 is not an IPv4 address');
    expect(() => w.addSegment({ timeMs: 0, from: { ...A, port: 70000 }, to: C, payload: Buffer.alloc(1) })).to.throw(/not a TCP port: 70000/);
    expect(() => w.addSegment({ timeMs: Number.NaN, from: A, to: C, payload: Buffer.alloc(1) })).to.throw(/not a capture time/);
    expect(readPcap(w.toBuffer()).frames).to.have.length(1);
  });
});

const TOPO: CaptureTopology = {
  controlNodes: [{ name: 'control-1', address: '127.0.10.1', xmppPort: 5269 }, { name: 'control-2', address: '127.0.10.2', xmppPort: 5270 }],
  computes: [
    { name: 'compute-1', address: '127.0.20.1', xmppServers: ['control-1'] },
    { name: 'compute-2', address: '127.0.20.2', xmppServers: ['control-1', 'control-2'] },
  ],
};

function rec(seq: number, node: string, peer: string, direction: 'in' | 'out', raw: string, time = `2026-01-01T00:00:0${seq % 10}.000Z`): CaptureRecord {
  return { seq, time, node, peer, direction, raw };
}

describe('stanza capture', () => {
  it('maps a control node view to control:xmppPort ↔ compute:agentPort, both directions', () => {
    const open = encodeAgentStreamOpen('compute-1');
    const sub = encodeSubscribe({ from: 'compute-1', instance: 'default-domain:demo:a:a', instanceId: 1 });
    const out = stanzaCapture([rec(1, 'control-1', 'compute-1', 'in', open), rec(2, 'control-1', 'compute-1', 'out', '<stream:stream>'), rec(3, 'control-1', 'compute-1', 'in', sub)], TOPO);
    expect(out.skipped).to.deep.equal([]);
    expect(out.connections).to.equal(1);
    const { frames } = readPcap(out.pcap);
    const port = agentPort('compute-1');
    expect(port).to.be.within(32768, 60999);
    expect(frames.map((f) => `${f.src}:${f.sport}>${f.dst}:${f.dport}`)).to.deep.equal([
      `127.0.20.1:${port}>127.0.10.1:5269`, `127.0.10.1:5269>127.0.20.1:${port}`, `127.0.20.1:${port}>127.0.10.1:5269`,
    ]);
    expect(frames[2]!.payload.toString()).to.equal(sub);
    expect(frames[2]!.seq).to.equal((frames[0]!.seq + Buffer.byteLength(open)) >>> 0);
    expect(frames.map((f) => f.sec)).to.deep.equal([1, 2, 3].map((s) => Date.parse(`2026-01-01T00:00:0${s}.000Z`) / 1000));
  });

  it('keeps one view of each stanza, skips what it cannot place with the reason, starts a new connection on reconnect', () => {
    const records = [
      rec(1, 'compute-1', CONTROL_NODE_JID, 'out', '<stream:stream from="compute-1">'), // mirror of 2
      rec(2, 'control-1', 'compute-1', 'in', '<stream:stream from="compute-1">'),
      rec(3, 'control-1', 'compute-1', 'in', '<iq type="set"/>'),
      rec(4, 'control-1', 'compute-1', 'in', '<stream:stream from="compute-1">'), // reconnect
      rec(5, 'compute-2', CONTROL_NODE_JID, 'out', '<iq type="set"/>'), // two control nodes: ambiguous
      rec(6, 'control-1', 'stranger', 'in', '<iq/>'),
      rec(7, 'nobody', CONTROL_NODE_JID, 'out', '<iq/>'),
      rec(8, 'control-1', 'compute-1', 'in', '<iq/>', 'yesterday'),
    ];
    const out = stanzaCapture(records, TOPO);
    expect(out.skipped.map((s) => s.seq)).to.deep.equal([5, 6, 7, 8]);
    expect(out.skipped[0]!.reason).to.match(/compute-2 talks to 2 control nodes/);
    expect(out.skipped[1]!.reason).to.equal('peer stranger of control-1 is not a compute of the topology');
    expect(out.skipped[2]!.reason).to.equal('node nobody is not in the topology');
    expect(out.skipped[3]!.reason).to.match(/time "yesterday" is not a date/);
    expect(out.connections).to.equal(2);
    const { frames } = readPcap(out.pcap);
    expect(frames.map((f) => f.sport)).to.deep.equal([agentPort('compute-1'), agentPort('compute-1'), agentPort('compute-1', 1)]);
  });

  it('places an agent-only view on its single control node', () => {
    const out = stanzaCapture([rec(1, 'compute-1', CONTROL_NODE_JID, 'out', '<iq/>'), rec(2, 'compute-1', CONTROL_NODE_JID, 'in', '<message/>')], TOPO);
    const { frames } = readPcap(out.pcap);
    expect(frames.map((f) => `${f.src}>${f.dst}:${f.dport}`)).to.deep.equal(['127.0.20.1>127.0.10.1:5269', `127.0.10.1>127.0.20.1:${agentPort('compute-1')}`]);
  });
});

/** default.json moved to a block and ports of its own, so that it runs beside other suites. */
async function isolatedDefaultTopology(): Promise<Topology> {
  const loaded = await loadTopologyFile(new URL('../../topologies/default.json', import.meta.url).pathname);
  if (!loaded.ok) throw new Error('default topology invalid');
  const t = loaded.topology;
  const at = interopBlock();
  const controlNodes = [];
  for (const [i, c] of t.controlNodes.entries()) {
    controlNodes.push({ ...c, address: at(1 + i), xmppPort: await freePort(), bgpPort: await freePort() });
  }
  return { ...t, controlNodes, computes: t.computes.map((c, i) => ({ ...c, address: at(20 + i) })), bgpPeers: [] };
}

describe('stanza capture decoded by tshark (default topology, real sessions)', function () {
  this.timeout(10_000);
  let records: StanzaRecord[] = [];
  let topology: Topology;
  let dir = '';

  before(async function () {
    requireBinaries(this, ['tshark'], 'tshark');
    topology = await isolatedDefaultTopology();
    const sim = await Simulation.start(topology, { endOfRibQuietMs: 200 });
    try {
      const deadline = Date.now() + 5000;
      // Up once every agent has had routes reflected to it.
      while (Date.now() < deadline && new Set(sim.tap.list().filter((r) => r.node === 'control-1' && r.direction === 'out' && r.raw.includes('<items')).map((r) => r.peer)).size < topology.computes.length) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      records = sim.tap.list();
    } finally {
      await sim.stop();
    }
    dir = mkdtempSync(join(tmpdir(), 'ecmpsim-pcap-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows every iq and message of the control node view as XMPP, nothing malformed', async () => {
    const control = topology.controlNodes[0]!;
    const out = stanzaCapture(records, topology);
    expect(out.skipped).to.deep.equal([]);
    const file = join(dir, 'sim.pcap');
    writeFileSync(file, out.pcap);
    const used = records.filter((r) => r.node === control.name);
    const decode = ['-r', file, '-d', `tcp.port==${control.xmppPort},xmpp`];
    const fields = await run('tshark', [...decode, '-Y', 'xmpp', '-T', 'fields', '-E', 'separator=|', '-e', 'xmpp.iq', '-e', 'xmpp.message', '-e', 'ip.src', '-e', 'tcp.dstport']);
    const lines = fields.split('\n').filter(Boolean).map((l) => l.split('|'));
    const iqs = lines.filter((l) => l[0] !== '').length;
    const messages = lines.filter((l) => l[1] !== '').length;
    expect(iqs).to.be.greaterThan(0);
    expect(messages).to.be.greaterThan(0);
    expect(iqs).to.equal(used.filter((r) => r.raw.startsWith('<iq')).length);
    expect(messages).to.equal(used.filter((r) => r.raw.startsWith('<message')).length);
    const computeAddresses = new Set(topology.computes.map((c) => c.address));
    expect(new Set(lines.filter((l) => l[3] === String(control.xmppPort)).map((l) => l[2]))).to.deep.equal(computeAddresses);
    const bad = await run('tshark', [...decode, '-Y', '(_ws.malformed || _ws.expert.severity >= error) && !xmpp.stream_end', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message']);
    expect(bad.trim()).to.equal('');
    const tcpProblems = await run('tshark', [...decode, '-Y', 'tcp.analysis.flags && !tcp.analysis.window_update', '-T', 'fields', '-e', 'frame.number']);
    expect(tcpProblems.trim(), 'tshark TCP analysis (lost segment, retransmission …)').to.equal('');
  });

  it('lets tshark reassemble a stanza split over several segments into one XMPP message', async () => {
    const w = new PcapWriter();
    w.addSegment({ timeMs: 1000, from: A, to: C, payload: Buffer.from(encodeAgentStreamOpen('compute-1')) });
    const big = `<message from="${CONTROL_NODE_JID}" to="compute-1"><event>${'<item id="x">y</item>'.repeat(5000)}</event></message>`;
    w.addSegment({ timeMs: 2000, from: C, to: A, payload: Buffer.from(big) });
    expect(w.frameCount).to.equal(3);
    const file = join(dir, 'big.pcap');
    writeFileSync(file, w.toBuffer());
    const decoded = await run('tshark', ['-r', file, '-d', 'tcp.port==5269,xmpp', '-Y', 'xmpp.message', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.reassembled.length']);
    expect(decoded.trim()).to.equal(`3\t${Buffer.byteLength(big)}`);
  });
});
