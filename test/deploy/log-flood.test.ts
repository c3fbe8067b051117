// A revision printing in a loop past logs.max_rate is cut off like an unhealthy
// one, with the reason on /api/state, the page, the log and its GitHub
// deployment status; the trigger stays up, and a normal revision is not cut
// off. Real processes: the CLI, the service, a GitHub stand-in on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, deployReport, isAlive, itReporting, killGroups, land, makeTrunk, runTrigger, type TriggerProcess, waitFor, writeConfig } from '../helpers/deploy.js';
import type { StateSnapshot } from '../../src/deploy/page.js';

const WINDOW_MS = 2000;
const REASON = /^cut off: printed \d+(\.\d)?(KB|MB|GB) in \d+(\.\d)?m?s, over logs\.max_rate 256KB\/s \(averaged over 2s\)$/;

/** GitHub's Deployments API, as far as the trigger uses it: each status's state and description, kept. */
function fakeDeployments(): { server: Server; statuses: string[]; listening: Promise<string> } {
  const statuses: string[] = [];
  let nextId = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}') as { state?: string; description?: string };
      if (/\/statuses$/.test(req.url ?? '')) statuses.push(`${req.url}: ${parsed.state}: ${parsed.description}`);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: /\/statuses$/.test(req.url ?? '') ? 1 : nextId++ }));
    });
  });
  const listening = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { server, statuses, listening };
}

describe('a revision printing in a loop past logs.max_rate', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let github: ReturnType<typeof fakeDeployments>;
  let trigger: TriggerProcess | null = null;
  const pids = new Set<number>();
  const it = itReporting(() => `${deployReport(setup.config, trigger?.stderr() ?? '').slice(0, 20_000)}\n--- deployment statuses ---\n${github.statuses.join('\n')}`);

  beforeAll(async () => {
    github = fakeDeployments();
    const api = await github.listening;
    trunk = makeTrunk();
    setup = writeConfig({
      remote: trunk.dir,
      extra: [
        `    logs: { max_bytes: 64KB, keep: 1, max_rate: 256KB/s, rate_window: ${WINDOW_MS / 1000}s }`,
        `    github: { token_env: DEPLOY_GITHUB_TOKEN, api_url: ${JSON.stringify(api)} }`,
      ].join('\n'),
    });
  });

  afterAll(() => {
    trigger?.child.kill('SIGKILL');
    killGroups(pids);
    github.server.close();
    setup.remove();
    trunk.remove();
  });

  it('is cut off within seconds, with the reason on /api/state, the page, the log and its deployment; the trigger stays up; a normal revision is not', async () => {
    trigger = runTrigger(setup.file, { env: { DEPLOY_GITHUB_TOKEN: 'ghs_test' } });
    const url = await trigger.url;
    const revision = async (sha: string) => ((await (await fetch(`${url}/api/state`)).json()) as StateSnapshot).repositories[0].revisions.find((r) => r.sha === sha);

    const noisy = land(trunk, 'prints');
    await announce(url, noisy);
    const started = await waitFor('the noisy revision started', () => new RegExp(`started ${noisy} \\(pid (\\d+), port (\\d+)`).exec(trigger!.stderr()));
    const pid = Number(started[1]);
    pids.add(pid);
    const bad = await waitFor('the noisy revision cut off', async () => ((await revision(noisy))?.state === 'bad' ? await revision(noisy) : null), 30_000);
    const tookMs = Date.parse(bad.since) - Date.parse(bad.startedAt);
    process.stdout.write(`the noisy revision was cut off ${tookMs} ms after it started: ${bad.reason}\n`);
    expect(bad.reason).toMatch(REASON);
    expect(tookMs).toBeLessThan(10_000);
    const reason = bad.reason.replace(/^cut off: /, '');
    expect(trigger.stderr()).toContain(`cut off ${noisy}: ${reason}`);
    expect(await (await fetch(`${url}/`)).text()).toContain(reason);
    await waitFor('its deployment status: failure, with the reason', () => github.statuses.some((s) => s.endsWith(`: failure: cut off: ${reason}`)));
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^merge_gate_deploy_ruled_out_total\{repository="octo\/app",reason="output"\} 1$/m);

    // Stopped like any cut-off revision: its process group is gone and its log stops growing.
    await waitFor('its process gone', () => !isAlive(pid));
    const log = join(setup.config.workdir, 'octo__app', `${noisy}.log`);
    const size = () => statSync(log).size;
    const before = size();
    await new Promise((res) => setTimeout(res, 300));
    expect(size()).toBe(before);
    expect(trigger.child.exitCode).toBeNull();

    // A normal revision (a line at start, nothing after) is deployed next and stays healthy over two windows.
    const normal = land(trunk, 'healthy');
    await announce(url, normal);
    const healthy = await waitFor('the normal revision healthy', async () => ((await revision(normal))?.state === 'healthy' ? await revision(normal) : null));
    pids.add(healthy.pid!);
    await new Promise((res) => setTimeout(res, 2 * WINDOW_MS + 500));
    expect([(await revision(normal))?.state, trigger.child.exitCode]).toEqual(['healthy', null]);
    expect(trigger.stderr()).not.toContain('cannot be measured');
  }, 60_000);
});
