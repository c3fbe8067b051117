// GitHub Deployments, end to end: the real trigger deploys real revisions, and
// every REST call it makes is caught by nock and checked against the OpenAPI
// request schemas (test/fixtures/openapi-requests.json).
import nock from 'nock';
import { clip } from '../../src/deploy/github.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { restRequestProblems } from '../helpers/github-openapi.js';
import { announce, itReporting, land, makeTrunk, passStartup, SECRET, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown>;
  auth: string | undefined;
}

describe('GitHub Deployments for each revision', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());
  const calls: Call[] = [];
  let nextId = 1000;

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock('https://api.github.com')
      .persist()
      .post(/^\/repos\/octo\/app\/deployments$/)
      .reply(201, function (path, body) {
        calls.push({ method: 'POST', path, body: body as Record<string, unknown>, auth: this.req.headers.authorization as string | undefined });
        return { id: ++nextId, sha: (body as { ref: string }).ref, environment: 'production' };
      })
      .post(/^\/repos\/octo\/app\/deployments\/\d+\/statuses$/)
      .reply(201, function (path, body) {
        calls.push({ method: 'POST', path, body: body as Record<string, unknown>, auth: this.req.headers.authorization as string | undefined });
        return { id: 1, state: (body as { state: string }).state };
      });
    trunk = makeTrunk();
    setup = writeConfig({
      remote: trunk.dir,
      keep: 1,
      extra: '    github: { token_env: DEPLOY_GITHUB_TOKEN, environment: production }',
    });
    t = testTrigger(setup.config, { env: { TRUNK_WEBHOOK_SECRET: SECRET, DEPLOY_GITHUB_TOKEN: 'ghs_test' } });
  });

  afterAll(async () => {
    await t.trigger.stop();
    nock.cleanAll();
    nock.enableNetConnect();
    setup.remove();
    trunk.remove();
  });

  const statesOf = (deploymentPath: string) => calls.filter((c) => c.path === `${deploymentPath}/statuses`).map((c) => `${c.body.state}: ${c.body.description}`);

  it('creates a deployment per revision and a status for each change: in_progress, success, failure with the reason, inactive', async () => {
    const url = await t.trigger.start();
    const c1 = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('c1 healthy', () => t.trigger.store.revision('octo/app', c1)?.state === 'healthy');
    const c2 = land(trunk, 'unhealthy');
    await announce(url, c2);
    await passStartup(t, c2, 'HTTP 500');
    await waitFor('c2 cut off', () => t.trigger.store.revision('octo/app', c2)?.state === 'bad');
    const c3 = land(trunk, 'healthy');
    await announce(url, c3);
    await waitFor('c1 reaped', () => t.trigger.store.revision('octo/app', c1)?.state === 'reaped');
    await waitFor('every status sent', () => calls.filter((c) => c.path.endsWith('/statuses')).length >= 7);

    const deployments = calls.filter((c) => c.path === '/repos/octo/app/deployments');
    expect(deployments.map((d) => d.body.ref)).toEqual([c1, c2, c3]);
    expect(deployments[0].body).toEqual({ ref: c1, environment: 'production', description: `merge-gate deploy trigger: ${c1.slice(0, 12)}`, auto_merge: false, required_contexts: [], production_environment: true });
    const ids = [1001, 1002, 1003].map((id) => `/repos/octo/app/deployments/${id}`);
    expect(statesOf(ids[0])).toEqual([expect.stringMatching(/^in_progress: starting on port \d+$/), 'success: healthy', 'inactive: reaped']);
    expect(statesOf(ids[1])).toEqual([expect.stringMatching(/^in_progress: /), 'failure: cut off: not healthy within 1m of starting (last probe: HTTP 500)']);
    expect(statesOf(ids[2])).toEqual([expect.stringMatching(/^in_progress: /), 'success: healthy']);
    expect(calls.every((c) => c.auth === 'token ghs_test')).toBe(true);
    // Every body is one GitHub's schema accepts.
    expect(calls.flatMap((c) => restRequestProblems(c.method, c.path, c.body, 'deploy-trigger'))).toEqual([]);
  });

  it('keeps descriptions within GitHub\'s 140 characters', () => {
    expect(clip('x'.repeat(200))).toHaveLength(140);
    expect(clip('short')).toBe('short');
  });
});
