// A revision printing in a loop: its log is rotated at the cap (size and count)
// by the log writer in its own process group, the trigger stays up, and the
// logs of a reaped revision are deleted. Real processes: the CLI, the service.
// The rate limit is off here (log-flood.test.ts: past it, the revision is cut off).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, itReporting, killGroups, land, makeTrunk, runTrigger, serviceRevision, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

const CAP = 64 * 1024;

describe('a revision printing in a loop', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: TriggerProcess | null = null;
  const pids = new Set<number>();
  const it = itReporting(() => deployReport(setup.config, trigger?.stderr() ?? '').slice(0, 20_000));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, keep: 2, extra: '    logs: { max_bytes: 64KB, keep: 1, max_rate: off }' });
  });

  afterAll(() => {
    trigger?.child.kill('SIGKILL');
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  it('keeps running with its log rotated under the cap; the trigger stays up; reaped, its logs are deleted', async () => {
    trigger = runTrigger(setup.file);
    const url = await trigger.url;
    const revision = async (sha: string) => ((await (await fetch(`${url}/api/state`)).json()) as StateSnapshot).repositories[0].revisions.find((r) => r.sha === sha);
    const noisy = land(trunk, 'prints');
    await announce(url, noisy);
    const r = await waitFor('the noisy revision healthy', async () => ((await revision(noisy))?.state === 'healthy' ? await revision(noisy) : null));
    pids.add(r.pid!);
    const log = join(setup.config.workdir, 'octo__app', `${noisy}.log`);
    // The writer renames the log as it rotates: a file can vanish between two looks at it.
    const size = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    // It has printed many times the cap: the log rotated, and never more than the cap per file, two files at most.
    await waitFor('the log rotated', () => size(`${log}.1`) > 0, 30_000);
    for (let i = 0; i < 20; i++) {
      expect([size(log) <= CAP, size(`${log}.1`) <= CAP, existsSync(`${log}.2`)]).toEqual([true, true, false]);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(await serviceRevision(r.port!)).toBe(noisy);
    expect((await revision(noisy))?.state).toBe('healthy');
    expect(trigger.child.exitCode).toBeNull();

    // Two newer healthy revisions: the noisy one is reaped, and its logs go with it.
    const c3 = land(trunk, 'healthy');
    await announce(url, c3);
    const c4 = land(trunk, 'healthy');
    await announce(url, c4);
    await waitFor('the noisy revision reaped', async () => (await revision(noisy))?.state === 'reaped');
    await waitFor('its logs deleted', () => !existsSync(log) && !existsSync(`${log}.1`));
    for (const sha of [c3, c4]) {
      const pid = (await revision(sha))?.pid;
      if (pid) pids.add(pid);
    }
  }, 60_000);
});
