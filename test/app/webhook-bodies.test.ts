// What faces the network: the app's webhook port, started as `npm start` starts
// it (`probot run`, a process of its own). Probot's middleware reads a whole body
// before it checks the signature; the app reads webhook bodies first, under
// limits (src/github/webhook-bodies.ts), so unsigned uploads cost no memory.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { startProbotProcess, type ProbotProcess } from '../helpers/probot-process.js';
import { standAsideLeftGuard } from '../helpers/webhook-guard.js';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { BODY_LIMITS, webhookBodyGuard } from '../../src/github/webhook-bodies.js';

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
 * Plain TCP: what a sender on the internet does, and out of reach of any nock
 * interceptor another test file left in this worker.
 */
function upload(port: number, total: number, options: { chunked?: boolean; signature?: string; pauseAfter?: number; body?: Buffer } = {}): Upload {
  const length = options.body?.length ?? total;
  const head = [
    'POST /api/github/webhooks HTTP/1.1',
    `host: 127.0.0.1:${port}`,
    'content-type: application/json',
    'x-github-event: ping',
    `x-github-delivery: d-${Math.random()}`,
    `x-hub-signature-256: ${options.signature ?? `sha256=${'0'.repeat(64)}`}`,
    options.chunked ? 'transfer-encoding: chunked' : `content-length: ${length}`,
    '',
    '',
  ].join('\r\n');
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let answered = false;
  let cancelled = false;
  const answer = new Promise<{ status: number; retryAfter: string | undefined; ms: number }>((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (answered || end < 0) return;
      answered = true;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const retryAfter = /\r\nretry-after: *([^\r]*)/i.exec(text.slice(0, end))?.[1];
      resolve({ status, retryAfter, ms: performance.now() - started });
      socket.destroy();
    });
    socket.on('error', (err) => {
      if (!answered && !cancelled) reject(err);
    });
  });
  socket.write(head);
  const chunks = options.body ? [options.body][Symbol.iterator]() : spaces(options.pauseAfter ?? total);
  const pump = (): void => {
    for (;;) {
      if (answered || cancelled || socket.destroyed) return;
      const next = chunks.next();
      if (next.done) {
        if (options.pauseAfter === undefined && options.chunked) socket.write('0\r\n\r\n');
        return;
      }
      const ok = options.chunked ? socket.write(Buffer.concat([Buffer.from(`${next.value.length.toString(16)}\r\n`), next.value, Buffer.from('\r\n')])) : socket.write(next.value);
      if (!ok) return void socket.once('drain', pump);
    }
  };
  pump();
  const cancel = () => {
    cancelled = true;
    socket.destroy();
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
    throw new Error(`${(err as Error).message.slice(0, 4000)}\n\nprobot run's output (its last 20,000 characters):\n${app.output().slice(-20_000)}`);
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

  test('a 10 MB body with a bad signature is refused with 400, and the app logs one line of it, not the body', async () => {
    try {
      const before = app.output().length;
      const marker = 'merge-gate-unsigned-payload-marker';
      const body = Buffer.from(JSON.stringify({ zen: marker, hook_id: 1, padding: `${marker} `.repeat(Math.ceil((10 * MB) / (marker.length + 1))) }));
      const answer = await upload(app.port, body.length, { body, signature: sign(Buffer.from('another body')) }).answer;
      expect(answer.status).toBe(400);
      await new Promise((r) => setTimeout(r, 1500)); // what the app logs about it, Probot's error handler included
      const since = app.output().slice(before);
      // Booleans and a length: a 10 MB log in a failure message would take jest minutes to print.
      expect({ bodyLogged: since.includes(marker), loggedBytes: since.length < 4096 ? 'under 4 KiB' : since.length }).toEqual({ bodyLogged: false, loggedBytes: 'under 4 KiB' });
      expect(since).toContain('webhook signature does not match');
      expect(since).toContain(String(body.length));
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

describe('the guard in front of a custom server (guard.handle first)', () => {
  let server: Server;
  let port: number;
  const warnings: string[] = [];
  const log = { debug: () => undefined, info: () => undefined, warn: (_: unknown, m?: string) => void warnings.push(String(m)), error: () => undefined };
  const guard = webhookBodyGuard({ log: log as never, limits: { timeoutMs: 300 } });

  let putBack: () => void = () => undefined;

  beforeAll(async () => {
    putBack = standAsideLeftGuard();
    server = createServer((req, res) => {
      void guard.handle(req, res).then((answered) => {
        if (!answered) res.writeHead(200).end(String((req as unknown as { rawBody: Buffer }).rawBody.length));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    putBack();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a body not whole within the deadline is refused with 408, and nothing stays held', async () => {
    const slow = upload(port, 1000, { pauseAfter: 10 });
    expect((await slow.answer).status).toBe(408);
    expect(warnings).toEqual(['merge-gate: webhook body refused (408)']);
    expect(guard.held()).toEqual({ bodies: 0, bytes: 0 });
  });
});
