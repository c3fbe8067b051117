// The app's own pages (SPEC §7, issue #22) as a person meets them: merge-gate
// as `npm start` runs it, in its own process, against the fake GitHub on
// 127.0.0.1 (its API, its webhooks and its OAuth endpoints), in a real
// Chromium. Two repositories run queues; alice may read one of them.
// SCREENSHOT_DIR=docs/images keeps the screenshots (docs/pages.md).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FakePull } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { approve, fileAdding } from '../helpers/github-scenario.js';
import { queuePolicy, type Scene } from '../helpers/queue-e2e.js';
import { PAGES_CLIENT_ID, PAGES_CLIENT_SECRET, PAGES_SESSION_SECRET, PagesWorld, type Window } from '../helpers/pages-browser.js';
import { Cookies, OAUTH_COOKIE, SESSION_COOKIE } from '../../src/pages/session.js';
import { systemClock } from '../../src/clock.js';

const HOSTILE = `<img src=x onerror=alert(1)> </script><script>alert(2)</script>`;
const POLICY = queuePolicy('batch: 1\nspeculative: 1\nwait: 0s');

let pw: PagesWorld;
let web: Scene; // alice may read it
let vault: Scene; // alice may not
let hostile: FakePull;
let lifecycle: FakePull;
/** The heads of `lifecycle`: approved on the first, evaluated on the second. */
let heads: { approved: string; evaluated: string };
/** alice's browser window, signed in by the first test. */
let alice: Window;

/** A pull request adding a file of its own, not yet approved; CI green on its head. */
function pull(s: Scene, number: number, title?: string): FakePull {
  const files = { [`lib/f${number}.ts`]: `export const v${number} = ${number};` };
  const p = s.fake.addPull(s.repo, { number, ...(title ? { title } : {}), files: [fileAdding(`lib/f${number}.ts`, [files[`lib/f${number}.ts`]])] }, files);
  s.fake.git.ciStatus(s.repo, p.headSha, 'ci/test', 'SUCCESS');
  return p;
}

beforeAll(async () => {
  pw = await PagesWorld.start();
  await pw.explained(async () => {
    web = pw.world.scene('web', POLICY);
    vault = pw.world.scene('vault', POLICY);
    // The hostile pull request and the one in vault stay under test: their CI never reports.
    web.ci = (run) => (run.pulls.includes(1) ? null : 'SUCCESS');
    vault.ci = () => null;

    // #2: approved on its first head, pushed since (the approval is stale): blocked.
    lifecycle = pull(web, 2, 'Faster checkout');
    approve(lifecycle, 'bob');
    const approved = lifecycle.headSha;
    web.fake.push(web.repo, lifecycle);
    web.fake.git.ciStatus(web.repo, lifecycle.headSha, 'ci/test', 'SUCCESS');
    heads = { approved, evaluated: lifecycle.headSha };
    await web.open(lifecycle);
    await web.waitFor('#2 blocked', () => web.check(lifecycle)?.status === 'completed' && web.check(lifecycle)?.conclusion !== 'success');
    // carol approves its head: it passes, joins the queue and lands.
    approve(lifecycle, 'carol');
    await pw.world.send('pull_request_review', pullPayload('pull_request_review', 'submitted', web.fake, web.repo, lifecycle));
    await web.waitFor('#2 landed', () => web.title(lifecycle).startsWith('Landed'), 30_000);

    // #1 (its title hostile) under test, #3 waiting behind it; #7 under test in vault.
    hostile = pull(web, 1, HOSTILE);
    approve(hostile, 'bob');
    const waiting = pull(web, 3, 'Cache the catalogue');
    approve(waiting, 'bob');
    await web.queue(hostile, waiting);
    await web.waitFor('#1 under test', () => web.title(hostile).startsWith('testing'));
    const secret = pull(vault, 7, 'Rotate the vault keys');
    approve(secret, 'bob');
    await vault.queue(secret);
    await vault.waitFor('#7 under test', () => vault.title(secret).startsWith('testing'));
  });
}, 120_000);

