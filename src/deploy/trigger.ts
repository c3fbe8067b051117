// The deploy trigger (SPEC §5): the shell around core.ts. It gathers facts
// (events, `git ls-remote`, probes, signals, process exits), asks the core
// what to do, and does it: lay out a revision, start it, cut it off, reap it,
// and record everything in SQLite so a restart resumes where it stopped.
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { makeDirs } from '../dirs.js';
import { setTimeout as delay } from 'node:timers/promises';
import { adoptionVerdict, afterProbe, breakerVerdict, chooseDesired, isRuledOut, isRunning, keptSamples, nextDeploy, reapList, type BreakerConfig, type OutputSample } from './core.js';
import type { DeployConfig, RepositoryConfig } from './config.js';
import { commandEnv, missingFrom } from './environment.js';
import { octokitDeployments, type Deployments, type DeploymentState } from './github.js';
import { TriggerMetrics } from './metrics.js';
import { Mirror } from './mirror.js';
import { listenOn, portIsFree, shownUrl } from './net.js';
import { renderPage, type StateSnapshot } from './page.js';
import { stateSnapshot } from './snapshot.js';
import { probe, type Probe } from './probe.js';
import { cgroupParent, createCgroup, killCgroup, stopCgroup, type CgroupParent } from './cgroup.js';
import { killOrphanGroup, logFiles, processStartTime, runCommand, startService, stopGroup, writtenBytes, type Spawn } from './processes.js';
import { json, triggerServer, type Handlers, type Limits, type Reply } from './server.js';
import { hashToken, signalToken, Store, tokenMatches, type SlotRow } from './store.js';
import { tailLines } from './tail.js';
import { lockState, type StateLock } from '../state/lock.js';
import { landedPulls, MAX_BODY_BYTES, parseSecrets, parseTrunkUpdated, verifyDelivery } from './webhook.js';

export interface TriggerOptions {
  config: DeployConfig;
  /** The config file as given on the command line: the status page shows it in the `retry` command. */
  configFile?: string;
  /** The trigger's environment: secrets and tokens (`secret_env`, `github.token_env`), and what commands may get (`env:`). */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  log?: (line: string) => void;
  /** How long a stopped service gets between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
  /** How often `deploy-trigger retry` requests are picked up. */
  retryPollMs?: number;
  /** How services are started (default `child_process.spawn`; a test makes a start fail). */
  spawn?: Spawn;
  /** One health probe (default probe.ts; a test makes one fail as the trigger's own failure would). */
  probe?: Probe;
  /**
   * `stop` stops every service too (`--stop-services-on-exit`, for development). Otherwise the trigger is a
   * controller, not the services' parent: they keep serving and the next start adopts them.
   */
  stopServicesOnExit?: boolean;
}

/** One instance of a revision: a retry may start a new one while the last is still being cut off. */
interface Running {
  sha: string;
  /** The deploy number of this run: what its slot and directory are keyed by. */
  seq: number;
  pid: number;
  startTime: string;
  port: number;
  dir: string;
  log: string;
  /** SHA-256 of its signal token (the token itself is only in its SIGNAL_URL). */
  tokenHash: string;
  /** What its commands get (environment.ts). */
  env: Record<string, string>;
  /** Its own cgroup, or null (cgroup.ts): what its stop kills, whatever left the process group. */
  cgroup: string | null;
  streak: number;
  lastError: string | null;
  /** What its log writer had written, at each probe tick within `logs.rate_window` (core.ts `outputVerdict`). */
  output: OutputSample[];
  /** Why its output cannot be measured, once logged (its rate is then not limited). */
  outputUnread: string | null;
  timer: NodeJS.Timeout | null;
  probing: boolean;
  /** Set once the trigger itself stops it: its exit is then expected. */
  stopping: boolean;
  adopted: boolean;
}

interface Repo {
  name: string;
  config: RepositoryConfig;
  mirror: Mirror;
  /** Revisions heard of (events, ls-remote) since the last look. */
  hints: string[];
  running: Map<string, Running>;
  loop: Promise<void> | null;
  again: boolean;
  timer: NodeJS.Timeout | null;
  deployments: Deployments | null;
}

const COMMAND_TIMEOUT_MS = 60_000;
/** Runs of the trigger that died while the same revision was starting before it is marked bad. */
const CRASHES_TO_BAD = 3;
/** Lines of a revision's output served by GET /revisions/<sha>/log. */
const LOG_LINES = 200;

