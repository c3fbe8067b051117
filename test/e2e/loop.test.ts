// The closed loop end to end: the app in its own process (test/helpers/app-process.ts,
// configured as `npm start` is) and the real deploy trigger (src/deploy, deploying
// examples/service from a real git trunk in a temp folder, health-probing real
// service processes), both talking to a FakeGitHub served over HTTP on 127.0.0.1.
// The test plays GitHub's webhook delivery: it sends the app `pull_request`,
// `pull_request_review` and — whenever the trigger posts a deployment status to
// the fake — `deployment_status`.
//
// One SHA for both worlds: the fake's merge call makes its commit through
// `fake.commitSha`, which this test points at the git trunk — it commits the
// merged files there and answers the real git SHA. So the merge commit the app
// announces in trunk-updated is the head the trigger's `git ls-remote` sees.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { DeployTrigger } from '../../src/deploy/trigger.js';
import { FakeGitHub, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { deploymentStatusPayload, pullPayload } from '../helpers/github-app.js';
import { sendWebhook, startAppChild } from '../helpers/app-child.js';
import { approve, FULL_POLICY, setupRepo, TRUNK, typicalPull } from '../helpers/github-scenario.js';
import { makeTrunk, SECRET, waitFor, writeConfig } from '../helpers/deploy.js';
import type { TempRepo } from '../helpers/git-repo.js';


let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let trunk: TempRepo;
let setup: ReturnType<typeof writeConfig>;
let trigger: DeployTrigger;
let app: ChildProcess | undefined;
let appUrl = '';
let stateDir: string;
/** Webhook deliveries that did not succeed (asserted empty at the end). */
const deliveryProblems: string[] = [];
/** Step → milliseconds since the epoch, in the order the loop should take them. */
const timeline = new Map<string, number>();
const mark = (step: string) => {
  if (!timeline.has(step)) timeline.set(step, Date.now());
};

async function send(name: string, payload: object): Promise<void> {
  const res = await sendWebhook(appUrl, name, payload);
  if (res.status >= 300) deliveryProblems.push(`${name}: HTTP ${res.status}`);
}

beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  stateDir = mkdtempSync(join(tmpdir(), 'merge-gate-e2e-'));
  trunk = makeTrunk();
});

afterAll(async () => {
  appUrl = ''; // the trigger's last statuses (inactive, on stop) go to no one
  if (app && app.exitCode === null && app.signalCode === null) {
    const exited = new Promise((resolve) => app!.once('exit', resolve));
    app.kill('SIGKILL');
    await exited;
  }
  await trigger?.stop();
  await closeFake();
  setup?.remove();
  trunk.remove();
  rmSync(stateDir, { recursive: true, force: true });
});

async function startApp(triggerUrl: string): Promise<void> {
  const started = await startAppChild(fake, {
    MERGE_GATE_COALESCE_MS: '50',
    MERGE_GATE_COALESCE_MAX_MS: '200',
    TRUNK_WEBHOOK_URL: `${triggerUrl}/hooks/trunk-updated`,
    TRUNK_WEBHOOK_SECRET: SECRET,
    OUTBOX_PATH: join(stateDir, 'outbox.sqlite'),
    OUTBOX_RETRY_BASE_MS: '200',
  });
  app = started.child;
  appUrl = started.url;
}

const mergedNumbers = () => fake.merges.filter((m) => m.merged).map((m) => m.number);
const latestRun = (repo: FakeRepo, pull: FakePull) => fake.ourRuns(repo, pull.headSha).at(-1);
const stateOf = (repo: FakeRepo, sha: string) => repo.deployments.filter((d) => d.sha === sha).at(-1)?.statuses.at(-1)?.state;