afterAll(async () => {
  await pw?.close();
});

/** Who alice is on the fake GitHub, and what she may read. */
const ALICE = 'alice';

/** The fake GitHub's requests made with a person's token so far (sign-in and access checks). */
const personRequests = () => pw.world.fake.oauth.apiRequests().length;

/**
 * GET `path` on the app with `cookie` (a Cookie header), redirects not followed. Node's fetch, never Playwright's request API or
 * node:http: jest runs files one after another in one process, and an interceptor an earlier file's nock left on http.ClientRequest
 * refuses those.
 */
async function get(path: string, cookie?: string): Promise<{ status: number; location: string | null; contentType: string | null; text: string }> {
  const res = await fetch(`${pw.origin}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: res.status, location: res.headers.get('location'), contentType: res.headers.get('content-type'), text: await res.text() };
}

/** The Cookie header a browser window sends to the app. */
const cookiesOf = async (w: Window) => (await w.context.cookies(pw.origin)).map((c) => `${c.name}=${c.value}`).join('; ');

/** A Cookie header carrying `session` as the pages' session cookie. */
const sessionHeader = (value: string) => `${SESSION_COOKIE}=${value}`;

/** A sign-in failure sends the person to sign in again: a redirect towards /login or GitHub's authorize page. */
function expectSentToSignIn(answer: { status: number; location: string | null }): void {
  expect(answer.status).toBeGreaterThanOrEqual(300);
  expect(answer.status).toBeLessThan(400);
  expect(answer.location ?? '').toMatch(/\/login\b|\/login\/oauth\/authorize/);
}

describe("the app's own pages in Chromium, alice reading one repository of two", () => {
  /** alice's session cookie, as the app set it. */
  let cookie = '';
  /** The requests with alice's token of signing in and the first view, and of the next view. */
  const cost = { signIn: 0, warm: 0 };

  beforeAll(() => {
    pw.world.fake.oauth.client = { id: PAGES_CLIENT_ID, secret: PAGES_CLIENT_SECRET };
    pw.world.fake.oauth.signInAs(ALICE);
    pw.world.fake.oauth.grant(ALICE, web.full);
  });

  test('not signed in: /queue sends the browser to sign in on the fake GitHub, which brings alice back to /queue', async () => {
    await pw.explained(async () => {
      expectSentToSignIn(await get('/queue'));
      alice = await pw.window();
      const visited: string[] = [];
      alice.page.on('request', (r) => {
        if (r.isNavigationRequest()) visited.push(r.url());
      });
      const before = personRequests();
      await alice.page.goto(`${pw.origin}/queue`);
      expect(new URL(alice.page.url()).pathname).toBe('/queue');
      const authorize = visited.find((u) => u.startsWith(`${pw.world.fake.origin}/login/oauth/authorize`));
      expect(authorize).toBeDefined();
      expect(new URL(authorize!).searchParams.get('client_id')).toBe(PAGES_CLIENT_ID);
      expect(new URL(authorize!).searchParams.get('redirect_uri')).toBe(`${pw.origin}/login/callback`);
      expect(visited.some((u) => u.startsWith(`${pw.origin}/login/callback?`))).toBe(true);
      cost.signIn = personRequests() - before;
      // Who she is, then which of the two repositories with a queue she may read: asked of GitHub with her token.
      expect(pw.world.fake.oauth.apiRequests().slice(before).map((r) => `${r.method} ${r.path} ${r.status}`).sort()).toEqual([
        `GET /repos/${vault.full} 404`,
        `GET /repos/${web.full} 200`,
        'GET /user 200',
      ]);
      const session = (await alice.context.cookies(pw.origin)).find((c) => c.name === SESSION_COOKIE);
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      cookie = sessionHeader(session!.value);
    });
  });

  test('/queue shows web\'s queue (#2 among its last landings, the expected wait) and nothing of vault', async () => {
    await pw.explained(async () => {
      const text = (await alice.page.textContent('body')) ?? '';
      expect(text).toContain(web.full);
      expect(text).toContain('Cache the catalogue'); // #3, waiting
      // #2 among the last landings, with its time in the queue.
      const landed = alice.page.locator('table', { hasText: 'Last landings' }).locator('tbody tr', { hasText: 'Faster checkout' });
      expect(await landed.locator('td[data-label="Pull requests"]').textContent()).toMatch(/#2\s+Faster checkout.*: \d+ (s|min) in the queue/);
      expect(text).not.toContain(vault.full);
      expect(text).not.toContain('Rotate the vault keys');
      expect(text).toContain(ALICE);
      expect(text).toMatch(/A pull request queued now can expect to land in about \d+ (s|min)\./); // a busy machine makes it minutes
      await pw.shoot(alice.page, 'pages-queue');
    });
  });

  test('a hostile pull request title is text on the page: no element made of it, no script run, a strict CSP', async () => {
    await pw.explained(async () => {
      const violations: string[] = [];
      alice.page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      const answer = await alice.page.reload();
      const csp = answer?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/script-src 'sha256-[^']+'(;|$)/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect((await alice.page.textContent('body')) ?? '').toContain(HOSTILE);
      expect(await alice.page.locator('img').count()).toBe(0);
      expect((await alice.page.locator('script').allTextContents()).filter((t) => t.includes('alert'))).toEqual([]);
      expect(alice.dialogs).toEqual([]);
      expect(violations).toEqual([]); // the page's own style and script are allowed: nothing of it was blocked
    });
  });

  test('a signed-in view costs GitHub nothing once the access cache is warm (the first one asks about each repository)', async () => {
    await pw.explained(async () => {
      // Sign-in: the code exchanged, then GET /user; then the first /queue asked which repositories alice may read.
      let before = personRequests();
      await alice.page.reload();
      cost.warm = personRequests() - before;
      before = personRequests();
      await alice.page.goto(`${pw.origin}/pulls/${web.full}/${lifecycle.number}`);
      await alice.page.goto(`${pw.origin}/api/queue`);
      const views = personRequests() - before;
      process.stderr.write(`pages.view.requests_warm: ${cost.warm} (and ${views} for /pulls and /api/queue); sign-in and first view: ${cost.signIn}\n`);
      expect(cost.warm).toBe(0);
      expect(views).toBe(0);
    });
  });

  test('/api/queue lists web only, as JSON, without the CSRF token', async () => {
    await pw.explained(async () => {
      const res = await get('/api/queue', await cookiesOf(alice));
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/^application\/json/);
      const body = JSON.parse(res.text) as { login: string; queues: Array<{ repository: string; pulls: Array<{ number: number; title: string | null }> }> };
      expect(body.login).toBe(ALICE);
      expect(body.queues.map((q) => q.repository)).toEqual([web.full]);
      expect(body.queues[0].pulls.map((p) => [p.number, p.title])).toEqual([
        [1, HOSTILE],
        [3, 'Cache the catalogue'],
      ]);
      expect(body).not.toHaveProperty('csrf');
    });
  });

  test('vault\'s pull request is not found for alice (404), as if it did not exist', async () => {
    await pw.explained(async () => {
      const cookie = await cookiesOf(alice);
      const res = await get(`/pulls/${vault.full}/7`, cookie);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('Rotate the vault keys');
      const missing = await get(`/pulls/${web.full}/999`, cookie);
      expect([200, 404]).toContain(missing.status); // web is alice's: a number never seen may say so
    });
  });

  test('the details page of #2: the stale approval not counted and why, and its history: blocked, then passed, then landed', async () => {
    await pw.explained(async () => {
      const page = alice.page;
      await page.goto(`${pw.origin}/pulls/${web.full}/${lifecycle.number}`);
      expect(await page.locator('h1').textContent()).toContain('Faster checkout');
      const review = (login: string) => page.locator('section[aria-labelledby="approvals"] tbody tr', { hasText: login });
      const cells = async (row: ReturnType<typeof review>) => Object.fromEntries(await row.locator('td').evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-label'), td.textContent?.trim()])));
      expect(await cells(review('bob'))).toMatchObject({
        Opinion: 'approved',
        'On commit': heads.approved.slice(0, 7),
        Counted: '✗ no',
        'Why not': `stale: approved ${heads.approved.slice(0, 7)}, head is now ${heads.evaluated.slice(0, 7)}`,
      });
      expect(await cells(review('carol'))).toMatchObject({ Opinion: 'approved', 'On commit': heads.evaluated.slice(0, 7), Counted: '✓ yes', 'Why not': '' });
      // The evaluations, oldest first: blocked (only the stale approval), then passed once carol approved. Its landing is no
      // evaluation: /queue lists it among the last landings (the queue test).
      const history = await page.locator('section[aria-labelledby="history"] tbody tr').evaluateAll((rows) =>
        rows.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-label'), td.textContent?.trim() ?? '']))),
      );
      expect(history.reverse()).toEqual([
        expect.objectContaining({ Why: 'pull_request.opened', Verdict: '✗ fail', Head: heads.evaluated.slice(0, 7), 'What changed': 'first evaluation' }),
        expect.objectContaining({ Why: expect.stringMatching(/^pull_request_review\.submitted\b/), Verdict: '✓ pass', Head: heads.evaluated.slice(0, 7) }),
      ]);
      expect(history[1]['What changed']).toContain('verdict: fail → pass');
      expect(history[1]['What changed']).toContain('approval by carol (counts)');
      // Then it landed: the page says as what, in which batch (from the landing journal, not an evaluation).
      expect(await page.locator('section[aria-labelledby="queue"]').textContent()).toMatch(/Landed as [0-9a-f]{7} in batch \d+ at /);
      await pw.shoot(page, 'pages-pull');
    });
  });

  test('/queue at a phone\'s width, without JavaScript: all there, no scrolling sideways', async () => {
    await pw.explained(async () => {
      // Without JavaScript too: the page is all there as served.
      const phone = await pw.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, javaScriptEnabled: false });
      try {
        await phone.addCookies((await alice.context.cookies(pw.origin)).filter((c) => c.name === SESSION_COOKIE));
        const page = await phone.newPage();
        await page.goto(`${pw.origin}/queue`);
        expect(new URL(page.url()).pathname).toBe('/queue');
        expect(await page.locator('main').textContent()).toContain('Cache the catalogue');
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
        await pw.shoot(page, 'pages-queue-phone');
      } finally {
        await phone.close();
      }
    });
  });

  test('a forged session cookie (one byte changed) signs the person out', async () => {
    await pw.explained(async () => {
      expect((await get('/queue', cookie)).status).toBe(200); // the control: the cookie as the app set it
      const value = cookie.slice(SESSION_COOKIE.length + 1);
      const at = Math.floor(value.length / 2);
      const forged = `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
      expectSentToSignIn(await get('/queue', sessionHeader(forged)));
      expect((await get('/api/queue', sessionHeader(forged))).status).toBe(401);
    });
  });

  test('an expired session cookie, sealed with the app\'s secret, signs the person out', async () => {
    await pw.explained(async () => {
      const token = pw.world.fake.oauth.issued.at(-1)!;
      const seal = (expiresAt: number) => /^[^=]+=([^;]*)/.exec(new Cookies([PAGES_SESSION_SECRET], systemClock, false).sessionCookie({ login: ALICE, userId: 1, token, expiresAt, nonce: Cookies.nonce() }))![1];
      expect((await get('/queue', sessionHeader(seal(Date.now() + 3600_000)))).status).toBe(200); // the control: sealed alike, not expired
      expectSentToSignIn(await get('/queue', sessionHeader(seal(Date.now() - 1000))));
    });
  });

  test('a wrong `state` at /login/callback is refused (400) and counted in /metrics', async () => {
    await pw.explained(async () => {
      const failures = async () => sample(await (await fetch(`${pw.origin}/metrics`)).text(), 'merge_gate_pages_sign_in_failures_total{reason="state"}');
      const before = await failures();
      const mallory = await pw.window();
      try {
        // A real sign-in started in this browser (its `state` cookie set), GitHub's answer taken as it is, its `state` changed.
        const toGitHub = await fetch(`${pw.origin}/login`, { redirect: 'manual' });
        const started = toGitHub.headers.getSetCookie().find((c) => c.startsWith(`${OAUTH_COOKIE}=`))!.split(';')[0];
        await mallory.context.addCookies([{ name: OAUTH_COOKIE, value: started.slice(OAUTH_COOKIE.length + 1), url: pw.origin }]);
        const back = await fetch(toGitHub.headers.get('location')!, { redirect: 'manual' });
        const callback = new URL(back.headers.get('location')!);
        expect(callback.pathname).toBe('/login/callback');
        expect(callback.searchParams.get('code')).toBeTruthy();
        callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
        const answer = await mallory.page.goto(callback.href);
        expect(answer?.status()).toBe(400);
        expect((await mallory.context.cookies(pw.origin)).some((c) => c.name === SESSION_COOKIE)).toBe(false);
      } finally {
        await mallory.context.close();
      }
      expect(before).not.toBeNull();
      expect(await failures()).toBe(before! + 1);
    });
  });
});

