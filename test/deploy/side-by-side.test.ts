// End to end, in-process trigger: real trunk, real child processes, real HTTP,
// real SQLite. One trigger lives through a sequence of landings.
import type { TempRepo } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';
import { announce, itReporting, land, makeTrunk, passStartup, serviceRevision, signalToken, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';
import { processStartTime } from '../../src/deploy/processes.js';

describe('the deploy trigger, revision after revision', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  let url: string;
  const first: string[] = [];
  const it = itReporting(() => t.report());

  const state = (sha: string) => t.trigger.store.revision('octo/app', sha)?.state;
  const revisionOf = (sha: string) => t.trigger.store.revision('octo/app', sha);
  const slot = (sha: string) => t.trigger.store.slot('octo/app', sha);
  const healthy = (sha: string) => waitFor(`${sha.slice(0, 7)} to be healthy`, () => state(sha) === 'healthy');
  const alive = (pid: number) => processStartTime(pid) !== null;

  beforeAll(async () => {
    trunk = makeTrunk();
    first.push(trunk.git('rev-parse', 'HEAD').trim());
    setup = writeConfig({ remote: trunk.dir, signals: '{ max: 5, window: 60s }', keep: 2, reconcile: '1s' });
    t = testTrigger(setup.config, { retryPollMs: 100 });
    url = await t.trigger.start();
  });

  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  let c1: string;
  let c2: string;
  let c3: string;

  it('deploys the trunk head at start (level-triggered: no event needed)', async () => {
    c1 = first[0];
    await healthy(c1);
    expect(await serviceRevision(slot(c1)!.port)).toBe(c1);
  });

  it('starts a landed revision beside the running one: both answer', async () => {
    c2 = land(trunk);
    expect((await announce(url, c2)).status).toBe(202);
    // While it starts, the old revision keeps serving.
    await waitFor('c2 to start', () => state(c2));
    expect(await serviceRevision(slot(c1)!.port)).toBe(c1);
    await healthy(c2);
    expect(slot(c1)!.port).not.toBe(slot(c2)!.port);
    expect([await serviceRevision(slot(c1)!.port), await serviceRevision(slot(c2)!.port)]).toEqual([c1, c2]);
    expect(t.trigger.store.desired('octo/app')).toBe(c2);
  });

  it('reaps the oldest once keep (2) is exceeded, and stops its process', async () => {
    const c1pid = slot(c1)!.pid!;
    c3 = land(trunk);
    await announce(url, c3);
    await healthy(c3);
    await waitFor('c1 to be reaped', () => state(c1) === 'reaped');
    expect(revisionOf(c1)!.reason).toBe('reaped: 2 newer healthy revisions running');
    await waitFor('c1 process to end and its slot to be freed', () => !alive(c1pid) && slot(c1) === null);
    expect([await serviceRevision(slot(c2)!.port), await serviceRevision(slot(c3)!.port)]).toEqual([c2, c3]);
  });

  it('cuts off a revision that is never healthy within health.startup, marks it bad, and the previous ones keep serving', async () => {
    const c4 = land(trunk, 'unhealthy');
    await announce(url, c4);
    // health.startup is 60 s: the trigger's clock is moved past it, not waited out.
    await passStartup(t, c4, 'HTTP 500');
    await waitFor('c4 to be cut off', () => state(c4) === 'bad');
    expect(revisionOf(c4)!.reason).toBe('cut off: not healthy within 1m of starting (last probe: HTTP 500)');
    await waitFor('c4 slot to be freed', () => slot(c4) === null);
    expect([state(c2), state(c3)]).toEqual(['healthy', 'healthy']);
    expect(await serviceRevision(slot(c3)!.port)).toBe(c3);
    // The reconciler sees c4 as the trunk head, and still never deploys it again.
    await new Promise((r) => setTimeout(r, 900));
    expect(t.trigger.store.history('octo/app').filter((h) => h.sha === c4 && h.state === 'starting')).toHaveLength(1);
  });

  it('cuts off a healthy revision after `failures` consecutive failed probes', async () => {
    const c5 = land(trunk, 'degrades');
    await announce(url, c5);
    await waitFor('c5 to be cut off', () => state(c5) === 'bad');
    expect(revisionOf(c5)!.reason).toBe('cut off: 3 consecutive failed health probes (last: HTTP 500)');
    const states = t.trigger.store.history('octo/app').filter((h) => h.sha === c5).map((h) => h.state).reverse();
    expect(states).toEqual(['starting', 'healthy', 'bad']);
    expect(await serviceRevision(slot(c3)!.port)).toBe(c3);
  });

  it('cuts off a revision by its own error reports to SIGNAL_URL', async () => {
    const c6 = land(trunk, 'errors');
    await announce(url, c6);
    await waitFor('c6 to be cut off', () => state(c6) === 'bad');
    expect(revisionOf(c6)!.reason).toMatch(/^cut off: 6 error reports from the service within 1m \(more than 5\)$/);
    expect(await serviceRevision(slot(c3)!.port)).toBe(c3);
  });

  it('refuses a forged signal with 403: no token, a wrong token, or another revision\'s token', async () => {
    const token = signalToken(slot(c3)!.pid!);
    const post = (sha: string, t: string | null) => fetch(`${url}/signals/${sha}${t === null ? '' : `?token=${t}`}`, { method: 'POST', body: 'forged' }).then((r) => r.status);
    expect(await post(c3, null)).toBe(403);
    expect(await post(c3, 'x'.repeat(token.length))).toBe(403);
    expect(await post(c2, token)).toBe(403);
    // The revision's own token is accepted (one report is below the limit).
    expect(await post(c3, token)).toBe(202);
    expect(t.trigger.store.signalTimes('octo/app', c3, 0)).toHaveLength(1);
    expect(t.trigger.store.signalTimes('octo/app', c2, 0)).toHaveLength(0);
    expect(state(c3)).toBe('healthy');
  });

  it('marks a revision that exits by itself failed; `deploy-trigger retry` deploys it again', async () => {
    const c7 = land(trunk, 'crash');
    await announce(url, c7);
    await waitFor('c7 to fail', () => state(c7) === 'failed');
    expect(revisionOf(c7)!.reason).toMatch(/^exited by itself \(code 1\); see .*\.log$/);
    const retry = runCli(['deploy-trigger', 'retry', c7, '--config', setup.file]);
    expect(retry.code).toBe(0);
    await waitFor('c7 to be deployed again and fail again', () => t.trigger.store.history('octo/app').filter((h) => h.sha === c7 && h.state === 'failed').length === 2);
    const states = t.trigger.store.history('octo/app').filter((h) => h.sha === c7).map((h) => `${h.state}: ${h.reason.split(';')[0]}`).reverse();
    expect(states).toEqual(['starting: deploying', 'failed: exited by itself (code 1)', 'stopped: retry requested', 'starting: deploying', 'failed: exited by itself (code 1)']);
  });

  it('recovers a lost event by reconciliation (git ls-remote every `reconcile`)', async () => {
    const c8 = land(trunk, 'healthy');
    // No event is sent.
    await healthy(c8);
    expect(t.trigger.store.desired('octo/app')).toBe(c8);
    expect(await serviceRevision(slot(c8)!.port)).toBe(c8);
    // c8 and c3 are the two newest healthy: c2 is reaped.
    await waitFor('c2 to be reaped', () => state(c2) === 'reaped');
  });

  it('shows all of it in /api/state and /metrics', async () => {
    const api = (await (await fetch(`${url}/api/state`)).json()) as { repositories: { name: string; revisions: { state: string }[] }[] };
    expect(api.repositories[0].name).toBe('octo/app');
    expect(api.repositories[0].revisions.map((r) => r.state).sort()).toEqual(['bad', 'bad', 'bad', 'failed', 'healthy', 'healthy', 'reaped', 'reaped'].sort());
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('merge_gate_deploy_cutoffs_total{repository="octo/app"} 3');
    expect(metrics).toContain('merge_gate_deploy_reaps_total{repository="octo/app"} 2');
    expect(metrics).toContain('merge_gate_deploy_revisions{repository="octo/app",state="healthy"} 2');
    expect(metrics).toMatch(/merge_gate_deploy_probe_seconds_count\{repository="octo\/app",outcome="ok"\} \d+/);
  });
});