export class DeployTrigger {
  readonly store: Store;
  /** One trigger per state file (src/state/lock.ts); released by `stop`, or by the kernel when the process ends. */
  private readonly lock: StateLock;
  readonly metrics = new TriggerMetrics();
  private readonly repos = new Map<string, Repo>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly secrets: string[];
  /** The trigger's environment, and the names in it no revision's command gets. */
  private readonly env: NodeJS.ProcessEnv;
  private readonly secretNames: string[];
  private readonly grace: number;
  private server: Server | null = null;
  /** The status page's own listener (`status_listen`), when configured. */
  private statusServer: Server | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly background = new Set<Promise<unknown>>();
  private readonly github = new Map<string, Promise<void>>();
  private baseUrl = '';
  /**
   * Why the trigger stopped deploying, once a state write failed in a background path (an exit handler, a
   * probe result, a timer): it keeps serving the page and watching, but starts nothing until restarted.
   */
  private degraded: string | null = null;
  /** This run is recorded in the state (`runs`): a stop then records that it ended cleanly. */
  private runBegun = false;
  /** Ports handed out but not yet recorded in a slot (two repositories may deploy at once). */
  private readonly reserved = new Set<number>();
  /** Where each revision's cgroup goes, or why there are none (cgroup.ts). */
  private readonly cgroups: CgroupParent;

  constructor(private readonly options: TriggerOptions) {
    const { config } = options;
    const env = options.env ?? process.env;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
    this.grace = options.stopGraceMs ?? 5000;
    this.secrets = parseSecrets(env[config.secret_env]);
    if (this.secrets.length === 0) throw new Error(`no webhook secret: set ${config.secret_env} (a Standard Webhooks secret, whsec_…; several comma-separated while rotating)`);
    this.env = env;
    this.secretNames = [config.secret_env, ...Object.values(config.repositories).flatMap((rc) => (rc.github ? [rc.github.token_env] : []))];
    const missing = Object.entries(config.repositories).flatMap(([name, rc]) => missingFrom(env, rc.env).map((m) => `${name}: ${m}`));
    if (missing.length > 0) throw new Error(`${missing.join('; ')} in the deploy trigger's environment`);
    // The state and the revisions are the trigger's alone (0700): services may run as another user.
    makeDirs(dirname(config.state), 0o700);
    this.lock = lockState(config.state, 'merge-gate deploy-trigger'); // before anything reads or writes the state
    this.store = new Store(config.state);
    makeDirs(config.workdir, 0o700);
    this.cgroups = cgroupParent(config.cgroup);
    for (const [name, rc] of Object.entries(config.repositories)) {
      let deployments: Deployments | null = null;
      if (rc.github) {
        const token = env[rc.github.token_env];
        if (token) deployments = octokitDeployments(token, rc.github.environment, rc.github.api_url);
        else this.log(`${name}: github is configured but ${rc.github.token_env} is not set; no GitHub Deployments`);
      }
      this.repos.set(name, {
        name,
        config: rc,
        mirror: new Mirror(join(config.workdir, slug(name), 'mirror.git'), rc.remote, rc.branch),
        hints: [],
        running: new Map(),
        loop: null,
        again: false,
        timer: null,
        deployments,
      });
    }
  }

