// The deploy trigger under test: a real trunk (git repository in a temp folder)
// holding examples/service, a config written to disk and loaded through the real
// loader, signed trunk-updated events, and polling for conditions.
//
// CI is a busy 2-core machine: every real-time wait here has ample headroom
// (a wait ends as soon as its condition holds, so headroom costs nothing when
// things go well), and a deadline a test wants to see pass (health.startup)
// is passed by moving the trigger's clock, not by keeping it short. A test
// that fails prints the trigger's log, every revision's state and reason, and
// the services' output (`itReporting`).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { loadDeployConfigText, type DeployConfig } from '../../src/deploy/config.js';
import { Store } from '../../src/deploy/store.js';
import { DeployTrigger, type TriggerOptions } from '../../src/deploy/trigger.js';
import { formatPolicyError } from '../../src/policy/load.js';
import { makeRepo, type TempRepo } from './git-repo.js';
import { compiled } from './compiled.js';

export const SERVICE_DIR = fileURLToPath(new URL('../../examples/service/', import.meta.url));
/** A Standard Webhooks secret for the tests (whsec_ + base64). */
export const SECRET = `whsec_${Buffer.from('merge-gate deploy trigger test secret').toString('base64')}`;

/** How long a test waits for a condition (a deploy, a cut-off) before it fails: ample on a busy machine. */
export const DEPLOY_WAIT_MS = 60_000;
/** A deploy test's own time limit (`itReporting`): several waits' worth. */
export const DEPLOY_TEST_MS = 150_000;

/** A trunk whose first commit is the sample service, healthy. */
export function makeTrunk(): TempRepo {
  const repo = makeRepo();
  cpSync(join(SERVICE_DIR, 'server.mjs'), join(repo.dir, 'server.mjs'));
  cpSync(join(SERVICE_DIR, 'deploy'), join(repo.dir, 'deploy'), { recursive: true });
  repo.commit('the sample service', { 'behaviour.txt': 'healthy\n' });
  return repo;
}

/** Land a revision on the trunk with the given behaviour; returns its SHA. */
export function land(trunk: TempRepo, behaviour = 'healthy', note = String(Math.random())): string {
  return trunk.commit(`land: ${behaviour}`, { 'behaviour.txt': `${behaviour}\n`, 'NOTE.txt': `${note}\n` });
}

/**
 * A port range of `size` ports picked at random high up, so concurrent test
 * runs (other engineers, other files) rarely meet; the trigger also skips ports in use.
 */
export function randomPorts(size = 40): string {
  const from = 20000 + Math.floor(Math.random() * 800) * 50;
  return `${from}-${from + size - 1}`;
}

/**
 * Probes every 100 ms; a probe may take 5 s and a start 60 s before they
 * count against a healthy revision. Tests that need a revision cut off for
 * not starting move the clock past `startup` (`passStartup`).
 */
export const HEALTH = '{ url: "http://127.0.0.1:${PORT}/healthz", interval: 100ms, timeout: 5s, failures: 3, startup: 60s }';

export interface ConfigOptions {
  remote: string;
  repository?: string;
  health?: string;
  signals?: string;
  keep?: number;
  reconcile?: string;
  extra?: string;
  top?: string;
}

