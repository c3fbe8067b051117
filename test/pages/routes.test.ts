// The pages' shell over real HTTP on 127.0.0.1: the handler on a node server,
// the fake GitHub listening (its OAuth endpoints, GET /user, GET /repos/…), and
// stand-ins for the views and the HTML (other files' work, tested there).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pagesHandler, type PagesRender, type PagesViews } from '../../src/pages/routes.js';
import { pagesMetrics } from '../../src/pages/metrics.js';
import { pagesConfigFromEnv } from '../../src/pages/config.js';
import type { PagesConfig, QueueView } from '../../src/pages/types.js';

const OLD = 'old-secret-old-secret-old-secret-0';
const NEW = 'new-secret-new-secret-new-secret-1';
const CLIENT = { id: 'Iv1.pagesclient', secret: 'client-secret-never-logged' };

const queue = (repository: string): QueueView => ({ installationId: 1, repository, branch: 'main', pulls: [], recent: [], expectedWaitMs: null });
/** Stand-ins: what the page shows is who, which repositories, and the CSRF token for the sign-out form. */
const views: PagesViews = {
  queues: () => [queue('octo/one'), queue('octo/two')],
  pull: (repository, number) => {
    const pull = { number, title: null, author: null, url: null, position: 1, batch: null, status: { state: 'queued' }, says: 'queued', joinedAt: 0, since: 0 } as never;
    if (number === 1) return { repository, number, latest: null, queue: { branch: 'main', pull, of: 1 }, landed: null, history: [] };
    return number === 2 ? { repository, number, latest: null, queue: null, landed: null, history: [] } : null; // 2: nothing known of it
  },
};
const render: PagesRender = {
  csp: "default-src 'none'",
  queuePage: (v) => `queue for ${v.login}: ${v.queues.map((q) => q.repository).join(',')} csrf=${v.csrf}`,
  pullPage: (v) => `pull ${v.repository}#${v.number} for ${v.login} csrf=${v.csrf}`,
};

interface Logged {
  level: string;
  args: unknown[];
}

interface Harness {
  fake: FakeGitHub;
  base: string;
  config: PagesConfig;
  registry: Registry;
  logs: Logged[];
  setNow(ms: number): void;
  now(): number;
  /** Swap the handler's settings (rotation, pages off). */
  use(config: PagesConfig | null): void;
  close(): Promise<void>;
}

