// The pages' cookies (SPEC §7): the session and the OAuth `state`, each sealed
// with AES-256-GCM under a key derived (HKDF) from every SESSION_SECRET, so a
// cookie is both signed and unreadable — the person's token travels inside.
// The first secret seals, every one opens (rotation). Opening never throws:
// forged, truncated, expired or garbage is null, and the person is signed out.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Session } from './types.js';

export const SESSION_COOKIE = 'mg_session';
export const OAUTH_COOKIE = 'mg_oauth';
/** How long a sign-in may take between GET /login and GitHub's redirect back. */
export const OAUTH_TTL_MS = 10 * 60_000;
/** Cookies past this are not opened at all (a browser keeps at most 4 KiB per cookie anyway). */
const MAX_COOKIE_CHARS = 4096;
const IV_BYTES = 12;
const TAG_BYTES = 16;

type Purpose = 'session' | 'oauth' | 'csrf';

/** One key per secret and purpose: a sealed `mg_oauth` never opens as a session, and the CSRF key seals nothing. */
function derive(secret: string, purpose: Purpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'merge-gate pages', purpose, 32));
}

function seal(key: Buffer, purpose: Purpose, payload: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function open(keys: readonly Buffer[], purpose: Purpose, value: string): unknown {
  if (value.length > MAX_COOKIE_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  const raw = Buffer.from(value, 'base64url');
  // Canonical only: base64's last character carries spare bits, and a changed one must not decode to the same cookie.
  if (raw.length <= IV_BYTES + TAG_BYTES || raw.toString('base64url') !== value) return null;
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      // not this secret's (or not ours at all): try the next
    }
  }
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function asSession(v: unknown): Session | null {
  if (!isObject(v)) return null;
  const { login, userId, token, expiresAt, nonce } = v;
  if (typeof login !== 'string' || typeof userId !== 'number' || typeof token !== 'string' || typeof expiresAt !== 'number' || typeof nonce !== 'string') return null;
  return { login, userId, token, expiresAt, nonce };
}

/** A path on this site to return to after signing in: starts with one `/` (not `//` or `/\`, another host), printable; otherwise null. */
export function localPath(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value.length > 1024 || !value.startsWith('/')) return null;
  if (value.startsWith('//') || value.startsWith('/\\') || /[\u0000-\u001f\u007f\\]/.test(value)) return null;
  return value;
}

/** One cookie's value from a Cookie header (the first of that name), or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export interface OAuthState {
  state: string;
  /** A local path (see localPath). */
  returnTo: string;
  expiresAt: number;
}

export class Cookies {
  private readonly keys: Record<Purpose, Buffer[]>;

  /** `secure`: the public address is https, so the cookies say Secure. */
  constructor(secrets: readonly string[], private readonly clock: Clock, private readonly secure: boolean) {
    if (secrets.length === 0) throw new Error('SESSION_SECRET: at least one secret is needed');
    const all = (purpose: Purpose) => secrets.map((s) => derive(s, purpose));
    this.keys = { session: all('session'), oauth: all('oauth'), csrf: all('csrf') };
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private header(name: string, value: string, maxAgeMs: number): string {
    const maxAge = Math.max(0, Math.floor(maxAgeMs / 1000));
    return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}`;
  }

  /** A new session's Set-Cookie header. */
  sessionCookie(session: Session): string {
    return this.header(SESSION_COOKIE, seal(this.keys.session[0], 'session', session), session.expiresAt - this.now());
  }

  /** The session in a cookie value, or null: forged, truncated, sealed by no current secret, or expired. */
  openSession(value: string | null): Session | null {
    if (value === null) return null;
    const session = asSession(open(this.keys.session, 'session', value));
    return session && session.expiresAt > this.now() ? session : null;
  }

  clearSession(): string {
    return this.header(SESSION_COOKIE, '', 0);
  }

  /** POST /logout's token: an HMAC of the session's nonce (under the first secret). */
  csrfToken(session: Session): string {
    return createHmac('sha256', this.keys.csrf[0]).update(session.nonce).digest('base64url');
  }

  csrfValid(session: Session, token: string | null | undefined): boolean {
    if (typeof token !== 'string') return false;
    const given = Buffer.from(token);
    return this.keys.csrf.some((key) => {
      const expected = Buffer.from(createHmac('sha256', key).update(session.nonce).digest('base64url'));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }

  /** A sign-in starting: a random `state` and its short-lived cookie (with the page to return to). */
  startOAuth(returnTo: string | null): { state: string; cookie: string } {
    const state = randomBytes(24).toString('base64url');
    const payload: OAuthState = { state, returnTo: localPath(returnTo) ?? '/queue', expiresAt: this.now() + OAUTH_TTL_MS };
    return { state, cookie: this.header(OAUTH_COOKIE, seal(this.keys.oauth[0], 'oauth', payload), OAUTH_TTL_MS) };
  }

  /** The sign-in this browser started, or null (none, forged, or older than 10 minutes). */
  openOAuth(value: string | null): OAuthState | null {
    if (value === null) return null;
    const v = open(this.keys.oauth, 'oauth', value);
    if (!isObject(v) || typeof v.state !== 'string' || typeof v.expiresAt !== 'number' || v.expiresAt <= this.now()) return null;
    return { state: v.state, returnTo: localPath(typeof v.returnTo === 'string' ? v.returnTo : null) ?? '/queue', expiresAt: v.expiresAt };
  }

  clearOAuth(): string {
    return this.header(OAUTH_COOKIE, '', 0);
  }

  /** A random nonce for a new session. */
  static nonce(): string {
    return randomBytes(18).toString('base64url');
  }
}
