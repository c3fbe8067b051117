// A hostile policy through the app's own read (src/github/policy.ts): huge,
// deep, an alias bomb, 50,000 unknown keys, and `_extends` that loops, points
// nowhere or is not a repository. Each fails the check closed, naming the file
// and what is wrong, and the app stays responsive. (Probot's config plugin,
// which the app used before, took minutes of the app's one thread over 50,000
// keys and read files of any size.)
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { POLICY_MAX_BYTES } from '../../src/policy/load.js';
import { FakeGitHub, type FakeRepo } from '../helpers/github-fake.js';
import { pullPayload, startTestApp, type TestApp } from '../helpers/github-app.js';
import { setupRepo, typicalPull } from '../helpers/github-scenario.js';

let fake: FakeGitHub;
let app: TestApp | undefined;

beforeEach(() => {
  nock.disableNetConnect();
  fake = new FakeGitHub().install();
});

afterEach(() => {
  app?.gate.stop();
  app = undefined;
  fake.uninstall();
  expect(fake.problems).toEqual([]);
});

/** The check the app writes for a pull request of `repo` under its policy. */
async function checkFor(repo: FakeRepo) {
  const pull = typicalPull(fake, repo);
  app = await startTestApp(fake);
  await app.receive('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  await app.drain();
  const runs = fake.ourRuns(repo, pull.headSha);
  expect(runs).toHaveLength(1);
  expect(app.errors).toEqual([]);
  return runs[0];
}

describe('a hostile policy on the default branch fails the check closed', () => {
  test('over 64 KiB: refused, naming the size and the limit, never parsed', async () => {
    const text = `version: 1\nsize:\n  exclude:\n${'  - "vendor/some/quite/long/path/**"\n'.repeat(40_000)}`;
    const run = await checkFor(setupRepo(fake, text));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toContain(`the policy file is ${Buffer.byteLength(text)} bytes; merge-gate reads policy files of at most ${POLICY_MAX_BYTES} bytes`);
  });

  test('6,000 unknown keys (what fits in the size limit): the first 50 errors and how many more, in one linear read', async () => {
    const text = `version: 1\n${Array.from({ length: 6_000 }, (_, i) => `k${i}: 1`).join('\n')}\n`;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(POLICY_MAX_BYTES);
    const run = await checkFor(setupRepo(fake, text));
    expect(run.conclusion).toBe('failure');
    expect(run.title).toBe('fail: policy: 6000 errors in .github/merge-gate.yml');
    expect(run.text).toContain('.github/merge-gate.yml:2:1 k0: unknown key at the top level');
    expect(run.text).toContain('and 5950 more errors (only the first 50 are listed)');
    expect(run.annotations).toHaveLength(50);
    // One read of the policy: the errors' lines come from the same text.
    expect(fake.apiRequests().filter((r) => r.operation === 'GET /repos/{owner}/{repo}/contents/{path}')).toHaveLength(1);
  });

  test('an alias bomb (billion laughs): one YAML error, nothing expanded', async () => {
    const levels = Array.from({ length: 10 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const run = await checkFor(setupRepo(fake, `l0: &l0 "lol"\n${levels.join('\n')}\nsize:\n  exclude: *l10\n`));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toContain('.github/merge-gate.yml:1:1 YAML error: Excessive alias count indicates a resource exhaustion attack');
  });

  test('nested 5,000 deep: a YAML error with its line, never a crash', async () => {
    const run = await checkFor(setupRepo(fake, `version: 1\nsize: ${'['.repeat(5000)}${']'.repeat(5000)}\n`));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toMatch(/\.github\/merge-gate\.yml:2:\d+ YAML syntax error: /);
  });
});

describe('_extends that cannot be followed is a policy error, never a weaker policy', () => {
  test('a loop', async () => {
    fake.addRepo('octo', 'policies', { files: { '.github/merge-gate.yml': '_extends: octo/app\nreviews:\n  required: 0\n' } });
    const run = await checkFor(setupRepo(fake, '_extends: policies\nversion: 1\n'));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toContain('_extends in octo/policies/.github/merge-gate.yml leads back to .github/merge-gate.yml, which is already read (a loop)');
  });

  test('a file that is not there', async () => {
    const run = await checkFor(setupRepo(fake, '_extends: octo/shared:policies/gate.yml\nversion: 1\n'));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toContain('_extends in .github/merge-gate.yml: octo/shared/policies/gate.yml was not found');
  });

  test('a value that is not a repository', async () => {
    const run = await checkFor(setupRepo(fake, '_extends: "../../etc/passwd"\nversion: 1\n'));
    expect(run.conclusion).toBe('failure');
    expect(run.text).toContain('_extends in .github/merge-gate.yml must be "repo", "owner/repo" or "owner/repo:path.yml", not "../../etc/passwd"');
  });

  test('a chain of three files merges base first, the repository file winning', async () => {
    fake.addRepo('octo', 'base', { files: { 'gate.yml': 'version: 1\npreset: none\nreviews:\n  required: 3\nchecks:\n  required: ["ci/test", "ci/lint"]\n' } });
    fake.addRepo('octo', 'team', { files: { '.github/merge-gate.yml': '_extends: base:gate.yml\nreviews:\n  required: 2\n' } });
    const run = await checkFor(setupRepo(fake, '_extends: team\nchecks:\n  required: ["ci/test"]\n'));
    expect(run.summary).toContain('1 / 2 approvals');
    expect(run.summary).toMatch(/\| checks \| ✅ pass \|/);
  });
});
