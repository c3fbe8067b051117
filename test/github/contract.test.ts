// The app's contract with GitHub and with whoever runs it: the manifest, the
// configuration from the environment, error classes, and the validators the
// other tests rely on (which must reject what GitHub would reject).
import { readFileSync } from 'node:fs';
import { describe, expect, jest, test } from '@jest/globals';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import { parse } from 'yaml';
import { validate as validateQuery } from '@octokit/graphql-schema';
import app, { mergeGateApp } from '../../src/index.js';
import { ALL_QUERIES } from '../../src/github/queries.js';
import { TRUNK_QUERIES } from '../../src/trunk/queries.js';
import { QUEUE_QUERIES } from '../../src/queue/queries.js';
import { octokitQueueGitHub } from '../../src/queue/github.js';
import { proposeRevert } from '../../src/trunk/revert.js';
import { validPolicy } from '../helpers/policy.js';
import { stagingPrefix, stagingRef } from '../../src/queue/types.js';
import type { Octokit } from '../../src/octokit/types.js';
import { configFromEnv, DEFAULT_CONFIG } from '../../src/github/config.js';
import { classifyError, describeError, ExplainedError, StaleReadError } from '../../src/github/errors.js';
import { operationOf, restRequestProblems } from '../helpers/github-openapi.js';
import { FakeGitHub } from '../helpers/github-fake.js';
import { deploymentStatusPayload, pullPayload, quietLogger, startTestApp, testPrivateKey } from '../helpers/github-app.js';
import { deploy, fileAdding, FULL_POLICY, REGISTRY, setupRepo, TRUNK, typicalFiles, typicalPull } from '../helpers/github-scenario.js';
import { startLandingApp } from '../helpers/landing.js';

type Access = 'read' | 'write';
/** Permissions a GitHub App may be granted that merge-gate has any use for. */
const ALLOWED = ['checks', 'pull_requests', 'contents', 'statuses', 'deployments', 'metadata', 'members'];

/**
 * What each REST operation needs, per GitHub's "Permissions required for
 * GitHub Apps" (`app`: authenticated as the app with its JWT, no installation
 * permission). Every operation the fake GitHub accepts
 * (test/fixtures/openapi-requests.json) must be here.
 */
const REST_NEEDS: Record<string, Array<[string, Access]> | 'app'> = {
  'GET /app': 'app',
  'GET /app/installations': 'app',
  'POST /app/installations/{installation_id}/access_tokens': 'app',
  'GET /installation/repositories': [['metadata', 'read']],
  'GET /repos/{owner}/{repo}/contents/{path}': [['contents', 'read']],
  'GET /repos/{owner}/{repo}/compare/{basehead}': [['contents', 'read']],
  'GET /repos/{owner}/{repo}/pulls/{pull_number}': [['pull_requests', 'read']],
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/files': [['pull_requests', 'read']],
  'POST /repos/{owner}/{repo}/check-runs': [['checks', 'write']],
  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': [['checks', 'write']],
  // Labelling the revert pull request merge-gate opened (`trunk.revert`).
  'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': [['pull_requests', 'write']],
  // Asking an owners group for a review (`reviews.request`).
  'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers': [['pull_requests', 'write']],
  // landing (src/land)
  'GET /repos/{owner}/{repo}/pulls': [['pull_requests', 'read']],
  'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge': [['contents', 'write'], ['pull_requests', 'write']],
  'PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch': [['contents', 'write'], ['pull_requests', 'write']],
  'DELETE /repos/{owner}/{repo}/git/refs/{ref}': [['contents', 'write']],
  'GET /repos/{owner}/{repo}/git/commits/{commit_sha}': [['contents', 'read']],
  'POST /repos/{owner}/{repo}/dispatches': [['contents', 'write']],
  // the merge queue (src/queue/github.ts): staging branches, their merges, the fast-forward of the base
  'GET /repos/{owner}/{repo}/branches/{branch}': [['contents', 'read']],
  'POST /repos/{owner}/{repo}/git/refs': [['contents', 'write']],
  'PATCH /repos/{owner}/{repo}/git/refs/{ref}': [['contents', 'write']],
  'GET /repos/{owner}/{repo}/git/matching-refs/{ref}': [['contents', 'read']],
  'POST /repos/{owner}/{repo}/merges': [['contents', 'write']],
  // the trunk rule's revert of a merge queue batch (src/trunk/revert.ts)
  'POST /repos/{owner}/{repo}/git/commits': [['contents', 'write']],
  'POST /repos/{owner}/{repo}/pulls': [['pull_requests', 'write']],
};

