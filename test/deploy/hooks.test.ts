// POST /hooks/trunk-updated over real HTTP: Standard Webhooks verification,
// limits, deduplication, and events for repositories the trigger does not deploy.
import { randomUUID } from 'node:crypto';
import { MAX_BODY_BYTES } from '../../src/deploy/webhook.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, makeTrunk, postEvent, SECRET, signedHeaders, testTrigger, trunkUpdated, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

const OLD_SECRET = `whsec_${Buffer.from('the secret before rotation').toString('base64')}`;

describe('POST /hooks/trunk-updated', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());
  let url: string;
  let sha: string;

  beforeAll(async () => {
    trunk = makeTrunk();
    sha = trunk.git('rev-parse', 'HEAD').trim();
    setup = writeConfig({ remote: trunk.dir });
    t = testTrigger(setup.config, { env: { TRUNK_WEBHOOK_SECRET: `${SECRET}, ${OLD_SECRET}` } });
    url = await t.trigger.start();
  });

  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  const deliveries = () => t.trigger.store.recentDeliveries(100);

  it('answers 202 at once for a signed event, and with either secret while rotating', async () => {
    const res = await announce(url, sha);
    expect(res).toEqual({ status: 202, body: { status: 'accepted', id: expect.stringMatching(/^msg_/) } });
    const rotated = await announce(url, sha, { secret: OLD_SECRET });
    expect(rotated.status).toBe(202);
    expect(deliveries().filter((d) => d.outcome === 'accepted')).toHaveLength(2);
  });

  it('refuses a bad signature with 401 and records nothing', async () => {
    const body = trunkUpdated(sha);
    const wrongKey = await postEvent(url, body, signedHeaders(body, { secret: `whsec_${Buffer.from('somebody else').toString('base64')}` }));
    const headers = signedHeaders(body);
    const tampered = await postEvent(url, body.replace('"main"', '"evil"'), headers);
    const unsigned = await postEvent(url, body, { 'content-type': 'application/json' });
    expect([wrongKey.status, tampered.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(JSON.stringify(wrongKey.body)).toContain('No matching signature');
    expect(deliveries().map((d) => d.id)).not.toContain(headers['webhook-id']);
  });

  it('refuses a timestamp more than 5 minutes off with 401, in either direction', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = await announce(url, sha, { timestamp: now - 6 * 60 });
    const future = await announce(url, sha, { timestamp: now + 6 * 60 });
    expect([stale.status, future.status]).toEqual([401, 401]);
    expect(JSON.stringify(stale.body)).toContain('too old');
  });

  it('deduplicates by webhook-id: a redelivery is acknowledged and ignored', async () => {
    const id = `msg_${randomUUID()}`;
    const first = await announce(url, sha, { id });
    const again = await announce(url, sha, { id });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body).toEqual({ status: 'duplicate', id });
    expect(deliveries().filter((d) => d.id === id)).toHaveLength(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/merge_gate_deploy_deliveries_total\{outcome="duplicate"\} 1/);
  });

  it('answers 413 over the size limit, before looking at the signature', async () => {
    const body = JSON.stringify({ type: 'trunk-updated', padding: 'x'.repeat(MAX_BODY_BYTES + 1) });
    const res = await postEvent(url, body, signedHeaders(body));
    expect(res.status).toBe(413);
  });

  it('answers an unsigned 5 MiB body with a clean 413, not a connection reset', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const res = await fetch(`${url}/hooks/trunk-updated`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(expect.objectContaining({ error: expect.any(String) }));
  });

  it('answers 400 on a signed but malformed body: not JSON, or not a trunk-updated', async () => {
    const notJson = 'this is not json';
    const wrongShape = JSON.stringify({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', after: 'HEAD' });
    const r1 = await postEvent(url, notJson, signedHeaders(notJson));
    const r2 = await postEvent(url, wrongShape, signedHeaders(wrongShape));
    expect([r1.status, r2.status]).toEqual([400, 400]);
    expect(r1.body).toEqual({ error: 'the body is not JSON' });
    expect(JSON.stringify(r2.body)).toContain('after: expected a full commit SHA');
  });

  it('acknowledges events for other repositories or branches with 202, ignores them, and logs it', async () => {
    const other = await announce(url, sha, { repository: 'octo/other' });
    const branch = await announce(url, sha, { branch: 'stable' });
    expect([other.body, branch.body]).toEqual([expect.objectContaining({ status: 'ignored' }), expect.objectContaining({ status: 'ignored' })]);
    expect(deliveries().filter((d) => d.outcome === 'ignored').map((d) => d.note)).toEqual(expect.arrayContaining(['not configured: octo/other@main', 'not configured: octo/app@stable']));
    expect(t.log.some((l) => l.includes('ignored: not configured: octo/other@main'))).toBe(true);
  });

  it('answers 405 and 404 for other methods and paths', async () => {
    expect((await fetch(`${url}/hooks/trunk-updated`)).status).toBe(405);
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
  });

  it('deploys the announced revision (the accepted events were acted on)', async () => {
    await waitFor('the first revision to become healthy', () => t.trigger.store.revision('octo/app', sha)?.state === 'healthy');
  });
});
