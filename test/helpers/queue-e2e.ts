// The merge queue end to end (test/queue/e2e-*.test.ts): the app in its own
// process (app-process.ts, configured as `npm start` is, real timers, a state
// file on disk), the fake GitHub over HTTP on 127.0.0.1, a real receiver of
// trunk-updated, and the test playing GitHub's webhook delivery and a CI:
//   - every branch change the fake makes (staging branches, the base
//     fast-forwarded, a push by hand) is delivered as a `push`, and every pull
//     request merged as `pull_request.closed`, as GitHub does;
//   - the CI runs on a staging head once the app says the batch is under test
//     (its pull requests' checks read `testing in batch N`): it reports
//     `ci/test` pending, then the result `ci` chooses for the run, as commit
//     statuses, each with its `status` webhook.
// Starting the app costs a second or more (it loads Probot), so a test file shares one
// app process (`queueWorld`) and each scenario gets a repository of its own
// (`Scene`); `scenario` runs one test and, when it fails, prints the app's log
// (every process the file started) under the error.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import nock from 'nock';
import { FakeGitHub, type FakePull, type FakeRepo } from './github-fake.js';
import { pullPayload } from './github-app.js';
import { APP_WEBHOOK_SECRET, sendWebhook, startAppChild, type AppChild } from './app-child.js';
import { startProbotProcess } from './probot-process.js';
import { pushWebhook, statusWebhook } from './github-fake-webhooks.js';
import { approve, fileAdding, FULL_POLICY, OWNER, REGISTRY } from './github-scenario.js';
import { Receiver, TRUNK_SECRET } from './landing.js';
import { waitFor } from './deploy.js';

/** FULL_POLICY with `land.queue` (`queue`: its YAML lines) and `method`. */
export function queuePolicy(queue: string, method = 'merge', more = ''): string {
  return `${FULL_POLICY}${more}land:\n  method: ${method}\n  queue:\n${queue.replace(/^/gm, '    ')}\n`;
}

/** One run of the test's CI on a staging head. */
export interface CiRun {
  batch: number;
  sha: string;
  /** The batch's pull requests: those merged into its staging branch. */
  pulls: number[];
  /** Every open pull request whose head the staging head contains (a speculative batch's include those of the batches ahead). */
  contains: number[];
  /** What the CI reported (null: it keeps running, nothing reported). */
  state: 'SUCCESS' | 'FAILURE' | null;
  url: string;
}

const STAGING = /^merge-gate\/queue\/main\/(\d+)$/;