  /**
   * Listen, adopt what a previous run left, reconcile. Resolves with the base URL. Listening comes first: a
   * trigger that cannot listen (the port is taken) has touched no service when it fails.
   */
  async start(): Promise<string> {
    const { listen, status_listen: statusListen, connections } = this.options.config;
    const handlers: Handlers = {
      hook: (body, headers) => this.onHook(body, headers),
      hookTooLarge: (headers) => this.refuse(413, `the body is over ${MAX_BODY_BYTES} bytes`, headers),
      log: (sha, repository) => this.logTail(sha, repository),
      signal: (sha, token, note) => this.onSignal(sha, token, note),
      page: (options) => renderPage(this.snapshot({ before: options.before }), options),
      state: (page) => this.snapshot(page),
      metrics: async () => {
        this.refreshDesiredGauges();
        return { type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
      },
    };
    const onError = (err: unknown) => this.log(`http: ${(err as Error).stack ?? String(err)}`);
    const limits: Limits = { maxConnections: connections.max, perAddress: connections.per_address, headersTimeoutMs: connections.headers_timeout, requestTimeoutMs: connections.request_timeout };
    // With status_listen, the network-facing listener serves hooks and signals only.
    this.server = triggerServer(handlers, onError, statusListen ? 'hooks' : 'all', limits);
    await listenOn(this.server, listen);
    if (statusListen) {
      this.statusServer = triggerServer(handlers, onError, 'status', limits);
      try {
        await listenOn(this.statusServer, statusListen);
      } catch (err) {
        this.server.close();
        throw err;
      }
      const a = this.statusServer.address() as AddressInfo;
      this.log(`status page on ${shownUrl(a)}`);
    }
    this.log(
      this.cgroups.ok
        ? `each revision runs in a cgroup of its own under ${this.cgroups.path}`
        : `no cgroups for revisions (${this.cgroups.reason}): a service that leaves its process group (setsid, a daemon) can outlive its revision; a port still in use is never handed out again`,
    );
    const crashed = this.store.beginRun(this.now());
    this.runBegun = true;
    this.adopt(crashed); // in the same tick as listening succeeded: no request is handled before it
    this.baseUrl = shownUrl(this.server.address() as AddressInfo);
    this.log(`listening on ${this.baseUrl}`);
    for (const repo of this.repos.values()) {
      void this.reconcile(repo);
      repo.timer = setInterval(() => void this.reconcile(repo), repo.config.reconcile);
    }
    this.retryTimer = setInterval(() => this.guard('applying retries', () => this.applyRetries()), this.options.retryPollMs ?? 500);
    return this.baseUrl;
  }

  private signalUrl(sha: string, token: string): string {
    return `${this.options.config.public_url?.replace(/\/$/, '') ?? this.baseUrl}/signals/${sha}?token=${token}`;
  }

  /**
   * An adopted run's SIGNAL_URL, as its service got it: its token is re-derived from the webhook secret that
   * made it (any configured one: secrets rotate). A run whose token no configured secret makes (the secret
   * rotated away, or a token from before tokens were derived) gets an empty SIGNAL_URL, and the log says so.
   */
  private adoptedSignalUrl(slot: SlotRow): string {
    for (const secret of this.secrets) {
      const token = signalToken(secret, slot.repository, slot.sha, slot.seq);
      if (tokenMatches(slot.tokenHash, token)) return this.signalUrl(slot.sha, token);
    }
    this.log(`${slot.repository}: ${slot.sha}'s signal token is not one a configured secret makes; its commands get an empty SIGNAL_URL`);
    return '';
  }

  get url(): string {
    return this.baseUrl;
  }

  /** The status listener's base URL (`status_listen`), or null. */
  get statusUrl(): string | null {
    return this.statusServer ? shownUrl(this.statusServer.address() as AddressInfo) : null;
  }

  /**
   * SIGTERM: stop deciding and close. The services keep serving (the next start adopts them, as after a
   * crash), unless `stopServicesOnExit`: then every service this trigger runs is stopped, adopted ones included.
   */
  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
    for (const repo of this.repos.values()) if (repo.timer) clearInterval(repo.timer);
    await Promise.all([...this.repos.values()].map((r) => r.loop));
    const stops: Promise<void>[] = [];
    for (const repo of this.repos.values()) {
      for (const running of repo.running.values()) {
        if (!this.options.stopServicesOnExit) {
          if (running.timer) clearInterval(running.timer);
          continue;
        }
        stops.push(
          this.halt(repo, running).then(() => {
            this.setState(repo, running.sha, 'stopped', 'the deploy trigger stopped');
            this.report(repo, running.sha, 'inactive', 'the deploy trigger stopped');
          }),
        );
      }
    }
    await Promise.all(stops);
    await Promise.allSettled([...this.background]);
    // Unref'd: a shutdown waits for GitHub calls up to 5 s, but the wait itself keeps nothing alive.
    await Promise.race([Promise.allSettled([...this.github.values()]), delay(5000, undefined, { ref: false })]);
    for (const server of [this.server, this.statusServer]) {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
    }
    if (this.runBegun) this.store.endRun(this.now()); // a start that failed to listen leaves the last run's record as it was
    this.store.close();
    this.lock.release();
  }

  // Facts coming in --------------------------------------------------------

  private onHook(body: Buffer, headers: Record<string, string | string[] | undefined>): Reply {
    const verified = verifyDelivery(body, headers, this.secrets);
    if (!verified.ok) return this.refuse(401, `signature not accepted: ${verified.reason}`, headers);
    const parsed = parseTrunkUpdated(body);
    if (!parsed.ok) return this.refuse(400, parsed.reason, headers);
    const event = parsed.event;
    const repo = this.repos.get(event.repository);
    const known = repo !== undefined && repo.config.branch === event.branch;
    const note = known ? `${event.after.slice(0, 12)} landed` : `not configured: ${event.repository}@${event.branch}`;
    const fresh = this.store.recordDelivery({
      id: verified.id,
      receivedAt: this.now(),
      repository: event.repository,
      branch: event.branch,
      after: event.after,
      outcome: known ? 'accepted' : 'ignored',
      note,
    });
    if (!fresh) {
      this.metrics.deliveries.inc({ outcome: 'duplicate' });
      return json(202, { status: 'duplicate', id: verified.id });
    }
    if (!known) {
      this.metrics.deliveries.inc({ outcome: 'ignored' });
      this.log(`hook ${verified.id} ignored: ${note}`);
      return json(202, { status: 'ignored', id: verified.id });
    }
    this.metrics.deliveries.inc({ outcome: 'accepted' });
    this.store.recordPulls(repo.name, event.after, landedPulls(event));
    repo.hints.push(event.after);
    void this.evaluate(repo);
    return json(202, { status: 'accepted', id: verified.id });
  }