describe('signing out', () => {
  test('"Sign out" (POST /logout with its CSRF token) clears the session cookie; a POST without the token is refused', async () => {
    await pw.explained(async () => {
      const page = alice.page;
      // Forged: another site's form would carry the cookie (SameSite=Lax does not send it on a cross-site POST), never the token.
      const cookieHeader = (await page.context().cookies(pw.origin)).filter((c) => c.name === SESSION_COOKIE).map((c) => `${c.name}=${c.value}`).join('; ');
      const forged = await fetch(`${pw.origin}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader, 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=nope' });
      expect(forged.status).toBe(403);
      await page.goto(`${pw.origin}/queue`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname !== '/queue');
      expect((await page.context().cookies(pw.origin)).some((c) => c.name === SESSION_COOKIE)).toBe(false);
    });
  });
});

describe('what the app keeps to itself', () => {
  test("no token of alice's is in the app's log; /metrics counted her sign-in and her views; the fake GitHub saw nothing amiss", async () => {
    await pw.explained(async () => {
      const tokens = pw.world.fake.oauth.issued;
      expect(tokens.length).toBeGreaterThan(0);
      const log = pw.world.log(Number.MAX_SAFE_INTEGER);
      expect(log).toContain('alice signed in'); // the control: the log is the app's, and it logged the sign-in
      for (const token of tokens) expect(log).not.toContain(token);
      const metrics = await (await fetch(`${pw.origin}/metrics`)).text();
      expect(sample(metrics, 'merge_gate_pages_sign_ins_total')).toBeGreaterThanOrEqual(1);
      for (const page of ['queue', 'api_queue', 'pull']) expect(sample(metrics, `merge_gate_pages_views_total{page="${page}"}`)).toBeGreaterThanOrEqual(1);
      // And the whole run: every request the app made was one GitHub knows, every webhook was taken.
      expect(pw.world.fake.problems).toEqual([]);
      expect(pw.world.refused).toEqual([]);
    });
  });
});

/** A sample of /metrics by its name and labels as written, e.g. `merge_gate_pages_views_total{page="queue"}` (null: absent). */
function sample(metrics: string, series: string): number | null {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}
