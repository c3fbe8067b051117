// health.command instead of a URL (run in the revision's checkout with its
// environment; exit 0 is healthy), and the cutoff and stop commands.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, land, makeTrunk, passStartup, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

describe('a health command', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());

  beforeAll(() => {
    trunk = makeTrunk();
    // Healthy when the checkout says so and REVISION is set: both come from the revision.
    setup = writeConfig({
      remote: trunk.dir,
      health: `{ command: 'test -n "$REVISION" && grep -qx healthy behaviour.txt', interval: 100ms, timeout: 10s, failures: 2, startup: 60s }`,
      keep: 1,
      extra: `    cutoff: 'echo "cutoff $REVISION" >> "$CHECKOUT/../commands.txt"'
    stop: 'echo "stop $REVISION" >> "$CHECKOUT/../commands.txt"'`,
    });
    t = testTrigger(setup.config);
  });
  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  it('marks a revision healthy on exit 0 and cuts off one whose command keeps failing; cutoff and stop commands run', async () => {
    const url = await t.trigger.start();
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('c1 healthy', () => t.trigger.store.revision('octo/app', c1)?.state === 'healthy');
    const c2 = land(trunk, 'unhealthy');
    await announce(url, c2);
    await passStartup(t, c2, 'health command: exit 1');
    await waitFor('c2 cut off', () => t.trigger.store.revision('octo/app', c2)?.state === 'bad');
    expect(t.trigger.store.revision('octo/app', c2)!.reason).toBe('cut off: not healthy within 1m of starting (last probe: health command: exit 1)');
    expect(t.trigger.store.revision('octo/app', c1)!.state).toBe('healthy');
    // keep: 1 → a new healthy revision reaps c1, through the stop command.
    const c3 = land(trunk, 'healthy');
    await announce(url, c3);
    await waitFor('c1 reaped and its slot freed', () => t.trigger.store.revision('octo/app', c1)?.state === 'reaped' && t.trigger.store.slot('octo/app', c1) === null);
    const commands = readFileSync(join(setup.config.workdir, 'octo__app', 'commands.txt'), 'utf8').trim().split('\n');
    expect(commands).toEqual([`cutoff ${c2}`, `stop ${c1}`]);
  });
});