  /** A delivery not trusted: counted, logged, kept (only the latest) for the status page, answered. */
  private refuse(status: 400 | 401 | 413, reason: string, headers: Record<string, string | string[] | undefined>): Reply {
    const outcome = { 400: 'malformed', 401: 'unauthorized', 413: 'too_large' }[status];
    const id = typeof headers['webhook-id'] === 'string' ? headers['webhook-id'].slice(0, 100) : null;
    this.metrics.deliveries.inc({ outcome });
    this.log(`hook${id ? ` ${JSON.stringify(id)}` : ''} refused (${status}): ${reason}`);
    this.store.recordRefused({ at: this.now(), status, reason: reason.slice(0, 300), webhookId: id });
    return json(status, { error: reason });
  }

  private onSignal(sha: string, token: string, note: string): Reply {
    for (const repo of this.repos.values()) {
      const running = repo.running.get(sha);
      if (!running || running.stopping || !tokenMatches(running.tokenHash, token)) continue;
      this.store.recordSignal(repo.name, sha, this.now(), note.slice(0, 500));
      this.metrics.signals.inc({ repository: repo.name });
      this.checkBreaker(repo, running);
      return json(202, { status: 'recorded' });
    }
    return json(403, { error: 'not a running revision, or not its token' });
  }

  /** Level-triggered: compare the trunk head with the desired revision. */
  private async reconcile(repo: Repo): Promise<void> {
    if (this.closing) return;
    try {
      const head = await repo.mirror.remoteHead();
      if (head && head !== this.store.desired(repo.name)) repo.hints.push(head);
      // Also when nothing moved: a retried or stopped desired revision is picked up here.
      await this.evaluate(repo);
    } catch (err) {
      this.log(`${repo.name}: reconcile failed: ${(err as Error).message}`);
    }
  }

  // Deciding and acting ----------------------------------------------------

  /** One decision loop per repository at a time; what arrives meanwhile runs one more round. */
  private evaluate(repo: Repo): Promise<void> {
    if (repo.loop) {
      repo.again = true;
      return repo.loop;
    }
    repo.loop = (async () => {
      try {
        do {
          repo.again = false;
          if (this.closing) return;
          await this.updateDesired(repo);
          const revisions = this.store.revisions(repo.name);
          const sha = nextDeploy(this.store.desired(repo.name), revisions);
          if (sha && this.degraded) this.log(`${repo.name}: not deploying ${sha}: degraded (${this.degraded})`);
          else if (sha && !this.closing) await this.deploy(repo, sha);
          this.reap(repo);
          this.metrics.setRevisionCounts(repo.name, this.store.revisions(repo.name).map((r) => r.state));
        } while (repo.again);
      } catch (err) {
        this.log(`${repo.name}: ${(err as Error).stack ?? String(err)}`);
      } finally {
        repo.loop = null;
      }
    })();
    return repo.loop;
  }

  private async updateDesired(repo: Repo): Promise<void> {
    // A hint naming the desired revision is no news: it costs no git (each spawn stalls the thread for a fork).
    const hints = repo.hints.splice(0).filter((sha) => sha !== this.store.desired(repo.name));
    if (hints.length === 0) return;
    let head: string | null;
    try {
      head = await repo.mirror.fetch();
    } catch (err) {
      this.log(`${repo.name}: fetch from ${repo.config.remote} failed: ${(err as Error).message}`);
      return;
    }
    let desired = this.store.desired(repo.name);
    for (const candidate of [...hints, ...(head ? [head] : [])]) {
      if (!(await repo.mirror.has(candidate))) {
        this.log(`${repo.name}: ${candidate} is not on ${repo.config.branch} of the remote; ignored`);
        continue;
      }
      desired = chooseDesired(desired, candidate, desired === null ? 'newer' : await repo.mirror.relation(desired, candidate));
    }
    if (desired && desired !== this.store.desired(repo.name)) {
      this.store.setDesired(repo.name, desired, this.now());
      this.log(`${repo.name}: desired revision ${desired}`);
      await this.noteSubject(repo, desired);
    }
  }

  /** The commit's subject for the status page; not knowing it never stops a deploy. */
  private async noteSubject(repo: Repo, sha: string): Promise<void> {
    try {
      const subject = await repo.mirror.subject(sha);
      if (subject) this.store.recordSubject(repo.name, sha, subject);
    } catch (err) {
      this.log(`${repo.name}: could not read the subject of ${sha}: ${(err as Error).message}`);
    }
  }

