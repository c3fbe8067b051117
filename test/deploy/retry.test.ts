// `deploy-trigger retry` of a cut-off revision starts a new instance of it:
// the old instance's cut-off, still under way, must leave the new one alone,
// and the new run starts without the old run's error reports.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, land, makeTrunk, serviceRevision, signalToken, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';
import { processStartTime } from '../../src/deploy/processes.js';

describe('retry of a cut-off revision', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  let url: string;
  const it = itReporting(() => t.report());
  const started: number[] = [];

  // The cutoff command waits for this file: a cut-off stays under way until the test says so.
  const release = () => join(setup.config.workdir, 'octo__app', 'release-cutoff');
  const state = (sha: string) => t.trigger.store.revision('octo/app', sha)?.state;
  const slot = (sha: string) => t.trigger.store.slot('octo/app', sha);
  const alive = (pid: number) => processStartTime(pid) !== null;
  const starts = (sha: string) => t.trigger.store.history('octo/app').filter((h) => h.sha === sha && h.state === 'starting').length;
  /** Post the revision's own error reports, with its token: more than signals.max (5) cut it off. */
  const report = async (sha: string, n: number) => {
    const token = signalToken(slot(sha)!.pid!);
    for (let i = 0; i < n; i++) await fetch(`${url}/signals/${sha}?token=${token}`, { method: 'POST', body: `error ${i}` });
  };
  const deployHealthy = async () => {
    const sha = land(trunk, 'healthy');
    await announce(url, sha);
    await waitFor(`${sha.slice(0, 12)} healthy`, () => state(sha) === 'healthy');
    return sha;
  };

  beforeAll(async () => {
    trunk = makeTrunk();
    setup = writeConfig({
      remote: trunk.dir,
      keep: 5,
      extra: `    cutoff: 'while [ ! -e "$CHECKOUT/../release-cutoff" ]; do sleep 0.05; done'`,
    });
    t = testTrigger(setup.config, { retryPollMs: 100 });
    url = await t.trigger.start();
  });

  afterAll(async () => {
    await t.trigger.stop();
    // A process the trigger lost track of would outlive it: end it here (the test has already failed).
    for (const pid of started) if (alive(pid)) process.kill(-pid, 'SIGKILL');
    setup.remove();
    trunk.remove();
  });

  it('a retry while the cut-off is still under way: the cut-off stops only the old instance; the new one keeps its slot, directory and process', async () => {
    const sha = await deployHealthy();
    const old = slot(sha)!;
    await report(sha, 6);
    await waitFor('the revision cut off', () => state(sha) === 'bad');
    // The cutoff command is still waiting: retry now.
    t.trigger.store.requestRetry(sha, Date.now());
    const fresh = await waitFor('a new instance started', () => (slot(sha)?.pid !== old.pid ? slot(sha) : null));
    started.push(old.pid!, fresh.pid!);
    writeFileSync(release(), '');
    // The old cut-off ends: its process stopped, its directory removed.
    await waitFor('the old instance stopped and its directory removed', () => !alive(old.pid!) && !existsSync(old.dir));
    await waitFor('the new instance healthy', () => state(sha) === 'healthy');
    expect(slot(sha)).toEqual(fresh);
    expect(alive(fresh.pid!)).toBe(true);
    expect(existsSync(fresh.dir)).toBe(true);
    expect(await serviceRevision(fresh.port)).toBe(sha);
    // Still supervised: the snapshot shows it, and the trigger's own stop ends it (nothing orphaned).
    expect(t.trigger.snapshot().repositories[0].revisions.find((r) => r.sha === sha)?.pid).toBe(fresh.pid);
    rmSync(release());
  });

  it('a retry within signals.window: the previous run\'s reports do not count against the new run', async () => {
    writeFileSync(release(), '');
    const sha = await deployHealthy();
    await report(sha, 6);
    await waitFor('the revision cut off, and its instance gone', () => state(sha) === 'bad' && slot(sha) === null);
    t.trigger.store.requestRetry(sha, Date.now());
    await waitFor('the retried run past starting', () => starts(sha) === 2 && state(sha) !== 'starting' && state(sha) !== 'stopped');
    expect(t.trigger.store.revision('octo/app', sha)).toMatchObject({ state: 'healthy', reason: 'health probe passed' });
    // The breaker still counts the new run's own reports.
    await report(sha, 6);
    await waitFor('the new run cut off by its own reports', () => state(sha) === 'bad');
    expect(t.trigger.store.revision('octo/app', sha)!.reason).toBe('cut off: 6 error reports from the service within 1m (more than 5)');
  });
});
