// Writes a placed topology graph (positions from graph-layout.ts) as a standalone SVG document: boxes per
// node, polylines per edge, a legend. Owns drawing only; positions come from the layout library.
import { DETAIL_FONT_PX, NAME_FONT_PX } from './graph-layout.ts';
import type { PlacedEdge, PlacedGraph, PlacedNode } from './graph-model.ts';
import { BACKUP_XMPP_DASH, EDGE_STYLE, NODE_KIND_LABEL, NODE_STYLE } from './graph-style.ts';
import { escapeXml } from './markup-escape.ts';

const LEGEND_WIDTH = 190;
const TITLE_HEIGHT = 34;
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

function nodeSvg(n: PlacedNode, compound: boolean): string {
  const s = NODE_STYLE[n.kind];
  const rx = n.kind === 'network' ? n.height / 2 : n.kind === 'workload' ? 4 : 8;
  const cx = n.x + n.width / 2;
  // A compute drawn around its workloads keeps its title at the top; a leaf centres its two lines.
  const nameY = compound ? n.y + 18 : n.y + n.height / 2 - 3;
  return [
    `<g class="node ${n.kind}" data-id="${escapeXml(n.id)}">`,
    `<title>${escapeXml(`${NODE_KIND_LABEL[n.kind]} ${n.name}`)}</title>`,
    `<rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="${rx}" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.4"/>`,
    `<text x="${cx}" y="${nameY}" text-anchor="middle" font-size="${NAME_FONT_PX}" font-weight="bold" fill="${s.text}">${escapeXml(n.name)}</text>`,
    `<text x="${cx}" y="${nameY + DETAIL_FONT_PX + 3}" text-anchor="middle" font-size="${DETAIL_FONT_PX}" fill="#475569">${escapeXml(n.detail)}</text>`,
    '</g>',
  ].join('');
}

function edgeSvg(e: PlacedEdge): string {
  if (e.points.length < 2) return '';
  const s = EDGE_STYLE[e.kind];
  const dash = e.kind === 'xmpp' && e.primary === false ? BACKUP_XMPP_DASH : s.dash;
  const points = e.points.map((p) => `${p.x},${p.y}`).join(' ');
  const parts = [
    `<g class="edge ${e.kind}" data-id="${escapeXml(e.id)}">`,
    `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="${s.width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
  ];
  if (e.label) {
    const mid = e.points[Math.floor(e.points.length / 2)];
    const prev = e.points[Math.floor(e.points.length / 2) - 1];
    const x = (mid.x + prev.x) / 2;
    const y = (mid.y + prev.y) / 2;
    parts.push(`<text x="${x + 4}" y="${y}" font-size="${DETAIL_FONT_PX}" fill="${s.color}" paint-order="stroke" stroke="#ffffff" stroke-width="3">${escapeXml(e.label)}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function legendSvg(x: number, y: number): string {
  const rows: string[] = [];
  let row = 0;
  for (const [kind, s] of Object.entries(NODE_STYLE)) {
    const ry = y + row++ * 20;
    rows.push(`<rect x="${x}" y="${ry}" width="16" height="12" rx="3" fill="${s.fill}" stroke="${s.stroke}"/>`);
    rows.push(`<text x="${x + 22}" y="${ry + 10}" font-size="${DETAIL_FONT_PX}">${escapeXml(NODE_KIND_LABEL[kind as keyof typeof NODE_KIND_LABEL])}</text>`);
  }
  const edgeLabels: Record<string, string> = { xmpp: 'XMPP (dashed: backup)', bgp: 'BGP session', attach: 'interface on network', vip: 'VIP on network', member: 'pool member' };
  for (const [kind, s] of Object.entries(EDGE_STYLE)) {
    const ry = y + row++ * 20 + 6;
    rows.push(`<line x1="${x}" y1="${ry}" x2="${x + 16}" y2="${ry}" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    rows.push(`<text x="${x + 22}" y="${ry + 4}" font-size="${DETAIL_FONT_PX}">${escapeXml(edgeLabels[kind] ?? kind)}</text>`);
  }
  return `<g class="legend">${rows.join('')}</g>`;
}

export function graphSvg(graph: PlacedGraph): string {
  const width = graph.width + LEGEND_WIDTH;
  const height = Math.max(graph.height, 260) + TITLE_HEIGHT;
  const compounds = new Set(graph.nodes.filter((n) => n.parent).map((n) => n.parent));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${escapeXml(graph.name)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="22" font-size="15" font-weight="bold">${escapeXml(graph.name)}</text>`,
    `<g transform="translate(0,${TITLE_HEIGHT})">`,
    // Compounds first, then edges, then the leaves: lines run over a compute's fill but under workloads.
    ...graph.nodes.filter((n) => compounds.has(n.id)).map((n) => nodeSvg(n, true)),
    ...graph.edges.map(edgeSvg),
    ...graph.nodes.filter((n) => !compounds.has(n.id)).map((n) => nodeSvg(n, false)),
    legendSvg(graph.width + 10, 10),
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
