// The trigger is a controller, not its services' parent: restarting it (SIGTERM
// from systemd or Kubernetes, then a new start) is no outage. Real processes:
// the CLI, the sample service, a steady request load across the restart.
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, itReporting, killGroups, land, makeTrunk, runTrigger, serviceRevision, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

describe('the trigger restarted with SIGTERM', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: TriggerProcess[] = [];
  const pids = new Set<number>();
  /** The request load runs while this holds; afterAll ends it even when the test failed midway. */
  let load = false;
  const it = itReporting(() => deployReport(setup.config, triggers.map((t, i) => `[trigger ${i + 1}]\n${t.stderr()}`).join('\n')));

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, keep: 2 });
  });

  afterAll(async () => {
    load = false;
    for (const t of triggers) t.child.kill('SIGKILL');
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  const state = async (url: string) => (await (await fetch(`${url}/api/state`)).json()) as StateSnapshot;
  const revision = async (url: string, sha: string) => (await state(url)).repositories[0].revisions.find((r) => r.sha === sha);

  it('leaves both kept revisions serving, adopts them at the next start, and no request fails', async () => {
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    const first = runTrigger(setup.file);
    triggers.push(first);
    const url1 = await first.url;
    const r1 = await waitFor('c1 healthy', async () => ((await revision(url1, c1))?.state === 'healthy' ? await revision(url1, c1) : null));
    const c2 = land(trunk, 'healthy');
    await announce(url1, c2);
    const r2 = await waitFor('c2 healthy', async () => ((await revision(url1, c2))?.state === 'healthy' ? await revision(url1, c2) : null));
    pids.add(r1.pid!).add(r2.pid!);

    // A steady load on both kept revisions, from before the SIGTERM until after the new start adopted them.
    load = true;
    const outcomes = { ok: 0, failed: [] as string[] };
    const loop = (async () => {
      while (load) {
        for (const [sha, port] of [
          [c1, r1.port!],
          [c2, r2.port!],
        ] as const) {
          const got = await serviceRevision(port);
          if (got === sha) outcomes.ok++;
          else outcomes.failed.push(`${new Date().toISOString()} port ${port}: ${got}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor('some requests served', () => outcomes.ok >= 20);

    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const servedWhileDown = outcomes.ok;
    await waitFor('requests served while no trigger runs', () => outcomes.ok >= servedWhileDown + 20, 15_000);
    expect(first.stderr()).toContain('the services keep serving; the next start adopts them');

    const second = runTrigger(setup.file, { args: ['--stop-services-on-exit'] });
    triggers.push(second);
    const url2 = await second.url;
    expect(second.stderr()).toContain(`adopted ${c1} (pid ${r1.pid}`);
    expect(second.stderr()).toContain(`adopted ${c2} (pid ${r2.pid}`);
    const after = await state(url2);
    const shown = (sha: string) => after.repositories[0].revisions.find((r) => r.sha === sha);
    expect([shown(c1)?.state, shown(c1)?.pid, shown(c2)?.state, shown(c2)?.pid]).toEqual(['healthy', r1.pid, 'healthy', r2.pid]);
    const servedAfter = outcomes.ok;
    await waitFor('requests served after the new start', () => outcomes.ok >= servedAfter + 20);
    load = false;
    await loop;
    expect(outcomes.failed).toEqual([]);
    // Nothing was started twice: one start each across both runs.
    expect(after.repositories[0].history.filter((h) => h.state === 'starting').map((h) => h.sha).sort()).toEqual([c1, c2].sort());

    // --stop-services-on-exit: a SIGTERM then stops them (development).
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(second.stderr()).toContain('stopping: every service this trigger runs is stopped');
    expect([await serviceRevision(r1.port!), await serviceRevision(r2.port!)]).toEqual([null, null]);
  }, 60_000);
});
