// Property: whatever changes between a verdict and its merge call — the base
// retargeted (to another gated branch, or to one the policy does not gate), the
// `land` label removed (mode: label), a freeze starting, the trunk's deployment
// turning bad — nothing merges that the policy would not pass at the instant
// of the merge call, each merge's `before` is its branch's tip at that instant
// (one landing at a time per branch), and every merge is announced once. Once
// everything is put right, every pull request lands. Probot with landing wired
// in, the fake GitHub behind nock, fake time; fast-check draws the changes.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import fc from 'fast-check';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { deploymentStatusPayload, pullPayload } from '../helpers/github-app.js';
import { deploy, fileAdding, setupRepo, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp, type LandingApp } from '../helpers/landing.js';
import { prng } from '../helpers/prng.js';

const START = Date.parse('2026-11-22T10:00:00Z');
/** One-minute freezes, every 20 minutes from 10:10 UTC. */
const FREEZES = Array.from({ length: 12 }, (_, i) => START + (10 + 20 * i) * 60_000);
const hhmm = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

const POLICY = `version: 1
preset: none
branches: ["main", "dev"]
reviews:
  required: 1
  fresh: true
checks:
  required: ["ci/test"]
freeze:
  timezone: UTC
  windows:
${FREEZES.map((at, i) => `    - name: freeze ${i}\n      from: "${hhmm(at)}"\n      to: "${hhmm(at + 60_000)}"\n`).join('')}trunk:
  environment: production
  hold_on: [failure, error]
land:
  mode: label
  label: land
  method: squash
`;

const GATED = ['main', 'dev'];
type Change = 'none' | 'retarget' | 'unlabel' | 'freeze' | 'trunk';

let fake: FakeGitHub;
beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});
afterEach(() => fake.uninstall());

