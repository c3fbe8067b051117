// Hostile input at the front door: a webhook whose signature does not verify is
// refused by Probot before any handler of ours runs, so it costs no GitHub request.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { mergeGateApp } from '../../src/github/app.js';
import type { MergeGate } from '../../src/github/gate.js';
import { DEFAULT_CONFIG } from '../../src/github/config.js';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload, quietLogger, testPrivateKey } from '../helpers/github-app.js';
import { ManualClock } from '../helpers/github-timers.js';
import { standAsideLeftGuard } from '../helpers/webhook-guard.js';

const SECRET = 'the-real-webhook-secret';
let server: Server;
let url: string;
let gate: MergeGate;
let putBack: () => void = () => undefined;
const clock = new ManualClock();
const fake = new FakeGitHub();
const repo = fake.addRepo('octo', 'app', { files: { '.github/merge-gate.yml': 'version: 1\n' } });
const pull = fake.addPull(repo, { number: 1 });

beforeAll(async () => {
  putBack = standAsideLeftGuard(); // this file's server checks signatures with its own secret, through Probot
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  fake.install();
  const Octokit = ProbotOctokit.defaults(((o: object) => ({ ...o, retry: { enabled: false }, throttle: { enabled: false } })) as never);
  const probot = new Probot({ appId: fake.appId, privateKey: testPrivateKey(), secret: SECRET, baseUrl: fake.baseUrl, Octokit, log: quietLogger() as never });
  const app = mergeGateApp({ ...DEFAULT_CONFIG, appId: fake.appId, scheduleOnStart: false, clock, timers: clock }, { onGate: (g) => (gate = g) });
  const middleware = await createNodeMiddleware(app, { probot, webhooksPath: '/webhooks' });
  server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
});

afterAll(async () => {
  putBack();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fake.uninstall();
  nock.enableNetConnect();
});

function post(body: string, signature: string | null) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `d-${Math.random()}` };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return fetch(url, { method: 'POST', headers, body });
}

const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

it('refuses a webhook signed with another secret, tampered, or unsigned, before any handler runs; a signed one is taken', async () => {
  const body = JSON.stringify(pullPayload('pull_request', 'opened', fake, repo, pull));
  const tampered = body.replace('"opened"', '"reopened"');
  const refused = [await post(body, sign(body, 'a-guessed-secret')), await post(tampered, sign(body, SECRET)), await post(body, null)];
  expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
  await clock.advance(60_000, () => gate.queue.settled());
  expect(fake.requests).toEqual([]);
  // The control: the same body, rightly signed, is evaluated (policy read, facts, check run).
  expect((await post(body, sign(body, SECRET))).status).toBe(200);
  await clock.advance(60_000, () => gate.queue.settled());
  expect(fake.ourRuns(repo, pull.headSha)).toHaveLength(1);
  expect(fake.problems).toEqual([]);
});
