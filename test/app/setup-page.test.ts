// The README's first way to get credentials: `npm start` with none, open
// Probot's setup page, press "Register GitHub App". Probot writes the manifest
// into the button's value='…' unescaped, so what GitHub receives is what a
// browser reads from that attribute — checked here in a real browser against
// app.yml, and app.yml's strings kept free of what would break the attribute.
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { parse } from 'yaml';
import { spawnProbotRun, stopProbotRun } from '../helpers/probot-process.js';

const appYml = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Every string in a parsed YAML value, keys included, with where it is. */
function strings(value: unknown, at = 'app.yml'): Array<[string, string]> {
  if (typeof value === 'string') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [[`${at} key`, k] as [string, string], ...strings(v, `${at}.${k}`)]);
  return [];
}

test("app.yml holds no ' (it would end Probot's value='…') and no & (it would start a character reference)", () => {
  expect(strings(appYml).filter(([, s]) => /['&]/.test(s))).toEqual([]);
});

describe("Probot's setup page", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('"Register GitHub App" submits app.yml as the manifest', async () => {
    // As `npm start` with no APP_ID/PRIVATE_KEY: setup mode (not production; no smee.io channel from a test).
    const probot = await spawnProbotRun({ NODE_ENV: 'development', NO_SMEE_SETUP: 'true', LOG_LEVEL: 'warn' });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${probot.port}/`);
      const button = page.getByRole('button', { name: 'Register GitHub App' });
      expect(await button.getAttribute('name')).toBe('manifest');
      const submitted = (await button.getAttribute('value')) ?? '';
      let manifest: Record<string, unknown>;
      try {
        manifest = JSON.parse(submitted) as Record<string, unknown>;
      } catch {
        throw new Error(`the form submits a manifest that is not JSON:\n${submitted}\n\nprobot run:\n${probot.output()}`);
      }
      expect(manifest).toEqual({
        ...appYml,
        hook_attributes: { url: `http://127.0.0.1:${probot.port}/` },
        redirect_url: `http://127.0.0.1:${probot.port}/probot/setup`,
        version: 'v1',
      });
      await page.close();
    } finally {
      await stopProbotRun(probot.child, probot.exited);
    }
  });
});
