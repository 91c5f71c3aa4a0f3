// Writes a topology graph as text other tools lay out themselves: Mermaid flowcharts (Markdown renderers,
// GitHub) and Graphviz dot. A compute that hosts workloads becomes a subgraph/cluster holding its vRouter
// node and its workloads.
import type { GraphEdge, GraphNode, GraphNodeKind, TopologyGraph } from './graph-model.ts';
import { EDGE_STYLE, NODE_STYLE } from './graph-style.ts';

/** Tool-safe identifiers (`n0`, `n1` …); names stay in labels. */
function shortIds(graph: TopologyGraph): Map<string, string> {
  return new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
}

function childrenOf(graph: TopologyGraph): Map<string, GraphNode[]> {
  const out = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) {
    if (!n.parent) continue;
    out.set(n.parent, [...(out.get(n.parent) ?? []), n]);
  }
  return out;
}

// ---- Mermaid ----

function mermaidText(text: string): string {
  return text.replace(/"/g, '#quot;');
}

const MERMAID_SHAPE: Record<GraphNodeKind, [string, string]> = {
  'control-node': ['[[', ']]'],
  compute: ['[', ']'],
  'bgp-peer': ['[/', '/]'],
  network: ['([', '])'],
  workload: ['(', ')'],
  'load-balancer': ['{{', '}}'],
};

function mermaidEdge(e: GraphEdge, a: string, b: string): string {
  const label = e.label ?? (e.kind === 'xmpp' ? (e.primary === false ? 'xmpp backup' : 'xmpp') : e.kind === 'bgp' ? 'bgp' : '');
  const arrow = e.kind === 'bgp' ? '===' : e.kind === 'attach' || (e.kind === 'xmpp' && e.primary === false) ? '-.-' : '---';
  if (!label) return `  ${a} ${arrow} ${b}`;
  return arrow === '-.-' ? `  ${a} -. "${mermaidText(label)}" .- ${b}` : `  ${a} ${arrow}|"${mermaidText(label)}"| ${b}`;
}

export function graphMermaid(graph: TopologyGraph): string {
  const ids = shortIds(graph);
  const kids = childrenOf(graph);
  const lines = ['---', `title: ${graph.name}`, '---', 'flowchart TB'];
  const nodeLine = (n: GraphNode, indent: string): string => {
    const [open, close] = MERMAID_SHAPE[n.kind];
    return `${indent}${ids.get(n.id)}${open}"${mermaidText(`${n.name}<br/><small>${n.detail}</small>`)}"${close}:::${n.kind.replace('-', '_')}`;
  };
  for (const n of graph.nodes) {
    if (n.parent && ids.has(n.parent)) continue;
    const inner = kids.get(n.id);
    if (!inner) {
      lines.push(nodeLine(n, '  '));
      continue;
    }
    lines.push(`  subgraph sg_${ids.get(n.id)}["${mermaidText(n.name)}"]`);
    lines.push(nodeLine({ ...n, name: `${n.name} vRouter` }, '    '));
    for (const k of inner) lines.push(nodeLine(k, '    '));
    lines.push('  end');
  }
  const styles: string[] = [];
  graph.edges.forEach((e, i) => {
    const a = ids.get(e.source);
    const b = ids.get(e.target);
    if (!a || !b) return;
    lines.push(mermaidEdge(e, a, b));
    const s = EDGE_STYLE[e.kind];
    styles.push(`  linkStyle ${i} stroke:${s.color},stroke-width:${s.width}px`);
  });
  lines.push(...styles);
  for (const [kind, s] of Object.entries(NODE_STYLE)) {
    lines.push(`  classDef ${kind.replace('-', '_')} fill:${s.fill},stroke:${s.stroke},color:${s.text}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- Graphviz dot ----

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const DOT_SHAPE: Record<GraphNodeKind, string> = {
  'control-node': 'box3d',
  compute: 'box',
  'bgp-peer': 'parallelogram',
  network: 'oval',
  workload: 'box',
  'load-balancer': 'hexagon',
};

export function graphDot(graph: TopologyGraph): string {
  const ids = shortIds(graph);
  const kids = childrenOf(graph);
  const lines = [
    `graph ${dotString(graph.name)} {`,
    `  label=${dotString(graph.name)}; labelloc=t; fontname="Helvetica"; rankdir=TB; newrank=true;`,
    '  node [fontname="Helvetica", fontsize=11, style="rounded,filled"];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const nodeLine = (n: GraphNode, indent: string): string => {
    const s = NODE_STYLE[n.kind];
    return `${indent}${ids.get(n.id)} [label=${dotString(`${n.name}\n${n.detail}`)}, shape=${DOT_SHAPE[n.kind]}, fillcolor=${dotString(s.fill)}, color=${dotString(s.stroke)}];`;
  };
  for (const n of graph.nodes) {
    if (n.parent && ids.has(n.parent)) continue;
    const inner = kids.get(n.id);
    if (!inner) {
      lines.push(nodeLine(n, '  '));
      continue;
    }
    const s = NODE_STYLE[n.kind];
    lines.push(`  subgraph cluster_${ids.get(n.id)} {`);
    lines.push(`    label=${dotString(n.name)}; style="rounded,filled"; fillcolor=${dotString(s.fill)}; color=${dotString(s.stroke)};`);
    lines.push(nodeLine({ ...n, name: `${n.name} vRouter` }, '    '));
    for (const k of inner) lines.push(nodeLine(k, '    '));
    lines.push('  }');
  }
  for (const e of graph.edges) {
    const a = ids.get(e.source);
    const b = ids.get(e.target);
    if (!a || !b) continue;
    const s = EDGE_STYLE[e.kind];
    const dashed = e.kind === 'attach' || (e.kind === 'xmpp' && e.primary === false);
    const attrs = [`color=${dotString(s.color)}`, `penwidth=${s.width}`];
    if (dashed) attrs.push('style=dashed');
    if (e.label) attrs.push(`label=${dotString(e.label)}`);
    else if (e.kind === 'xmpp' || e.kind === 'bgp') attrs.push(`label=${dotString(e.kind)}`);
    lines.push(`  ${a} -- ${b} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
