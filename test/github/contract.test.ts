// The app's contract with GitHub and with whoever runs it: the manifest, the
// configuration from the environment, error classes, and the validators the
// other tests rely on (which must reject what GitHub would reject).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { validate as validateQuery } from '@octokit/graphql-schema';
import app, { mergeGateApp } from '../../src/index.js';
import { ALL_QUERIES } from '../../src/github/queries.js';
import { configFromEnv, DEFAULT_CONFIG } from '../../src/github/config.js';
import { classifyError, ExplainedError, StaleReadError } from '../../src/github/errors.js';
import { PULL_REQUEST_ACTIONS, REVIEW_ACTIONS } from '../../src/github/app.js';
import { operationOf, restRequestProblems } from '../helpers/github-openapi.js';

describe('app.yml', () => {
  const manifest = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as {
    name: string;
    default_permissions: Record<string, string>;
    default_events: string[];
  };

  test('asks for exactly the permissions the product needs, no more', () => {
    expect(manifest.name).toBe('merge-gate');
    expect(manifest.default_permissions).toEqual({ checks: 'write', pull_requests: 'write', contents: 'write', statuses: 'read', metadata: 'read' });
  });

  test('subscribes to exactly the events the handlers use', () => {
    const handled = new Set([...PULL_REQUEST_ACTIONS, ...REVIEW_ACTIONS, 'check_run.completed', 'check_suite.completed', 'status', 'push'].map((e) => e.split('.')[0]));
    expect([...manifest.default_events].sort()).toEqual([...handled].sort());
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
    for (const [name, query] of Object.entries(ALL_QUERIES)) expect([name, validateQuery(query).map((e) => e.message)]).toEqual([name, []]);
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
    expect(restRequestProblems('PUT', '/repos/o/r/pulls/1/merge', {})).toEqual([expect.stringContaining('not one of the operations')]);
  });
});