async function run(changes: Change[], seed: number): Promise<void> {
  const random = prng(seed);
  const repo: FakeRepo = setupRepo(fake, POLICY);
  const tip = repo.branches.get('main')!;
  for (const b of ['dev', 'ungated']) repo.branches.set(b, tip);
  const deployment = deploy(fake, repo, tip, 'SUCCESS');
  const pulls: FakePull[] = [];
  for (let n = 2; n < 10; n++) {
    const pull = typicalPull(fake, repo, n, [fileAdding(`src/change${n}.ts`, [`export const v = ${n};`])]);
    pull.baseRef = GATED[n % 2];
    pull.labels = ['land'];
    pulls.push(pull);
  }

  const app: LandingApp = await startLandingApp(fake, {
    config: { coalesceMs: 10, retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 } },
    outbox: { urls: ['http://deploy.invalid/hook'] },
    landing: { fetch: async () => new Response(null, { status: 204 }) },
  });
  const now = () => app.clock.now().getTime();
  const frozen = (at: number) => FREEZES.some((from) => at >= from && at < from + 60_000);
  const trunkBad = () => ['FAILURE', 'ERROR'].includes(deployment.statuses.at(-1)!.state);

  // What the policy says at the merge call's instant, and the branch's tip then.
  const violations: string[] = [];
  const before = new Map<number, string>();
  fake.mergeFault = (pull, sha) => {
    if (pull.state !== 'OPEN' || sha !== pull.headSha) return 'none'; // refused by GitHub: nothing merges
    const why = [
      !GATED.includes(pull.baseRef) && `base ${pull.baseRef} is not gated`,
      !pull.labels.includes('land') && 'no land label',
      frozen(now()) && `frozen at ${new Date(now()).toISOString()}`,
      trunkBad() && 'the trunk is unhealthy',
    ].filter(Boolean);
    if (why.length > 0) violations.push(`#${pull.number} merged: ${why.join(', ')}`);
    before.set(pull.number, repo.branches.get(pull.baseRef)!);
    return 'none';
  };

  // Each passing check written (after a verdict, before its merge call): the next change of the plan.
  let next = 0;
  const applied: string[] = [];
  fake.onRequest = (r) => {
    const body = r.body as { head_sha?: string; conclusion?: string } | undefined;
    if (r.kind !== 'rest' || body?.conclusion !== 'success' || !/\/check-runs(\/\d+)?$/.test(r.path)) return;
    const id = /\/check-runs\/(\d+)$/.exec(r.path)?.[1];
    const head = body.head_sha ?? repo.checkRuns.find((c) => c.id === Number(id))?.headSha;
    const pull = pulls.find((p) => p.headSha === head && p.state === 'OPEN');
    const change = changes[next++] ?? 'none';
    if (!pull || change === 'none') return;
    applied.push(`${change} #${pull.number}`);
    if (change === 'retarget') {
      const targets = [...GATED, 'ungated'].filter((b) => b !== pull.baseRef);
      pull.baseRef = targets[Math.floor(random() * targets.length)];
    } else if (change === 'unlabel') pull.labels = [];
    else if (change === 'freeze') app.clock.set(new Date(Math.max(now(), FREEZES.find((at) => at > now()) ?? now()) + 1_000));
    else if (deployment.statuses.at(-1)!.state === 'SUCCESS') fake.addDeploymentStatus(deployment, 'FAILURE', { createdAt: new Date(now()).toISOString() });
  };

  /** Put things right (some of them, at random; all of them when `all`), telling the app as GitHub would. */
  const repair = async (all: boolean) => {
    for (const pull of pulls.filter((p) => p.state === 'OPEN')) {
      if (!pull.labels.includes('land') && (all || random() < 0.3)) {
        pull.labels = ['land'];
        await app.receive('pull_request', pullPayload('pull_request', 'labeled', fake, repo, pull));
      }
      if (!GATED.includes(pull.baseRef) && (all || random() < 0.3)) {
        pull.baseRef = GATED[pull.number % 2];
        await app.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, pull));
      }
    }
    if (trunkBad() && (all || random() < 0.3)) {
      fake.addDeploymentStatus(deployment, 'SUCCESS', { createdAt: new Date(now()).toISOString() });
      await app.receive('deployment_status', deploymentStatusPayload(fake, repo, deployment));
    }
  };

  try {
    for (const pull of pulls) await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    for (let round = 0; round < 12; round++) {
      await app.settle(5_000);
      await repair(false);
      await app.advance(20_000);
    }
    next = changes.length; // no more changes
    for (let round = 0; round < 40 && pulls.some((p) => p.state !== 'MERGED'); round++) {
      await repair(true);
      await app.settle(5_000);
      await app.advance(30_000); // past a freeze, whose end re-evaluates what it held
    }
    await app.settle();

    const context = { seed, applied, open: pulls.filter((p) => p.state !== 'MERGED').map((p) => `#${p.number} ${p.baseRef} ${p.labels}`), errors: app.errors.length };
    expect({ ...context, violations }).toEqual({ ...context, violations: [] });
    expect(context.open).toEqual([]);
    // Every merge announced once, with the tip its branch had at the merge call.
    const events = app.landing.store.all().map((d) => ({ id: d.eventId, body: JSON.parse(d.body) as { before: string; after: string; pull_request: { number: number } } }));
    expect(events.map((e) => e.body.pull_request.number).sort((a, b) => a - b)).toEqual(pulls.map((p) => p.number));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) expect([e.body.pull_request.number, e.body.before, e.body.after]).toEqual([e.body.pull_request.number, before.get(e.body.pull_request.number), repo.pulls.get(e.body.pull_request.number)!.mergeCommit]);
    expect(fake.merges.filter((m) => m.merged)).toHaveLength(pulls.length);
    expect(fake.problems).toEqual([]);
  } finally {
    app.stop();
  }
}

test('changes between the verdict and the merge call: nothing merges that the policy would not pass at that instant; every merge announced once', async () => {
  const change = fc.constantFrom<Change>('none', 'retarget', 'unlabel', 'freeze', 'trunk');
  await fc.assert(
    fc.asyncProperty(fc.array(change, { minLength: 8, maxLength: 16 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (changes, seed) => {
      fake.uninstall();
      fake = new FakeGitHub().install();
      await run(changes, seed);
    }),
    { numRuns: 10 },
  );
}, 120_000);
