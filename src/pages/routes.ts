// The pages' HTTP shell (SPEC §7), one handler for Probot's `addHandler`:
// GET /login and /login/callback (sign in with GitHub), POST /logout, and the
// signed-in pages GET /queue, GET /api/queue, GET /pulls/<owner>/<repo>/<n>.
// What a page shows comes from `views` (the state database) and `render`
// (pure); this file decides who is signed in and what they may read, and
// answers. A repository the person cannot read is never shown: its pull
// request page is a 404, the same as one that does not exist.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { systemTimers, type Clock, type Timers } from '../clock.js';
import type { Log } from '../log.js';
import { readBody, refuse } from '../http/body.js';
import { GitHubRepoAccess } from './access.js';
import type { PageName, PagesMetrics, SignInFailure } from './metrics.js';
import { oauthClient, pagesRequest, SignInError, type OAuthClient } from './oauth.js';
import { Cookies, localPath, OAUTH_COOKIE, readCookie, SESSION_COOKIE } from './session.js';
import type { PagesConfig, PullPageView, QueuePageView, QueueView, RepoAccess, Session } from './types.js';

/** The pages' HTML (src/pages/queue-page.ts, pull-page.ts, layout.ts). */
export interface PagesRender {
  queuePage(view: QueuePageView): string;
  pullPage(view: PullPageView): string;
  /** The Content-Security-Policy every answer carries. */
  csp: string;
  /** GET /api/queue's body (without `csrf`); default: the view as JSON. */
  queueJson?(view: QueuePageView): string;
}

/** The pages' data, read from the state database (src/pages/views.ts). */
export interface PagesViews {
  queues(): QueueView[];
  /** null, or a view with nothing recorded and not queued: the page answers 404. */
  pull(repository: string, number: number): Omit<PullPageView, 'login' | 'generatedAt' | 'csrf'> | null;
}

export interface PagesDeps {
  /** null: the pages are off, and the handler answers nothing (Probot's 404). */
  config: PagesConfig | null;
  clock: Clock;
  log: Log;
  metrics: PagesMetrics;
  render: PagesRender;
  views: PagesViews;
  /** Defaults: GitHub at `config.apiBase` (tests and the bench pass their own). */
  access?: RepoAccess;
  oauth?: OAuthClient;
  timers?: Timers;
}

export type PagesHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Longer URLs are refused (414) before anything is parsed. */
export const MAX_URL_CHARS = 2048;
/** POST /logout's form: one CSRF token. */
const MAX_LOGOUT_BODY = 4096;
const OURS = /^\/(login(\/callback)?|logout|queue|api\/queue|pulls\/.*)$/;

