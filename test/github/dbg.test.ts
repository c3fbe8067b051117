import { jest, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload, startTestApp } from '../helpers/github-app.js';
import { useAppFakeTimers } from '../helpers/github-timers.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';

test('dbg', async () => {
  nock.disableNetConnect();
  useAppFakeTimers();
  const fake = new FakeGitHub().install();
  const repo = setupRepo(fake);
  const pull = typicalPull(fake, repo);
  console.log('a');
  const app = await startTestApp(fake);
  console.log('b');
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  console.log('c', app.gate.queue.size);
  await jest.advanceTimersByTimeAsync(1000);
  console.log('d', fake.requests.map(r => r.path), app.gate.stats, app.gate.queue.stats);
  const o = await Promise.race([app.probot.auth(1).then(() => 'authed'), new Promise(r => setImmediate(() => setImmediate(() => r('timeout'))))]); console.log('auth', o);
  for (let i = 0; i < 50; i++) { await new Promise(r => setImmediate(r)); await jest.advanceTimersByTimeAsync(1); if (i % 10 === 0) console.log(i, fake.requests.map(r => r.path), jest.getTimerCount()); }
  console.log('e', fake.requests.map(r => r.path));
  await jest.advanceTimersByTimeAsync(1000);
  console.log('f', fake.requests.map(r => r.path), app.errors);
}, 10000);
