// The status page in a real browser (Debian's chromium via playwright-core):
// what a person sees — repository names, revision states and what landed them,
// each revision's history, the health chart, the last error reports, the log,
// the retry command, the banner, refused deliveries. With SCREENSHOT_DIR set
// (e.g. SCREENSHOT_DIR=docs/images) the screenshots are kept there for the docs.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deployTriggerCommand } from '../../src/deploy/cli.js';
import { DeployTrigger } from '../../src/deploy/trigger.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, land, makeTrunk, postEvent, SECRET, signedHeaders, waitFor, writeConfig } from '../helpers/deploy.js';

const HOSTILE = `<img src=x onerror="alert('pwned')"> & </td><script>alert(1)</script>`;

describe('GET / in a browser', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: DeployTrigger;
  let browser: Browser;
  let shots: string;
  const logs: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    trunk = makeTrunk();
    setup = writeConfig({
      remote: trunk.dir,
      repository: 'octo/shop',
      health: '{ url: "http://127.0.0.1:${PORT}/healthz", interval: 100ms, timeout: 1s, failures: 3, startup: 8s }',
    });
    trigger = new DeployTrigger({ config: setup.config, configFile: setup.file, env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET }, log: (line) => logs.push(line), stopGraceMs: 1000, stopServicesOnExit: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    shots = process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'merge-gate-screens-'));
    mkdirSync(shots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await trigger.stop();
    setup.remove();
    trunk.remove();
    if (!process.env.SCREENSHOT_DIR) rmSync(shots, { recursive: true, force: true });
  });

  /** A failing step shows what the trigger did. */
  async function withLogs(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      process.stderr.write(`trigger log:\n${logs.join('\n')}\n`);
      throw err;
    }
  }

  /** The page held still (GET /?refresh=0), so assertions never meet a reload. */
  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.setDefaultTimeout(5000); // a missing element fails fast, with its selector
    await page.goto(`${url}/?refresh=0`);
    return page;
  }

  async function shoot(page: Page, name: string, selector?: string): Promise<void> {
    const file = join(shots, `deploy-${name}.png`);
    if (selector) await page.locator(selector).screenshot({ path: file });
    else await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(5000);
  }

  const row = (page: Page, sha: string) => page.locator(`tr.revision[data-sha="${sha}"]`);
  const details = (page: Page, sha: string) => page.locator(`tr.details[data-sha="${sha}"]`);
  const fill = (page: Page, selector: string) => page.locator(selector).first().evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el).fill);
  const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();

  it('walks through healthy, starting, bad (with the banner and the retry command) and refused deliveries', () => withLogs(async () => {
    const url = await trigger.start();
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    await announce(url, c1, { repository: 'octo/shop', pullRequest: { number: 7, title: 'Add the shop service', url: 'https://github.com/octo/shop/pull/7', author: 'alice' } });
    await waitFor('c1 healthy', () => trigger.store.revision('octo/shop', c1)?.state === 'healthy');
    await waitFor('c1 health history', () => trigger.store.health('octo/shop', c1).length >= 8);

    // Healthy: what landed it, its history, its chart, its log.
    let page = await open(url);
    expect(await page.locator('h2').first().innerText()).toContain('octo/shop');
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    expect(await row(page, c1).locator('.state').innerText()).toBe('healthy');
    expect(await row(page, c1).locator('.subject').innerText()).toBe('the sample service');
    const link = row(page, c1).locator('.pull a');
    expect(await link.innerText()).toBe('#7 Add the shop service');
    expect(await link.getAttribute('href')).toBe('https://github.com/octo/shop/pull/7');
    expect(await row(page, c1).locator('.author').innerText()).toBe('by alice');
    expect(await details(page, c1).locator('.history li .state').allInnerTexts()).toEqual(['starting', 'healthy']);
    expect(await details(page, c1).locator('.history li').last().innerText()).toMatch(/^healthy \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just now|\d+ s ago)\) health probe passed$/);
    expect(await row(page, c1).locator('.since').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just now|\d+ s ago)\)$/);
    const chart1 = row(page, c1).locator('svg.chart');
    expect(await chart1.locator('rect.ok').count()).toBeGreaterThanOrEqual(5);
    expect(await chart1.locator('rect.fail').count()).toBe(0); // a probe before it listened is start-up, not a failure
    expect(await fill(page, `tr.revision[data-sha="${c1}"] svg.chart rect.ok`)).toBe('rgb(45, 164, 78)');
    expect(await page.locator('.legend').innerText()).toMatch(/one scale for every row \(full height \d+ ms, the 95th percentile/);
    expect(await page.locator('.banner').count()).toBe(0);
    expect(await details(page, c1).locator('.retry-command').count()).toBe(0);
    const logHref = await row(page, c1).locator('a.log').getAttribute('href');
    expect(logHref).toBe(`/revisions/${c1}/log?repository=octo%2Fshop`);
    const logAnswer = await fetch(`${url}${logHref}`);
    expect(logAnswer.status).toBe(200);
    expect(logAnswer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(logAnswer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await logAnswer.text()).toContain(`revision ${c1} listening on`);
    expect((await fetch(`${url}/revisions/${'0'.repeat(40)}/log`)).status).toBe(404);
    expect(await metrics(url)).toContain('merge_gate_deploy_desired_healthy{repository="octo/shop"} 1');
    await shoot(page, 'healthy');
    await page.close();

    // Starting: a slow revision landed by a pull request with a hostile title.
    const c2 = land(trunk, 'slow');
    await announce(url, c2, {
      repository: 'octo/shop',
      pullRequest: { number: 8, title: HOSTILE, url: 'javascript:alert(2)', author: '<b>mallory</b>' },
      pullRequests: [{ number: 9, title: 'Tidy the checkout page', url: 'https://github.com/octo/shop/pull/9', author: 'bob' }, { number: 'x' }],
    });
    await waitFor('c2 starting, a few probes failed', () => trigger.store.revision('octo/shop', c2)?.state === 'starting' && trigger.store.health('octo/shop', c2).length >= 4);
    page = await open(url);
    expect(await row(page, c2).locator('.state').innerText()).toBe('starting');
    expect(await row(page, c2).locator('.subject').innerText()).toBe('land: slow');
    expect(await row(page, c2).locator('.pull').allInnerTexts()).toEqual([`#8 ${HOSTILE} by <b>mallory</b>`, '#9 Tidy the checkout page by bob']);
    expect(await row(page, c2).locator('.pull a').count()).toBe(1); // a javascript: URL never becomes a link
    expect(await page.locator('img, script, b').count()).toBe(0);
    const chart2 = row(page, c2).locator('svg.chart');
    expect(await chart2.locator('rect.startup').count()).toBeGreaterThanOrEqual(3);
    expect(await chart2.locator('rect.fail').count()).toBe(0);
    expect(await fill(page, `tr.revision[data-sha="${c2}"] svg.chart rect.startup`)).toBe('rgb(175, 184, 193)');
    expect(await metrics(url)).toMatch(/merge_gate_deploy_desired_running\{repository="octo\/shop"\} 1\n/);
    await shoot(page, 'starting');
    await page.close();
    await waitFor('c2 healthy', () => trigger.store.revision('octo/shop', c2)?.state === 'healthy');
    await waitFor('c2 probed after', () => trigger.store.health('octo/shop', c2).filter((h) => h.ok).length >= 3);
    page = await open(url);
    const chart2After = row(page, c2).locator('svg.chart');
    expect(await chart2After.locator('line.became-healthy').count()).toBe(1);
    expect(await chart2After.locator('rect.startup').count()).toBeGreaterThanOrEqual(3);
    expect(await chart2After.locator('rect.ok').count()).toBeGreaterThanOrEqual(3);
    expect(await chart2After.locator('rect.fail').count()).toBe(0);
    expect(await details(page, c2).locator('.history li .state').allInnerTexts()).toEqual(['starting', 'healthy']);
    await page.close();

    // Bad: a revision whose service reports errors is cut off; the banner says nothing new deploys.
    const c3 = land(trunk, 'errors');
    await announce(url, c3, { repository: 'octo/shop', pullRequest: { number: 10, title: 'Faster checkout', url: 'https://github.com/octo/shop/pull/10', author: 'carol' } });
    await waitFor('c3 cut off', () => trigger.store.revision('octo/shop', c3)?.state === 'bad');
    page = await open(url);
    const banner = page.locator('.banner');
    expect(await banner.innerText()).toContain(`The desired revision ${c3.slice(0, 12)} is bad: cut off: `);
    expect(await banner.innerText()).toContain('Nothing new deploys until a new landing or merge-gate deploy-trigger retry');
    expect(await row(page, c3).locator('.reason').innerText()).toMatch(/^cut off: \d+ error reports from the service within 1m \(more than 5\)$/);
    expect((await details(page, c3).locator('.history li .state').allInnerTexts()).join(' → ')).toMatch(/^starting( → healthy)? → bad$/); // healthy first, or not, as the reports arrive
    const reports = details(page, c3).locator('.signals li');
    expect(await reports.count()).toBeGreaterThanOrEqual(1);
    expect(await reports.first().innerText()).toMatch(/UTC \((just now|\d+ s ago)\) \W?simulated error\W?$/);
    const retry = await details(page, c3).locator('.retry-command').innerText();
    expect(retry).toBe(`merge-gate deploy-trigger retry ${c3} --config ${setup.file}`);
    expect(await details(page, c2).locator('.retry-command').count()).toBe(0);
    const m = await metrics(url);
    expect(m).toContain('merge_gate_deploy_desired_bad{repository="octo/shop",reason="signals"} 1');
    expect(m).toContain('merge_gate_deploy_desired_bad{repository="octo/shop",reason="health"} 0');
    expect(m).toContain('merge_gate_deploy_desired_running{repository="octo/shop"} 0');
    expect(m).toContain('merge_gate_deploy_ruled_out_total{repository="octo/shop",reason="signals"} 1');
    await shoot(page, 'bad');
    await page.close();

    // Refused deliveries: a secret mismatch, a body that is not a trunk-updated, one too large.
    const body = JSON.stringify({ type: 'trunk-updated', repository: 'octo/shop', branch: 'main', after: c3 });
    expect((await postEvent(url, body, signedHeaders(body, { secret: `whsec_${Buffer.from('the old secret').toString('base64')}`, id: 'msg_<i>rotated</i>' }))).status).toBe(401);
    expect((await postEvent(url, 'not json', signedHeaders('not json'))).status).toBe(400);
    expect((await postEvent(url, 'x'.repeat(70 * 1024), { 'content-type': 'application/json' })).status).toBe(413);
    page = await open(url);
    const refused = page.locator('table.refused tbody tr');
    expect(await refused.count()).toBe(3);
    expect(await refused.nth(0).innerText()).toMatch(/413\s+the body is over 65536 bytes/);
    expect(await refused.nth(1).innerText()).toMatch(/400\s+the body is not JSON/);
    expect(await refused.nth(2).innerText()).toMatch(/401\s+signature not accepted: .+\s+msg_<i>rotated<\/i>/);
    expect(await page.locator('i').count()).toBe(0);
    expect(await metrics(url)).toContain('merge_gate_deploy_deliveries_total{outcome="too_large"} 1');
    await shoot(page, 'refused', 'section.deliveries');
    await page.close();

    // The retry command on the page is the one the CLI takes.
    const args = retry.split(' ');
    expect(args.slice(0, 2)).toEqual(['merge-gate', 'deploy-trigger']);
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), usage: (msg: string) => (out.push(msg), 2), cwd: process.cwd() };
    expect(await deployTriggerCommand(args.slice(2), io)).toBe(0);
    await waitFor('the retry to be applied', () => trigger.store.revisionHistory('octo/shop', c3).some((h) => h.reason === 'retry requested'));
    expect(dialogs).toEqual([]);
  }), 120_000);
});
