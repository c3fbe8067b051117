// After a restart, an adopted revision's commands (cutoff, stop, health) get
// the SIGNAL_URL its service was started with: the state keeps only the
// token's hash, so the token is re-derived (from the webhook secret), never
// stored. Before, they got an empty SIGNAL_URL. Real processes; the trigger
// runs in this process, twice on the same state.
import { existsSync, readFileSync } from 'node:fs';
import type { TempRepo } from '../helpers/git-repo.js';
import { itReporting, killGroups, makeTrunk, signalToken, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

const PUBLIC_URL = 'http://trigger.test:8787';

describe("an adopted revision's SIGNAL_URL", () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: TestTrigger[] = [];
  const pids = new Set<number>();
  const it = itReporting(() => triggers.map((t, i) => `[trigger ${i + 1}]\n${t.report()}`).join('\n'));

  beforeAll(() => {
    trunk = makeTrunk();
    // A fixed public_url: the trigger's own port changes between the two runs (listen 127.0.0.1:0).
    setup = writeConfig({ remote: trunk.dir, signals: '{ max: 2, window: 60s }', top: `public_url: ${PUBLIC_URL}`, extra: '    cutoff: printf %s "$SIGNAL_URL" > "$CHECKOUT.cutoff-signal-url"' });
  });

  afterAll(async () => {
    for (const t of triggers) await t.trigger.stop().catch(() => {});
    killGroups(pids);
    setup.remove();
    trunk.remove();
  });

  it('is the one its service got, and it works: its cutoff command gets it, and its signals count', async () => {
    const sha = trunk.git('rev-parse', 'HEAD').trim();
    const first = testTrigger(setup.config, { stopServicesOnExit: false });
    triggers.push(first);
    await first.trigger.start();
    await waitFor('healthy', () => first.trigger.store.revision('octo/app', sha)?.state === 'healthy');
    const slot = first.trigger.store.slot('octo/app', sha)!;
    pids.add(slot.pid!);
    const token = signalToken(slot.pid!); // as the service got it
    await first.trigger.stop(); // the service keeps serving

    const second = testTrigger(setup.config);
    triggers.push(second);
    await second.trigger.start();
    expect(second.log.join('\n')).toContain(`adopted ${sha}`);
    // Its own reports, with the token its service has, cut it off: the cutoff command runs with the adopted env.
    for (let i = 0; i < 3; i++) expect((await fetch(`${second.trigger.url}/signals/${sha}?token=${token}`, { method: 'POST', body: 'failing' })).status).toBe(202);
    const file = `${slot.dir}.cutoff-signal-url`;
    await waitFor('the cutoff command ran', () => existsSync(file));
    expect(readFileSync(file, 'utf8')).toBe(`${PUBLIC_URL}/signals/${sha}?token=${token}`);
  });
});