/** What each GraphQL document reads: GitHub leaves out (or refuses) what the installation may not see. */
const GRAPHQL_NEEDS: Record<string, Array<[string, Access]>> = {
  // pull request, labels, reviews, files; blobs (registry, .gitattributes); check runs and statuses; the newest deployment (trunk)
  MergeGateFacts: [['pull_requests', 'read'], ['contents', 'read'], ['checks', 'read'], ['statuses', 'read'], ['deployments', 'read']],
  MergeGateMore: [['pull_requests', 'read'], ['checks', 'read'], ['statuses', 'read']],
  MergeGateHeadCommit: [['contents', 'read'], ['checks', 'read'], ['statuses', 'read']],
  MergeGateOpenPulls: [['pull_requests', 'read'], ['checks', 'read']],
  // the members of the teams reviews.owners names (an organisation permission)
  MergeGateTeams: [['members', 'read']],
  // the newest deployment, the pull request that landed its commit, the reverts already opened
  MergeGateRevertFacts: [['deployments', 'read'], ['pull_requests', 'read'], ['contents', 'read']],
  // a new branch with the reverting commit, and the pull request
  MergeGateRevertPullRequest: [['contents', 'write'], ['pull_requests', 'write']],
  // the check runs and statuses on a staging head
  MergeGateQueueChecks: [['checks', 'read'], ['statuses', 'read']],
};

/** Write access landing (SPEC §4) needs: merging, updating and deleting branches, repository_dispatch (observed below). */
const LANDING_WRITES: Record<string, string> = {
  pull_requests: 'merging a pull request (PUT …/pulls/{n}/merge), updating its branch',
  contents: 'the merge commit on the base branch, deleting the merged branch, repository_dispatch; the merge queue: staging branches and the fast-forward of the base',
};

/** The merge queue's calls (src/queue/github.ts), each once: a staging branch built, its checks read, the base fast-forwarded, the branch deleted. */
async function observeQueue(into: { rest: Set<string>; graphql: Set<string> }): Promise<void> {
  const fake = new FakeGitHub().install();
  try {
    const repo = fake.addRepo('octo', 'app', { files: { 'README.md': 'hi' } });
    const pull = fake.addPull(repo, { number: 1 }, { 'src/a.ts': 'a' });
    const octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } } as never) as Octokit;
    const queue = octokitQueueGitHub(octokit, 'octo', 'app', fake.appId);
    const ref = stagingRef('main', 1);
    const base = (await queue.branchHead('main'))!;
    await queue.resetBranch(ref, base.sha);
    const merged = await queue.mergeInto(ref, pull.headSha, 'Merge #1');
    if (merged.kind !== 'merged') throw new Error(`staging merge: ${merged.kind}`);
    await queue.requiredChecks(merged.sha, ['ci/test'], false);
    await queue.tree(merged.sha);
    expect(await queue.fastForward('main', merged.sha)).toEqual({ ok: true });
    expect(await queue.stagingBranches(stagingPrefix('main'))).toEqual([ref]);
    await queue.deleteBranch(ref);
    // The batch's deployment failed: its revert (a commit with the tree from before it, a branch, a pull request).
    deploy(fake, repo, merged.sha, 'FAILURE');
    const pulls = [1, 2].map((number) => ({ number, headSha: pull.headSha, title: 't', url: 'u', author: 'alice' }));
    const batch = { repository: 'octo/app', branch: 'main', before: base.sha, after: merged.sha, landedAt: '', batch: 1, pulls };
    expect(await proposeRevert(octokit, 'octo', 'app', validPolicy(`preset: none\n${TRUNK}`).trunk!, fake.appSlug, () => batch)).toMatchObject({ kind: 'opened' });
    expect(fake.problems).toEqual([]);
    for (const r of fake.requests) {
      if (r.kind === 'graphql') into.graphql.add(r.operation ?? '(anonymous)');
      else into.rest.add(r.operation ?? `${r.method} ${r.path}`);
    }
  } finally {
    fake.uninstall();
  }
}

