// The trigger as a real process (the CLI): SIGKILL mid-deploy, restart, adopt;
// SIGTERM with --stop-services-on-exit stops every service, adopted ones included.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, itReporting, killGroups, land, makeTrunk, runTrigger, type TriggerProcess as Running, waitFor, writeConfig } from '../helpers/deploy.js';
import { processStartTime } from '../../src/deploy/processes.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

const alive = (pid: number) => processStartTime(pid) !== null;

describe('the trigger killed with SIGKILL mid-deploy, then restarted', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: Running[] = [];
  const pids = new Set<number>();
  // Each trigger's stderr is its log; the state is read from the state file.
  const it = itReporting(() => deployReport(setup.config, triggers.map((t, i) => `[trigger ${i + 1}]\n${t.stderr()}`).join('\n')));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, reconcile: '60s' });
  });

  afterAll(async () => {
    for (const t of triggers) t.child.kill('SIGKILL');
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  const state = async (url: string) => (await (await fetch(`${url}/api/state`)).json()) as StateSnapshot;
  const revision = async (url: string, sha: string) => (await state(url)).repositories[0].revisions.find((r) => r.sha === sha);

  it('adopts what it left running, starts nothing twice, keeps bad revisions bad, deploys what landed meanwhile, and leaves no process after SIGTERM', async () => {
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    const first = runTrigger(setup.file);
    triggers.push(first);
    const url1 = await first.url;
    await waitFor('c1 healthy', async () => (await revision(url1, c1))?.state === 'healthy');

    // A revision cut off by its own error reports: bad, before the crash.
    const bad = land(trunk, 'errors');
    await announce(url1, bad);
    await waitFor('the noisy revision cut off', async () => (await revision(url1, bad))?.state === 'bad');

    // c2 is held starting (it listens only once released): kill the trigger while it is starting.
    const c2 = land(trunk, 'held');
    await announce(url1, c2);
    const starting = await waitFor('c2 starting with a process', async () => {
      const r = await revision(url1, c2);
      return r?.state === 'starting' && r.pid ? r : null;
    });
    const before = await state(url1);
    const pidOf = (s: StateSnapshot, sha: string) => s.repositories[0].revisions.find((r) => r.sha === sha)?.pid ?? null;
    const c1pid = pidOf(before, c1)!;
    const c2pid = starting.pid!;
    pids.add(c1pid).add(c2pid);
    first.child.kill('SIGKILL');
    await first.exit;
    // The services run on in their own process groups.
    expect([alive(c1pid), alive(c2pid)]).toEqual([true, true]);

    // c3 lands while the trigger is down (its event is lost).
    const c3 = land(trunk, 'healthy');

    const second = runTrigger(setup.file, { args: ['--stop-services-on-exit'] });
    triggers.push(second);
    const url2 = await second.url;
    expect(second.stderr()).toContain(`adopted ${c1} (pid ${c1pid}`);
    expect(second.stderr()).toContain(`adopted ${c2} (pid ${c2pid}`);
    writeFileSync(join(setup.config.workdir, 'octo__app', 'release'), '');
    await waitFor('c2 healthy, adopted', async () => (await revision(url2, c2))?.state === 'healthy');
    await waitFor('c3 deployed and healthy', async () => (await revision(url2, c3))?.state === 'healthy');
    const after = await state(url2);
    // Same processes, not new ones.
    expect(pidOf(after, c2)).toBe(c2pid);
    const c3pid = pidOf(after, c3)!;
    pids.add(c3pid);
    // Each revision started exactly once across both runs.
    const starts = after.repositories[0].history.filter((h) => h.state === 'starting').map((h) => h.sha);
    expect(starts.sort()).toEqual([c1, bad, c2, c3].sort());
    // Bad stays bad.
    expect((await revision(url2, bad))?.state).toBe('bad');
    // keep: 2 → the oldest (c1, adopted) is reaped.
    await waitFor('c1 reaped', async () => (await revision(url2, c1))?.state === 'reaped');
    await waitFor('c1 process gone', () => !alive(c1pid));

    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(second.stderr()).toContain('stopping: every service this trigger runs is stopped');
    for (const pid of [c1pid, c2pid, c3pid]) expect([pid, alive(pid)]).toEqual([pid, false]);
  }, 240_000);
});