  private async deploy(repo: Repo, sha: string): Promise<void> {
    const rc = repo.config;
    const { seq } = this.store.beginDeploy(repo.name, sha, this.now(), 'deploying');
    this.metrics.deploys.inc({ repository: repo.name });
    this.log(`${repo.name}: deploying ${sha}`);
    this.createDeployment(repo, sha);
    const base = join(this.options.config.workdir, slug(repo.name));
    // A directory per instance: the last run of the same revision may still be stopping in its own.
    const dir = join(base, `${sha}-${seq}`);
    try {
      await repo.mirror.checkout(sha, dir);
      const port = await this.allocatePort(rc.ports);
      const token = signalToken(this.secrets[0], repo.name, sha, seq);
      const log = this.logFile(repo.name, sha);
      const env = this.commandEnv(rc, { REVISION: sha, PORT: String(port), REPOSITORY: repo.name, CHECKOUT: dir, SIGNAL_URL: this.signalUrl(sha, token) });
      let started: Awaited<ReturnType<typeof startService>>;
      let cgroup: string | null = null;
      try {
        if (this.cgroups.ok) cgroup = createCgroup(this.cgroups.path, `${slug(repo.name)}-${sha.slice(0, 12)}-${seq}`);
        started = await startService(rc.deploy, dir, env, log, this.options.spawn, { maxBytes: rc.logs.max_bytes, keep: rc.logs.keep }, cgroup);
        this.store.saveSlot({ repository: repo.name, sha, seq, pid: started.pid, startTime: started.startTime, port, dir, log, tokenHash: hashToken(token), cgroup });
      } catch (err) {
        if (cgroup) await stopCgroup(cgroup, 0, (ms) => delay(ms));
        throw err;
      } finally {
        this.reserved.delete(port);
      }
      this.log(`${repo.name}: started ${sha} (pid ${started.pid}, port ${port}, output in ${log})`);
      const running: Running = { sha, seq, pid: started.pid, startTime: started.startTime, port, dir, log, tokenHash: hashToken(token), env, cgroup, streak: 0, lastError: null, output: [], outputUnread: null, timer: null, probing: false, stopping: false, adopted: false };
      repo.running.set(sha, running);
      void started.exited.then((how) => this.guard(`${repo.name}: the exit of ${sha}`, () => this.onExit(repo, running, how)));
      this.watch(repo, running);
      this.report(repo, sha, 'in_progress', `starting on port ${port}`);
    } catch (err) {
      // Nothing runs: the revision is failed with the reason, and the trigger goes on.
      const reason = `could not start: ${(err as Error).message}`;
      rmSync(dir, { recursive: true, force: true });
      this.setState(repo, sha, 'failed', reason);
      this.log(`${repo.name}: ${sha} ${reason}`);
      this.report(repo, sha, 'failure', reason);
    }
  }

  private watch(repo: Repo, running: Running): void {
    const once = () => void this.probeOnce(repo, running).catch((err: unknown) => this.degrade(`${repo.name}: the probe of ${running.sha}`, err));
    running.timer = setInterval(once, repo.config.health.interval);
    once();
  }

  private async probeOnce(repo: Repo, running: Running): Promise<void> {
    if (running.stopping || this.closing) return;
    // Adopted services are not our children: notice their end through /proc.
    if (running.adopted && processStartTime(running.pid) !== running.startTime) return this.onExit(repo, running, 'gone');
    this.sampleOutput(repo, running);
    this.checkBreaker(repo, running);
    if (running.probing || running.stopping) return;
    running.probing = true;
    try {
      const h = repo.config.health;
      const result = await (this.options.probe ?? probe)({ url: h.url, command: h.command, timeoutMs: h.timeout, port: running.port, cwd: running.dir, env: running.env, cgroup: running.cgroup });
      if (running.stopping || this.closing) return;
      const inconclusive = result.inconclusive === true;
      this.store.recordHealth(repo.name, running.sha, { at: this.now(), ok: result.ok, ms: Math.round(result.ms * 10) / 10, error: result.error, inconclusive });
      this.metrics.probe.observe({ repository: repo.name, outcome: result.ok ? 'ok' : inconclusive ? 'inconclusive' : 'failed' }, result.ms / 1000);
      if (inconclusive) this.log(`${repo.name}: probe of ${running.sha} inconclusive, not counted: ${result.error}`);
      const revision = this.store.revision(repo.name, running.sha);
      if (!revision) return;
      const next = afterProbe(revision.state, running.streak, inconclusive ? 'inconclusive' : result.ok);
      running.streak = next.streak;
      if (!result.ok && !inconclusive) running.lastError = result.error;
      if (next.becameHealthy) {
        this.store.clearCrashes(repo.name, running.sha);
        this.setState(repo, running.sha, 'healthy', 'health probe passed');
        this.report(repo, running.sha, 'success', 'healthy');
        void this.evaluate(repo);
      }
      this.checkBreaker(repo, running);
    } finally {
      running.probing = false;
    }
  }

  private breakerConfig(rc: RepositoryConfig): BreakerConfig {
    return { failures: rc.health.failures, startupMs: rc.health.startup, maxSignals: rc.signals.max, signalWindowMs: rc.signals.window, maxOutputRate: rc.logs.max_rate, outputWindowMs: rc.logs.rate_window };
  }

