/**
 * The output of `ecmpsim compare`: the side-by-side table, the JSON (exactly the metric keys under
 * `native` and `proxy`) and a self-contained HTML page with both providers' per-compute load as charts
 * (chart.js's UMD build inlined: the page needs no network). Owns presentation only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { escapeXml } from '../graph/markup-escape.ts';
import { METRIC_KEYS, type ProviderMetrics } from './compare-run.ts';
import type { Comparison } from './compare.ts';

/** The JSON document: the run's context, then each provider's metrics with exactly METRIC_KEYS. */
export function comparisonJson(c: Comparison): object {
  const pick = (m: ProviderMetrics): Record<string, unknown> => Object.fromEntries(METRIC_KEYS.map((key) => [key, m[key]]));
  return {
    topology: c.topology, loadBalancer: c.loadBalancer, flows: c.flows, clients: c.clients, failedCompute: c.failedCompute,
    ...(c.notes.length > 0 ? { notes: c.notes } : {}), native: pick(c.native), proxy: pick(c.proxy),
  };
}

const LABELS: Record<(typeof METRIC_KEYS)[number], string> = {
  connections: 'connections served',
  tunnelsPerConnection: 'tunnels per connection (request)',
  trombonedConnections: 'tromboned connections',
  busiestComputeShare: 'busiest compute share of packets',
  perCompute: 'packets / flow entries per compute',
  brokenByScaleOut: 'broken by a member added',
  brokenByScaleIn: 'broken by a member removed',
  brokenByLbNodeFailure: 'broken by the compute failure',
  recoveryMs: 'recovery (ms to first new connection)',
  controlPlaneRoutes: 'control-plane paths for the VIP',
  xmppBytes: 'XMPP bytes (whole run)',
};

function cell(m: ProviderMetrics, key: (typeof METRIC_KEYS)[number]): string[] {
  if (key === 'perCompute') return Object.entries(m.perCompute).map(([name, load]) => `${name} ${load.packets}/${load.flows}`);
  const value = m[key];
  if (value === null) return ['none'];
  if (key === 'busiestComputeShare') return [`${((value as number) * 100).toFixed(1)}%`];
  return [String(value)];
}

export function comparisonTable(c: Comparison): string {
  const rows: [string, string, string][] = [['', 'native (ECMP)', 'proxy (haproxy)']];
  for (const key of METRIC_KEYS) {
    const left = cell(c.native, key);
    const right = cell(c.proxy, key);
    for (let i = 0; i < Math.max(left.length, right.length); i++) rows.push([i === 0 ? LABELS[key] : '', left[i] ?? '', right[i] ?? '']);
  }
  const widths = [0, 1, 2].map((col) => Math.max(...rows.map((row) => row[col].length)));
  const lines = rows.map((row) => row.map((text, col) => text.padEnd(widths[col])).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const head = `${c.topology}: load balancer ${c.loadBalancer}, ${c.flows} connections from ${c.clients.join(', ')}; failed compute ${c.failedCompute}`;
  const notes = c.notes.map((note) => `note: ${note}\n`).join('');
  return `${head}\n${notes}\n${lines.join('\n')}`;
}

function chartJs(): string {
  const require = createRequire(import.meta.url);
  // the package's exports map hides dist/chart.umd.js; it sits beside the CommonJS entry
  return readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
}

/** A page that opens from disk: the table, and per-compute packets and flow entries of both providers. */
export function comparisonHtml(c: Comparison): string {
  const computes = [...new Set([...Object.keys(c.native.perCompute), ...Object.keys(c.proxy.perCompute)])].sort();
  const series = (m: ProviderMetrics, field: 'packets' | 'flows'): number[] => computes.map((name) => m.perCompute[name]?.[field] ?? 0);
  const data = {
    labels: computes,
    packets: { native: series(c.native, 'packets'), proxy: series(c.proxy, 'packets') },
    flows: { native: series(c.native, 'flows'), proxy: series(c.proxy, 'flows') },
  };
  // </script> inside inlined code or data would end the element early
  const safe = (text: string): string => text.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecmpsim compare: ${escapeXml(c.topology)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}pre{background:#f4f4f4;padding:1em;overflow:auto}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:2em}</style></head>
<body>
<h1>Native (ECMP) vs proxy (haproxy) load balancer</h1>
<pre id="table">${escapeXml(comparisonTable(c))}</pre>
<div class="charts"><div><h2>Packets per compute</h2><canvas id="packets"></canvas></div>
<div><h2>Flow entries per compute</h2><canvas id="flows"></canvas></div></div>
<script>${safe(chartJs())}</script>
<script>
const data = ${safe(JSON.stringify(data))};
for (const field of ['packets', 'flows']) {
  new Chart(document.getElementById(field), { type: 'bar', data: { labels: data.labels, datasets: [
    { label: 'native', data: data[field].native, backgroundColor: '#3b82f6' },
    { label: 'proxy', data: data[field].proxy, backgroundColor: '#f97316' },
  ] }, options: { animation: false, scales: { y: { beginAtZero: true } } } });
}
</script>
</body></html>
`;
}
