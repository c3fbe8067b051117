// The webhook endpoint faces the internet, and Probot's middleware
// (@octokit/webhooks) reads a whole body before it checks the signature: two
// 100 MB uploads with a made-up signature took the app to 3 GB. So webhook
// bodies are read here first — under GitHub's own cap, only so many at once,
// within GitHub's own timeout — and handed to Probot whole, as `rawBody`, which
// its middleware takes instead of reading the stream; or refused here, before
// Probot sees the request. A body whose signature does not match is refused
// here too (400, one log line): Probot would log the error with the whole
// payload (its error handler logs `error.event`), so a sender without the
// secret could fill the logs 25 MiB at a time.
//
// Under `probot run` (npm start) nothing an app adds runs before Probot's
// webhook middleware: `options.addHandler` appends after it, and the Server
// keeps its http.Server private. What runs before any request listener is
// Node's `http.server.request.start` diagnostics channel, which names the
// server: `guardHttpServers` wraps that server's `emit('request')` there,
// once. A custom server (createNodeMiddleware) is a node:http server too, so
// the same guard covers it; one that is not can call `guard.handle` first.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { channel, subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { systemTimers, type Timers } from '../clock.js';
import { declaredLength, readBody, refuse, type Refusal } from '../http/body.js';
import type { Log } from '../log.js';

export interface BodyLimits {
  /** One body at most: GitHub caps webhook payloads at 25 MB. */
  maxBytes: number;
  /** Bodies being read at once. */
  maxBodies: number;
  /** Bytes held by the bodies being read, together: the memory all of this may take. */
  maxHeldBytes: number;
  /** A body not whole by then is refused: GitHub gives up on a delivery after 10 s anyway. */
  timeoutMs: number;
  /** Retry-After on a 503. */
  retryAfterS: number;
}

const MiB = 1024 * 1024;
export const BODY_LIMITS: BodyLimits = { maxBytes: 25 * MiB, maxBodies: 16, maxHeldBytes: 64 * MiB, timeoutMs: 10_000, retryAfterS: 5 };

/** What Probot's middleware reads a body for: a JSON POST with the three webhook headers (else it answers 415/400 unread). */
export function isWebhookDelivery(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return (
    req.method === 'POST' &&
    typeof type === 'string' &&
    /^\s*(application\/json)\s*(?:;|$)/u.test(type) &&
    ['x-github-event', 'x-hub-signature-256', 'x-github-delivery'].every((h) => req.headers[h] !== undefined)
  );
}

export interface Held {
  bodies: number;
  bytes: number;
}

/** Whether a new body may be read now, given what is held and its declared length; null: yes. */
export function admission(held: Held, declared: number | null, limits: BodyLimits): Refusal | null {
  if (declared !== null && declared > limits.maxBytes) return tooLarge(limits);
  if (held.bodies >= limits.maxBodies || held.bytes + (declared ?? 0) > limits.maxHeldBytes) return busy(limits);
  return null;
}

const json = (status: number, error: string, headers: Record<string, string> = {}): Refusal => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: `${JSON.stringify({ error })}\n`,
});
const tooLarge = (l: BodyLimits) => json(413, `a webhook body is at most ${l.maxBytes} bytes (GitHub's cap)`);
const busy = (l: BodyLimits) => json(503, 'too many webhook bodies being received at once; try again', { 'retry-after': String(l.retryAfterS) });
const late = (l: BodyLimits) => json(408, `the body did not arrive within ${l.timeoutMs / 1000} s`);
const unsigned = json(400, 'the signature (X-Hub-Signature-256) does not match the body and the webhook secret');

/** Does `X-Hub-Signature-256` sign `body` with `secret` (HMAC-SHA256, as GitHub signs)? In constant time. */
export function signatureMatches(body: Buffer, header: string | string[] | undefined, secret: string): boolean {
  const given = typeof header === 'string' && /^sha256=[0-9a-f]{64}$/i.test(header) ? Buffer.from(header.slice(7), 'hex') : null;
  const expected = createHmac('sha256', secret).update(body).digest();
  return given !== null && timingSafeEqual(given, expected);
}

export interface WebhookBodyGuard {
  /** Reads a webhook's body and hands it to Probot (false: go on), or answers it (true: done). Anything else: false at once. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** What is held now (metrics, tests). */
  held(): Held;
}