describe('the closed loop, end to end', () => {
  test('a landed bad revision is cut off, the next pull request is held, the labelled revert lands, turns healthy, and the held pull request lands by itself', async () => {
    const repo = setupRepo(fake, `${FULL_POLICY}${TRUNK}`);
    // The fake's main is the trunk's first commit (the sample service, healthy), with the policy beside it.
    const first = trunk.commit('the policy', Object.fromEntries(repo.trees.get(repo.branches.get('main')!)!));
    repo.trees.set(first, new Map([...repo.trees.get(repo.branches.get('main')!)!, ['behaviour.txt', 'healthy\n']]));
    repo.branches.set('main', first);
    const landedBy = new Map<string, number>();
    fake.commitSha = (_repo, pull, files) => {
      const sha = trunk.commit(`${pull.title} (#${pull.number})`, Object.fromEntries(files));
      landedBy.set(sha, pull.number);
      return sha;
    };
    fake.onDeploymentStatus = (r, deployment) => {
      const number = landedBy.get(deployment.sha);
      const state = deployment.statuses.at(-1)!.state;
      if (number !== undefined) mark(`#${number} ${state}`);
      // Before the app runs (the first revision's deployment) there is no one to deliver to: it reads GitHub when it needs to.
      if (!appUrl) return;
      void send('deployment_status', deploymentStatusPayload(fake, r, deployment)).catch((err) => deliveryProblems.push(String(err)));
    };

    setup = writeConfig({
      remote: trunk.dir,
      health: '{ url: "http://127.0.0.1:${PORT}/healthz", interval: 100ms, timeout: 1s, failures: 3, startup: 1500ms }',
      keep: 2,
      reconcile: '1s',
      extra: `    github: { token_env: DEPLOY_GITHUB_TOKEN, environment: production, api_url: ${JSON.stringify(fake.baseUrl)} }`,
    });
    fake.deployTriggerTokens.add('ghs_deploy');
    trigger = new DeployTrigger({ config: setup.config, env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET, DEPLOY_GITHUB_TOKEN: 'ghs_deploy' }, log: () => {}, stopGraceMs: 1000, stopServicesOnExit: true });
    const triggerUrl = await trigger.start();
    await waitFor('the first revision healthy', () => stateOf(repo, first) === 'SUCCESS');
    await startApp(triggerUrl);

    // 1. A bad change lands: its revision's service answers 500 on /healthz.
    const bad = typicalPull(fake, repo, 1);
    bad.title = 'Make widgets faster';
    repo.trees.get(bad.headSha)!.set('behaviour.txt', 'unhealthy\n');
    await send('pull_request', pullPayload('pull_request', 'opened', fake, repo, bad));
    await waitFor('the bad change landed', () => mergedNumbers().includes(1), 30_000);
    mark('landing');
    const badSha = bad.mergeCommit!;
    expect(trunk.git('rev-parse', 'main').trim()).toBe(badSha);

    // 2. The trigger deploys it and cuts it off; the app proposes a revert.
    await waitFor('the bad revision deployed', () => stateOf(repo, badSha) !== undefined, 30_000);
    mark('deploy start');
    await waitFor('the bad revision cut off', () => stateOf(repo, badSha) === 'FAILURE', 30_000);
    mark('cut-off');
    expect(repo.deployments.find((d) => d.sha === badSha)!.statuses.at(-1)!.description).toMatch(/^cut off: /);

    // 3. The next green pull request is held, its check linking the revert.
    const next = typicalPull(fake, repo, 2);
    await send('pull_request', pullPayload('pull_request', 'opened', fake, repo, next));
    // Whichever comes first: the hold of the next pull request, or the revert proposed.
    const held = waitFor('the next pull request held', () => latestRun(repo, next)?.text?.includes('landings resume when a healthy revision is deployed to production'), 30_000).then(() => mark('hold'));
    const revert = await waitFor('the revert opened', () => [...repo.pulls.values()].find((p) => p.byApp), 30_000);
    mark('revert opened');
    await held;
    await waitFor('the held check linking the revert', () => latestRun(repo, next)?.text?.includes(`revert proposed: #${revert.number}`), 30_000);
    expect(latestRun(repo, next)!.status).toBe('in_progress');
    expect(revert).toMatchObject({ title: 'Revert "Make widgets faster"', labels: ['fix-forward'], state: 'OPEN' });
    expect(mergedNumbers()).toEqual([1]);

    // 4. The revert (labelled fix-forward) passes CI and two reviews, and lands through the gate.
    // The fake's revert pull request has no files of its own: give it the reverted content.
    repo.trees.set(revert.headSha, new Map([['behaviour.txt', 'healthy\n']]));
    repo.statuses.push({ sha: revert.headSha, context: 'ci/test', state: 'SUCCESS', createdAt: new Date().toISOString() });
    approve(revert, 'bob');
    approve(revert, 'carol');
    await send('pull_request_review', pullPayload('pull_request_review', 'submitted', fake, repo, revert));
    await waitFor('the revert landed', () => mergedNumbers().includes(revert.number), 30_000);
    mark('fix landed');
    expect(mergedNumbers()).toEqual([1, revert.number]); // the held one is still held

    // 5. The fixed revision turns healthy; its deployment_status alone releases the hold.
    const fixSha = revert.mergeCommit!;
    await waitFor('the fixed revision healthy', () => stateOf(repo, fixSha) === 'SUCCESS', 30_000);
    mark('healthy');
    await waitFor('the held pull request landed by itself', () => mergedNumbers().includes(2), 30_000);
    mark('release of the hold');
    expect(mergedNumbers()).toEqual([1, revert.number, 2]);
    expect([...repo.pulls.values()].filter((p) => p.byApp)).toHaveLength(1);
    expect(trunk.git('rev-parse', 'main').trim()).toBe(next.mergeCommit);
    expect(deliveryProblems).toEqual([]);
    expect(fake.problems).toEqual([]);

    // The timeline, with the seconds between steps (for the issue's closing note).
    const steps = ['landing', 'deploy start', 'cut-off', 'hold', 'revert opened', 'fix landed', 'healthy', 'release of the hold'].sort((a, b) => timeline.get(a)! - timeline.get(b)!);
    const start = timeline.get('landing')!;
    let previous = start;
    const rows = steps.map((step) => {
      const at = timeline.get(step)!;
      const row = { step, at: new Date(at).toISOString(), sinceLanding: (at - start) / 1000, sincePrevious: (at - previous) / 1000 };
      previous = at;
      return row;
    });
    const file = join(tmpdir(), 'merge-gate-e2e-loop-timeline.json');
    writeFileSync(file, JSON.stringify({ rows, statuses: Object.fromEntries(timeline) }, null, 2));
    console.log(`the loop's timeline (also in ${file}):\n${rows.map((r) => `${r.step.padEnd(22)} +${r.sincePrevious.toFixed(2)}s  (${r.sinceLanding.toFixed(2)}s since landing)`).join('\n')}`);
  }, 120_000);
});