export function pagesHandler(deps: PagesDeps): PagesHandler {
  const { config } = deps;
  if (config === null) return async () => false;
  const cookies = new Cookies(config.sessionSecrets, deps.clock, config.publicUrl?.startsWith('https:') ?? false);
  const request = pagesRequest(config);
  const access = deps.access ?? new GitHubRepoAccess({ request, clock: deps.clock, accessTtlMs: config.accessTtlMs, onRequest: deps.metrics.accessRequest });
  const oauth = deps.oauth ?? oauthClient(config, deps.clock, request);
  const timers = deps.timers ?? systemTimers;
  const security: OutgoingHttpHeaders = {
    'content-security-policy': deps.render.csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  };

  const send = (res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}) => {
    const type = headers['content-type'] ?? 'text/plain; charset=utf-8';
    res.writeHead(status, { ...security, 'content-type': type, ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
  };
  const redirect = (res: ServerResponse, status: 302 | 303, location: string, setCookie: string[] = []) =>
    send(res, status, '', { location, ...(setCookie.length ? { 'set-cookie': setCookie } : {}) });
  const html = { 'content-type': 'text/html; charset=utf-8' };
  const json = { 'content-type': 'application/json; charset=utf-8' };

  /** Not signed in (or no longer): pages go to sign in and come back; the API says 401. A stale cookie is cleared. */
  const signedOut = (req: IncomingMessage, res: ServerResponse, path: string, hadCookie: boolean) => {
    const clear = hadCookie ? [cookies.clearSession()] : [];
    if (path.startsWith('/api/')) return send(res, 401, JSON.stringify({ message: 'Not signed in: sign in with GitHub at /login' }), { ...json, ...(clear.length ? { 'set-cookie': clear } : {}) });
    const back = localPath(req.url ?? '/queue') ?? '/queue';
    redirect(res, 302, `/login?return=${encodeURIComponent(back)}`, clear);
  };

  const refused = (res: ServerResponse, reason: SignInFailure, words: string, status = 400) => {
    deps.metrics.signInFailure(reason);
    deps.log.warn({ reason }, `pages: sign-in refused (${reason}): ${words}`);
    send(res, status, `Sign-in refused: ${words}\nStart again at /login.\n`, { 'set-cookie': [cookies.clearOAuth()] });
  };

  async function callback(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    const started = cookies.openOAuth(readCookie(req.headers.cookie, OAUTH_COOKIE));
    const state = query.get('state');
    if (!started || state === null || state !== started.state) return refused(res, 'state', 'this sign-in was not started here, or took longer than 10 minutes');
    if (query.get('error')) return refused(res, 'denied', 'GitHub did not authorize merge-gate (you may have cancelled)', 403);
    const code = query.get('code');
    if (!code) return refused(res, 'exchange', 'GitHub sent no code');
    let session: Session;
    try {
      session = await oauth.signIn(code);
    } catch (err) {
      const reason = err instanceof SignInError ? err.reason : 'exchange';
      return refused(res, reason, err instanceof SignInError ? err.message : 'the sign-in failed', 502);
    }
    deps.metrics.signIn();
    deps.log.info({ login: session.login }, `pages: ${session.login} signed in`);
    redirect(res, 302, started.returnTo, [cookies.sessionCookie(session), cookies.clearOAuth()]);
  }

  /** The Origin of a POST, when the browser sent one, is this site's. */
  const sameOrigin = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (config.publicUrl !== null) return origin === new URL(config.publicUrl).origin;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  };

  async function logout(req: IncomingMessage, res: ServerResponse) {
    const read = await readBody(req, { maxBytes: MAX_LOGOUT_BODY, timeoutMs: 10_000, timers });
    if (!read.ok) return refuse(req, res, { status: read.why === 'too-large' ? 413 : 400, headers: security, body: 'Sign-out refused: the form could not be read.\n' }, { timers });
    const session = cookies.openSession(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (session === null) return redirect(res, 303, '/', [cookies.clearSession()]);
    const csrf = new URLSearchParams(read.body.toString('utf8')).get('csrf');
    if (!sameOrigin(req) || !cookies.csrfValid(session, csrf)) return send(res, 403, 'Sign-out refused: the form did not come from this page. Sign out from the page itself.\n');
    deps.log.info({ login: session.login }, `pages: ${session.login} signed out`);
    redirect(res, 303, '/', [cookies.clearSession()]);
  }

  async function page(req: IncomingMessage, res: ServerResponse, path: string, name: PageName) {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = cookies.openSession(cookie);
    if (session === null) return signedOut(req, res, path, cookie !== null);
    const base = { login: session.login, generatedAt: deps.clock.now().getTime(), csrf: cookies.csrfToken(session) };
    if (name === 'pull') {
      const m = /^\/pulls\/([^/]+)\/([^/]+)\/([1-9]\d{0,9})$/.exec(path);
      let repository: string | null = null;
      try {
        repository = m ? `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}` : null;
      } catch {
        repository = null;
      }
      const notFound = () => send(res, 404, 'No such pull request here (or you cannot read its repository).\n');
      if (repository === null || repository.split('/').length !== 2) return notFound();
      const readable = await access.readable(session, [repository]);
      if (readable === 'signed-out') return signedOut(req, res, path, true);
      if (!readable.has(repository)) return notFound();
      const view = deps.views.pull(repository, Number(m![3]));
      // Nothing recorded, not queued: a pull request merge-gate does not know is as missing as one that does not exist.
      if (view === null || (view.latest === null && view.queue === null && view.landed === null && view.history.length === 0)) return notFound();
      deps.metrics.view('pull');
      return send(res, 200, deps.render.pullPage({ ...view, ...base }), html);
    }
    const all = deps.views.queues();
    const readable = await access.readable(session, [...new Set(all.map((q) => q.repository))]);
    if (readable === 'signed-out') return signedOut(req, res, path, true);
    const view: QueuePageView = { ...base, queues: all.filter((q) => readable.has(q.repository)) };
    deps.metrics.view(name);
    if (name === 'queue') return send(res, 200, deps.render.queuePage(view), html);
    const { csrf: _csrf, ...withoutCsrf } = view;
    send(res, 200, deps.render.queueJson?.(view) ?? JSON.stringify(withoutCsrf), json);
  }

  return async (req, res) => {
    const raw = req.url ?? '/';
    const pathname = raw.split('?')[0];
    if (!OURS.test(pathname.slice(0, MAX_URL_CHARS))) return false;
    try {
      if (raw.length > MAX_URL_CHARS) {
        send(res, 414, 'URL too long.\n');
        return true;
      }
      const url = new URL(raw, 'http://pages.invalid');
      const method = req.method ?? 'GET';
      const route = `${method} ${url.pathname}`;
      if (route === 'GET /login') {
        const { state, cookie } = cookies.startOAuth(url.searchParams.get('return'));
        redirect(res, 302, oauth.authorizeUrl(state), [cookie]);
      } else if (route === 'GET /login/callback') {
        // Probot's access log prints req.url once the answer is sent: the code (and state) must not reach it.
        req.url = url.pathname;
        await callback(req, res, url.searchParams);
      }
      else if (route === 'POST /logout') await logout(req, res);
      else if (route === 'GET /queue') await page(req, res, url.pathname, 'queue');
      else if (route === 'GET /api/queue') await page(req, res, url.pathname, 'api_queue');
      else if (method === 'GET' && url.pathname.startsWith('/pulls/')) await page(req, res, url.pathname, 'pull');
      else send(res, 405, 'Method not allowed.\n', { allow: url.pathname === '/logout' ? 'POST' : 'GET' });
    } catch (err) {
      // Fail closed: nothing shown, the process goes on, and the log says what broke (never a token: none is in an error we raise).
      deps.log.error({ err: (err as Error).message }, `pages: ${req.method} ${pathname} failed`);
      if (!res.headersSent) send(res, 500, 'The page failed; it is logged. Try again in a minute.\n');
      else res.destroy();
    }
    return true;
  };
}
