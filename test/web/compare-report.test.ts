// `ecmpsim compare --report` in a real browser: the page opens from disk with chart.js inlined (no request
// leaves file://) and its two charts carry, per compute and provider, the packets and flow entries the
// comparison measured. The comparison is a real run (both providers over XMPP on 127.3.x loopback).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { comparisonHtml } from '../../src/compare/compare-report.ts';
import { compareProviders, type Comparison } from '../../src/compare/compare.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { CHROMIUM, launchChromium, screenshotPath, type LaunchedBrowser } from './browser-support.ts';

type Dataset = { label: string; data: number[] };

describe('compare --report page in Chromium', function () {
  this.timeout(120_000);
  let browser: LaunchedBrowser | null = null;
  let comparison: Comparison;
  let dir = '';

  before(async function () {
    browser = await launchChromium();
    if (!browser) {
      console.warn(`    skipping: ${CHROMIUM} is not installed (set CI=true to make this a failure)`);
      this.skip();
    }
    const loaded = await loadTopologyFile(new URL('../compare/fixtures/shared-compute.json', import.meta.url).pathname);
    if (!loaded.ok) throw new Error('the compare fixture topology is invalid');
    comparison = await compareProviders(loaded.topology, { flows: 120 });
    dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-compare-page-'));
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws per-compute packets and flow entries of both providers, offline', async () => {
    const file = path.join(dir, 'compare.html');
    writeFileSync(file, comparisonHtml(comparison));
    const page = await browser!.context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    await page.waitForFunction("typeof Chart !== 'undefined' && Chart.getChart('packets') !== undefined && Chart.getChart('flows') !== undefined");
    const charts = (await page.evaluate(`(() => Object.fromEntries(['packets', 'flows'].map((id) => {
      const chart = Chart.getChart(id);
      return [id, { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })) }];
    })))()`)) as Record<'packets' | 'flows', { labels: string[]; datasets: Dataset[] }>;
    for (const field of ['packets', 'flows'] as const) {
      const { labels, datasets } = charts[field];
      expect(datasets.map((d) => d.label)).to.deep.equal(['native', 'proxy']);
      for (const [provider, metrics] of [['native', comparison.native], ['proxy', comparison.proxy]] as const) {
        const drawn = datasets.find((d) => d.label === provider)!.data;
        expect(drawn, `${field} of ${provider}`).to.deep.equal(labels.map((compute) => metrics.perCompute[compute]?.[field] ?? 0));
      }
    }
    const packetsDrawn = charts.packets.datasets.find((d) => d.label === 'proxy')!.data.reduce((a, b) => a + b, 0);
    expect(packetsDrawn).to.be.greaterThan(0);
    expect(await page.locator('#table').innerText()).to.include('tromboned connections');
    expect(errors).to.deep.equal([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).to.deep.equal([]);
    await page.screenshot({ path: screenshotPath('compare-report.png'), fullPage: true });
    await page.close();
  });
});
