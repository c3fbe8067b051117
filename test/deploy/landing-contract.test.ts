// The two ends of trunk-updated agree: landing's real body (src/land) sent by
// the outbox's real HTTP transport (src/outbox) is accepted by the trigger,
// which deploys it; a retry of the same delivery is recognised as a duplicate.
import { randomUUID } from 'node:crypto';
import { trunkUpdated } from '../../src/land/decide.js';
import { httpTransport } from '../../src/outbox/http.js';
import type { Delivery } from '../../src/outbox/outbox.js';
import { systemClock, systemTimers } from '../../src/clock.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { itReporting, land, makeTrunk, SECRET, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

describe('landing → deploy trigger', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
    t = testTrigger(setup.config);
  });
  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  it('accepts what the outbox sends, deploys it, and acknowledges a retry as a duplicate', async () => {
    const url = await t.trigger.start();
    const before = trunk.git('rev-parse', 'HEAD').trim();
    const after = land(trunk);
    const body = trunkUpdated({
      id: randomUUID(),
      repository: 'octo/app',
      branch: 'main',
      before,
      after,
      // A merge queue's batch of two: the trigger must read both.
      pull_requests: [
        { number: 6, title: 'a first change', url: 'https://github.com/octo/app/pull/6', author: 'bob', head_sha: before },
        { number: 7, title: 'a change', url: 'https://github.com/octo/app/pull/7', author: 'alice', head_sha: after },
      ],
      landed_at: new Date().toISOString(),
    });
    const delivery: Delivery = { id: 1, eventId: `evt_${randomUUID()}`, target: `${url}/hooks/trunk-updated`, body: JSON.stringify(body), createdAt: Date.now(), attempts: 0, nextAt: 0, state: 'pending', doneAt: null, lastError: null };
    const send = httpTransport({ secret: SECRET, clock: systemClock, timers: systemTimers, timeoutMs: 30_000 });
    expect(await send(delivery)).toBeNull(); // null: acknowledged (2xx)
    expect(await send(delivery)).toBeNull();
    expect(t.trigger.store.recentDeliveries(10).map((d) => [d.id, d.outcome])).toEqual([[delivery.eventId, 'accepted']]);
    await waitFor('the landed revision healthy', () => t.trigger.store.revision('octo/app', after)?.state === 'healthy');
    expect(t.trigger.store.pulls('octo/app', after).map((p) => p.number).sort()).toEqual([6, 7]);
  });
});
