// A state write that fails in a background path (here: a probe's result, while
// another connection holds the state file's write lock past busy_timeout)
// degrades the trigger instead of ending it. Real processes: the CLI, the
// sample service, a real SQLite lock.
import Database from 'better-sqlite3';
import type { TempRepo } from '../helpers/git-repo.js';
import { deployReport, itReporting, killGroups, makeTrunk, runTrigger, serviceRevision, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

describe('a state write failing in a background path', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: TriggerProcess | null = null;
  let lock: Database.Database | null = null;
  const pids = new Set<number>();
  const it = itReporting(() => deployReport(setup.config, trigger?.stderr() ?? ''));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
  });

  afterAll(() => {
    lock?.close();
    trigger?.child.kill('SIGKILL');
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  it('is caught: the trigger keeps running, degraded, and says so on the page, in /api/state and /metrics', async () => {
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    trigger = runTrigger(setup.file);
    const url = await trigger.url;
    const state = async () => (await (await fetch(`${url}/api/state`)).json()) as StateSnapshot;
    const r1 = await waitFor('c1 healthy', async () => (await state()).repositories[0].revisions.find((r) => r.sha === c1 && r.state === 'healthy'));
    pids.add(r1.pid!);

    // Hold the write lock: the trigger's next health record waits busy_timeout (5 s), then throws SQLITE_BUSY.
    lock = new Database(setup.config.state);
    lock.exec('BEGIN EXCLUSIVE');
    const exited = trigger.exit.then((code) => `the trigger exited (${code})`);
    const outcome = await Promise.race([exited, waitFor('the trigger degraded', () => /degraded: .*database is locked/.test(trigger!.stderr()) && 'degraded', 30_000)]);
    lock.exec('ROLLBACK');
    lock.close();
    lock = null;
    expect(outcome).toBe('degraded');

    const after = await state();
    // Whichever background write came first (a probe's health record, the retry poll, …) is the one named.
    expect(after.degraded).toMatch(/^.+ failed: database is locked/);
    expect(await (await fetch(`${url}/`)).text()).toContain('Degraded: nothing more is deployed');
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^merge_gate_deploy_degraded 1$/m);
    // What runs keeps running.
    expect(await serviceRevision(r1.port!)).toBe(c1);
    expect(trigger.child.exitCode).toBeNull();
  }, 60_000);
});
