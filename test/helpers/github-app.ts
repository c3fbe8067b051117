// A Probot instance running merge-gate against a FakeGitHub, and real webhook
// payloads from @octokit/webhooks-examples pointed at the fake's repositories.
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { createProbot, Probot, ProbotOctokit } from 'probot';
import { mergeGateApp, type AppHooks } from '../../src/github/app.js';
import { DEFAULT_CONFIG, type AppConfig } from '../../src/github/config.js';
import type { MergeGate } from '../../src/github/gate.js';
import type { FakeDeployment, FakeGitHub, FakePull, FakeRepo } from './github-fake.js';
import { ManualClock } from './github-timers.js';

let privateKey: string | null = null;
/** A throwaway RSA key: Probot signs real app JWTs with it, the fake ignores them. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return privateKey;
}

/** A logger that keeps quiet but remembers errors, so a test can show them. */
export function quietLogger(errors: unknown[] = []) {
  const noop = () => undefined;
  const logger: Record<string, unknown> = {
    level: 'silent',
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    fatal: noop,
    error: (...args: unknown[]) => {
      errors.push(args);
    },
  };
  logger.child = () => logger;
  return logger;
}

export interface TestApp {
  probot: Probot;
  gate: MergeGate;
  config: AppConfig;
  clock: ManualClock;
  errors: unknown[];
  receive(name: string, payload: object): Promise<void>;
  /** Let `ms` of fake time pass, waiting for the evaluations it starts. */
  advance(ms: number): Promise<void>;
  /** Run what is due now, then let fake time pass in coalescing steps until nothing is queued (at most `maxMs`). */
  drain(maxMs?: number): Promise<void>;
}

let delivery = 0;

export interface StartOptions {
  /** Build Probot from this environment, as `probot run` does (APP_ID, PRIVATE_KEY, GHE_HOST, …), instead of the fake's base URL. */
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Probot's production Octokit, throttling and retries on (writes are then paced on the app's clock). */
  production?: boolean;
}

export async function startTestApp(fake: FakeGitHub, overrides: Partial<AppConfig> = {}, hooks: AppHooks = {}, options: StartOptions = {}): Promise<TestApp> {
  const errors: unknown[] = [];
  // Retries and throttling would sleep for real (throttling spaces writes a second apart); the
  // app's own queue retries instead. A function, so Probot's own instance options cannot undo it.
  const Octokit = options.production
    ? ProbotOctokit
    : ProbotOctokit.defaults(((options: object) => ({ ...options, retry: { enabled: false }, throttle: { enabled: false } })) as never);
  const log = quietLogger(errors) as never;
  const probot = options.env
    ? createProbot({ env: { APP_ID: String(fake.appId), PRIVATE_KEY: testPrivateKey(), ...options.env }, overrides: { Octokit, log } })
    : new Probot({ appId: fake.appId, privateKey: testPrivateKey(), baseUrl: fake.baseUrl, Octokit, log });
  const clock = options.clock ?? new ManualClock();
  fake.now = () => clock.now().getTime();
  const config: AppConfig = { ...DEFAULT_CONFIG, appId: fake.appId, scheduleOnStart: false, coalesceMs: 1000, clock, timers: clock, ...overrides };
  let gate: MergeGate | undefined;
  await probot.load(
    mergeGateApp(config, {
      ...hooks,
      onGate: (g, loaded) => {
        gate = g;
        hooks.onGate?.(g, loaded);
      },
    }),
  );
  const settled = () => gate!.queue.settled();
  return {
    probot,
    gate: gate!,
    config,
    clock,
    errors,
    receive: (name, payload) => probot.receive({ id: `delivery-${++delivery}`, name, payload } as never),
    advance: (ms) => clock.advance(ms, settled),
    async drain(maxMs = 60_000) {
      await settled();
      await clock.advance(0, settled); // what is due now (an idle pull request's first event) runs before time moves
      const step = Math.max(1, config.coalesceMs);
      for (let waited = 0; gate!.queue.size > 0 && waited <= maxMs; waited += step) await clock.advance(step, settled);
    },
  };
}

type Example = { name: string; examples: Array<Record<string, unknown>> };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Example[];

/** A real example payload of `event` (with `action`, when given), deep-copied. */
export function example(event: string, action?: string, pick: (p: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === event)?.examples.filter((p) => (action === undefined || p.action === action) && pick(p));
  if (!found?.length) throw new Error(`no example payload for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found[0]) as Record<string, any>;
}

/** Point a payload at a fake repository and installation. */
export function aimAt(payload: Record<string, any>, fake: FakeGitHub, repo: FakeRepo): Record<string, any> {
  payload.installation = { id: fake.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  payload.repository = {
    ...payload.repository,
    id: repo.id,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: { ...(payload.repository?.owner ?? {}), login: repo.owner },
    default_branch: repo.defaultBranch,
  };
  return payload;
}

/** A pull_request / pull_request_review payload about `pull`. */
export function pullPayload(event: 'pull_request' | 'pull_request_review', action: string, fake: FakeGitHub, repo: FakeRepo, pull: FakePull): Record<string, any> {
  const sample = (() => {
    try {
      return example(event, action);
    } catch {
      // No example of this action (e.g. pull_request.edited): another action's payload, relabelled.
      const p = example(event, event === 'pull_request' ? 'opened' : 'submitted');
      p.action = action;
      if (action === 'edited') p.changes = { title: { from: 'an older title' } };
      return p;
    }
  })();
  const payload = aimAt(sample, fake, repo);
  payload.pull_request = { ...payload.pull_request, number: pull.number, state: pull.state === 'OPEN' ? 'open' : 'closed', draft: pull.draft };
  payload.pull_request.head = { ...payload.pull_request.head, sha: pull.headSha };
  if (event === 'pull_request') payload.number = pull.number;
  return payload;
}

/**
 * A check_run or check_suite payload (a real example) of the app `appId` about
 * `headSha`, listing `pulls` as GitHub lists the same-repository pull requests
 * whose head it is (none: a fork's, or a head no pull request has any more).
 */
export function checkPayload(
  event: 'check_run' | 'check_suite',
  action: string,
  fake: FakeGitHub,
  repo: FakeRepo,
  check: { appId: number; headSha: string; pulls: readonly FakePull[]; name?: string; conclusion?: string },
): Record<string, any> {
  const p = aimAt(example(event, action), fake, repo);
  const body = p[event];
  body.app.id = check.appId;
  body.head_sha = check.headSha;
  body.pull_requests = check.pulls.map((pull) => ({ number: pull.number, head: { sha: pull.headSha }, base: { ref: pull.baseRef, repo: { id: repo.id } } }));
  if (check.name !== undefined) body.name = check.name;
  if (check.conclusion !== undefined) body.conclusion = check.conclusion;
  return p;
}

/** A deployment_status payload (a real example) about `deployment`'s latest status. */
export function deploymentStatusPayload(fake: FakeGitHub, repo: FakeRepo, deployment: FakeDeployment): Record<string, any> {
  const p = aimAt(example('deployment_status', 'created', (x) => x.deployment_status.environment === 'production'), fake, repo);
  const status = deployment.statuses.at(-1)!;
  p.deployment = { ...p.deployment, id: deployment.id, sha: deployment.sha, environment: deployment.environment, original_environment: deployment.environment };
  p.deployment_status = { ...p.deployment_status, state: status.state.toLowerCase(), environment: deployment.environment, description: status.description };
  return p;
}
