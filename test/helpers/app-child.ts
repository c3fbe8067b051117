// Starting test/helpers/app-process.ts (the app as `npm start` configures it; compiled, test/helpers/compiled.ts) as a
// child process pointed at a FakeGitHub over HTTP, and sending it signed webhooks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FakeGitHub } from './github-fake.js';
import { compiled } from './compiled.js';
import { testPrivateKey } from './github-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const APP_WEBHOOK_SECRET = 'app-child-webhook-secret';

export interface AppChild {
  child: ChildProcess;
  /** The app's webhook URL. */
  url: string;
  /** What the app wrote to stderr so far. */
  output(): string;
  /** What the app wrote to stdout and stderr so far, interleaved (its log, for a failure message). */
  log(): string;
}

/** Starts the app with `env` on top of what every test needs; resolves once it listens. */
export async function startAppChild(fake: FakeGitHub, env: Record<string, string>): Promise<AppChild> {
  const { port, hostname } = new URL(fake.origin);
  const child = spawn(process.execPath, [compiled('test/helpers/app-process.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      APP_ID: String(fake.appId),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: APP_WEBHOOK_SECRET,
      GHE_HOST: `${hostname}:${port}`,
      GHE_PROTOCOL: 'http',
      LOG_LEVEL: 'fatal',
      MERGE_GATE_SCHEDULE_ON_START: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let all = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    all += d.toString();
  });
  child.stdout!.on('data', (d: Buffer) => (all += d.toString()));
  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the app exited (${code}) before listening: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${listening}/webhooks`, output: () => err, log: () => all };
}

/** Delivers a webhook as GitHub does, signed with the app's secret; the body is read to the end. */
export async function sendWebhook(url: string, name: string, payload: object): Promise<Response> {
  const body = JSON.stringify(payload);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': name,
      'x-github-delivery': `delivery-${Math.random()}`,
      'x-hub-signature-256': `sha256=${createHmac('sha256', APP_WEBHOOK_SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  await res.arrayBuffer();
  return res;
}

/** SIGKILL every child still running (emptying the list), and wait until each has exited. */
export async function killChildren(children: ChildProcess[]): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
