// The app with landing wired in (src/land), against a FakeGitHub, on fake time;
// and a real HTTP receiver on 127.0.0.1 that verifies trunk-updated with the
// standardwebhooks library, as a deploy trigger would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { AppConfig } from '../../src/github/config.js';
import { createLanding, type Landing, type LandingOptions } from '../../src/land/index.js';
import { DEFAULT_MAX_AGE_MS, type OutboxConfig } from '../../src/outbox/config.js';
import { openDb } from '../../src/state/db.js';
import type { FakeGitHub } from './github-fake.js';
import { startTestApp, type StartOptions, type TestApp } from './github-app.js';
import { ManualClock } from './github-timers.js';

/** A Standard Webhooks secret for tests: `whsec_` + base64 of 24 bytes. */
export const TRUNK_SECRET = `whsec_${Buffer.from('merge-gate-test-secret-24').toString('base64')}`;

export interface LandingApp extends TestApp {
  landing: Landing;
  /** Let fake time pass until the gate's queue and the outbox are quiet. */
  settle(maxMs?: number): Promise<void>;
  stop(): void;
}

export async function startLandingApp(
  fake: FakeGitHub,
  options: { config?: Partial<AppConfig>; outbox?: Partial<OutboxConfig>; landing?: Partial<LandingOptions>; start?: StartOptions } = {},
): Promise<LandingApp> {
  const clock = options.start?.clock ?? new ManualClock();
  const outbox: OutboxConfig = { urls: [], secret: TRUNK_SECRET, path: ':memory:', maxAgeMs: DEFAULT_MAX_AGE_MS, backoff: { baseMs: 1_000, maxMs: 60_000 }, ...options.outbox };
  const landing = createLanding({
    outbox,
    clock,
    timers: clock,
    checkName: 'merge-gate',
    policyPath: '.github/merge-gate.yml',
    db: options.landing?.db ?? openDb(':memory:'),
    random: () => 0.5,
    mergeableRetry: { attempts: 3, baseDelayMs: 1_000 },
    ...options.landing,
  });
  const app = await startTestApp(fake, options.config ?? {}, landing.hooks, { ...options.start, clock });
  await landing.started;
  const settle = async (maxMs = 120_000) => {
    for (let waited = 0; waited <= maxMs; waited += 1000) {
      await app.drain(maxMs);
      await landing.sender.settled();
      await landing.swept();
      await landing.queue.idle();
      // Quiet: nothing queued, nothing due in the outbox, no intent whose merge's fate is still being read, the merge queue still.
      if (app.gate.queue.size === 0 && !landing.queue.busy() && !landing.store.pending().some((d) => d.nextAt <= clock.now().getTime()) && landing.journal.intents().length === 0) return;
      await app.advance(1000);
    }
  };
  return {
    ...app,
    landing,
    settle,
    stop() {
      app.gate.stop();
      landing.close();
    },
  };
}

export interface Received {
  id: string;
  timestamp: string;
  body: string;
  json: Record<string, any>;
}

/** A deploy trigger's receiving end: verifies every request with standardwebhooks; 401 on a bad signature. */
export class Receiver {
  readonly received: Received[] = [];
  readonly rejected: Array<{ id: string | undefined; error: string }> = [];
  /** Status to answer while down (503), or null when up. */
  down: number | null = null;
  /** Requests seen, answered or not. */
  hits = 0;
  /** The webhook-id of every request seen, in order. */
  readonly seenIds: string[] = [];
  private server: Server | null = null;
  url = '';

  constructor(private readonly secret = TRUNK_SECRET) {}

  /** The status a request is refused with before it is even verified, 'reset' to drop the connection, or null to take it (tests may replace it). */
  answer(): number | 'reset' | null {
    return this.down;
  }

  async start(): Promise<this> {
    const webhook = new Webhook(this.secret);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits++;
        this.seenIds.push(String(req.headers['webhook-id']));
        const refused = this.answer();
        if (refused === 'reset') return void req.socket.destroy();
        if (refused !== null) {
          res.writeHead(refused).end('down');
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        try {
          const json = webhook.verify(body, headers) as Record<string, any>;
          this.received.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], body, json });
          res.writeHead(202).end();
        } catch (err) {
          this.rejected.push({ id: headers['webhook-id'], error: (err as Error).message });
          res.writeHead(401).end('bad signature');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/trunk-updated`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
