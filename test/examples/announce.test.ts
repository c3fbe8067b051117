// examples/service/announce.ts, the README walkthrough's stand-in for a landing,
// sends what merge-gate sends: the app's body, signed by the app's code, with
// webhook-id = the body's id — checked with the deploy trigger's own verifier,
// and end to end against a running trigger.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { announcement } from '../../examples/service/announce.js';
import { DeployTrigger } from '../../src/deploy/trigger.js';
import { parseTrunkUpdated, verifyDelivery } from '../../src/deploy/webhook.js';
import { trunkUpdated } from '../../src/land/decide.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { land, makeTrunk, SECRET, waitFor, writeConfig } from '../helpers/deploy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** The shape of a value: its keys, nested, sorted. */
const shape = (v: unknown): unknown =>
  v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, shape(x)])) : typeof v;

test("the body has the app's shape, webhook-id is its id, and the trigger's verifier accepts it", () => {
  const event = { repository: 'octo/service', branch: 'main', before: A, after: B, pull_requests: [{ number: 7, title: 't', url: 'https://github.com/octo/service/pull/7', author: 'alice', head_sha: B }] as const, landed_at: '2026-12-05T00:00:00Z' };
  const { body, headers } = announcement(event, SECRET, new Date(), 'event-1');
  const sent = JSON.parse(body) as Record<string, unknown>;
  expect(sent).toEqual(trunkUpdated({ id: 'event-1', ...event }));
  expect(shape(sent)).toEqual(shape(trunkUpdated({ id: 'x', ...event })));
  expect(headers['webhook-id']).toBe(sent.id);
  expect(verifyDelivery(Buffer.from(body), headers, [SECRET])).toEqual({ ok: true, id: 'event-1' });
  expect(parseTrunkUpdated(Buffer.from(body))).toMatchObject({ ok: true, event: { repository: 'octo/service', before: A, after: B } });
});

describe('npx tsx examples/service/announce.ts against a running deploy trigger', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let trigger: DeployTrigger;
  const logs: string[] = [];

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir, repository: 'octo/service' });
    trigger = new DeployTrigger({ config: setup.config, env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET }, log: (line) => logs.push(line), stopGraceMs: 1000, stopServicesOnExit: true });
  });
  afterAll(async () => {
    await trigger.stop();
    setup.remove();
    trunk.remove();
  });

  test('is answered 202 and the trigger records the delivery of the new head', async () => {
    const url = await trigger.start();
    const head = land(trunk);
    // In its own process, as the README runs it (the trigger answers from this one: never block it).
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/service/announce.ts', url, 'octo/service', 'main', trunk.dir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TRUNK_WEBHOOK_SECRET: SECRET },
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^202 /);
    const delivery = await waitFor('the delivery', () => trigger.store.recentDeliveries(10).find((d) => d.after === head)).catch((err: Error) => {
      throw new Error(`${err.message}\ntrigger log:\n${logs.join('\n')}`);
    });
    expect(delivery).toMatchObject({ repository: 'octo/service', branch: 'main', after: head });
  });
});
