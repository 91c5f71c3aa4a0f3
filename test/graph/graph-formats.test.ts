// `ecmpsim graph`: every format names every node of the topology; SVG and drawio are well-formed XML;
// the layout (elkjs) keeps boxes apart and workloads inside their compute; the command writes a file and
// refuses bad input with one line.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, type Element } from 'ltx';
import { graphDrawio } from '../../src/graph/graph-drawio.ts';
import { layoutGraph } from '../../src/graph/graph-layout.ts';
import type { PlacedNode, TopologyGraph } from '../../src/graph/graph-model.ts';
import { graphSvg } from '../../src/graph/graph-svg.ts';
import { graphDot, graphMermaid } from '../../src/graph/graph-text.ts';
import { renderGraph } from '../../src/graph/graph-formats.ts';
import { topologyGraph } from '../../src/graph/topology-graph.ts';
import { loadTopologyFile, validateTopology, type Topology } from '../../src/topology/loader.ts';

const BIN = new URL('../../bin/ecmpsim.js', import.meta.url).pathname;

async function shipped(name: string): Promise<Topology> {
  const loaded = await loadTopologyFile(new URL(`../../topologies/${name}.json`, import.meta.url).pathname);
  if (!loaded.ok) throw new Error(`${name}.json is invalid`);
  return loaded.topology;
}

