// "Sign in with GitHub" (SPEC §7) with @octokit/oauth-methods: the authorize
// URL, the code exchanged for the person's token, then GET /user for who they
// are. Every request goes to `apiBase` (GitHub Enterprise: <GHE>/api/v3; the
// web flow's endpoints are derived from it by oauth-methods). The token is
// returned, never logged: errors carry GitHub's status and words only.
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from '@octokit/oauth-methods';
import { request as octokitRequest } from '@octokit/request';
import type { Clock } from '../clock.js';
import type { PagesConfig, Session } from './types.js';
import { Cookies } from './session.js';

export type GitHubRequest = typeof octokitRequest;

/** The request every sign-in and access check goes through: GitHub's REST API at `apiBase`, with a deadline. */
export function pagesRequest(config: Pick<PagesConfig, 'apiBase'>, timeoutMs = 10_000): GitHubRequest {
  // Each request its own deadline: a hung GitHub answers the page with "try again", not never.
  const fetchWithDeadline: typeof fetch = (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return octokitRequest.defaults({ baseUrl: config.apiBase, headers: { 'user-agent': 'merge-gate-pages' }, request: { fetch: fetchWithDeadline } });
}

/** Why a sign-in failed, in words for the log and the page (no token, no code). */
export class SignInError extends Error {
  constructor(
    readonly reason: 'exchange' | 'user',
    message: string,
  ) {
    super(message);
  }
}

function describe(err: unknown): string {
  const e = err as { status?: number; message?: string };
  return `${e.status ? `HTTP ${e.status}: ` : ''}${(e.message ?? String(err)).split('\n')[0].slice(0, 200)}`;
}

export interface OAuthClient {
  /** GitHub's authorize URL for this sign-in's `state`. */
  authorizeUrl(state: string): string;
  /** The code GitHub sent back, exchanged for a session (token inside). Throws SignInError. */
  signIn(code: string): Promise<Session>;
}

export function oauthClient(config: PagesConfig, clock: Clock, request: GitHubRequest = pagesRequest(config)): OAuthClient {
  const redirectUrl = config.publicUrl === null ? undefined : `${config.publicUrl}/login/callback`;
  return {
    authorizeUrl(state) {
      return getWebFlowAuthorizationUrl({ clientType: 'github-app', clientId: config.clientId, state, redirectUrl, allowSignup: false, request }).url;
    },
    async signIn(code) {
      let token: string;
      let tokenExpiresAt: number | null = null;
      try {
        const { authentication, headers } = await exchangeWebFlowCode({ clientType: 'github-app', clientId: config.clientId, clientSecret: config.clientSecret, code, redirectUrl, request });
        token = authentication.token;
        // The token's lifetime as GitHub counted it (expiresAt is GitHub's Date plus expires_in), from our clock's now.
        if ('expiresAt' in authentication && authentication.expiresAt) tokenExpiresAt = clock.now().getTime() + (Date.parse(authentication.expiresAt) - Date.parse(String(headers.date)));
      } catch (err) {
        throw new SignInError('exchange', `GitHub refused the sign-in code (${describe(err)})`);
      }
      let user: { login: string; id: number };
      try {
        user = (await request('GET /user', { headers: { authorization: `token ${token}` } })).data as { login: string; id: number };
      } catch (err) {
        throw new SignInError('user', `GitHub did not say who signed in (${describe(err)})`);
      }
      const sessionEnd = clock.now().getTime() + config.sessionTtlMs;
      // A GitHub App's user token expires (8 hours by default): the session ends with it, not later.
      const expiresAt = tokenExpiresAt !== null && Number.isFinite(tokenExpiresAt) ? Math.min(sessionEnd, tokenExpiresAt) : sessionEnd;
      return { login: user.login, userId: user.id, token, expiresAt, nonce: Cookies.nonce() };
    },
  };
}
