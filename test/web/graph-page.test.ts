// `ecmpsim graph` output in a real browser: the html page draws every node with its inlined Cytoscape.js,
// and Chromium's own XML parser accepts the svg and drawio documents. Screenshots go to test-output/web/.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderGraph } from '../../src/graph/graph-formats.ts';
import { topologyGraph } from '../../src/graph/topology-graph.ts';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { CHROMIUM, launchChromium, screenshotPath, type LaunchedBrowser } from './browser-support.ts';

describe('graph pages in Chromium (sixteen-compute topology)', function () {
  this.timeout(30_000);
  let browser: LaunchedBrowser | null = null;
  let dir = '';

  before(async function () {
    browser = await launchChromium();
    if (!browser) {
      console.warn(`    skipping: ${CHROMIUM} is not installed (set CI=true to make this a failure)`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-graph-page-'));
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function topology() {
    const loaded = await loadTopologyFile(new URL('../../topologies/sixteen-compute.json', import.meta.url).pathname);
    if (!loaded.ok) throw new Error('sixteen-compute.json is invalid');
    return loaded.topology;
  }

  it('the html page draws every node, offline', async () => {
    const t = await topology();
    const file = path.join(dir, 'sixteen.html');
    writeFileSync(file, await renderGraph(t, 'html'));
    const page = await browser!.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForFunction('window.ecmpsimGraph !== undefined');
    const ids = (await page.evaluate('window.ecmpsimGraph.nodeIds()')) as string[];
    expect(ids.sort()).to.deep.equal(topologyGraph(t).nodes.map((n) => n.id).sort());
    expect(requests.filter((u) => !u.startsWith('file://'))).to.deep.equal([]);
    await page.screenshot({ path: screenshotPath('graph-sixteen-compute-html.png') });
    await page.close();
  });

  for (const [format, type] of [['svg', 'image/svg+xml'], ['drawio', 'application/xml']] as const) {
    it(`Chromium's XML parser accepts the ${format} document`, async () => {
      const text = await renderGraph(await topology(), format);
      const page = await browser!.context.newPage();
      const errors = (await page.evaluate(
        `(() => { const d = new DOMParser().parseFromString(${JSON.stringify(text)}, ${JSON.stringify(type)}); return d.getElementsByTagName('parsererror').length; })()`,
      )) as number;
      expect(errors).to.equal(0);
      if (format === 'svg') {
        const file = path.join(dir, 'sixteen.svg');
        writeFileSync(file, text);
        await page.goto(`file://${file}`);
        await page.screenshot({ path: screenshotPath('graph-sixteen-compute-svg.png'), fullPage: false });
      }
      await page.close();
    });
  }
});