async function harness(options: { prefix?: string; env?: (fake: FakeGitHub) => NodeJS.ProcessEnv } = {}): Promise<Harness> {
  const github = await FakeGitHub.listening({ prefix: options.prefix });
  const fake = github.fake;
  fake.oauth.client = CLIENT;
  let now = Date.UTC(2026, 11, 5, 9, 0);
  const clock = { now: () => new Date(now) };
  const logs: Logged[] = [];
  const log = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (...args: unknown[]) => logs.push({ level, args })])) as never;
  const registry = new Registry();
  const metrics = pagesMetrics(registry);
  let handler: (req: never, res: never) => Promise<boolean> = async () => false;
  const server: Server = createServer((req, res) => {
    // What Probot's access log prints: req.url once the answer is sent.
    res.once('finish', () => logs.push({ level: 'access', args: [`${req.method} ${req.url} ${res.statusCode}`] }));
    void handler(req as never, res as never).then((handled) => {
      if (!handled) res.writeHead(404).end('Not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config: PagesConfig = options.env
    ? { ...pagesConfigFromEnv(options.env(fake))!, publicUrl: base }
    : { clientId: CLIENT.id, clientSecret: CLIENT.secret, sessionSecrets: [NEW], publicUrl: base, webOrigin: fake.origin, apiBase: fake.baseUrl, sessionTtlMs: 8 * 3600_000, accessTtlMs: 5 * 60_000 };
  const h: Harness = {
    fake,
    base,
    config,
    registry,
    logs,
    setNow: (ms) => (now = ms),
    now: () => now,
    use(c) {
      // The handler's own access to GitHub (what the app runs), a new one each time (nothing remembered across settings).
      handler = pagesHandler({ config: c, clock, log, metrics, render, views }) as never;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await github.close();
    },
  };
  h.use(config);
  return h;
}

const setCookies = (res: Response): string[] => res.headers.getSetCookie();
const cookieNamed = (res: Response, name: string): string | null => {
  const header = setCookies(res).find((c) => c.startsWith(`${name}=`));
  return header ? header.slice(0, header.indexOf(';')) : null;
};
const get = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** The whole web flow as a browser does it; returns the session cookie (`mg_session=…`) and the answers on the way. */
async function signIn(h: Harness, login: string, returnTo = '/queue') {
  h.fake.oauth.signInAs(login);
  const start = await get(`${h.base}/login?return=${encodeURIComponent(returnTo)}`);
  expect(start.status).toBe(302);
  const oauthCookie = cookieNamed(start, 'mg_oauth')!;
  const authorize = new URL(start.headers.get('location')!);
  const atGitHub = await get(authorize.href);
  expect(atGitHub.status).toBe(302);
  const callback = await get(atGitHub.headers.get('location')!, oauthCookie);
  return { start, authorize, callback, oauthCookie, session: cookieNamed(callback, 'mg_session') };
}

const metricValue = async (h: Harness, name: string, labels = '') => {
  const line = (await h.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : NaN;
};

describe('the pages over HTTP', () => {
  let h: Harness;
  afterEach(async () => {
    expect(h.fake.problems).toEqual([]);
    await h.close();
  });

  it('sign-in round trip: not signed in → sent to sign in; GitHub sends the person back with a session; the page has the security headers', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    h.fake.oauth.grant('mona', 'octo/two');
    const before = await get(`${h.base}/queue`);
    expect(before.status).toBe(302);
    expect(before.headers.get('location')).toBe('/login?return=%2Fqueue');
    const api = await get(`${h.base}/api/queue`);
    expect(api.status).toBe(401);

    const { authorize, callback, session } = await signIn(h, 'mona', '/pulls/octo/one/1');
    expect(authorize.origin + authorize.pathname).toBe(`${h.fake.origin}/login/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT.id);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${h.base}/login/callback`);
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/pulls/octo/one/1');
    expect(setCookies(callback).find((c) => c.startsWith('mg_session='))).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    expect(setCookies(callback)).toContain('mg_oauth=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');

    const pageRes = await get(`${h.base}/pulls/octo/one/1`, session!);
    expect(pageRes.status).toBe(200);
    expect(await pageRes.text()).toMatch(/^pull octo\/one#1 for mona csrf=/);
    const queueRes = await get(`${h.base}/queue`, session!);
    expect(queueRes.status).toBe(200);
    expect(queueRes.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(Object.fromEntries(['content-security-policy', 'x-content-type-options', 'referrer-policy', 'cache-control', 'x-frame-options'].map((n) => [n, queueRes.headers.get(n)]))).toEqual({
      'content-security-policy': "default-src 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    });
    expect(await metricValue(h, 'merge_gate_pages_sign_ins_total')).toBe(1);
    expect(await metricValue(h, 'merge_gate_pages_views_total', '{page="queue"}')).toBe(1);
    expect(await metricValue(h, 'merge_gate_pages_views_total', '{page="pull"}')).toBe(1);
  });

  it('a wrong or missing state is refused (400 "sign-in refused"), counted, and no session is set', async () => {
    h = await harness();
    h.fake.oauth.signInAs('mona');
    const start = await get(`${h.base}/login`);
    const oauthCookie = cookieNamed(start, 'mg_oauth')!;
    const authorize = new URL(start.headers.get('location')!);
    authorize.searchParams.set('state', 'forged-state');
    const back = (await get(authorize.href)).headers.get('location')!;
    const wrong = await get(back, oauthCookie);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/^Sign-in refused/);
    expect(cookieNamed(wrong, 'mg_session')).toBeNull();
    // The right state, but no cookie of the browser that started it (a link someone else sent).
    const theirs = await get(`${h.base}/login/callback?code=code1&state=${new URL(start.headers.get('location')!).searchParams.get('state')}`);
    expect(theirs.status).toBe(400);
    expect(await metricValue(h, 'merge_gate_pages_sign_in_failures_total', '{reason="state"}')).toBe(2);
    expect(await metricValue(h, 'merge_gate_pages_sign_ins_total')).toBe(0);
  });

  it('a state cookie older than 10 minutes is refused', async () => {
    h = await harness();
    h.fake.oauth.signInAs('mona');
    const start = await get(`${h.base}/login`);
    const back = (await get(start.headers.get('location')!)).headers.get('location')!;
    h.setNow(h.now() + 10 * 60_000);
    expect((await get(back, cookieNamed(start, 'mg_oauth')!)).status).toBe(400);
  });

  it('a forged or expired session cookie is signed out: pages go to /login and clear it, the API answers 401', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { session } = await signIn(h, 'mona');
    const value = session!.slice('mg_session='.length);
    const forged = `mg_session=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await get(`${h.base}/queue`, forged);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?return=%2Fqueue');
    expect(setCookies(res)).toContain('mg_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect((await get(`${h.base}/api/queue`, forged)).status).toBe(401);
    expect((await get(`${h.base}/queue`, session!)).status).toBe(200);
    h.setNow(h.now() + 8 * 3600_000);
    expect((await get(`${h.base}/queue`, session!)).status).toBe(302);
    expect((await get(`${h.base}/api/queue`, session!)).status).toBe(401);
  });

  it('rotation: a session sealed with the old secret still opens once a new secret comes first; dropped, it does not', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    h.use({ ...h.config, sessionSecrets: [OLD] });
    const { session } = await signIn(h, 'mona');
    h.use({ ...h.config, sessionSecrets: [NEW, OLD] });
    expect((await get(`${h.base}/queue`, session!)).status).toBe(200);
    h.use({ ...h.config, sessionSecrets: [NEW] });
    expect((await get(`${h.base}/queue`, session!)).status).toBe(302);
  });

  it('POST /logout needs the page\'s CSRF token and this site\'s Origin; then the cookie is cleared', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { session } = await signIn(h, 'mona');
    const csrf = /csrf=(\S+)$/.exec(await (await get(`${h.base}/queue`, session!)).text())![1];
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${h.base}/logout`, { method: 'POST', redirect: 'manual', body, headers: { cookie: session!, 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    expect((await post('')).status).toBe(403);
    expect((await post('csrf=not-the-token')).status).toBe(403);
    expect((await post(`csrf=${csrf}`, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(`csrf=${'x'.repeat(5000)}`)).status).toBe(413);
    expect((await get(`${h.base}/logout`, session!)).status).toBe(405);
    const out = await post(`csrf=${encodeURIComponent(csrf)}`, { origin: h.base });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/');
    expect(setCookies(out)).toContain('mg_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  });

  it('a person who can read one repository of two sees that one only: /queue, /api/queue, and the other\'s pull request is a 404', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { session } = await signIn(h, 'mona');
    expect(await (await get(`${h.base}/queue`, session!)).text()).toMatch(/^queue for mona: octo\/one csrf=/);
    const api = await get(`${h.base}/api/queue`, session!);
    expect(api.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await api.json()) as Record<string, unknown>;
    expect((body.queues as QueueView[]).map((q) => q.repository)).toEqual(['octo/one']);
    expect(body).not.toHaveProperty('csrf');
    const hidden = await get(`${h.base}/pulls/octo/two/1`, session!);
    const missing = await get(`${h.base}/pulls/octo/one/2`, session!);
    expect([hidden.status, missing.status, (await get(`${h.base}/pulls/octo/one/3`, session!)).status]).toEqual([404, 404, 404]);
    expect(await hidden.text()).toBe(await missing.text());
    expect((await get(`${h.base}/pulls/octo/one/1`, session!)).status).toBe(200);
    for (const odd of ['/pulls/octo/one/0', '/pulls/octo/one/x', '/pulls/octo/one', '/pulls/%E0%A4%A/one/1', '/pulls/octo%2Fone/x/1']) expect((await get(`${h.base}${odd}`, session!)).status).toBe(404);
  });

  it('access is remembered: a second view costs GitHub nothing, and after accessTtlMs it is asked again', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { session } = await signIn(h, 'mona');
    const asked = async () => [await metricValue(h, 'merge_gate_pages_access_requests_total'), h.fake.oauth.apiRequests().filter((r) => r.path.startsWith('/repos/')).length];
    await get(`${h.base}/queue`, session!);
    expect(await asked()).toEqual([2, 2]);
    await get(`${h.base}/queue`, session!);
    await get(`${h.base}/api/queue`, session!);
    await get(`${h.base}/pulls/octo/one/1`, session!);
    expect(await asked()).toEqual([2, 2]);
    // A grant that changes on GitHub shows once the answer is older than accessTtlMs.
    h.fake.oauth.grant('mona', 'octo/two');
    h.setNow(h.now() + h.config.accessTtlMs - 1);
    expect(await (await get(`${h.base}/queue`, session!)).text()).toMatch(/: octo\/one csrf/);
    h.setNow(h.now() + 1);
    expect(await (await get(`${h.base}/queue`, session!)).text()).toMatch(/: octo\/one,octo\/two csrf/);
    expect(await asked()).toEqual([4, 4]);
  });

  it('a token GitHub no longer takes (401) signs the person out', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { session } = await signIn(h, 'mona');
    h.fake.oauth.revokeTokens('mona');
    const res = await get(`${h.base}/queue`, session!);
    expect(res.status).toBe(302);
    expect(setCookies(res)).toContain('mg_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect((await get(`${h.base}/api/queue`, session!)).status).toBe(401);
  });

  it('a GitHub App user token that expires sooner caps the session', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    h.fake.oauth.tokenExpiresInS = 600;
    const { callback, session } = await signIn(h, 'mona');
    expect(setCookies(callback).find((c) => c.startsWith('mg_session='))).toMatch(/; Max-Age=600$/);
    h.setNow(h.now() + 599_000);
    expect((await get(`${h.base}/queue`, session!)).status).toBe(200);
    h.setNow(h.now() + 1_000);
    expect((await get(`${h.base}/queue`, session!)).status).toBe(302);
  });

  it('never logs the token, the code or the client secret', async () => {
    h = await harness();
    h.fake.oauth.grant('mona', 'octo/one');
    const { callback, session } = await signIn(h, 'mona');
    const code = new URL(callback.url).searchParams.get('code');
    await get(`${h.base}/queue`, session!);
    h.fake.oauth.revokeTokens('mona');
    h.setNow(h.now() + h.config.accessTtlMs);
    await get(`${h.base}/queue`, session!);
    await get(`${h.base}/login/callback?code=code999&state=x`);
    const text = JSON.stringify(h.logs);
    expect(text).toContain('mona signed in');
    expect(text).toContain('GET /login/callback 302');
    for (const secret of [...h.fake.oauth.issued, CLIENT.secret, code ?? 'code1', session!.slice('mg_session='.length)]) expect(text).not.toContain(secret);
    expect(h.fake.oauth.issued).toHaveLength(1);
  });

  it('a URL over 2 KiB is refused with 414; other paths are left to Probot', async () => {
    h = await harness();
    expect((await get(`${h.base}/queue?${'x'.repeat(2100)}`)).status).toBe(414);
    expect((await get(`${h.base}/elsewhere`)).status).toBe(404);
  });

  it('off (no OAuth client configured): every page answers 404', async () => {
    h = await harness();
    h.use(null);
    for (const path of ['/queue', '/api/queue', '/login', '/login/callback?code=a&state=b', '/pulls/octo/one/1']) expect((await get(`${h.base}${path}`)).status).toBe(404);
  });

  it('GitHub Enterprise (GHE_HOST): signs in at the origin and asks the API under /api/v3', async () => {
    h = await harness({
      prefix: '/api/v3',
      env: (fake) => ({ GITHUB_CLIENT_ID: CLIENT.id, GITHUB_CLIENT_SECRET: CLIENT.secret, SESSION_SECRET: NEW, GHE_HOST: new URL(fake.origin).host, GHE_PROTOCOL: 'http' }),
    });
    expect(h.config.apiBase).toBe(`${h.fake.origin}/api/v3`);
    h.fake.oauth.grant('mona', 'octo/two');
    const { authorize, session } = await signIn(h, 'mona');
    expect(authorize.origin + authorize.pathname).toBe(`${h.fake.origin}/login/oauth/authorize`);
    expect(await (await get(`${h.base}/queue`, session!)).text()).toMatch(/^queue for mona: octo\/two csrf=/);
    expect(h.fake.oauth.apiRequests().map((r) => r.path)).toEqual(['/user', '/repos/octo/one', '/repos/octo/two']);
  });
});