/** The landing paths: an update of a branch behind its base, then the landing of its new head, with dispatch. */
async function observeLanding(into: { rest: Set<string>; graphql: Set<string> }): Promise<void> {
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake, `${FULL_POLICY}land:\n  up_to_date: true\n  dispatch: true\n`);
    const pull = typicalPull(fake, repo, 2);
    repo.branches.set(pull.headRef, pull.headSha);
    fake.setDefaultFile(repo, 'README.md', 'the base moved');
    const test = await startLandingApp(fake);
    await test.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
    await test.settle();
    repo.statuses.push({ sha: pull.headSha, context: 'ci/test', state: 'SUCCESS', createdAt: '2026-11-22T09:50:00Z' });
    await test.receive('pull_request', pullPayload('pull_request', 'synchronize', fake, repo, pull));
    await test.settle();
    test.stop();
    expect(fake.merges).toHaveLength(1);
    expect(fake.problems).toEqual([]);
    for (const r of fake.requests) {
      if (r.kind === 'graphql') into.graphql.add(r.operation ?? '(anonymous)');
      else into.rest.add(r.operation ?? `${r.method} ${r.path}`);
    }
  } finally {
    fake.uninstall();
  }
}

/**
 * Runs the app through every path that talks to GitHub differently, against the
 * fake, and returns the REST operations and GraphQL documents it sent.
 */
async function observeRequests(): Promise<{ rest: Set<string>; graphql: Set<string> }> {
  nock.disableNetConnect();
  const fake = new FakeGitHub().install();
  try {
    const repo = setupRepo(fake);
    // 2: a typical pull request: policy, facts, diff, a new check run; then a changed verdict (PATCH).
    const typical = typicalPull(fake, repo, 2);
    // 3: GitHub will not render the diff (406): per-file patches.
    typicalPull(fake, repo, 3, typicalFiles(3));
    fake.diffTooLarge.add(3);
    // 4: the flag registry renamed away: read at the merge base (compare, then contents).
    fake.addPull(repo, { number: 4, files: [{ path: 'config/flags.yml', previousPath: 'flags.yml', status: 'renamed', additions: 0, deletions: 0, patch: '' }] }, { 'config/flags.yml': REGISTRY });
    // 5: more than 100 labels: follow-up pages. 6: the commit list stops short of the head: the head by SHA.
    typicalPull(fake, repo, 5, [fileAdding('src/a.ts', ['x'])]).labels = Array.from({ length: 101 }, (_, i) => `l${i}`);
    const long = typicalPull(fake, repo, 6, [fileAdding('src/b.ts', ['y'])]);
    long.lastListedCommit = 'c'.repeat(40);
    repo.trees.set(long.lastListedCommit, new Map());
    // Another repository with `trunk`: its newest deployment, of a commit merge-gate landed, failed: the revert.
    const svc = fake.addRepo('octo', 'svc', { files: { '.github/merge-gate.yml': `preset: none\n${TRUNK}` } });
    const landed = fake.landByApp(svc, fake.addPull(svc, { number: 1 }));
    const failed = deploy(fake, svc, landed, 'FAILURE');
    // Another with reviews.owners and reviews.request: a team's members, and its owners asked for a review.
    fake.orgs.addTeam('octo', 'dba', ['dan']);
    const db = fake.addRepo('octo', 'db', { files: { '.github/merge-gate.yml': 'preset: none\nreviews:\n  request: true\n  owners:\n    - { name: database, paths: ["db/**"], from: ["@octo/dba"] }\n' } });
    fake.addPull(db, { number: 1, files: [fileAdding('db/1.sql', ['x'])] });
    // No APP_ID: the app asks GitHub who it is (GET /app).
    const test = await startTestApp(fake, { appId: undefined });
    for (const n of [2, 3, 4, 5, 6]) await test.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, repo.pulls.get(n)!));
    await test.receive('deployment_status', deploymentStatusPayload(fake, svc, failed));
    await test.receive('pull_request', pullPayload('pull_request', 'opened', fake, db, db.pulls.get(1)!));
    await test.drain();
    expect(fake.orgs.reviewRequests).toHaveLength(1);
    expect([...svc.pulls.values()].filter((p) => p.byApp)).toHaveLength(1);
    typical.reviews = [];
    await test.receive('pull_request', pullPayload('pull_request', 'edited', fake, repo, typical));
    await test.drain();
    await test.gate.resumeAfterRestart();
    test.gate.stop();
    expect(fake.problems).toEqual([]);
    const rest = new Set(fake.requests.filter((r) => r.kind !== 'graphql').map((r) => r.operation ?? `${r.method} ${r.path}`));
    const graphql = new Set(fake.requests.filter((r) => r.kind === 'graphql').map((r) => r.operation ?? '(anonymous)'));
    fake.uninstall();
    await observeLanding({ rest, graphql });
    await observeQueue({ rest, graphql });
    return { rest, graphql };
  } finally {
    fake.uninstall();
  }
}