  /** On each probe tick: how much the revision has printed (its log writer's count), for `logs.max_rate`. */
  private sampleOutput(repo: Repo, running: Running): void {
    const { max_rate: maxRate, rate_window: windowMs } = repo.config.logs;
    if (maxRate === null || running.outputUnread !== null) return;
    const now = this.now();
    try {
      running.output = [...keptSamples(running.output, now, windowMs), { at: now, bytes: writtenBytes(running.pid) }];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // it has just ended: its exit is handled
      // The trigger's own failure: never a cut-off, but said once, with what it means.
      running.outputUnread = (err as Error).message;
      this.log(`${repo.name}: ${running.sha}: its output cannot be measured (${running.outputUnread}); logs.max_rate is not enforced for it`);
    }
  }

  private checkBreaker(repo: Repo, running: Running): void {
    if (running.stopping) return;
    const revision = this.store.revision(repo.name, running.sha);
    if (!revision) return;
    const now = this.now();
    const windowMs = repo.config.signals.window;
    const verdict = breakerVerdict(
      { state: revision.state, startedAt: revision.startedAt, consecutiveFailures: running.streak, lastError: running.lastError, signalTimes: this.store.signalTimes(repo.name, running.sha, now - windowMs), output: running.output },
      this.breakerConfig(repo.config),
      now,
    );
    if (verdict) this.track(this.cutOff(repo, running, verdict));
  }

  /** Circuit breaker: mark it bad at once (so nothing deploys it again), then stop it. */
  private async cutOff(repo: Repo, running: Running, reason: string): Promise<void> {
    if (running.stopping) return;
    running.stopping = true;
    this.setState(repo, running.sha, 'bad', `cut off: ${reason}`);
    this.metrics.cutoffs.inc({ repository: repo.name });
    this.log(`${repo.name}: cut off ${running.sha}: ${reason}`);
    this.report(repo, running.sha, 'failure', `cut off: ${reason}`);
    if (repo.config.cutoff) {
      const result = await runCommand(repo.config.cutoff, running.dir, running.env, COMMAND_TIMEOUT_MS, { log: running.log, cgroup: running.cgroup });
      if (!result.ok) this.log(`${repo.name}: cutoff command for ${running.sha} failed: ${result.detail}`);
    }
    await this.halt(repo, running);
    void this.evaluate(repo);
  }

  private onExit(repo: Repo, running: Running, how: string): void {
    if (running.stopping || this.closing) return;
    running.stopping = true;
    const reason = `exited by itself (${how}); see ${running.log}`;
    this.setState(repo, running.sha, 'failed', reason);
    this.log(`${repo.name}: ${running.sha} ${reason}`);
    this.report(repo, running.sha, 'failure', `exited by itself (${how})`);
    this.track(this.halt(repo, running).then(() => this.evaluate(repo)));
  }

  /** Reaper: stop healthy revisions beyond the newest `keep`. */
  private reap(repo: Repo): void {
    for (const sha of reapList(this.store.revisions(repo.name), repo.config.keep)) {
      const running = repo.running.get(sha);
      this.setState(repo, sha, 'reaped', `reaped: ${repo.config.keep} newer healthy revision${repo.config.keep === 1 ? '' : 's'} running`);
      this.metrics.reaps.inc({ repository: repo.name });
      this.log(`${repo.name}: reaped ${sha}`);
      this.report(repo, sha, 'inactive', 'reaped');
      if (!running) continue;
      running.stopping = true;
      this.track(
        (async () => {
          if (repo.config.stop) {
            const result = await runCommand(repo.config.stop, running.dir, running.env, COMMAND_TIMEOUT_MS, { log: running.log, cgroup: running.cgroup });
            if (!result.ok) this.log(`${repo.name}: stop command for ${sha} failed: ${result.detail}`);
          }
          await this.halt(repo, running);
          // A reaped revision's output goes with it (bad and failed ones keep theirs, for the post-mortem).
          if (this.store.revision(repo.name, sha)?.state === 'reaped') for (const file of logFiles(running.log, repo.config.logs.keep)) rmSync(file, { force: true });
        })(),
      );
    }
  }

