// Writes a placed topology graph as a draw.io (diagrams.net) file: one mxCell per node (workloads as
// children of their compute, with geometry relative to it, as draw.io expects) and per edge (with the
// layout's bend points). Positions come from graph-layout.ts.
import type { PlacedGraph, PlacedNode } from './graph-model.ts';
import { BACKUP_XMPP_DASH, EDGE_STYLE, NODE_STYLE } from './graph-style.ts';
import { escapeXml } from './markup-escape.ts';

function cellId(index: number): string {
  return `n${index + 2}`;
}

export function graphDrawio(graph: PlacedGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, cellId(i)]));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const compounds = new Set(graph.nodes.filter((n) => n.parent).map((n) => n.parent));
  const cells: string[] = ['<mxCell id="0"/>', '<mxCell id="1" parent="0"/>'];
  const vertex = (n: PlacedNode): string => {
    const s = NODE_STYLE[n.kind];
    const parent = n.parent ? byId.get(n.parent) : undefined;
    const x = parent ? n.x - parent.x : n.x;
    const y = parent ? n.y - parent.y : n.y;
    const shape = n.kind === 'network' ? 'rounded=1;arcSize=50;' : 'rounded=1;';
    const style = `${shape}whiteSpace=wrap;html=1;fillColor=${s.fill};strokeColor=${s.stroke};fontColor=${s.text};${compounds.has(n.id) ? 'verticalAlign=top;container=1;' : ''}`;
    const value = `<b>${escapeXml(n.name)}</b><br><font style="font-size:10px">${escapeXml(n.detail)}</font>`;
    return (
      `<mxCell id="${ids.get(n.id)}" value="${escapeXml(value)}" style="${style}" vertex="1" parent="${parent ? ids.get(parent.id) : '1'}">` +
      `<mxGeometry x="${x}" y="${y}" width="${n.width}" height="${n.height}" as="geometry"/></mxCell>`
    );
  };
  for (const n of graph.nodes) cells.push(vertex(n));
  graph.edges.forEach((e, i) => {
    const source = ids.get(e.source);
    const target = ids.get(e.target);
    if (!source || !target) return;
    const s = EDGE_STYLE[e.kind];
    const dashed = s.dash !== '' || (e.kind === 'xmpp' && e.primary === false);
    const style = `endArrow=none;html=1;strokeColor=${s.color};strokeWidth=${s.width};${dashed ? `dashed=1;dashPattern=${(e.kind === 'xmpp' ? BACKUP_XMPP_DASH : s.dash)};` : ''}`;
    const bends = e.points.slice(1, -1).map((p) => `<mxPoint x="${p.x}" y="${p.y}"/>`).join('');
    cells.push(
      `<mxCell id="e${i}" value="${escapeXml(e.label ?? '')}" style="${style}" edge="1" parent="1" source="${source}" target="${target}">` +
        `<mxGeometry relative="1" as="geometry">${bends ? `<Array as="points">${bends}</Array>` : ''}</mxGeometry></mxCell>`,
    );
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<mxfile host="ecmpsim" type="device">`,
    `<diagram id="topology" name="${escapeXml(graph.name)}">`,
    `<mxGraphModel dx="${graph.width}" dy="${graph.height}" grid="1" gridSize="10" guides="1" page="1" pageWidth="${Math.max(850, graph.width + 40)}" pageHeight="${Math.max(1100, graph.height + 40)}">`,
    '<root>',
    ...cells,
    '</root>',
    '</mxGraphModel>',
    '</diagram>',
    '</mxfile>',
    '',
  ].join('\n');
}
