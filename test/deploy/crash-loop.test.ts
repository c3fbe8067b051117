// A revision that keeps taking the trigger down while it starts is marked bad,
// not deployed or adopted again. Real processes: the CLI killed with SIGKILL
// (a crash) three times while the revision is starting.
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, isAlive, itReporting, killGroups, land, makeTrunk, runTrigger, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

describe('a revision starting each time the trigger died', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: TriggerProcess[] = [];
  const pids = new Set<number>();
  const it = itReporting(() => deployReport(setup.config, triggers.map((t, i) => `[trigger ${i + 1}]\n${t.stderr()}`).join('\n')));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
  });

  afterAll(() => {
    for (const t of triggers) t.child.kill('SIGKILL');
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  it('is marked bad the third time, its process killed, and not deployed again', async () => {
    const held = land(trunk, 'held');
    const revision = async (url: string) => ((await (await fetch(`${url}/api/state`)).json()) as StateSnapshot).repositories[0].revisions.find((r) => r.sha === held);
    let pid = 0;
    for (let run = 1; run <= 3; run++) {
      const t = runTrigger(setup.file);
      triggers.push(t);
      const url = await t.url;
      if (run === 1) await announce(url, held);
      const r = await waitFor(`run ${run}: the held revision starting with a process`, async () => {
        const got = await revision(url);
        return got?.state === 'starting' && got.pid ? got : null;
      });
      pid = r.pid!;
      pids.add(pid);
      t.child.kill('SIGKILL');
      await t.exit;
    }
    const last = runTrigger(setup.file, { args: ['--stop-services-on-exit'] });
    triggers.push(last);
    const url = await last.url;
    const r = await revision(url);
    expect([r?.state, r?.reason]).toEqual(['bad', 'cut off: the deploy trigger died 3 times while it was starting']);
    await waitFor('its process killed', () => !isAlive(pid));
    expect(last.stderr()).not.toContain(`deploying ${held}`);
    last.child.kill('SIGTERM');
    expect(await last.exit).toBe(0);
  }, 60_000);
});
