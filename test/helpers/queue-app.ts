// The merge queue's shell in one process, for tests (test/queue): Probot with
// landing and the queue wired in, the fake GitHub over real HTTP on 127.0.0.1
// (its git model: staging merges, refs, fast-forwards, trees), real SQLite,
// fake time starting now (the receiver of trunk-updated checks signatures
// against the real time), and the helpers a queue test needs.
import { FakeGitHub, type FakePull, type FakeRepo } from './github-fake.js';
import { approve, fileAdding, FULL_POLICY } from './github-scenario.js';
import { pullPayload } from './github-app.js';
import { statusWebhook } from './github-fake-webhooks.js';
import { Receiver, startLandingApp, type LandingApp } from './landing.js';
import type { LandingOptions } from '../../src/land/index.js';
import { ManualClock } from './github-timers.js';
import type { Db } from '../../src/state/db.js';
import { stagingRef } from '../../src/queue/types.js';

/** FULL_POLICY with `land.method` and `land.queue` (YAML lines under `queue:`). */
export const queuePolicy = (method: string, queue = 'batch: 3\nspeculative: 1\nwait: 30s') => `${FULL_POLICY}land:\n  method: ${method}\n  queue:\n${queue.replace(/^/gm, '    ')}\n`;

export class QueueScenario {
  readonly apps: LandingApp[] = [];

  private constructor(
    readonly fake: FakeGitHub,
    readonly receiver: Receiver,
    private readonly closeFake: () => Promise<void>,
  ) {}

  static async start(): Promise<QueueScenario> {
    const { fake, close } = await FakeGitHub.listening();
    return new QueueScenario(fake, await new Receiver().start(), close);
  }

  async close(): Promise<void> {
    for (const a of this.apps) a.stop();
    await this.receiver.close();
    await this.closeFake();
  }

  /** An app on `db` (fake time from `clock`, else now); `landing` overrides landing's options. */
  async app(db: Db, clock = new ManualClock(new Date()), landing: Partial<LandingOptions> = {}): Promise<LandingApp> {
    const app = await startLandingApp(this.fake, { outbox: { urls: [this.receiver.url] }, landing: { db, queueRetry: { firstMs: 1_000, maxMs: 4_000 }, ...landing }, start: { clock } });
    this.apps.push(app);
    return app;
  }

  /** A pull request that passes FULL_POLICY (approved, ci/test green on its head), adding files of its own. */
  pull(repo: FakeRepo, number: number, files: Record<string, string> = { [`lib/f${number}.ts`]: `export const v${number} = ${number};` }): FakePull {
    const pull = this.fake.addPull(repo, { number, files: Object.entries(files).map(([path, text]) => fileAdding(path, [text])) }, files);
    approve(pull);
    this.fake.git.ciStatus(repo, pull.headSha, 'ci/test', 'SUCCESS');
    return pull;
  }

  /** `pull_request.opened` about `pull` (its base as the fake has it). */
  opened(repo: FakeRepo, pull: FakePull): Record<string, any> {
    const p = pullPayload('pull_request', 'opened', this.fake, repo, pull);
    p.pull_request.base = { ...p.pull_request.base, ref: pull.baseRef };
    return p;
  }

  /** CI reports `state` for ci/test on `sha`, and GitHub tells the app (not settled). */
  async report(app: LandingApp, repo: FakeRepo, sha: string, state: 'SUCCESS' | 'FAILURE', url: string | null = null): Promise<void> {
    const hook = statusWebhook(this.fake, repo, this.fake.git.ciStatus(repo, sha, 'ci/test', state, url));
    await app.receive(hook.name, hook.payload);
  }

  /** CI reports `state` on the staging head of `batch`; the app settles. Returns that head. */
  async ci(app: LandingApp, repo: FakeRepo, batch: number, state: 'SUCCESS' | 'FAILURE'): Promise<string> {
    const sha = repo.branches.get(stagingRef('main', batch));
    if (!sha) throw new Error(`no staging branch for batch ${batch}: ${[...repo.branches.keys()].join(', ')}`);
    await this.report(app, repo, sha, state);
    await app.settle();
    return sha;
  }

  /** The latest title of our check on the pull request's head. */
  title(repo: FakeRepo, pull: FakePull): string | null | undefined {
    return this.fake.ourRuns(repo, pull.headSha).at(-1)?.title;
  }

  /** The staging branches there are. */
  staging(repo: FakeRepo): string[] {
    return [...repo.branches.keys()].filter((b) => b.startsWith('merge-gate/queue/'));
  }

  /** The pull requests of each trunk-updated received, in order. */
  announced(): number[][] {
    return this.receiver.received.map((r) => r.json.pull_requests.map((p: { number: number }) => p.number));
  }
}