/** Two control nodes, a gateway, two networks: every node and edge kind at once. */
function withGateway(): Topology {
  const result = validateTopology({
    name: 'gateway-and-two-networks',
    asn: 64512,
    controlNodes: [
      { name: 'control-1', address: '127.0.10.1', bgpPort: 1179 },
      { name: 'control-2', address: '127.0.10.2', bgpPort: 1179 },
    ],
    computes: [
      { name: 'compute-1', address: '127.0.20.1', xmppServers: ['control-1', 'control-2'] },
      { name: 'compute-2', address: '127.0.20.2', xmppServers: ['control-2'] },
    ],
    networks: [
      { name: 'default-domain:demo:svc-vn', subnets: ['30.30.30.0/24'] },
      { name: 'default-domain:demo:public', subnets: ['40.40.40.0/24'] },
    ],
    workloads: [
      { name: 'client', compute: 'compute-1', network: 'default-domain:demo:public' },
      { name: 'web-a', compute: 'compute-2', network: 'default-domain:demo:svc-vn', address: '30.30.30.10' },
    ],
    loadBalancers: [
      {
        name: 'lb1', provider: 'native', network: 'default-domain:demo:svc-vn', vip: '30.30.30.100',
        listeners: [{ name: 'l1', protocol: 'TCP', port: 80, pool: { name: 'p1', algorithm: 'ROUND_ROBIN', members: [{ address: '30.30.30.10', port: 8080 }] } }],
      },
    ],
    bgpPeers: [{ name: 'gw-1', address: '127.0.30.1', port: 1179, asn: 64512, families: ['inet-vpn', 'route-target'] }],
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.topology;
}

function all(el: Element, name: string): Element[] {
  const out: Element[] = [];
  const walk = (e: Element): void => {
    if (e.name === name) out.push(e);
    for (const c of e.getChildElements()) walk(c);
  };
  walk(el);
  return out;
}

function overlaps(a: PlacedNode, b: PlacedNode): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('topology graph', () => {
  it('has every node and edge kind of a topology with a gateway', () => {
    const g = topologyGraph(withGateway());
    expect(g.nodes.map((n) => n.id)).to.have.members([
      'bgp-peer:gw-1', 'control-node:control-1', 'control-node:control-2', 'compute:compute-1', 'compute:compute-2',
      'workload:client', 'workload:web-a', 'network:default-domain:demo:svc-vn', 'network:default-domain:demo:public', 'load-balancer:lb1',
    ]);
    expect(g.edges.map((e) => e.id)).to.have.members([
      'xmpp:compute-1:control-1', 'xmpp:compute-1:control-2', 'xmpp:compute-2:control-2',
      'bgp:control-1:control-2', 'bgp:control-1:gw-1', 'bgp:control-2:gw-1',
      'attach:client', 'attach:web-a', 'vip:lb1', 'member:lb1:30.30.30.10:8080',
    ]);
    expect(g.edges.find((e) => e.id === 'xmpp:compute-1:control-2')?.primary).to.equal(false);
  });

  it('is laid out by elkjs with no two boxes overlapping and workloads inside their compute', async () => {
    const placed = await layoutGraph(topologyGraph(await shipped('sixteen-compute')));
    const byId = new Map(placed.nodes.map((n) => [n.id, n]));
    for (const n of placed.nodes) {
      if (!n.parent) continue;
      const p = byId.get(n.parent)!;
      expect(n.x >= p.x && n.y >= p.y && n.x + n.width <= p.x + p.width && n.y + n.height <= p.y + p.height, `${n.id} inside ${p.id}`).to.equal(true);
    }
    const tops = placed.nodes.filter((n) => !n.parent);
    for (let i = 0; i < tops.length; i++) for (let j = i + 1; j < tops.length; j++) expect(overlaps(tops[i], tops[j]), `${tops[i].id} / ${tops[j].id}`).to.equal(false);
    for (const e of placed.edges) expect(e.points.length, e.id).to.be.at.least(2);
  });
});

describe('graph formats', () => {
  for (const name of ['default', 'two-control', 'sixteen-compute']) {
    it(`${name}: svg and drawio parse as XML and hold every node; dot and mermaid name every node`, async () => {
      const topology = await shipped(name);
      const graph = topologyGraph(topology);
      const svg = parse(await renderGraph(topology, 'svg'));
      expect(svg.name).to.equal('svg');
      const svgIds = all(svg, 'g').map((g) => g.attrs['data-id']).filter(Boolean);
      expect(svgIds).to.include.members(graph.nodes.map((n) => n.id));
      const svgText = all(svg, 'text').map((t) => t.getText());
      for (const n of graph.nodes) expect(svgText, n.name).to.include(n.name);

      const drawio = parse(await renderGraph(topology, 'drawio'));
      expect(drawio.name).to.equal('mxfile');
      const cells = all(drawio, 'mxCell');
      const vertices = cells.filter((c) => c.attrs.vertex === '1');
      expect(vertices).to.have.length(graph.nodes.length);
      for (const n of graph.nodes) expect(vertices.some((v) => String(v.attrs.value).includes(`<b>${n.name}</b>`)), n.name).to.equal(true);
      const ids = new Set(cells.map((c) => c.attrs.id));
      for (const e of cells.filter((c) => c.attrs.edge === '1')) expect(ids.has(e.attrs.source) && ids.has(e.attrs.target)).to.equal(true);

      const dot = await renderGraph(topology, 'dot');
      expect(dot.startsWith(`graph "${topology.name}" {`)).to.equal(true);
      const mermaid = await renderGraph(topology, 'mermaid');
      expect(mermaid).to.match(/^---\ntitle: .*\n---\nflowchart TB\n/);
      for (const n of graph.nodes) {
        // A compute holding workloads is a cluster labelled with its name around a `<name> vRouter` node.
        expect(dot, n.name).to.include(`label="${n.name}`);
        expect(mermaid, n.name).to.include(`"${n.name}`);
      }
      expect(dot.match(/ -- /g)).to.have.length(graph.edges.length);
    });
  }

  it('escapes names in every format', async () => {
    const graph: TopologyGraph = {
      name: 'a <b> & "c"',
      nodes: [
        { id: 'compute:x', kind: 'compute', name: 'x&<y>', detail: '"1"' },
        { id: 'workload:w', kind: 'workload', name: "w'\"", detail: '<2>', parent: 'compute:x' },
      ],
      edges: [],
    };
    const placed = await layoutGraph(graph);
    const svg = parse(graphSvg(placed));
    expect(all(svg, 'text').map((t) => t.getText())).to.include.members(['x&<y>', '"1"', "w'\"", '<2>']);
    const drawio = parse(graphDrawio(placed));
    expect(all(drawio, 'mxCell').map((c) => String(c.attrs.value ?? ''))).to.include('<b>x&amp;&lt;y&gt;</b><br><font style="font-size:10px">&quot;1&quot;</font>');
    expect(graphDot(graph)).to.include('label="w\'\\"\\n<2>"');
    expect(graphMermaid(graph)).to.include('"w\'#quot;<br/><small><2></small>"');
  });

  it('the html page inlines Cytoscape.js (no CDN) and the positioned elements', async () => {
    const html = await renderGraph(await shipped('default'), 'html');
    expect(html).to.not.match(/<script[^>]+src=/);
    expect(html).to.not.match(/https?:\/\/(cdn|unpkg)/);
    expect(html.match(/<\/script>/g)).to.have.length(2);
    expect(html).to.include('"id":"workload:web-a"');
  });
});

describe('ecmpsim graph', function () {
  this.timeout(60_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-graph-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an svg of the sixteen-compute topology', async () => {
    const out = path.join(dir, 'sixteen.svg');
    const r = await run(['graph', 'topologies/sixteen-compute.json', '--format', 'svg', '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal(`${out}: svg picture of sixteen-compute-native-lb\n`);
    const svg = parse(readFileSync(out, 'utf8'));
    expect(all(svg, 'g').filter((g) => String(g.attrs.class).startsWith('node compute'))).to.have.length(16);
  });

  it('prints mermaid to stdout', async () => {
    const r = await run(['graph', 'topologies/default.json', '--format', 'mermaid']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('flowchart TB');
  });

  it('refuses an unknown format and an invalid topology with one line, no stack', async () => {
    const bad = await run(['graph', 'topologies/default.json', '--format', 'png']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include("argument 'png' is invalid");
    const missing = await run(['graph', path.join(dir, 'nope.json'), '--format', 'svg']);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.match(/^ecmpsim: .*nope\.json/);
    expect(missing.stderr).to.not.include('    at ');
  });
});
