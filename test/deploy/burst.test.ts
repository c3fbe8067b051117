// Coalescing: 50 landings announced at once deploy at most two revisions, and
// the trigger ends on the newest.
import { DeployTrigger } from '../../src/deploy/trigger.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, land, makeTrunk, SECRET, serviceRevision, waitFor, writeConfig } from '../helpers/deploy.js';

describe('a burst of 50 trunk-updated events', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: DeployTrigger;

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, keep: 2 });
    trigger = new DeployTrigger({ config: setup.config, env: { TRUNK_WEBHOOK_SECRET: SECRET }, log: () => {}, stopGraceMs: 1000 });
  });

  afterAll(async () => {
    await trigger.stop();
    setup.remove();
    trunk.remove();
  });

  it('deploys at most 2 revisions and ends on the newest', async () => {
    const url = await trigger.start();
    const c0 = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('c0 healthy', () => trigger.store.revision('octo/app', c0)?.state === 'healthy');

    // The first landing starts slowly (2 s before it listens): the other 49 land and are announced while it deploys.
    const landed = [land(trunk, 'slow', 'landing 0')];
    const answers = [announce(url, landed[0])];
    await waitFor('the first landing to be starting', () => trigger.store.revision('octo/app', landed[0])?.state === 'starting');
    for (let i = 1; i < 50; i++) {
      const sha = land(trunk, 'healthy', `landing ${i}`);
      landed.push(sha);
      answers.push(announce(url, sha));
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(Array(50).fill(202));
    const newest = landed[49];
    await waitFor('the newest revision healthy', () => trigger.store.revision('octo/app', newest)?.state === 'healthy', 30_000);
    const deployed = trigger.store.revisions('octo/app').map((r) => r.sha).filter((sha) => sha !== c0);
    // The slow one, then the newest: everything between coalesced.
    expect(deployed.sort()).toEqual([landed[0], newest].sort());
    expect(trigger.store.desired('octo/app')).toBe(newest);
    expect(await serviceRevision(trigger.store.slot('octo/app', newest)!.port)).toBe(newest);
    expect(trigger.store.recentDeliveries(100).filter((d) => d.outcome === 'accepted')).toHaveLength(50);
  });
});
