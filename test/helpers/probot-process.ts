// merge-gate as `npm start` runs it — `probot run ./lib/index.js` in its own
// process, with Probot's production Octokit (throttling and retries on) —
// pointed at a FakeGitHub listening on 127.0.0.1 (as a GitHub Enterprise host,
// which is how `probot run` takes another API address), and real signed
// webhooks sent to its HTTP endpoint. Needs `npm run build` (lib/) first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeGitHub } from './github-fake.js';
import { testPrivateKey } from './github-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'bench-webhook-secret';
/** How long `probot run` may take to answer on its port. */
const LISTEN_DEADLINE_MS = 60_000;

/** A port free right now (Probot reads PORT=0 as 3000, so it cannot take an ephemeral one itself). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ProbotProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process wrote, for a failure message. */
  output(): string;
  /** Sends a signed webhook and resolves with Probot's HTTP status. */
  send(name: string, payload: object): Promise<number>;
  stop(): Promise<void>;
}

let delivery = 0;

export interface ProbotRunOptions {
  /** Run src/index.ts through tsx instead of the built lib/index.js: `probot run` exactly, without `npm run build` first. */
  source?: boolean;
  /** The port to listen on (default: one free now), for settings that name the app's own address (MERGE_GATE_URL). */
  port?: number;
}

/** `probot run` from the repository's folder with exactly `env` (plus PATH, HOST, PORT), started; see spawnProbotRun for "listening". */
export async function startProbotRun(env: Record<string, string>, options: ProbotRunOptions = {}): Promise<{ child: ChildProcess; port: number; output(): string; exited: Promise<void> }> {
  const port = options.port ?? (await freePort());
  const probot = `${ROOT}/node_modules/probot/bin/probot.js`;
  const args = options.source ? ['--import', 'tsx', probot, 'run', './src/index.ts'] : [probot, 'run', './lib/index.js'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, port, output: () => out, exited };
}

/** `probot run` (see startProbotRun), once it answers on its port. */
export async function spawnProbotRun(env: Record<string, string>, options: ProbotRunOptions = {}): Promise<{ child: ChildProcess; port: number; output(): string; exited: Promise<void> }> {
  const { child, port, output, exited } = await startProbotRun(env, options);
  // Ready when the server answers (Probot does not log its address at LOG_LEVEL=warn). tsx compiling the app takes
  // seconds, 8 or more on a busy 2-core machine: a deadline with ample headroom, not a count of tries.
  const deadline = Date.now() + LISTEN_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`probot run exited with ${child.exitCode}:\n${output()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/ping`);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`probot run did not listen on ${port} within ${LISTEN_DEADLINE_MS / 1000} s:\n${output()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return { child, port, output, exited };
}

/** Stops a process `spawnProbotRun` started: SIGTERM, SIGKILL after 3 s. */
export async function stopProbotRun(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function startProbotProcess(fake: FakeGitHub, env: Record<string, string> = {}, options: ProbotRunOptions = {}): Promise<ProbotProcess> {
  const url = new URL(fake.baseUrl);
  // The outbox's SQLite file, in a folder of its own unless `env` names one.
  const state = env.OUTBOX_PATH === undefined ? mkdtempSync(join(tmpdir(), 'merge-gate-probot-')) : null;
  const { child, port, output, exited } = await spawnProbotRun({
    NODE_ENV: 'production',
    APP_ID: String(fake.appId),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: url.host,
    GHE_PROTOCOL: 'http',
    LOG_LEVEL: 'warn',
    OUTBOX_PATH: state ? join(state, 'outbox.sqlite') : '',
    ...env,
  }, options).catch((err: unknown) => {
    if (state) rmSync(state, { recursive: true, force: true });
    throw err;
  });

  return {
    child,
    port,
    output,
    async send(name, payload) {
      const body = JSON.stringify(payload);
      const res = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': name,
          'x-github-delivery': `bench-${process.pid}-${++delivery}`,
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    },
    async stop() {
      await stopProbotRun(child, exited);
      if (state) rmSync(state, { recursive: true, force: true });
    },
  };
}