  /**
   * Stop one instance's process group and forget that instance: its slot and
   * directory, never a newer instance's (a retry may have started one meanwhile).
   */
  private async halt(repo: Repo, running: Running): Promise<void> {
    running.stopping = true;
    if (running.timer) clearInterval(running.timer);
    // Only signal the group if it is still the process we started (a PID can be reused).
    // Its leader gone entirely, what is left of the group is still ours: a PID in use as a group ID is not handed out again.
    const live = processStartTime(running.pid);
    if (running.cgroup) {
      // Its cgroup holds whatever it started, in its process group or not, and is ours whatever became of its PIDs.
      const left = await stopCgroup(running.cgroup, this.grace, (ms) => delay(ms));
      if (left) this.log(`${repo.name}: ${running.sha}: ${left}`);
    } else if (live === running.startTime || live === null || !running.adopted) {
      await stopGroup(running.pid, this.grace, (ms) => delay(ms));
    }
    if (!running.cgroup && !(await portIsFree(running.port))) {
      this.log(`${repo.name}: port ${running.port} of ${running.sha} is still in use after its process group was stopped: a process left the group (setsid, a daemon) and outlives its revision; the port is not handed out again while it is in use`);
    }
    if (repo.running.get(running.sha) === running) repo.running.delete(running.sha);
    this.store.deleteSlot(repo.name, running.sha, running.seq);
    rmSync(running.dir, { recursive: true, force: true });
  }

  /**
   * After a restart: adopt the services still running as recorded; clean up what died. When the last run
   * died abnormally, a revision still starting then is suspect: the CRASHES_TO_BAD-th time, it is marked bad
   * (and its process killed below) instead of being adopted or deployed again.
   */
  private adopt(crashed: boolean): void {
    for (const repo of crashed ? this.repos.values() : []) {
      for (const revision of this.store.revisions(repo.name).filter((r) => r.state === 'starting')) {
        const times = this.store.countCrash(repo.name, revision.sha);
        this.log(`${repo.name}: the last run of the trigger died while ${revision.sha} was starting (${times} time${times === 1 ? '' : 's'})`);
        if (times >= CRASHES_TO_BAD) this.setState(repo, revision.sha, 'bad', `cut off: the deploy trigger died ${times} times while it was starting`);
      }
    }
    for (const slot of this.store.slots()) {
      const repo = this.repos.get(slot.repository);
      const revision = this.store.revision(slot.repository, slot.sha);
      const live = slot.pid === null ? null : processStartTime(slot.pid);
      const verdict = adoptionVerdict(slot, live === null ? null : { startTime: live });
      // Only the revision's latest run is adopted; an older instance was being stopped when the trigger went down.
      if (repo && revision && isRunning(revision.state) && slot.seq === revision.seq && verdict === 'adopt') {
        const running: Running = {
          sha: slot.sha, seq: slot.seq, pid: slot.pid!, startTime: slot.startTime!, port: slot.port, dir: slot.dir, log: slot.log, tokenHash: slot.tokenHash,
          env: this.commandEnv(repo.config, { REVISION: slot.sha, PORT: String(slot.port), REPOSITORY: slot.repository, CHECKOUT: slot.dir, SIGNAL_URL: this.adoptedSignalUrl(slot) }),
          cgroup: slot.cgroup,
          streak: 0, lastError: null, output: [], outputUnread: null, timer: null, probing: false, stopping: false, adopted: true,
        };
        repo.running.set(slot.sha, running);
        this.log(`${slot.repository}: adopted ${slot.sha} (pid ${slot.pid}, port ${slot.port})`);
        this.watch(repo, running);
        continue;
      }
      if (verdict === 'adopt' && slot.pid !== null) {
        // Still running but no longer wanted (unknown repository, or not a running state): stop it.
        try {
          process.kill(-slot.pid, 'SIGKILL');
        } catch {
          // gone
        }
      } else if (slot.pid !== null) killOrphanGroup(slot.pid); // its leader died: what it left would hold the port
      if (slot.cgroup) {
        // Whatever left the process group is still in the cgroup: killed now, the cgroup removed once empty.
        const cgroup = slot.cgroup;
        killCgroup(cgroup);
        this.track(stopCgroup(cgroup, 0, (ms) => delay(ms)).then((left) => left && this.log(`${slot.repository}: ${slot.sha}: ${left}`)));
      }
      if (revision && isRunning(revision.state) && slot.seq === revision.seq) this.store.setState(slot.repository, slot.sha, 'stopped', this.now(), 'gone while the deploy trigger was down');
      this.store.deleteSlot(slot.repository, slot.sha, slot.seq);
      rmSync(slot.dir, { recursive: true, force: true });
    }
    // A deploy interrupted before its process started.
    for (const repo of this.repos.values()) {
      for (const revision of this.store.revisions(repo.name)) {
        if (isRunning(revision.state) && !repo.running.has(revision.sha)) this.store.setState(repo.name, revision.sha, 'stopped', this.now(), 'interrupted before it started');
      }
    }
  }

  /** `deploy-trigger retry <sha>` appends a request; a bad or failed revision becomes deployable again. */
  private applyRetries(): void {
    for (const sha of this.store.takeRetries()) {
      for (const repo of this.repos.values()) {
        const revision = this.store.revision(repo.name, sha);
        if (!revision || !isRuledOut(revision.state)) continue;
        this.setState(repo, sha, 'stopped', 'retry requested');
        this.log(`${repo.name}: retry requested for ${sha}`);
        void this.evaluate(repo);
      }
    }
  }

