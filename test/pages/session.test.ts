import fc from 'fast-check';
import { Cookies, localPath, readCookie, SESSION_COOKIE } from '../../src/pages/session.js';
import type { Session } from '../../src/pages/types.js';

const OLD = 'o'.repeat(32);
const NEW = 'n'.repeat(32);
let now = Date.UTC(2026, 11, 5, 9, 0);
const clock = { now: () => new Date(now) };
const session = (over: Partial<Session> = {}): Session => ({ login: 'octocat', userId: 1, token: 'ghu_recognisable', expiresAt: now + 3600_000, nonce: Cookies.nonce(), ...over });
/** The value of a Set-Cookie header. */
const valueOf = (setCookie: string) => setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));

describe('session cookies', () => {
  beforeEach(() => {
    now = Date.UTC(2026, 11, 5, 9, 0);
  });

  it('seals a session that opens again, unreadable, HttpOnly, SameSite=Lax, with its Max-Age; Secure when https', () => {
    const cookies = new Cookies([NEW], clock, false);
    const s = session();
    const header = cookies.sessionCookie(s);
    expect(header).toMatch(/^mg_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    expect(Buffer.from(valueOf(header), 'base64url').toString('latin1')).not.toContain('ghu_recognisable');
    expect(cookies.openSession(valueOf(header))).toEqual(s);
    expect(new Cookies([NEW], clock, true).sessionCookie(s)).toMatch(/; Secure$/);
  });

  it('an expired session does not open', () => {
    const cookies = new Cookies([NEW], clock, false);
    const value = valueOf(cookies.sessionCookie(session({ expiresAt: now + 1000 })));
    now += 1000;
    expect(cookies.openSession(value)).toBeNull();
  });

  it('rotation: a cookie sealed with the old secret still opens; new ones are sealed with the new; a dropped secret opens nothing', () => {
    const before = new Cookies([OLD], clock, false);
    const during = new Cookies([NEW, OLD], clock, false);
    const after = new Cookies([NEW], clock, false);
    const s = session();
    const old = valueOf(before.sessionCookie(s));
    expect(during.openSession(old)).toEqual(s);
    const fresh = valueOf(during.sessionCookie(s));
    expect(after.openSession(fresh)).toEqual(s);
    expect(before.openSession(fresh)).toBeNull();
    expect(after.openSession(old)).toBeNull();
    expect(during.csrfValid(s, before.csrfToken(s))).toBe(true);
    expect(after.csrfValid(s, before.csrfToken(s))).toBe(false);
  });

  it('property: any tampering with a sealed cookie opens to null, never throws', () => {
    const cookies = new Cookies([NEW], clock, false);
    const value = valueOf(cookies.sessionCookie(session()));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(
        fc.oneof(
          // flip one character
          fc.tuple(fc.nat(value.length - 1), fc.constantFrom(...alphabet)).map(([i, c]) => value.slice(0, i) + c + value.slice(i + 1)),
          // truncate or extend
          fc.nat(value.length - 1).map((n) => value.slice(0, n)),
          fc.string({ minLength: 1, maxLength: 8 }).map((tail) => value + tail),
          // garbage
          fc.string({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url')),
        ),
        (forged) => {
          fc.pre(forged !== value);
          expect(cookies.openSession(forged)).toBeNull();
          expect(cookies.openOAuth(forged)).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a sign-in state cookie never opens as a session, and expires after 10 minutes', () => {
    const cookies = new Cookies([NEW], clock, false);
    const { state, cookie } = cookies.startOAuth('/pulls/o/r/1');
    expect(cookie).toMatch(/^mg_oauth=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);
    expect(cookies.openSession(valueOf(cookie))).toBeNull();
    expect(cookies.openOAuth(valueOf(cookie))).toMatchObject({ state, returnTo: '/pulls/o/r/1' });
    now += 10 * 60_000;
    expect(cookies.openOAuth(valueOf(cookie))).toBeNull();
  });

  it('returns only to a local path', () => {
    const cookies = new Cookies([NEW], clock, false);
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a\nb', '']) {
      expect(localPath(evil)).toBeNull();
      expect(cookies.openOAuth(valueOf(cookies.startOAuth(evil).cookie))!.returnTo).toBe('/queue');
    }
    expect(localPath('/queue?x=1')).toBe('/queue?x=1');
  });

  it('the CSRF token is tied to the session', () => {
    const cookies = new Cookies([NEW], clock, false);
    const a = session();
    const b = session();
    expect(cookies.csrfValid(a, cookies.csrfToken(a))).toBe(true);
    expect(cookies.csrfValid(a, cookies.csrfToken(b))).toBe(false);
    expect(cookies.csrfValid(a, '')).toBe(false);
    expect(cookies.csrfValid(a, null)).toBe(false);
  });

  it('reads a cookie from the Cookie header', () => {
    expect(readCookie('a=1; mg_session=abc; b=2', SESSION_COOKIE)).toBe('abc');
    expect(readCookie(undefined, SESSION_COOKIE)).toBeNull();
    expect(readCookie('xmg_session=abc', SESSION_COOKIE)).toBeNull();
  });
});
