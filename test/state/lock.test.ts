// One process per state file (src/state/lock.ts), with real processes: a second
// app on the same OUTBOX_PATH, or a second deploy trigger on the same state,
// exits at once with one line naming the holder and touches nothing; the lock
// goes with its holder however it dies (SIGKILL included). And a trigger that
// cannot listen exits before it adopts anything.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub } from '../helpers/github-fake.js';
import { pullPayload } from '../helpers/github-app.js';
import { sendWebhook, startAppChild } from '../helpers/app-child.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { isAlive, killGroups, makeTrunk, runTrigger, serviceRevision, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { TempRepo } from '../helpers/git-repo.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('two apps on one OUTBOX_PATH', () => {
  let fake: FakeGitHub;
  let closeFake: () => Promise<void>;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    nock.enableNetConnect('127.0.0.1');
    ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-lock-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
    }
    await closeFake();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the second exits (1) with one line naming the first, which goes on; after a SIGKILL of the first, a new one starts', async () => {
    const env = { OUTBOX_PATH: join(dir, 'state', 'outbox.sqlite'), MERGE_GATE_COALESCE_MS: '0' };
    const first = await startAppChild(fake, env);
    children.push(first.child);

    const refused = await startAppChild(fake, env).then(
      (second) => {
        children.push(second.child);
        return 'listening';
      },
      (err: Error) => err.message,
    );
    expect(refused).toMatch(new RegExp(`^the app exited \\(1\\) before listening: merge-gate: \\S+outbox\\.sqlite is in use by pid ${first.child.pid} on \\S+ \\(merge-gate app, since [^)]+\\); refusing to start a second process on the same state \\(lock: \\S+outbox\\.sqlite\\.lock\\)\\n$`));

    const repo = setupRepo(fake);
    const pull = typicalPull(fake, repo);
    expect((await sendWebhook(first.url, 'pull_request', pullPayload('pull_request', 'opened', fake, repo, pull))).status).toBeLessThan(300);
    await waitFor('the first app evaluated it', () => fake.ourRuns(repo, pull.headSha).some((r) => r.conclusion === 'success'));

    first.child.kill('SIGKILL'); // the kernel releases the lock with the process: nothing stale to clear
    await exited(first.child);
    const third = await startAppChild(fake, env);
    children.push(third.child);
    expect((await sendWebhook(third.url, 'pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull))).status).toBeLessThan(300);
  }, 60_000);
});

describe('two deploy triggers on one state', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: TriggerProcess[] = [];
  const services = new Set<number>();
  let blocker: Server | null = null;

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
  });

  afterAll(async () => {
    for (const t of triggers) {
      if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
      await t.exit;
    }
    killGroups(services);
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    setup.remove();
    trunk.remove();
  });

  const state = async (url: string) => (await (await fetch(`${url}/api/state`)).json()) as StateSnapshot;
  const revisionOf = async (url: string, sha: string) => (await state(url)).repositories[0].revisions.find((r) => r.sha === sha);
  /** The process exits, or says it listens: which came first. */
  const outcome = (t: TriggerProcess) => t.url.then(() => 'listening' as const, () => t.exit.then((code) => ({ exited: code })));

  test('the second exits with one line naming the first; the first and its service are untouched', async () => {
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    const first = runTrigger(setup.file);
    triggers.push(first);
    const url = await first.url;
    const healthy = await waitFor('c1 healthy', async () => {
      const r = await revisionOf(url, c1);
      return r?.state === 'healthy' && r.pid && r.port ? r : null;
    });
    services.add(healthy.pid!);

    const second = runTrigger(setup.file);
    triggers.push(second);
    expect(await outcome(second)).toEqual({ exited: 2 });
    expect(second.stderr()).toMatch(new RegExp(`^merge-gate: \\S+deploy\\.sqlite is in use by pid ${first.child.pid} on \\S+ \\(merge-gate deploy-trigger, since [^)]+\\); refusing to start a second process on the same state \\(lock: \\S+\\)\\n$`));

    // Untouched: the same process, healthy, serving, the first still in charge.
    expect(isAlive(healthy.pid!)).toBe(true);
    expect(await serviceRevision(healthy.port!)).toBe(c1);
    expect(await revisionOf(url, c1)).toMatchObject({ state: 'healthy', pid: healthy.pid });
    expect(first.stderr()).not.toMatch(/cut off|stopped|gone/);
  }, 60_000);

  test('a trigger that cannot listen exits (1) with one line and adopts nothing: the service is left for the next start', async () => {
    const [first] = triggers;
    const url = await first.url;
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    const running = (await revisionOf(url, c1))!;
    first.child.kill('SIGKILL'); // the service runs on in its own process group
    await first.exit;

    // The next trigger on the same state finds its port taken.
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    writeFileSync(setup.file, readFileSync(setup.file, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
    const blocked = runTrigger(setup.file);
    triggers.push(blocked);
    const result = await Promise.race([outcome(blocked), new Promise((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000))]);
    expect(result).toEqual({ exited: 1 });
    expect(blocked.stderr()).toMatch(/^merge-gate: the deploy trigger could not start: listen EADDRINUSE[^\n]*\n$/);
    expect(isAlive(running.pid!)).toBe(true);
    expect(await serviceRevision(running.port!)).toBe(c1);

    // Free the port: the next start adopts it, as after any crash.
    await new Promise<void>((resolve) => blocker!.close(() => resolve()));
    blocker = null;
    const next = runTrigger(setup.file);
    triggers.push(next);
    const nextUrl = await next.url;
    expect(next.stderr()).toContain(`adopted ${c1} (pid ${running.pid}`);
    expect(await revisionOf(nextUrl, c1)).toMatchObject({ pid: running.pid });
  }, 60_000);
});