/** The fake GitHub, the receiver, the app process (started, killed, started again on the same state file) and the CI. */
export class QueueWorld {
  /** Every app process started, in order; `app` the live one. */
  readonly apps: AppChild[] = [];
  app: AppChild | null = null;
  /** Where the live app serves GET /metrics (started by startProbot; null otherwise). */
  metricsUrl: string | null = null;
  readonly scenes: Scene[] = [];
  /** Webhooks the app refused (HTTP ≥ 300, or the connection failed) while it was up. */
  readonly refused: string[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'merge-gate-queue-e2e-'));
  private byHand = false;
  /** Clean-ups of processes started through a helper that owns more than the process (startProbot). */
  private readonly stops: Array<() => Promise<void>> = [];
  private robot: NodeJS.Timeout | null = null;

  private constructor(readonly fake: FakeGitHub, private readonly closeFake: () => Promise<void>, readonly receiver: Receiver) {
    fake.git.onRefChange = (repo, branch, move) => {
      const hook = pushWebhook(fake, repo, branch, move, this.byHand ? 'octocat' : `${fake.appSlug}[bot]`);
      void this.send(hook.name, hook.payload);
    };
    this.robot = setInterval(() => {
      for (const scene of this.scenes) {
        scene.runCi();
        scene.tellMerged();
      }
    }, 50);
  }

  static async create(): Promise<QueueWorld> {
    nock.enableNetConnect('127.0.0.1');
    const { fake, close } = await FakeGitHub.listening({ prefix: '/api/v3' });
    const receiver = await new Receiver().start();
    return new QueueWorld(fake, close, receiver);
  }

  /** Starts the app (again: on the same state file). */
  async start(env: Record<string, string> = {}): Promise<AppChild> {
    const app = await startAppChild(this.fake, this.env(env));
    this.apps.push(app);
    this.app = app;
    return app;
  }

  /**
   * Starts the app exactly as `npm start` does (`probot run`, test/helpers/probot-process.ts: Probot's own server,
   * which also serves GET /metrics at `metricsUrl`, and the pages), on the same state file; on `port` when given
   * (for settings that name the app's own address, MERGE_GATE_URL).
   */
  async startProbot(env: Record<string, string> = {}, port?: number): Promise<AppChild> {
    const probot = await startProbotProcess(this.fake, { ...this.env(env), WEBHOOK_SECRET: APP_WEBHOOK_SECRET }, { source: true, port });
    this.stops.push(() => probot.stop());
    const base = `http://127.0.0.1:${probot.port}`;
    const app = { child: probot.child, url: `${base}/api/github/webhooks`, output: probot.output, log: probot.output };
    this.metricsUrl = `${base}/metrics`;
    this.apps.push(app);
    this.app = app;
    return app;
  }

  private env(env: Record<string, string>): Record<string, string> {
    return {
      LOG_LEVEL: 'info',
      MERGE_GATE_COALESCE_MS: '50',
      MERGE_GATE_COALESCE_MAX_MS: '200',
      MERGE_GATE_WRITE_SPACING_MS: '5',
      MERGE_GATE_SCHEDULE_ON_START: 'true',
      TRUNK_WEBHOOK_URL: this.receiver.url,
      TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
      OUTBOX_PATH: join(this.dir, 'state.sqlite'),
      OUTBOX_RETRY_BASE_MS: '200',
      ...env,
    };
  }

  /** SIGKILL the app and wait for it to be gone. */
  async kill(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (!app || app.child.exitCode !== null || app.child.signalCode !== null) return;
    const exited = new Promise((resolve) => app.child.once('exit', resolve));
    app.child.kill('SIGKILL');
    await exited;
  }

  /** Delivers a webhook to the live app; while none is up it is lost (GitHub gives up too). */
  async send(name: string, payload: object): Promise<void> {
    const app = this.app;
    if (!app) return;
    try {
      const res = await sendWebhook(app.url, name, payload);
      if (res.status >= 300 && this.app === app) this.refused.push(`${name}: HTTP ${res.status}`);
    } catch (err) {
      if (this.app === app && app.child.exitCode === null && app.child.signalCode === null) this.refused.push(`${name}: ${(err as Error).message}`);
    }
  }

  /** `fake.git.pushByHand`, its push webhook sent by someone other than the app. */
  pushByHand(repo: FakeRepo, branch: string, files: Record<string, string | null>): { before: string; after: string } {
    this.byHand = true;
    try {
      return this.fake.git.pushByHand(repo, branch, files);
    } finally {
      this.byHand = false;
    }
  }

  /** A repository of its own with `policy`. */
  scene(name: string, policy: string): Scene {
    const repo = this.fake.addRepo(OWNER, name, { files: { 'flags.yml': REGISTRY, '.github/merge-gate.yml': policy } });
    const scene = new Scene(this, repo);
    this.scenes.push(scene);
    return scene;
  }

  /** What every app process wrote, the last part of it. */
  log(max = 40_000): string {
    const all = this.apps.map((a, i) => `--- app process ${i + 1} (pid ${a.child.pid}) ---\n${a.log()}`).join('\n');
    return all.length > max ? `…${all.slice(-max)}` : all;
  }

  async close(): Promise<void> {
    if (this.robot) clearInterval(this.robot);
    this.robot = null;
    await this.kill();
    for (const stop of this.stops.splice(0)) await stop();
    await this.receiver.close();
    await this.closeFake();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One scenario's repository, its pull requests and its CI. */
export class Scene {
  /** The CI's result for a run (default: success). */
  ci: (run: Omit<CiRun, 'state'>) => CiRun['state'] = () => 'SUCCESS';
  readonly runs: CiRun[] = [];
  readonly full: string;
  private readonly tested = new Set<string>();
  private readonly closed = new Set<number>();

  constructor(readonly world: QueueWorld, readonly repo: FakeRepo) {
    this.full = `${repo.owner}/${repo.name}`;
  }

  get fake(): FakeGitHub {
    return this.world.fake;
  }

  /** A pull request that passes FULL_POLICY (approved, ci/test green on its head), adding files of its own. */
  pull(number: number, files: Record<string, string> = { [`lib/f${number}.ts`]: `export const v${number} = ${number};` }, labels: string[] = []): FakePull {
    const pull = this.fake.addPull(this.repo, { number, labels, files: Object.entries(files).map(([path, text]) => fileAdding(path, [text])) }, files);
    approve(pull);
    this.fake.git.ciStatus(this.repo, pull.headSha, 'ci/test', 'SUCCESS');
    return pull;
  }

  /** GitHub tells the app the pull request was opened. */
  async open(...pulls: FakePull[]): Promise<void> {
    for (const pull of pulls) await this.world.send('pull_request', pullPayload('pull_request', 'opened', this.fake, this.repo, pull));
  }

  /** CI reports `state` for ci/test on `sha` (e.g. a late result for a staging head gone since), and GitHub tells the app. */
  async report(sha: string, state: 'SUCCESS' | 'FAILURE' | 'PENDING', url: string | null = null): Promise<void> {
    const hook = statusWebhook(this.fake, this.repo, this.fake.git.ciStatus(this.repo, sha, 'ci/test', state, url));
    await this.world.send(hook.name, hook.payload);
  }

  /** The pull request's approvals dismissed; `tell`: GitHub's `pull_request_review.dismissed` is delivered (else it is lost). */
  async dismiss(pull: FakePull, tell = true): Promise<void> {
    for (const review of pull.reviews) if (review.state === 'APPROVED') review.state = 'DISMISSED';
    if (tell) await this.world.send('pull_request_review', pullPayload('pull_request_review', 'dismissed', this.fake, this.repo, pull));
  }

  /** Whether main contains the pull request's head. */
  onMain(pull: FakePull): boolean {
    return this.fake.ancestors(this.repo.branches.get('main')!).has(pull.headSha);
  }

  pushByHand(files: Record<string, string | null>, branch = 'main'): { before: string; after: string } {
    return this.world.pushByHand(this.repo, branch, files);
  }

  /** Opens each pull request in turn, each once its check says it is in the queue: they join in this order. */
  async queue(...pulls: FakePull[]): Promise<void> {
    for (const pull of pulls) {
      await this.open(pull);
      await this.waitFor(`#${pull.number} in the queue`, () => /^(queued|building|testing|landing|Landed)/.test(this.title(pull)));
    }
  }

  /** What the check says below its title (summary and text). */
  said(pull: FakePull): string {
    const run = this.check(pull);
    return `${run?.summary ?? ''}\n${run?.text ?? ''}`;
  }

  /** The latest `merge-gate` check run on the pull request's head. */
  check(pull: FakePull) {
    return this.fake.ourRuns(this.repo, pull.headSha).at(-1);
  }

  title(pull: FakePull): string {
    return this.check(pull)?.title ?? '';
  }

  staging(): string[] {
    return [...this.repo.branches.keys()].filter((b) => b.startsWith('merge-gate/queue/')).sort();
  }

  /** Moves of main over the refs API (fast-forwards), in order. */
  mainMoves() {
    return this.fake.git.refUpdates.filter((u) => u.repo === this.full && u.branch === 'main');
  }

  /** Merge calls (squash, rebase, merge) on this repository. */
  merges() {
    return this.fake.merges.filter((m) => m.repo === this.full);
  }

  /** The trunk-updated events received about this repository: [before, after, numbers]. */
  announced(): Array<[string, string, number[]]> {
    return this.world.receiver.received
      .filter((r) => r.json.repository === this.full)
      .map((r) => [r.json.before, r.json.after, r.json.pull_requests.map((p: { number: number }) => p.number)]);
  }

  waitFor<T>(what: string, probe: () => T, timeoutMs = 20_000): Promise<NonNullable<T>> {
    return waitFor(what, probe, timeoutMs);
  }

  /** GitHub's `pull_request.closed` (merged) for each pull request merged since the last look. */
  tellMerged(): void {
    for (const pull of this.repo.pulls.values()) {
      if (pull.state !== 'MERGED' || this.closed.has(pull.number)) continue;
      this.closed.add(pull.number);
      const payload = pullPayload('pull_request', 'closed', this.fake, this.repo, pull);
      payload.pull_request.merged = true;
      payload.pull_request.merge_commit_sha = pull.mergeCommit ?? null;
      void this.world.send('pull_request', payload);
    }
  }

  /** The CI: a run on each staging head whose batch the app reports under test; `ci/test` pending at once, then its result. */
  runCi(): void {
    for (const [branch, sha] of this.repo.branches) {
      const m = STAGING.exec(branch);
      if (!m || this.tested.has(sha)) continue;
      const batch = Number(m[1]);
      const underTest = [...this.repo.pulls.values()].some((p) => p.state === 'OPEN' && new RegExp(`^testing in batch ${batch}\\b`).test(this.title(p)));
      if (!underTest) continue;
      this.tested.add(sha);
      const reachable = this.fake.ancestors(sha);
      const open = [...this.repo.pulls.values()].filter((p) => p.state === 'OPEN' && reachable.has(p.headSha));
      const merged = new Set(this.fake.git.stagingMerges.filter((x) => x.repo === this.full && x.base === branch && x.status === 201).map((x) => x.head));
      const numbers = (pulls: FakePull[]) => pulls.map((p) => p.number).sort((a, b) => a - b);
      const url = `https://ci.example.com/${this.repo.name}/runs/${this.runs.length + 1}`;
      const about = { batch, sha, pulls: numbers(open.filter((p) => merged.has(p.headSha))), contains: numbers(open), url };
      const run: CiRun = { ...about, state: this.ci(about) };
      this.runs.push(run);
      void this.report(sha, 'PENDING', url).then(() => (run.state === null ? undefined : this.report(sha, run.state, url)));
    }
  }
}

/** Runs `body` on the scene; a failure's message gets its CI runs and staging branches, and the app's log; new fake problems or refused webhooks fail it. */
async function explained(s: Scene, body: (s: Scene) => Promise<void>): Promise<void> {
  const w = s.world;
  const problems = w.fake.problems.length;
  const refused = w.refused.length;
  try {
    await body(s);
    if (w.fake.problems.length > problems) throw new Error(`the fake GitHub had problems:\n${w.fake.problems.slice(problems).join('\n')}`);
    if (w.refused.length > refused) throw new Error(`the app refused webhooks:\n${w.refused.slice(refused).join('\n')}`);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message += `\n\nrepository ${s.full}; CI runs: ${JSON.stringify(s.runs, null, 1)}\nstaging branches: ${s.staging().join(', ')}\n\nthe app's log:\n${w.log()}`;
    throw e;
  }
}

/**
 * The file's world: created (and the app started) before its tests, closed after them. `scenario` runs one test in
 * a repository of its own; on failure the error carries the scene's CI runs and staging branches and the app's log.
 */
export function queueWorld(options: { probot?: boolean } = {}) {
  let world: QueueWorld | null = null;
  beforeAll(async () => {
    world = await QueueWorld.create();
    await (options.probot ? world.startProbot() : world.start());
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });
  let seq = 0;
  return {
    scenario(name: string, policy: string, body: (s: Scene) => Promise<void>, timeoutMs = 45_000): void {
      const repoName = `app${++seq}`;
      test(name, () => explained(world!.scene(repoName, policy), body), timeoutMs);
    },
  };
}