/** `secret`: the app's WEBHOOK_SECRET; a body it does not sign is refused here (without one, Probot judges). */
export function webhookBodyGuard(options: { log: Log; limits?: Partial<BodyLimits>; timers?: Timers; secret?: string }): WebhookBodyGuard {
  const limits = { ...BODY_LIMITS, ...options.limits };
  const timers = options.timers ?? systemTimers;
  const held: Held = { bodies: 0, bytes: 0 };
  const answer = (req: IncomingMessage, res: ServerResponse, refusal: Refusal, bytes: number): true => {
    options.log.warn({ status: refusal.status, bytes, declared: declaredLength(req), from: req.socket.remoteAddress }, `merge-gate: webhook body refused (${refusal.status})`);
    refuse(req, res, refusal, { timers });
    return true;
  };
  return {
    held: () => ({ ...held }),
    async handle(req, res) {
      if (!isWebhookDelivery(req) || 'rawBody' in req) return false; // not a delivery, or read already
      const declared = declaredLength(req);
      const refusal = admission(held, declared, limits);
      if (refusal) return answer(req, res, refusal, 0);
      // A declared length is held from the start (it is coming); a chunked body as it comes.
      let mine = declared ?? 0;
      held.bodies += 1;
      held.bytes += mine;
      const take = (n: number): boolean => {
        if (declared !== null) return true; // already counted
        if (held.bytes + n > limits.maxHeldBytes) return false;
        held.bytes += n;
        mine += n;
        return true;
      };
      try {
        const read = await readBody(req, { maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs, timers, take });
        if (read.ok && options.secret && !signatureMatches(read.body, req.headers['x-hub-signature-256'], options.secret)) {
          // Answered here, logged in one line: Probot would log the whole payload with its error.
          options.log.warn({ status: 400, bytes: read.body.length, delivery: String(req.headers['x-github-delivery']).slice(0, 100), from: req.socket.remoteAddress }, 'merge-gate: webhook signature does not match; refused (400)');
          res.writeHead(unsigned.status, unsigned.headers).end(unsigned.body);
          return true;
        }
        if (read.ok) {
          // @octokit/webhooks' middleware takes a body already read as `rawBody` (with an object `body`), and never touches the stream.
          Object.assign(req, { rawBody: read.body, body: {} });
          return false;
        }
        if (read.why === 'aborted') return true; // nobody to answer
        return answer(req, res, read.why === 'too-large' ? tooLarge(limits) : read.why === 'timeout' ? late(limits) : busy(limits), read.bytes);
      } finally {
        held.bodies -= 1;
        held.bytes -= mine;
      }
    },
  };
}

/**
 * The guard every node:http server of this process runs first. Kept on the
 * channel itself (one per process, shared by every module instance: test
 * runners load a module again per file): one subscriber, the latest guard.
 */
const CHANNEL = 'http.server.request.start';
const STATE = Symbol.for('merge-gate.webhook-body-guard');
interface GuardState {
  current: { guard: WebhookBodyGuard; log: Log };
  wrapped: WeakSet<Server>;
}

export function guardHttpServers(guard: WebhookBodyGuard, log: Log): void {
  const holder = channel(CHANNEL) as unknown as { [STATE]?: GuardState };
  if (holder[STATE]) {
    holder[STATE].current = { guard, log };
    return;
  }
  const state: GuardState = { current: { guard, log }, wrapped: new WeakSet() };
  holder[STATE] = state;
  subscribe(CHANNEL, (message) => {
    const { server } = message as { server: Server };
    if (state.wrapped.has(server)) return;
    state.wrapped.add(server);
    // Published right before the server emits 'request' for this same request: the wrapped emit takes it.
    const emit = server.emit;
    server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      if (event !== 'request' || !isWebhookDelivery(req)) return Reflect.apply(emit, this, [event, ...args]) as boolean;
      const { guard: current, log: currentLog } = state.current;
      current.handle(req, res).then(
        (answered) => {
          if (!answered) Reflect.apply(emit, this, [event, ...args]);
        },
        (err: unknown) => {
          currentLog.error({ err }, 'merge-gate: reading a webhook body failed');
          if (!res.headersSent) res.writeHead(500).end();
          else res.end();
        },
      );
      return true;
    } as Server['emit'];
  });
}