describe('app.yml', () => {
  const manifest = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as {
    name: string;
    default_permissions: Record<string, string>;
    default_events: string[];
  };
  const grants = (permission: string, access: Access) => {
    const granted = manifest.default_permissions[permission];
    return granted === 'write' || (granted === 'read' && access === 'read');
  };

  test('grants every permission the requests the app sends need, and nothing merge-gate has no use for', async () => {
    expect(manifest.name).toBe('merge-gate');
    expect(Object.keys(manifest.default_permissions).filter((p) => !ALLOWED.includes(p))).toEqual([]);

    const { rest, graphql } = await observeRequests();
    // The fake GitHub refuses any other REST operation: the scenario above must reach every one it accepts.
    const accepted = Object.keys((JSON.parse(readFileSync(new URL('../fixtures/openapi-requests.json', import.meta.url), 'utf8')) as { operations: object }).operations);
    expect([...rest].sort()).toEqual([...accepted].sort());
    expect([...graphql].sort()).toEqual(Object.keys(GRAPHQL_NEEDS).sort());

    const needed = new Map<string, Access>();
    const need = (what: string, [permission, access]: [string, Access]) => {
      expect([what, permission, grants(permission, access)]).toEqual([what, permission, true]);
      if (needed.get(permission) !== 'write') needed.set(permission, access);
    };
    for (const op of rest) {
      expect(REST_NEEDS).toHaveProperty([op]);
      const needs = REST_NEEDS[op];
      if (needs !== 'app') for (const n of needs) need(op, n);
    }
    for (const name of graphql) for (const n of GRAPHQL_NEEDS[name]) need(name, n);

    for (const permission of Object.keys(LANDING_WRITES)) expect([permission, grants(permission, 'write')]).toEqual([permission, true]);
    // Nothing granted for nothing: every permission is used, and write only where used or for landing.
    for (const [permission, access] of Object.entries(manifest.default_permissions)) {
      expect([permission, needed.has(permission)]).toEqual([permission, true]);
      if (access === 'write' && needed.get(permission) !== 'write') expect([permission, LANDING_WRITES[permission]]).toEqual([permission, expect.any(String)]);
    }
  });

  test("subscribes to exactly the events the app registers handlers for", async () => {
    const probot = new Probot({ appId: 1, privateKey: testPrivateKey(), log: quietLogger() as never });
    const on = jest.spyOn(probot, 'on');
    await probot.load(mergeGateApp({ ...DEFAULT_CONFIG, appId: 1, scheduleOnStart: false }));
    const registered = on.mock.calls.flatMap(([names]) => (Array.isArray(names) ? names : [names])).map((n) => String(n));
    expect(registered.length).toBeGreaterThan(0);
    expect(registered).not.toContain('*'); // every event handled is named, so the manifest can list them
    const events = new Set(registered.map((n) => n.split('.')[0]));
    expect([...manifest.default_events].sort()).toEqual([...events].sort());
  });

  test('the permissions section of docs/github-app.md explains each permission', () => {
    const doc = readFileSync(new URL('../../docs/github-app.md', import.meta.url), 'utf8');
    for (const permission of Object.keys(manifest.default_permissions)) expect(doc).toMatch(new RegExp(`\\| \`${permission}\` \\|`));
  });
});