  // Small helpers ----------------------------------------------------------

  private setState(repo: Repo, sha: string, state: Parameters<Store['setState']>[2], reason: string): void {
    this.store.setState(repo.name, sha, state, this.now(), reason);
    this.metrics.countRuledOut(repo.name, state, reason);
    this.metrics.setRevisionCounts(repo.name, this.store.revisions(repo.name).map((r) => r.state));
  }

  /** A command's environment: the allow-list and `env:`, never the trigger's secrets (environment.ts). */
  private commandEnv(rc: RepositoryConfig, revision: Parameters<typeof commandEnv>[2]): Record<string, string> {
    return commandEnv(this.env, rc.env, revision, this.secretNames);
  }

  private logFile(repository: string, sha: string): string {
    return join(this.options.config.workdir, slug(repository), `${sha}.log`);
  }

  /** GET /revisions/<sha>/log: the last lines of a known revision's output, as plain text. */
  private logTail(sha: string, repository: string | null): Reply {
    const repo = [...this.repos.values()].find((r) => (repository === null || r.name === repository) && this.store.revision(r.name, sha));
    const text = repo ? tailLines(this.logFile(repo.name, sha), LOG_LINES) : null;
    if (text === null) return { status: 404, body: `no log for revision ${sha}${repository ? ` of ${repository}` : ''}\n`, type: 'text/plain; charset=utf-8' };
    return { status: 200, body: text || '(the log is empty)\n', type: 'text/plain; charset=utf-8' };
  }

  private refreshDesiredGauges(): void {
    for (const repo of this.repos.values()) {
      const desired = this.store.desired(repo.name);
      this.metrics.setDesired(repo.name, desired ? this.store.revision(repo.name, desired) : null);
    }
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.degrade('background', err)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Run a background step (an exit handler, a timer): what it throws degrades the trigger instead of ending it. */
  private guard(what: string, step: () => void): void {
    try {
      step();
    } catch (err) {
      this.degrade(what, err);
    }
  }

  /** Fail closed, without exiting: deploy nothing more, say why (log, page, /metrics); what runs keeps running. */
  private degrade(what: string, err: unknown): void {
    const reason = `${what} failed: ${(err as Error).message ?? String(err)}`;
    this.log(`degraded: ${reason}; nothing more is deployed until the trigger is restarted`);
    this.log((err as Error).stack ?? String(err));
    if (this.degraded) return;
    this.degraded = reason;
    this.metrics.degraded.set(1);
  }

  private async allocatePort(range: { from: number; to: number }): Promise<number> {
    const taken = new Set(this.store.slots().map((s) => s.port));
    for (let port = range.from; port <= range.to; port++) {
      if (taken.has(port) || this.reserved.has(port)) continue;
      this.reserved.add(port);
      if (await portIsFree(port)) return port;
      this.reserved.delete(port);
      this.log(`port ${port} is in use though no running revision has it (a process that outlived its revision, or another program): skipped`);
    }
    throw new Error(`no free port in ${range.from}-${range.to}`);
  }

  // GitHub Deployments: calls for one revision run in order; failures are logged, never fatal.
  private createDeployment(repo: Repo, sha: string): void {
    const api = repo.deployments;
    if (!api) return;
    this.chain(repo, sha, async () => {
      const id = await api.create(repo.name, sha, `merge-gate deploy trigger: ${sha.slice(0, 12)}`);
      this.store.setDeploymentId(repo.name, sha, id);
    });
  }

  private report(repo: Repo, sha: string, state: DeploymentState, description: string): void {
    const api = repo.deployments;
    if (!api) return;
    this.chain(repo, sha, async () => {
      const id = this.store.revision(repo.name, sha)?.deploymentId;
      if (id) await api.status(repo.name, id, state, description, this.baseUrl ? `${this.baseUrl}/` : undefined);
    });
  }

  private chain(repo: Repo, sha: string, step: () => Promise<void>): void {
    const key = `${repo.name}@${sha}`;
    const next = (this.github.get(key) ?? Promise.resolve()).then(step).catch((err: unknown) => this.log(`${repo.name}: GitHub Deployments: ${(err as Error).message}`));
    this.github.set(key, next);
  }

  /** What the status page and `/api/state` show (snapshot.ts). */
  snapshot(page: { before?: number | null; limit?: number | null } = {}): StateSnapshot {
    const repositories = [...this.repos.values()].map((r) => ({ name: r.name, branch: r.config.branch, running: r.running }));
    return stateSnapshot({ store: this.store, now: this.now(), repositories, degraded: this.degraded, configFile: this.options.configFile ?? 'deploy.yml' }, page);
  }
}


/** `octo/app` → `octo__app`: a folder name per repository. */
function slug(name: string): string {
  return name.replace(/\//g, '__');
}
