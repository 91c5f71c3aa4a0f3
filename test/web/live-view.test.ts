// The page `ecmpsim up` serves, in a real browser (Debian's Chromium, headless, through playwright-core):
// every node of the topology is drawn, a member added from the CLI (a client of the API) appears within two seconds, a
// killed compute turns its sessions down, and the flow-share chart adds up to the flows sent.
// Screenshots go to test-output/web/.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import type { Page } from 'playwright-core';
import { topologyGraph } from '../../src/graph/topology-graph.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { CHROMIUM, launchChromium, screenshotPath, type LaunchedBrowser } from './browser-support.ts';
import { isolatedTopology, startWebSimulation, type WebSimulation } from './web-fixture.ts';

const BIN = new URL('../../bin/ecmpsim.js', import.meta.url).pathname;

/** Runs the `ecmpsim` CLI against the simulation, as a user would. */
function cli(api: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, '--api', api, ...args], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`ecmpsim ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}

/** Evaluates an expression on the page's test probes (`window.ecmpsimView`). */
function probe<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(`window.ecmpsimView.${expression}`) as Promise<T>;
}

describe('web view in Chromium (six-compute topology)', function () {
  this.timeout(30_000);
  let browser: LaunchedBrowser | null = null;
  let web: WebSimulation;
  let topology: Topology;
  let page: Page;

  before(async function () {
    browser = await launchChromium();
    if (!browser) {
      console.warn(`    skipping: ${CHROMIUM} is not installed (set CI=true to make this a failure)`);
      this.skip();
    }
    topology = await isolatedTopology('six-compute');
    web = await startWebSimulation(topology);
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1600, height: 1000 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${web.url}/`);
    // Ready once every XMPP session is drawn up.
    const xmpp = topology.computes.map((c) => `xmpp:${c.name}:${c.xmppServers[0]}`);
    await page.waitForFunction(`${JSON.stringify(xmpp)}.every((id) => (window.ecmpsimView?.edgeClasses(id) ?? []).includes('up'))`, undefined, { timeout: 15_000 });
    expect(errors, 'script errors on the page').to.deep.equal([]);
  });

  after(async () => {
    await page?.close().catch(() => {});
    await browser?.close();
    await web?.stop();
  });

  it('draws every node of the topology and every compute’s composite', async () => {
    const expected = topologyGraph(topology).nodes.map((n) => n.id).sort();
    expect((await probe<string[]>(page, 'nodeIds()')).sort()).to.deep.equal(expected);
    expect(await page.locator('table.composites a.compute-link[data-compute]').count()).to.equal(topology.computes.length);
    expect(await page.locator('#members li.member').count()).to.equal(2);
    await page.screenshot({ path: screenshotPath('01-topology.png') });
  });

  it('the flow-share chart sums to the flows sent', async () => {
    const sent = (await web.post('/api/traffic', { from: 'client', to: '30.30.30.100:80', count: 400 })) as { report: { flows: number; delivered: number } };
    expect(sent.report.delivered).to.equal(400);
    await page.waitForFunction('window.ecmpsimView.chartTotal() === 400', undefined, { timeout: 5000 });
    expect(await probe<number>(page, 'chartTotal()')).to.equal(sent.report.flows);
    expect(await page.locator('#flow-total').textContent()).to.equal('400 flows');
    await page.screenshot({ path: screenshotPath('02-flow-shares.png') });
  });

  it('shows a member added from the CLI within two seconds', async () => {
    expect(await cli(web.url, ['member-create', 'pool1', '--address', '30.30.30.12', '--protocol-port', '8080'])).to.include('created loadbalancer-member');
    await page.waitForFunction(`window.ecmpsimView.memberEdges().includes('member:lb1:30.30.30.12:8080')`, undefined, { timeout: 2000 });
    await page.waitForFunction(`window.ecmpsimView.timeline().some((t) => t.includes('member added') && t.includes('30.30.30.12'))`, undefined, { timeout: 2000 });
    // The composite on the client's compute grows a slot for the new member (sent by XMPP, so eventually).
    await page.locator('table.composites tr:has(a[data-compute="compute-1"]) .slot', { hasText: 'web-c' }).first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: screenshotPath('03-member-added.png') });
  });

  it('turns the sessions of a killed compute down and shows it dead', async () => {
    await web.post('/api/nodes/compute-4/kill');
    await page.waitForFunction(`window.ecmpsimView.edgeClasses('xmpp:compute-4:control-1').includes('down')`, undefined, { timeout: 5000 });
    await page.locator('table.composites tr:has(a[data-compute="compute-4"]) .chip.down', { hasText: 'compute down' }).waitFor({ timeout: 2000 });
    const others = topology.computes.filter((c) => c.name !== 'compute-4').map((c) => `xmpp:${c.name}:control-1`);
    for (const id of others) expect(await probe<string[]>(page, `edgeClasses(${JSON.stringify(id)})`), id).to.include('up');
    await page.waitForFunction(`window.ecmpsimView.timeline().some((t) => t.includes('compute-4 went down'))`, undefined, { timeout: 2000 });
    await page.screenshot({ path: screenshotPath('04-compute-killed.png') });
    await web.post('/api/nodes/compute-4/restart');
    await page.waitForFunction(`window.ecmpsimView.edgeClasses('xmpp:compute-4:control-1').includes('up')`, undefined, { timeout: 10_000 });
  });

  it('marks a member its compute reports unhealthy, in the list and on its graph edge', async () => {
    await web.post('/api/nodes/compute-3/workloads/web-b/health', { healthy: false });
    const chip = page.locator('#members li.member[data-member="pool1:30.30.30.11:8080"] .chip');
    await page.waitForFunction(`window.ecmpsimView.edgeClasses('member:lb1:30.30.30.11:8080').includes('unhealthy')`, undefined, { timeout: 5000 });
    expect(await chip.textContent()).to.equal('unhealthy');
    await page.waitForFunction(`window.ecmpsimView.timeline().some((t) => t.includes('30.30.30.11:8080') && t.includes('unhealthy'))`, undefined, { timeout: 2000 });
    await web.post('/api/nodes/compute-3/workloads/web-b/health', { healthy: true });
    await page.waitForFunction(`!window.ecmpsimView.edgeClasses('member:lb1:30.30.30.11:8080').includes('unhealthy')`, undefined, { timeout: 5000 });
  });

  it('shows a compute’s FIB and flows on click, and a member’s path through trace', async () => {
    await page.locator('table.composites a.compute-link[data-compute="compute-1"]').click();
    await page.locator('#details table.grid td', { hasText: '30.30.30.100/32' }).first().waitFor({ timeout: 5000 });
    expect(await page.locator('#details-title').textContent()).to.equal('Compute compute-1: FIB and flows');
    await page.locator('#members li.member[data-member="pool1:30.30.30.11:8080"]').click();
    await page.locator('#details table.trace td', { hasText: 'to web-b:' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: screenshotPath('05-member-trace.png'), fullPage: false });
  });

  it('filters the stanza stream like the CLI', async () => {
    await page.fill('#stanza-filter input[name=node]', 'compute-2');
    await page.selectOption('#stanza-filter select[name=direction]', 'in');
    await page.click('#stanza-filter button[type=submit]');
    await page.waitForFunction('window.ecmpsimView.stanzasShown() > 0', undefined, { timeout: 5000 });
    const rows = page.locator('#stanzas .stanza');
    const nodes = new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-node'))));
    expect([...nodes]).to.deep.equal(['compute-2']);
    expect(await page.locator('#stanzas .stanza.out').count()).to.equal(0);
  });
});