describe('the Probot entry point', () => {
  test('src/index.ts default-exports an ApplicationFunction', () => {
    expect(typeof app).toBe('function');
    expect(typeof mergeGateApp(DEFAULT_CONFIG)).toBe('function');
  });
});

describe('configFromEnv', () => {
  test('DRY_RUN and the tuning knobs', () => {
    expect(configFromEnv({ APP_ID: '123', DRY_RUN: 'true', MERGE_GATE_COALESCE_MS: '500', MERGE_GATE_CONCURRENCY: '8' })).toMatchObject({
      appId: 123,
      dryRun: true,
      coalesceMs: 500,
      concurrency: 8,
      checkName: 'merge-gate',
      policyPath: '.github/merge-gate.yml',
    });
    expect(configFromEnv({}).dryRun).toBe(false);
    expect(configFromEnv({ DRY_RUN: 'false' }).dryRun).toBe(false);
    expect(configFromEnv({ DRY_RUN: '1' }).dryRun).toBe(true);
    expect(configFromEnv({ APP_ID: 'abc' }).appId).toBeUndefined();
    expect(() => configFromEnv({ MERGE_GATE_COALESCE_MS: 'soon' })).toThrow(/MERGE_GATE_COALESCE_MS/);
    expect(configFromEnv({}).giveUpRetryMs).toBe(5 * 60_000);
    expect(configFromEnv({ MERGE_GATE_GIVE_UP_RETRY_MS: '60000' }).giveUpRetryMs).toBe(60_000);
    expect(configFromEnv({ MERGE_GATE_GIVE_UP_RETRY_MS: '0' }).giveUpRetryMs).toBe(1_000); // never a hot loop
    expect(configFromEnv({}).writeSpacingMs).toBeUndefined();
    expect(configFromEnv({ MERGE_GATE_WRITE_SPACING_MS: '250' }).writeSpacingMs).toBe(250);
    expect(() => configFromEnv({ MERGE_GATE_WRITE_SPACING_MS: '-1' })).toThrow(/MERGE_GATE_WRITE_SPACING_MS/);
    expect(configFromEnv({}).retry).toEqual({ attempts: 5, baseDelayMs: 5_000, maxDelayMs: 5 * 60_000 });
    expect(configFromEnv({ MERGE_GATE_RETRY_BASE_MS: '200' }).retry).toEqual({ attempts: 5, baseDelayMs: 200, maxDelayMs: 5 * 60_000 });
    expect(configFromEnv({ MERGE_GATE_RETRY_BASE_MS: '0' }).retry.baseDelayMs).toBe(100); // never a hot loop
    expect(configFromEnv({ MERGE_GATE_RETRY_BASE_MS: '600000' }).retry.maxDelayMs).toBe(600_000);
    expect(() => configFromEnv({ MERGE_GATE_RETRY_BASE_MS: 'soon' })).toThrow(/MERGE_GATE_RETRY_BASE_MS/);
  });
});

describe('describeError', () => {
  test('puts what GitHub answered into words for the check', () => {
    expect(describeError(Object.assign(new Error('Service Unavailable'), { status: 503 }))).toBe("GitHub kept answering 503 (an error on GitHub's side): Service Unavailable");
    expect(describeError(Object.assign(new Error('x'), { errors: [{ type: 'RATE_LIMITED', message: 'slow down' }] }))).toBe("GitHub's GraphQL API kept failing (rate limited): slow down");
    expect(describeError(new StaleReadError('moved'))).toMatch(/kept changing/);
    expect(describeError(new ExplainedError('flags.yml could not be read'))).toBe('flags.yml could not be read');
    expect(describeError(new Error('fetch failed'))).toMatch(/could not be reached.*fetch failed/);
  });
});

