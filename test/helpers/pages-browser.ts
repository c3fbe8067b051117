// The app's own pages (SPEC §7) end to end: merge-gate as `npm start` runs it
// (`probot run`, a process of its own, through the queue world of
// queue-e2e.ts: the fake GitHub on 127.0.0.1 as a GitHub Enterprise host, a CI,
// webhooks delivered as GitHub does), its OAuth client and MERGE_GATE_URL set,
// and Debian's Chromium driven by playwright-core (never a downloaded browser).
// One app process and one browser for a test file: starting them costs seconds.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { QueueWorld } from './queue-e2e.js';
import { freePort } from './probot-process.js';

/** The OAuth client and session secret the app is started with (the fake GitHub's OAuth endpoints know the client). */
export const PAGES_CLIENT_ID = 'Iv1.pagese2eclient';
export const PAGES_CLIENT_SECRET = 'pages-e2e-client-secret';
export const PAGES_SESSION_SECRET = 'pages-e2e-session-secret-0123456789abcdef';

/** A browser window: its context (cookies), its page, and the dialogs anything on it opened (a hostile title must open none). */
export interface Window {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
}

export class PagesWorld {
  private constructor(
    readonly world: QueueWorld,
    /** The app's address: MERGE_GATE_URL, where the pages are. */
    readonly origin: string,
    readonly browser: Browser,
    /** Where screenshots go: SCREENSHOT_DIR (e.g. docs/images) keeps them; else a temp folder, removed at the end. */
    readonly shots: string,
    private readonly keepShots: boolean,
  ) {}

  /** The fake GitHub (with its OAuth endpoints), the app with the pages on, and Chromium. */
  static async start(env: Record<string, string> = {}): Promise<PagesWorld> {
    const world = await QueueWorld.create();
    let browser: Browser | null = null;
    try {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      await world.startProbot({ GITHUB_CLIENT_ID: PAGES_CLIENT_ID, GITHUB_CLIENT_SECRET: PAGES_CLIENT_SECRET, SESSION_SECRET: PAGES_SESSION_SECRET, MERGE_GATE_URL: origin, ...env }, port);
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      const keep = Boolean(process.env.SCREENSHOT_DIR);
      const shots = keep ? resolve(process.env.SCREENSHOT_DIR!) : mkdtempSync(join(tmpdir(), 'merge-gate-pages-'));
      mkdirSync(shots, { recursive: true });
      return new PagesWorld(world, origin, browser, shots, keep);
    } catch (err) {
      await browser?.close();
      const log = world.log();
      await world.close();
      throw explain(err, log);
    }
  }

  /** A fresh browser window (no cookies) `width` pixels wide; a missing element fails within 10 s, naming its selector. */
  async window(width = 1280, height = 900): Promise<Window> {
    const context = await this.browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return { context, page, dialogs };
  }

  /** A screenshot of the whole page as `<name>.png`; returns its path. */
  async shoot(page: Page, name: string): Promise<string> {
    const file = join(this.shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (statSync(file).size < 5000) throw new Error(`${file}: the screenshot is nearly empty`);
    return file;
  }

  /** Runs `body`; a failure's message gets the app's log and what the fake GitHub found wrong. */
  async explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      throw explain(err, `${this.world.log()}\n\nthe fake GitHub's problems:\n${this.world.fake.problems.join('\n') || '(none)'}`);
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.world.close();
    if (!this.keepShots) rmSync(this.shots, { recursive: true, force: true });
  }
}

function explain(err: unknown, log: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message += `\n\nthe app's log:\n${log}`;
  return e;
}
