// The rendered pages in a real browser (Debian's chromium via playwright-core),
// served as they are meant to be, with PAGES_CSP, from a static server on
// 127.0.0.1: nothing is refused by the policy, hostile text shows as text, every
// form control is labelled, every text has AA contrast, nothing is wider than
// a phone, and the queue page's <main> refreshes in place (the page's clock is
// Playwright's: no real wait) and leads to sign-in once the session is gone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PAGES_CSP, REFRESH_SECONDS } from '../../src/pages/layout.js';
import { renderPullPage } from '../../src/pages/pull-page.js';
import { renderQueuePage } from '../../src/pages/queue-page.js';
import { evaluation, pullPage, queue, queuePage, queuePull } from '../helpers/pages-views.js';

const HOSTILE = `<img src=x onerror="alert('pwned')"> & </td><script>alert(1)</script>`;
const LONG = 'a-very-long-branch-name-without-any-space-'.repeat(4);

/** What the server answers, by path; a function is asked at every request. */
const routes = new Map<string, () => { status: number; body: string; location?: string }>();

/** In the page: every text whose contrast with its background is under 4.5:1 (WCAG AA), with its ratio. */
const LOW_CONTRAST = `(() => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(rgba(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(el.tagName + ' ' + el.textContent.trim().slice(0, 40) + ': ' + ratio.toFixed(2));
  }
  return low;
})()`;

/** In the page: every form control a person uses that has no accessible name. */
const UNLABELLED = `[...document.querySelectorAll('button, select, textarea, input:not([type=hidden])')]
  .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || (el.tagName === 'BUTTON' && el.textContent.trim())))
  .map((el) => el.outerHTML)`;

/** Two browser contexts a test, on a busy 2-core machine: ample headroom. */
const TEST_MS = 90_000;

describe('the pages in a browser', () => {
  let server: Server;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (!route) return void res.writeHead(404).end();
      const { status, body, location } = route();
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGES_CSP, ...(location ? { location } : {}) }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, TEST_MS);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  beforeEach(() => {
    problems.length = 0;
    routes.clear();
    routes.set('/login', () => ({ status: 200, body: '<!doctype html><link rel="icon" href="data:,"><title>Sign in</title><p>Sign in with GitHub</p>' }));
  });

  async function open(path: string, width = 1280, javaScriptEnabled = true): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warning' ? problems.push(`console ${m.type()}: ${m.text()}`) : undefined));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => void problems.push(`dialog: ${d.message()}`));
    page.on('requestfailed', (r) => void problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => void (r.status() >= 400 ? problems.push(`${r.status()}: ${r.url()}`) : undefined));
    // The page's time stands still (it would flow with the machine's otherwise) until the test runs it on.
    await page.clock.install({ time: Date.parse('2026-12-05T10:30:00Z') });
    await page.clock.pauseAt(Date.parse('2026-12-05T10:30:01Z'));
    await page.goto(`${base}${path}`);
    return page;
  }

  const hostileQueue = () =>
    queuePage({
      login: HOSTILE,
      queues: [
        queue({ branch: LONG, pulls: [queuePull({ title: HOSTILE, author: HOSTILE, url: 'javascript:alert(1)' }), queuePull({ number: 42, position: 2, status: { kind: 'queued', position: 2, of: 2, branch: 'main', held: 'the trunk is red' }, says: 'queued: 2nd of 2 for main' })] }),
      ],
    });
  const hostilePull = () => {
    const record = evaluation({ title: HOSTILE, author: HOSTILE, base: LONG, results: [{ rule: 'checks', outcome: 'fail', reason: `${HOSTILE} failed`, details: [{ message: HOSTILE, path: `${LONG}/${HOSTILE}` }] }] });
    return pullPage({ latest: record, history: [{ record, changes: [HOSTILE] }, { record: evaluation({ outcome: 'pass' }), changes: [] }] });
  };

  for (const [name, path, render] of [
    ['queue page', '/queue', () => renderQueuePage(hostileQueue())],
    ['pull request page', '/pulls/octo/shop/41', () => renderPullPage(hostilePull())],
  ] as const) {
    it(`shows the ${name} with nothing refused by the CSP, hostile text as text, labelled controls and AA contrast, on a desktop and a phone`, async () => {
      routes.set(path, () => ({ status: 200, body: render() }));
      for (const width of [1280, 375]) {
        const page = await open(path, width);
        await page.getByRole('main').waitFor();
        expect(await page.locator('main img, main script').count()).toBe(0);
        expect(await page.getByText(HOSTILE).first().isVisible()).toBe(true);
        expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
        expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
        expect(await page.evaluate(UNLABELLED)).toEqual([]);
        expect(await page.evaluate(LOW_CONTRAST)).toEqual([]);
        const wide = await page.evaluate('document.documentElement.scrollWidth');
        expect([width, wide]).toEqual([width, width]);
        await page.context().close();
      }
      expect(problems).toEqual([]);
    }, TEST_MS);
  }

  it('refreshes the queue in place every REFRESH_SECONDS, and sends a signed-out person to sign in', async () => {
    let view = queuePage();
    let signedIn = true;
    routes.set('/queue', () => (signedIn ? { status: 200, body: renderQueuePage(view) } : { status: 302, body: '', location: '/login' }));
    const page = await open('/queue');
    await page.evaluate('window.sameDocument = true');
    view = queuePage({ queues: [queue({ pulls: [queuePull(), queuePull({ number: 99, position: 2, title: 'Arrived later' })] })] });
    await page.clock.runFor(REFRESH_SECONDS * 1000 - 1000);
    expect(await page.getByText('Arrived later').count()).toBe(0);
    await page.clock.runFor(1000);
    await page.getByText('Arrived later').waitFor();
    expect(await page.evaluate('window.sameDocument')).toBe(true);

    signedIn = false;
    await page.clock.runFor(REFRESH_SECONDS * 1000);
    await page.waitForURL(`${base}/login`);
    expect(await page.getByText('Sign in with GitHub').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.context().close();
  }, TEST_MS);

  it('works without JavaScript', async () => {
    routes.set('/queue', () => ({ status: 200, body: renderQueuePage(queuePage()) }));
    const page = await open('/queue', 1280, false);
    expect(await page.getByRole('link', { name: /#41 Make checkout faster/ }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await page.context().close();
  }, TEST_MS);
});