/** Write deploy.yml in a fresh temp folder and load it with the real loader. */
export function writeConfig(o: ConfigOptions): { dir: string; file: string; config: DeployConfig; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'merge-gate-deploy-'));
  const text = `listen: 127.0.0.1:0
state: state/deploy.sqlite
workdir: revisions
${o.top ?? ''}
repositories:
  ${o.repository ?? 'octo/app'}:
    remote: ${JSON.stringify(o.remote)}
    branch: main
    deploy: ./deploy/start.sh
    ports: ${randomPorts()}
    health: ${o.health ?? HEALTH}
    signals: ${o.signals ?? '{ max: 5, window: 60s }'}
    keep: ${o.keep ?? 2}
    reconcile: ${o.reconcile ?? '60s'}
${o.extra ?? ''}
`;
  const file = join(dir, 'deploy.yml');
  writeFileSync(file, text);
  const loaded = loadDeployConfigText(text, file);
  if (!loaded.ok) throw new Error(loaded.errors.map(formatPolicyError).join('\n'));
  return { dir, file, config: loaded.config, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface EventOptions {
  id?: string;
  /** Seconds since the epoch written in webhook-timestamp. */
  timestamp?: number;
  secret?: string;
  repository?: string;
  branch?: string;
  /** The event's `pull_request` (default: #1 "a change" by alice). */
  pullRequest?: { number: number; title: string; url: string; author: string };
  /** An event's `pull_requests`, when a queue landed several. */
  pullRequests?: unknown[];
}

export function trunkUpdated(after: string, o: EventOptions = {}): string {
  return JSON.stringify({
    type: 'trunk-updated',
    id: randomUUID(),
    repository: o.repository ?? 'octo/app',
    branch: o.branch ?? 'main',
    before: null,
    after,
    pull_request: { ...(o.pullRequest ?? { number: 1, title: 'a change', url: 'https://github.com/octo/app/pull/1', author: 'alice' }), head_sha: after },
    ...(o.pullRequests ? { pull_requests: o.pullRequests } : {}),
    landed_at: new Date().toISOString(),
  });
}

/** Standard Webhooks headers for `body`, signed the way landing's outbox signs. */
export function signedHeaders(body: string, o: EventOptions = {}): Record<string, string> {
  const id = o.id ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = new Webhook(o.secret ?? SECRET).sign(id, new Date(timestamp * 1000), body);
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

export async function postEvent(baseUrl: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}/hooks/trunk-updated`, { method: 'POST', body, headers });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

/** Send a signed trunk-updated for `after`. */
export function announce(baseUrl: string, after: string, o: EventOptions = {}) {
  const body = trunkUpdated(after, o);
  return postEvent(baseUrl, body, signedHeaders(body, o));
}

/** Poll `probe` until it returns a truthy value; fail with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = DEPLOY_WAIT_MS, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET a service's `/` (its revision), or null when nothing answers. */
export async function serviceRevision(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { revision: string }).revision;
  } catch {
    return null;
  }
}

/**
 * A running revision's SIGNAL_URL token, as its process got it: the state file
 * keeps only the token's hash, so a test reads the service's environment.
 */
export function signalToken(pid: number): string {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const url = env.find((v) => v.startsWith('SIGNAL_URL='))?.slice('SIGNAL_URL='.length);
  const token = url ? new URL(url).searchParams.get('token') : null;
  if (!token) throw new Error(`process ${pid} has no SIGNAL_URL with a token`);
  return token;
}

/** Test clean-up: SIGKILL the process group each pid leads (services run in their own), skipping those already gone. */
export function killGroups(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


export interface TriggerProcess {
  child: ChildProcess;
  /** Its base URL, once it listens (rejects if it exits first). */
  url: Promise<string>;
  stderr: () => string;
  exit: Promise<number | null>;
}

/**
 * The trigger as a real process: `merge-gate deploy-trigger --config FILE [ARGS…]` (the CLI); `maxFiles` caps
 * its descriptors (`ulimit -n`); `env` adds to its environment (a GitHub token).
 */
export function runTrigger(configFile: string, o: { maxFiles?: number; args?: readonly string[]; env?: Record<string, string> } = {}): TriggerProcess {
  const args = [compiled('src/cli/index.js'), 'deploy-trigger', '--config', configFile, ...(o.args ?? [])];
  const [file, argv] = o.maxFiles === undefined ? [process.execPath, args] : ['/bin/sh', ['-c', `ulimit -n ${o.maxFiles} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(file, argv, {
    env: { ...process.env, NODE_OPTIONS: '', TRUNK_WEBHOOK_SECRET: SECRET, ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`the trigger exited: ${stderr}`)));
  });
  url.catch(() => {});
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, stderr: () => stderr, exit };
}

/** A clock the test moves on: real time plus whatever `advance` added. The trigger reads its deadlines from it. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let ahead = 0;
  return { now: () => Date.now() + ahead, advance: (ms) => void (ahead += ms) };
}

export interface TestTrigger {
  trigger: DeployTrigger;
  config: DeployConfig;
  clock: TestClock;
  /** The trigger's log, kept for `report`. */
  log: string[];
  /** What a failing test prints: the log, every revision's state and reason, the services' output. */
  report(): string;
}

