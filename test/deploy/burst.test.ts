// Coalescing: 50 landings announced at once deploy at most two revisions, and
// the trigger ends on the newest.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, land, makeTrunk, serviceRevision, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

describe('a burst of 50 trunk-updated events', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, keep: 2 });
    t = testTrigger(setup.config);
  });

  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  it('deploys at most 2 revisions and ends on the newest', async () => {
    const { store } = t.trigger;
    const url = await t.trigger.start();
    const c0 = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('c0 healthy', () => store.revision('octo/app', c0)?.state === 'healthy');

    // The first landing is held starting (it listens only once released) while the other 49 land and are announced.
    const landed = [land(trunk, 'held', 'landing 0')];
    const answers = [announce(url, landed[0])];
    await waitFor('the first landing to be starting', () => store.revision('octo/app', landed[0])?.state === 'starting');
    for (let i = 1; i < 50; i++) {
      const sha = land(trunk, 'healthy', `landing ${i}`);
      landed.push(sha);
      answers.push(announce(url, sha));
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(Array(50).fill(202));
    const newest = landed[49];
    await waitFor('every event taken in as the desired revision', () => store.desired('octo/app') === newest);
    expect(store.revision('octo/app', landed[0])?.state).toBe('starting');
    writeFileSync(join(setup.config.workdir, 'octo__app', 'release'), '');
    await waitFor('the newest revision healthy', () => store.revision('octo/app', newest)?.state === 'healthy');
    const deployed = store.revisions('octo/app').map((r) => r.sha).filter((sha) => sha !== c0);
    // The held one, then the newest: everything between coalesced.
    expect(deployed.sort()).toEqual([landed[0], newest].sort());
    expect(store.desired('octo/app')).toBe(newest);
    expect(await serviceRevision(store.slot('octo/app', newest)!.port)).toBe(newest);
    expect(store.recentDeliveries(100).filter((d) => d.outcome === 'accepted')).toHaveLength(50);
  });
});