describe('classifyError', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  const http = (status: number, headers: Record<string, string> = {}, message = `HTTP ${status}`) => Object.assign(new Error(message), { status, response: { headers } });

  test.each([
    [http(500), { retryable: true }],
    [http(502), { retryable: true }],
    [http(429, { 'retry-after': '12' }), { retryable: true, retryAfterMs: 12_000 }],
    [http(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now.getTime() / 1000 + 60) }), { retryable: true, retryAfterMs: 61_000 }],
    [http(403, {}, 'You have exceeded a secondary rate limit'), { retryable: true }],
    [new StaleReadError('moved'), { retryable: true, retryAfterMs: 0 }],
    [new Error('fetch failed'), { retryable: true }],
    [Object.assign(new Error('x'), { errors: [{ type: 'RATE_LIMITED', message: 'slow down' }] }), { retryable: true }],
    [Object.assign(new Error('x'), { errors: [{ message: 'Something went wrong while executing your query' }] }), { retryable: true }],
  ])('%s is retried', (error, expected) => {
    expect(classifyError(error, now)).toMatchObject(expected);
  });

  test.each([
    [http(403, {}, 'Resource not accessible by integration'), /lacks a permission/],
    [http(404), /not found/],
    [http(422), /HTTP 422/],
    [new ExplainedError('the diff of x is too large'), /too large/],
    [Object.assign(new Error('x'), { errors: [{ type: 'NOT_FOUND', message: 'Could not resolve to a PullRequest' }] }), /Could not resolve/],
  ])('%s is explained, not retried', (error, words) => {
    const cls = classifyError(error, now);
    expect(cls.retryable).toBe(false);
    expect(cls.explanation).toMatch(words);
  });
});

describe('the validators the tests rely on', () => {
  test("every GraphQL document the app sends is valid against GitHub's schema", () => {
    for (const [name, query] of Object.entries({ ...ALL_QUERIES, ...TRUNK_QUERIES, ...QUEUE_QUERIES })) expect([name, validateQuery(query).map((e) => e.message)]).toEqual([name, []]);
  });

  test('…and a query with a field GitHub does not have is caught', () => {
    expect(validateQuery('query { repository(owner: "o", name: "r") { pullRequest(number: 1) { reviewerCount } } }').length).toBeGreaterThan(0);
  });

  test('REST bodies are checked against the OpenAPI schemas: a good check run passes', () => {
    const body = { name: 'merge-gate', head_sha: 'a'.repeat(40), status: 'completed', conclusion: 'success', output: { title: 't', summary: 's' } };
    expect(restRequestProblems('POST', '/repos/o/r/check-runs', body)).toEqual([]);
  });

  test.each([
    ['a misspelt field', { name: 'merge-gate', head_sha: 'a', output: { title: 't', summary: 's', anotations: [] } }],
    ['a wrong enum', { name: 'merge-gate', head_sha: 'a', conclusion: 'passed' }],
    ['51 annotations', { name: 'merge-gate', head_sha: 'a', output: { title: 't', summary: 's', annotations: Array.from({ length: 51 }, () => ({ path: 'a', start_line: 1, end_line: 1, annotation_level: 'failure', message: 'm' })) } }],
    ['a summary over 65,535 characters', { name: 'merge-gate', head_sha: 'a', output: { title: 't', summary: 'x'.repeat(65_536) } }],
    ['no head_sha', { name: 'merge-gate' }],
  ])('…and %s is caught', (_what, body) => {
    expect(restRequestProblems('POST', '/repos/o/r/check-runs', body).length).toBeGreaterThan(0);
  });

  test('a completed update without a conclusion is caught; an annotations-only update passes', () => {
    expect(restRequestProblems('PATCH', '/repos/o/r/check-runs/1', { status: 'completed' }).length).toBeGreaterThan(0);
    expect(restRequestProblems('PATCH', '/repos/o/r/check-runs/1', { output: { title: 't', summary: 's', annotations: [] } })).toEqual([]);
  });

  test('requests outside the declared operations are flagged', () => {
    expect(operationOf('GET', '/repos/o/r/pulls/1/files')).toBe('GET /repos/{owner}/{repo}/pulls/{pull_number}/files');
    expect(operationOf('GET', '/repos/o/r/contents/a/b/c.yml')).toBe('GET /repos/{owner}/{repo}/contents/{path}');
    expect(restRequestProblems('PUT', '/repos/o/r/pulls/1/reviews', {})).toEqual([expect.stringContaining('not one of the operations')]);
    expect(restRequestProblems('PUT', '/repos/o/r/pulls/1/merge', { sha: 'a'.repeat(40), merge_method: 'fast-forward' }).length).toBeGreaterThan(0);
  });
});
