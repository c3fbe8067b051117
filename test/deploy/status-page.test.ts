// The status page in a real browser (Debian's chromium via playwright-core):
// what a person sees — repository names, revision states, the health chart.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { escapeHtml, renderPage, type StateSnapshot } from '../../src/deploy/page.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, land, makeTrunk, passStartup, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

describe('GET / in a browser', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  let browser: Browser;
  let shots: string;

  beforeAll(async () => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, repository: 'octo/shop' });
    t = testTrigger(setup.config);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    shots = mkdtempSync(join(tmpdir(), 'merge-gate-screens-'));
  });

  afterAll(async () => {
    await browser?.close();
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
    rmSync(shots, { recursive: true, force: true });
  });

  itReporting(() => t.report())('shows per repository the desired revision, each revision\'s state and why, its health chart, and recent deliveries', async () => {
    const { trigger } = t;
    const url = await trigger.start();
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('c1 healthy', () => trigger.store.revision('octo/shop', c1)?.state === 'healthy');
    const c2 = land(trunk, 'unhealthy');
    await announce(url, c2, { repository: 'octo/shop' });
    await passStartup(t, c2, 'HTTP 500', 'octo/shop');
    await waitFor('c2 cut off', () => trigger.store.revision('octo/shop', c2)?.state === 'bad');
    // A few more probes of c1 for the chart.
    await waitFor('c1 health history', () => trigger.store.health('octo/shop', c1).length >= 5);

    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(`${url}/`);
    expect(await page.locator('h2').first().innerText()).toContain('octo/shop');
    expect(await page.locator('.desired-sha').innerText()).toBe(c2.slice(0, 12));
    const row = (sha: string) => page.locator(`tr.revision[data-sha="${sha}"]`);
    expect(await row(c1).locator('.state').innerText()).toBe('healthy');
    expect(await row(c2).locator('.state').innerText()).toBe('bad');
    expect(await row(c2).locator('.reason').innerText()).toContain('cut off: not healthy within 1m of starting');
    // The chart: bars a person can see, green for passing probes of c1, red for c2's failures.
    const chart = row(c1).locator('svg.chart');
    expect(await chart.isVisible()).toBe(true);
    expect(await chart.getAttribute('aria-label')).toMatch(/^health history: \d+ probes, \d+ failed$/); // failures while it started up count too
    expect(await chart.locator('rect.ok').count()).toBeGreaterThanOrEqual(5);
    const barColour = await chart.locator('rect.ok').first().evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el).fill);
    expect(barColour).toBe('rgb(45, 164, 78)');
    expect(await row(c2).locator('svg.chart rect.fail').count()).toBeGreaterThanOrEqual(1);
    // The badge colour says the state at a glance.
    expect(await row(c2).locator('.state').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor)).toBe('rgb(207, 34, 46)');
    expect(await page.locator('body').innerText()).toContain('Recent deliveries');
    expect(await page.locator('body').innerText()).toContain(`${c2.slice(0, 12)} landed`);
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('2');
    const file = join(shots, 'status.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(5000);
    if (process.env.KEEP_SCREENSHOT) await page.screenshot({ path: process.env.KEEP_SCREENSHOT, fullPage: true });
    await page.close();
  });
});

describe('the page escapes what it shows', () => {
  it('renders hostile text as text', () => {
    const snapshot: StateSnapshot = {
      generatedAt: '2026-12-01T00:00:00.000Z',
      repositories: [{ name: 'octo/<b>x</b>', branch: 'main', desired: null, revisions: [{ sha: 'a'.repeat(40), state: 'bad', since: '2026-12-01T00:00:00.000Z', reason: '<script>alert(1)</script>', port: null, pid: null, health: [{ at: 'x', ok: false, ms: 1, error: '"><img src=x>' }] }], history: [] }],
      deliveries: [{ id: 'i', receivedAt: 'r', repository: '<i>', branch: 'main', after: null, outcome: 'ignored', note: '<u>n</u>' }],
    };
    const html = renderPage(snapshot);
    expect(html).not.toMatch(/<script>|<img|<b>x|<i>|<u>/);
    expect(html).toContain(escapeHtml('<script>alert(1)</script>'));
  });
});
