// What faces the network: the app's webhook port, started as `npm start` starts
// it (`probot run`, a process of its own). Probot's middleware reads a whole body
// before it checks the signature; the app reads webhook bodies first, under
// limits (src/github/webhook-bodies.ts), so unsigned uploads cost no memory.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { startProbotProcess, type ProbotProcess } from '../helpers/probot-process.js';
import { BODY_LIMITS } from '../../src/github/webhook-bodies.js';

const MB = 1024 * 1024;
const SECRET = 'bench-webhook-secret'; // startProbotProcess's WEBHOOK_SECRET

/** Up to `total` bytes, 64 KiB at a time, the same buffer each time: nothing of the size is allocated here. */
function* spaces(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < total; sent += chunk.length) yield sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent);
}

interface Upload {
  /** Gives up on the upload (its answer then never comes). */
  cancel(): void;
  /** The answer's status, Retry-After and milliseconds from the start, as soon as its head arrives (the upload may still be going). */
  answer: Promise<{ status: number; retryAfter: string | undefined; ms: number }>;
}

/**
 * POSTs `total` bytes to the webhook path, as a delivery would look (JSON, the
 * three GitHub headers) but signed with `signature`; with a Content-Length, or
 * chunked without one. Stops sending once answered, or after `pauseAfter` bytes.
 */
function upload(port: number, total: number, options: { chunked?: boolean; signature?: string; pauseAfter?: number; body?: Buffer } = {}): Upload {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'ping',
    'x-github-delivery': `d-${Math.random()}`,
    'x-hub-signature-256': options.signature ?? `sha256=${'0'.repeat(64)}`,
  };
  if (!options.chunked) headers['content-length'] = String(options.body?.length ?? total);
  const started = performance.now();
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/github/webhooks', headers });
  let answered = false;
  let cancelled = false;
  const answer = new Promise<{ status: number; retryAfter: string | undefined; ms: number }>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, ms: performance.now() - started });
      res.resume();
      req.destroy();
    });
    req.on('error', (err) => {
      if (!answered && !cancelled) reject(err);
    });
  });
  const chunks = options.body ? [options.body][Symbol.iterator]() : spaces(options.pauseAfter ?? total);
  const pump = (): void => {
    for (;;) {
      if (answered || cancelled) return;
      const next = chunks.next();
      if (next.done) {
        if (options.pauseAfter === undefined) req.end();
        return;
      }
      if (!req.write(next.value)) return void req.once('drain', pump);
    }
  };
  pump();
  const cancel = () => {
    cancelled = true;
    req.destroy();
  };
  return { cancel, answer };
}

const sign = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** The process's resident memory, in MB (/proc/<pid>/status). */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) / 1024;
}

async function eventually<T>(what: string, attempt: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await attempt();
    if (got !== null) return got;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the webhook port under `probot run`', () => {
  let fake: FakeGitHub;
  let closeFake: () => Promise<void>;
  let app: ProbotProcess;
  const report = (err: unknown) => {
    throw new Error(`${(err as Error).message}\n\nprobot run's output:\n${app.output()}`);
  };

  beforeAll(async () => {
    nock.enableNetConnect('127.0.0.1');
    ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
    app = await startProbotProcess(fake, { MERGE_GATE_SCHEDULE_ON_START: 'false' }, { source: true });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await closeFake?.();
  });

  test('two 100 MB unsigned bodies, declared and chunked, are refused with 413 within a second each, and the app stays under 200 MB', async () => {
    try {
      const declared = await upload(app.port, 100 * MB).answer;
      const chunked = await upload(app.port, 100 * MB, { chunked: true }).answer;
      expect([declared.status, chunked.status]).toEqual([413, 413]);
      expect(declared.ms).toBeLessThan(1000);
      expect(chunked.ms).toBeLessThan(1000);
      expect(rssMb(app.child.pid!)).toBeLessThan(200);
      // The control: a signed delivery of 5 MB, chunked, is read by the guard, handed to Probot and taken.
      const body = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, padding: 'x'.repeat(5 * MB) }));
      expect((await upload(app.port, body.length, { chunked: true, body, signature: sign(body) }).answer).status).toBe(200);
    } catch (err) {
      report(err);
    }
  });

  test(`beyond ${BODY_LIMITS.maxBodies} bodies being read at once: 503 with Retry-After; once they end, deliveries are taken again`, async () => {
    try {
      // Each declares a small body, sends a byte of it, and waits.
      const slow = Array.from({ length: BODY_LIMITS.maxBodies }, () => upload(app.port, 1000, { pauseAfter: 1 }));
      const busy = await eventually('a 503', async () => {
        const probe = await upload(app.port, 100).answer;
        return probe.status === 503 ? probe : null;
      });
      expect(busy.retryAfter).toBe(String(BODY_LIMITS.retryAfterS));
      for (const s of slow) s.cancel();
      const body = Buffer.from(JSON.stringify({ zen: 'Design for failure.', hook_id: 1 }));
      const taken = await eventually('a signed delivery taken', async () => {
        const r = await upload(app.port, body.length, { body, signature: sign(body) }).answer;
        return r.status === 200 ? r : null;
      });
      expect(taken.status).toBe(200);
    } catch (err) {
      report(err);
    }
  });
});
