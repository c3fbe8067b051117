// The fake GitHub's "Sign in with GitHub" (SPEC §7): the web flow's endpoints
// at the origin (GET /login/oauth/authorize, POST /login/oauth/access_token)
// and, with a person's token, GET /user and GET /repos/{owner}/{repo} under
// the API prefix (/api/v3 for GitHub Enterprise). A test chooses who signs in
// (`signInAs`) and which repositories they may read (`grant`). Kept apart from
// github-fake.ts, which routes to it first.

type Answer = [number, unknown, Record<string, string>];

export interface FakeUser {
  login: string;
  id: number;
}

/** A request the fake took with a person's token (what the pages cost GitHub). */
export interface FakeOAuthRequest {
  method: string;
  path: string;
  login: string | null;
  status: number;
}

export class FakeOAuth {
  /** The OAuth client the app must present; null: any. */
  client: { id: string; secret: string } | null = null;
  /** Who the next browser to reach /login/oauth/authorize signs in as (null: the fake answers 403, no one signed in). */
  private signedIn: FakeUser | null = null;
  private readonly users = new Map<string, FakeUser>();
  /** login → owner/repo (lower case) they may read. */
  private readonly grants = new Map<string, Set<string>>();
  private readonly codes = new Map<string, { user: FakeUser; redirectUri: string | null }>();
  /** token → user; a revoked token answers 401. */
  private readonly tokens = new Map<string, FakeUser>();
  /** The callback URL registered with the app (used when the app sends no redirect_uri). */
  callbackUrl: string | null = null;
  /** GitHub App user tokens expire (`expires_in`, 8 hours by default on GitHub); null: the token does not (an OAuth app's). */
  tokenExpiresInS: number | null = null;
  readonly requests: FakeOAuthRequest[] = [];
  /** Tokens handed out, in order (tests look for them in logs). */
  readonly issued: string[] = [];
  private next = 1;

  signInAs(login: string, id?: number): FakeUser {
    const user = this.users.get(login) ?? { login, id: id ?? 5000 + this.users.size };
    this.users.set(login, user);
    this.signedIn = user;
    return user;
  }

  grant(login: string, repository: string): void {
    const set = this.grants.get(login) ?? new Set<string>();
    set.add(repository.toLowerCase());
    this.grants.set(login, set);
  }

  revokeGrant(login: string, repository: string): void {
    this.grants.get(login)?.delete(repository.toLowerCase());
  }

  /** The token stops working (GitHub answers 401 Bad credentials). */
  revokeTokens(login: string): void {
    for (const [token, user] of this.tokens) if (user.login === login) this.tokens.delete(token);
  }

  /** Requests made with a person's token (GET /user, GET /repos/…). */
  apiRequests(): FakeOAuthRequest[] {
    return this.requests.filter((r) => r.path !== '/login/oauth/access_token');
  }

  /** An answer for the sign-in's requests, or null: not one of them (the rest of the fake answers). */
  handle(method: string, url: URL, prefix: string, body: unknown, headers: Record<string, string | string[] | undefined>): Answer | null {
    const json = (status: number, data: unknown, extra: Record<string, string> = {}): Answer => [status, data, { 'content-type': 'application/json; charset=utf-8', ...extra }];
    if (url.pathname === '/login/oauth/authorize' && method === 'GET') return this.authorize(url.searchParams, json);
    if (url.pathname === '/login/oauth/access_token' && method === 'POST') {
      const answer = this.exchange(typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>), json);
      this.requests.push({ method, path: url.pathname, login: null, status: answer[0] });
      return answer;
    }
    const token = String(headers.authorization ?? '').replace(/^(token|bearer) /i, '');
    if (!token.startsWith('ghu_') || !url.pathname.startsWith(`${prefix}/`)) return null;
    const path = url.pathname.slice(prefix.length);
    const user = this.tokens.get(token) ?? null;
    const answer = ((): Answer | null => {
      if (path !== '/user' && !/^\/repos\/[^/]+\/[^/]+$/.test(path)) return null;
      if (method !== 'GET') return json(404, { message: 'Not Found' });
      if (!user) return json(401, { message: 'Bad credentials' });
      if (path === '/user') return json(200, { login: user.login, id: user.id, type: 'User' });
      const [, , owner, name] = path.split('/');
      const full = `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`;
      if (!this.grants.get(user.login)?.has(full.toLowerCase())) return json(404, { message: 'Not Found' });
      return json(200, { full_name: full, name: decodeURIComponent(name), owner: { login: decodeURIComponent(owner) }, private: true, permissions: { pull: true } });
    })();
    if (answer === null) return null;
    this.requests.push({ method, path, login: user?.login ?? null, status: answer[0] });
    return answer;
  }

  private authorize(query: URLSearchParams, json: (status: number, data: unknown, extra?: Record<string, string>) => Answer): Answer {
    if (this.client && query.get('client_id') !== this.client.id) return json(404, { message: 'fake GitHub: unknown client_id' });
    if (!this.signedIn) return json(403, { message: 'fake GitHub: no one signed in (call fake.oauth.signInAs)' });
    const redirectUri = query.get('redirect_uri');
    const target = redirectUri ?? this.callbackUrl;
    if (!target) return json(400, { message: 'fake GitHub: no redirect_uri and no registered callback URL' });
    const code = `code${this.next++}`;
    this.codes.set(code, { user: this.signedIn, redirectUri });
    const location = new URL(target);
    location.searchParams.set('code', code);
    if (query.has('state')) location.searchParams.set('state', query.get('state')!);
    return [302, '', { location: location.href, 'content-type': 'text/plain' }];
  }

  private exchange(input: Record<string, string>, json: (status: number, data: unknown) => Answer): Answer {
    // GitHub answers these failures 200 with an `error` (what @octokit/oauth-methods turns into a thrown error).
    const error = (code: string, description: string) => json(200, { error: code, error_description: description, error_uri: 'https://docs.github.com/apps' });
    if (this.client && (input.client_id !== this.client.id || input.client_secret !== this.client.secret)) return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    const grant = this.codes.get(input.code);
    if (!grant) return error('bad_verification_code', 'The code passed is incorrect or expired.');
    this.codes.delete(input.code); // single use
    if (grant.redirectUri !== null && input.redirect_uri !== undefined && input.redirect_uri !== grant.redirectUri) return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    const token = `ghu_fake${this.next++}_${grant.user.login.replace(/[^A-Za-z0-9]/g, '')}`;
    this.tokens.set(token, grant.user);
    this.issued.push(token);
    const expiry = this.tokenExpiresInS === null ? {} : { expires_in: this.tokenExpiresInS, refresh_token: `ghr_fake${this.next++}`, refresh_token_expires_in: 15897600 };
    return json(200, { access_token: token, token_type: 'bearer', scope: '', ...expiry });
  }
}