/** A DeployTrigger with the test secret, a movable clock, and its log kept (never discarded). */
export function testTrigger(config: DeployConfig, options: Partial<TriggerOptions> = {}): TestTrigger {
  const log: string[] = [];
  const clock = testClock();
  const { env, ...rest } = options;
  const trigger = new DeployTrigger({
    config,
    // The trigger's environment: PATH and the like pass to commands (an allow-list), the secret never does.
    env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET, ...env },
    now: clock.now,
    log: (line) => log.push(`${new Date().toISOString()} ${line}`),
    stopGraceMs: 1000,
    // A test's trigger takes its services with it when it stops (the CLI's default leaves them serving).
    stopServicesOnExit: true,
    ...rest,
  });
  return { trigger, config, clock, log, report: () => deployReport(config, log, trigger.store) };
}

/**
 * Drive a revision that never turns healthy past `health.startup` instead of
 * waiting the deadline out: once it is starting and its latest probe failed
 * with `lastError` (the service is up and answering badly), the trigger's
 * clock moves on by `startup`.
 */
export async function passStartup(t: TestTrigger, sha: string, lastError: string, repository = 'octo/app'): Promise<void> {
  const store = t.trigger.store;
  await waitFor(`${sha.slice(0, 12)} starting, its latest probe failed with ${lastError}`, () => store.revision(repository, sha)?.state === 'starting' && store.health(repository, sha).at(-1)?.error === lastError);
  t.clock.advance(t.config.repositories[repository].health.startup);
}

/**
 * The trigger's log (the last 150 lines), each revision's state since when and
 * why, the recent state history, and the last lines each service wrote.
 * `store` defaults to the state file (a trigger in another process).
 */
export function deployReport(config: DeployConfig, log: readonly string[] | string, store?: Store): string {
  const lines = typeof log === 'string' ? log.split('\n') : [...log];
  const out = ["--- the deploy trigger's log ---", ...(lines.length > 0 ? lines.slice(-150) : ['(nothing logged)'])];
  let own: Store | null = null;
  try {
    const state = store ?? (own = new Store(config.state));
    for (const repository of Object.keys(config.repositories)) {
      out.push(`--- ${repository}: revisions (desired ${state.desired(repository) ?? 'none'}) ---`);
      for (const r of state.revisions(repository)) out.push(`${r.sha.slice(0, 12)} ${r.state} since ${new Date(r.since).toISOString()}: ${r.reason}`);
      out.push(`--- ${repository}: state history, newest first ---`);
      for (const h of state.history(repository, 30)) out.push(`${new Date(h.at).toISOString()} ${h.sha.slice(0, 12)} ${h.state}: ${h.reason}`);
    }
  } catch (err) {
    out.push(`(the state could not be read: ${(err as Error).message})`);
  } finally {
    own?.close();
  }
  if (existsSync(config.workdir)) {
    for (const repoDir of readdirSync(config.workdir)) {
      const dir = join(config.workdir, repoDir);
      for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.log')) : []) {
        out.push(`--- ${repoDir}/${file} (the service's output, last 20 lines) ---`, ...readFileSync(join(dir, file), 'utf8').trimEnd().split('\n').slice(-20));
      }
    }
  }
  return out.join('\n');
}

/**
 * `it`, for a test that drives a deploy trigger: if the test fails — an
 * assertion, a wait that times out, or the test running out of `budgetMs` —
 * the failure carries `report()` (the trigger's log and the revisions' states).
 */
export function itReporting(report: () => string | Promise<string>): (name: string, body: () => void | Promise<void>, budgetMs?: number) => void {
  return (name, body, budgetMs = DEPLOY_TEST_MS) =>
    it(
      name,
      async () => {
        let timer: NodeJS.Timeout | undefined;
        const overtime = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the test is still not done after ${budgetMs / 1000}s`)), budgetMs);
        });
        try {
          await Promise.race([Promise.resolve().then(body), overtime]);
        } catch (err) {
          throw withReport(err, await report());
        } finally {
          clearTimeout(timer);
        }
      },
      budgetMs + 20_000,
    );
}

function withReport(err: unknown, report: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message = `${e.message}\n\n${report}`; // jest prints the message, then the stack's frames
  return e;
}
