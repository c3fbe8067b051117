// Load: 1,000 signed webhooks over 100 pull requests in 4 repositories, pushed
// through the app's real HTTP endpoint — Probot's webhook middleware (signature
// checked) on a server on 127.0.0.1, in front of the production app function
// (src/index.ts: gate, landing and outbox, configured from the environment as
// `npm start` configures it, with Probot's production Octokit) — against the
// fake GitHub served over HTTP, with landings on and a real trunk-updated
// receiver. Eight senders at once, in a seeded, shuffled order that keeps each
// pull request's own events in order, in bursts of up to 4; as on GitHub, the
// fake changes before the webhook that tells of it is sent, and a landing is
// followed by its `pull_request.closed`.
//
// Each pull request's events are built so that only its last change can make
// it landable (or none does): which pull requests land does not depend on
// timing. Its expected check and landing are computed from the scenario by a
// few lines here, not by the rules. Most last changes change the check; before
// sending one, the test waits until the app has evaluated that pull request
// after its earlier webhooks (the burst goes on meanwhile), and half the pull
// requests that do not land are on a branch where nothing lands (a landing
// re-evaluates its branch's other pull requests): an event the app drops or
// evaluates too early shows in the final checks.
//
// Once everything is quiet: each pull request's check on its final head says
// what its final state calls for; each that should land is merged exactly
// once with its final head pinned, its trunk-updated delivered (one
// webhook-id each; `before`/`after` form one chain per branch) and its branch
// deleted; nothing else is merged; every webhook got a 2xx; the fake GitHub
// saw nothing it could not answer; the app logged no error. An unhandled
// rejection fails the test by itself (jest reports it as a failure).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { createNodeMiddleware, createProbot } from 'probot';
import app from '../../src/index.js';
import { FakeGitHub, type FakeFile, type FakePull, type FakeRepo } from '../helpers/github-fake.js';
import { checkPayload, pullPayload, quietLogger, testPrivateKey } from '../helpers/github-app.js';
import { APP_WEBHOOK_SECRET, sendWebhook } from '../helpers/app-child.js';
import { fileAdding } from '../helpers/github-scenario.js';
import { Receiver, TRUNK_SECRET } from '../helpers/landing.js';
import { waitFor } from '../helpers/deploy.js';
import { prng, testSeed } from '../helpers/prng.js';

const WEBHOOKS = 1_000;
const PULLS_PER_REPO = 25;
/** Senders taking the webhooks in order, each waiting for its answer (a decisive last change is sent aside, when ready). */
const SENDERS = 8;
const MAX_LINES = 150;
/** Another app's CI, reporting the required check `ci/test`. */
const CI_APP_ID = 29310;
/** The scenario's seed (FC_SEED plays another one). */
const SEED = testSeed(20261201);

type Mode = 'auto' | 'label';
interface RepoPlan {
  name: string;
  mode: Mode;
  method: 'squash' | 'merge' | 'rebase';
  /** Base branches pull requests land on. */
  branches: string[];
}

/** A base branch of every repository on which nothing lands. */
const QUIET_BRANCH = 'next';

const REPOS: RepoPlan[] = [
  { name: 'alpha', mode: 'auto', method: 'squash', branches: ['main', 'release-1'] },
  { name: 'beta', mode: 'auto', method: 'merge', branches: ['main'] },
  { name: 'gamma', mode: 'label', method: 'squash', branches: ['main', 'release-1'] },
  { name: 'delta', mode: 'auto', method: 'rebase', branches: ['main'] },
];

const policy = (r: RepoPlan) => `version: 1
preset: none
reviews:
  required: 1
  fresh: true
size:
  max_lines: ${MAX_LINES}
checks:
  required: ["ci/test"]
land:
  mode: ${r.mode}
  method: ${r.method}
`;

// ------------------------------------------------------------------ the scenario, as data

type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
type Step =
  | { t: 'open'; draft: boolean; files: FakeFile[] }
  | { t: 'push'; files: FakeFile[] }
  /** Another app's CI finishing on head number `head` (0: the head it was opened with). */
  | { t: 'ci'; head: number; conclusion: 'success' | 'failure' }
  | { t: 'suite'; head: number }
  | { t: 'review'; login: string; state: ReviewState }
  | { t: 'label' | 'unlabel'; name: string }
  | { t: 'edit' }
  | { t: 'ready' | 'to-draft' }
  /** The pull request's previous webhook delivered again (GitHub redelivers). */
  | { t: 'redeliver' };

/** What a pull request's state is, as far as its verdict goes. */
interface Model {
  draft: boolean;
  labels: Set<string>;
  heads: Array<{ lines: number; ci?: 'success' | 'failure' }>;
  reviews: Array<{ login: string; state: ReviewState; head: number }>;
}

const MUTATES = new Set<Step['t']>(['open', 'push', 'ci', 'review', 'label', 'unlabel', 'ready', 'to-draft']);
const lines = (files: FakeFile[]) => files.reduce((n, f) => n + f.additions + f.deletions, 0);

function apply(m: Model, s: Step): void {
  if (s.t === 'open') Object.assign(m, { draft: s.draft, heads: [{ lines: lines(s.files) }] });
  else if (s.t === 'push') m.heads.push({ lines: lines(s.files) });
  else if (s.t === 'ci') m.heads[s.head].ci = s.conclusion;
  else if (s.t === 'review') m.reviews.push({ login: s.login, state: s.state, head: m.heads.length - 1 });
  else if (s.t === 'label') m.labels.add(s.name);
  else if (s.t === 'unlabel') m.labels.delete(s.name);
  else if (s.t === 'ready') m.draft = false;
  else if (s.t === 'to-draft') m.draft = true;
}

type Conclusion = 'success' | 'failure' | 'action_required' | 'in_progress';

/**
 * What the check must say and whether the pull request lands, from SPEC §2–4 in
 * brief: each reviewer's latest approval or change request stands; approvals
 * count on the head only (fresh); a change request or no approval is for
 * people to act on (action_required); too many lines or a failed CI is a
 * failure; CI not reported yet is a wait. A pass lands unless a draft, or
 * without the `land` label under `mode: label`.
 */
function expected(m: Model, mode: Mode): { conclusion: Conclusion; lands: boolean } {
  const head = m.heads.length - 1;
  const latest = new Map<string, { state: ReviewState; head: number }>();
  for (const r of m.reviews) if (r.state !== 'COMMENTED') latest.set(r.login, r);
  const changes = [...latest.values()].some((r) => r.state === 'CHANGES_REQUESTED');
  const approvals = [...latest.values()].filter((r) => r.state === 'APPROVED' && r.head === head).length;
  const byPeople = changes || approvals < 1;
  const failed = m.heads[head].lines > MAX_LINES || m.heads[head].ci === 'failure';
  const conclusion: Conclusion = failed ? 'failure' : byPeople ? 'action_required' : m.heads[head].ci === undefined ? 'in_progress' : 'success';
  return { conclusion, lands: conclusion === 'success' && !m.draft && (mode === 'auto' || m.labels.has('land')) };
}

function modelOf(steps: readonly Step[]): Model {
  const m: Model = { draft: false, labels: new Set(), heads: [], reviews: [] };
  for (const s of steps) apply(m, s);
  return m;
}

/** Landable never, or from one step on and to the end: no pull request can land in a state that is not its last. */
function landsMonotonically(steps: readonly Step[], mode: Mode): boolean {
  const m: Model = { draft: false, labels: new Set(), heads: [], reviews: [] };
  let landed = false;
  for (const s of steps) {
    apply(m, s);
    const lands = expected(m, mode).lands;
    if (landed && !lands) return false;
    landed ||= lands;
  }
  return true;
}

type Kind = 'lands' | 'unreviewed' | 'changes' | 'large' | 'ci-failed' | 'ci-pending' | 'draft' | 'unlabeled';
const KINDS: Array<[Kind, number]> = [
  ['lands', 40],
  ['unreviewed', 9],
  ['changes', 8],
  ['large', 9],
  ['ci-failed', 9],
  ['ci-pending', 8],
  ['draft', 8],
  ['unlabeled', 9],
];

function scriptFor(kind: Kind, mode: Mode, n: number, random: () => number): Step[] {
  let file = 0;
  const files = (big: boolean) =>
    Array.from({ length: big ? 2 : 1 + Math.floor(random() * 3) }, () =>
      fileAdding(`src/pr${n}/f${file++}.ts`, Array.from({ length: big ? 100 : 5 + Math.floor(random() * 35) }, (_, i) => `export const v${i} = ${i};`)),
    );
  const startsDraft = kind === 'draft' || random() < 0.2;
  const steps: Step[] = [{ t: 'open', draft: startsDraft, files: files(false) }];
  // Earlier heads: CI and reviews on them, some late; none of it may make the pull request landable.
  const pushes = kind === 'large' ? 1 + Math.floor(random() * 2) : Math.floor(random() * 3);
  const safely = (s: Step, instead: Step) => steps.push(expected(modelOf([...steps, s]), mode).lands ? instead : s);
  for (let head = 0; head < pushes; head++) {
    const timelyCi = random() < 0.5;
    if (timelyCi) safely({ t: 'ci', head, conclusion: random() < 0.7 ? 'success' : 'failure' }, { t: 'ci', head, conclusion: 'failure' });
    if (random() < 0.4) safely({ t: 'review', login: 'bob', state: random() < 0.6 ? 'APPROVED' : 'COMMENTED' }, { t: 'review', login: 'bob', state: 'COMMENTED' });
    steps.push({ t: 'push', files: files(kind === 'large' && head === pushes - 1) });
    if (!timelyCi && random() < 0.4) steps.push({ t: 'ci', head, conclusion: 'success' }); // finishes after the push
  }
  // The final head: what its kind calls for, in groups whose order is shuffled.
  const head = pushes;
  const ci = (conclusion: 'success' | 'failure'): Step[] => (random() < 0.3 ? [{ t: 'ci', head, conclusion }, { t: 'suite', head }] : [{ t: 'ci', head, conclusion }]);
  const approve: Step[] = [{ t: 'review', login: 'bob', state: 'APPROVED' }];
  const groups: Step[][] = [];
  if (kind === 'unreviewed') groups.push(ci('success'), ...(random() < 0.5 ? [[{ t: 'review', login: 'carol', state: 'COMMENTED' } as Step]] : []));
  else if (kind === 'changes') groups.push(ci('success'), approve, [{ t: 'review', login: 'carol', state: 'CHANGES_REQUESTED' }]);
  else if (kind === 'ci-failed') groups.push(ci('failure'), approve);
  else if (kind === 'ci-pending') groups.push(approve);
  else groups.push(ci('success'), approve); // lands, large, draft, unlabeled
  if (startsDraft && kind !== 'draft') groups.push([{ t: 'ready' }]);
  if (kind === 'draft' && random() < 0.5) groups.push([{ t: 'ready' }, { t: 'to-draft' }]);
  if (mode === 'label') {
    if (kind === 'unlabeled') groups.push([{ t: 'label', name: 'land' }, { t: 'unlabel', name: 'land' }]);
    else if (kind === 'lands' || random() < 0.5) groups.push([{ t: 'label', name: 'land' }]);
  }
  if (random() < 0.3) groups.push([{ t: 'label', name: 'needs-docs' }, { t: 'unlabel', name: 'needs-docs' }]);
  if (random() < 0.5) groups.push([{ t: 'edit' }]);
  // An order in which the pull request cannot land early, and preferably one whose last change
  // changes its check: then an evaluation the app missed or ran too early shows.
  let valid: Step[] | null = null;
  for (let attempt = 0; attempt < 100; attempt++) {
    const script = [...steps, ...[...groups].sort(() => random() - 0.5).flat()];
    if (!landsMonotonically(script, mode)) continue;
    valid ??= script;
    if (lastChangeShows(script, mode)) {
      valid = script;
      break;
    }
  }
  if (!valid) throw new Error(`no order of #${n}'s events (${kind}) keeps it from landing early`);
  if (random() < 0.3) valid.push({ t: 'redeliver' });
  return valid;
}

/** Does the last change of the script change what the check says, or whether the pull request lands? */
function lastChangeShows(steps: readonly Step[], mode: Mode): boolean {
  const last = steps.findLastIndex((s) => MUTATES.has(s.t));
  const [before, after] = [expected(modelOf(steps.slice(0, last)), mode), expected(modelOf(steps), mode)];
  return before.conclusion !== after.conclusion || before.lands !== after.lands;
}

/** Does the app evaluate a pull request on this webhook? (Not on a closed one's, nor on a check of a head no pull request has.) */
function asksForEvaluation(hook: { name: string; payload: any }): boolean {
  if (hook.name === 'check_run' || hook.name === 'check_suite') return hook.payload[hook.name].pull_requests.length > 0;
  return hook.payload.pull_request.state === 'open';
}

interface Planned {
  key: string;
  plan: RepoPlan;
  number: number;
  base: string;
  kind: Kind;
  steps: Step[];
}

/** 100 pull requests and their events, padded with edits, labels and redeliveries to 1,000 webhooks with the expected landings' `closed`. */
function scenario(random: () => number): { pulls: Planned[]; order: Array<{ pull: Planned; step: Step }> } {
  const weighted = KINDS.flatMap(([kind, weight]) => Array<Kind>(weight).fill(kind));
  const pulls: Planned[] = [];
  for (const plan of REPOS) {
    for (let number = 1; number <= PULLS_PER_REPO; number++) {
      let kind = weighted[Math.floor(random() * weighted.length)];
      if (kind === 'unlabeled' && plan.mode !== 'label') kind = 'lands';
      const steps = scriptFor(kind, plan.mode, number, random);
      // Every landing re-evaluates the other open pull requests of its branch, which would make up for an
      // event the app lost: half the pull requests that do not land go to a branch where nothing lands.
      const quiet = !expected(modelOf(steps), plan.mode).lands && random() < 0.5;
      const base = quiet ? QUIET_BRANCH : plan.branches[Math.floor(random() * plan.branches.length)];
      pulls.push({ key: `${plan.name}#${number}`, plan, number, base, kind, steps });
    }
  }
  const landings = pulls.filter((p) => expected(modelOf(p.steps), p.plan.mode).lands).length;
  let count = pulls.reduce((n, p) => n + p.steps.length, 0);
  if (count + landings > WEBHOOKS) throw new Error(`the scenario has ${count + landings} webhooks, more than ${WEBHOOKS}`);
  for (let noise = 0; count + landings < WEBHOOKS; count++, noise++) {
    const p = pulls[Math.floor(random() * pulls.length)];
    // After the opening and before the last change, so that most pull requests' last change comes with their last webhook.
    const lastChange = p.steps.findLastIndex((step) => MUTATES.has(step.t));
    const at = 1 + Math.floor(random() * lastChange);
    const r = random();
    p.steps.splice(at, 0, r < 0.4 ? { t: 'edit' } : r < 0.7 ? { t: 'label', name: `note-${noise}` } : { t: 'redeliver' });
  }
  // Interleave the pull requests' events at random, each pull request's in its order and in bursts of
  // 1 to 4 back to back (a push and its CI, a review and a label), as people and CI work.
  const cursors = pulls.map((pull) => ({ pull, next: 0 }));
  const order: Array<{ pull: Planned; step: Step }> = [];
  while (cursors.length > 0) {
    const remaining = cursors.reduce((n, c) => n + c.pull.steps.length - c.next, 0);
    let r = Math.floor(random() * remaining);
    const i = cursors.findIndex((c) => (r -= c.pull.steps.length - c.next) < 0);
    const c = cursors[i];
    for (let burst = 1 + Math.floor(random() * 4); burst > 0 && c.next < c.pull.steps.length; burst--) order.push({ pull: c.pull, step: c.pull.steps[c.next++] });
    if (c.next === c.pull.steps.length) cursors.splice(i, 1);
  }
  return { pulls, order };
}

// ------------------------------------------------------------------ the app, the fake GitHub, the receiver

let fake: FakeGitHub;
let closeFake: () => Promise<void>;
let receiver: Receiver;
let server: Server;
let url: string;
let stateDir: string;
const errors: unknown[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  ({ fake, close: closeFake } = await FakeGitHub.listening({ prefix: '/api/v3' }));
  receiver = await new Receiver().start();
  stateDir = mkdtempSync(join(tmpdir(), 'merge-gate-load-'));
  const { host } = new URL(fake.origin);
  // The environment `npm start` would have: Probot reads its part, src/index.ts (process.env) the rest.
  const env: Record<string, string> = {
    APP_ID: String(fake.appId),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET: APP_WEBHOOK_SECRET,
    GHE_HOST: host,
    GHE_PROTOCOL: 'http',
    TRUNK_WEBHOOK_URL: receiver.url,
    TRUNK_WEBHOOK_SECRET: TRUNK_SECRET,
    OUTBOX_PATH: join(stateDir, 'outbox.sqlite'),
    OUTBOX_RETRY_BASE_MS: '100',
    MERGE_GATE_COALESCE_MS: '50',
    MERGE_GATE_COALESCE_MAX_MS: '500',
    MERGE_GATE_SCHEDULE_ON_START: 'false',
    // GitHub's pacing (a write a second, a merge every 3 s) would make this test take half an hour.
    MERGE_GATE_WRITE_SPACING_MS: '5',
  };
  Object.assign(process.env, env);
  const probot = createProbot({ env, overrides: { log: quietLogger(errors) as never } });
  // Probot's `Server` (what `probot run` starts) reads port 0 as 3000 and cannot take an
  // ephemeral port; it mounts this same webhook middleware, which verifies the signature.
  const middleware = await createNodeMiddleware(app, { probot, webhooksPath: '/api/github/webhooks' });
  server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
});

afterAll(async () => {
  // src/index.ts hands out no handle to stop the gate or the outbox: their timers are unref'd, and
  // with the fake closed a late one could only log. The SQLite file goes with its folder.
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  server?.closeAllConnections();
  await receiver?.close();
  await closeFake?.();
  rmSync(stateDir, { recursive: true, force: true });
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  nock.enableNetConnect();
});

// ------------------------------------------------------------------ the run

interface Live {
  planned: Planned;
  repo: FakeRepo;
  pull: FakePull | null;
  /** Head SHAs in the order they were pushed. */
  heads: string[];
  last: { name: string; payload: object } | null;
  /** Its webhooks sent and not answered yet. */
  inFlight: number;
  /** When the app last answered one of its webhooks that asks for an evaluation, and when the app last read its facts (performance.now()). */
  askedAt: number;
  evaluatedAt: number;
  /** Resolves once its latest step taken so far has changed the fake: its steps act in order, whatever waits. */
  acted: Promise<void>;
}

test('1,000 signed webhooks over 100 pull requests with landings: every check says its final state, every landing once and delivered', async () => {
  const random = prng(SEED);
  const { pulls, order } = scenario(random);
  let clock = Date.UTC(2026, 10, 22, 9, 0, 0);
  const stamp = () => new Date((clock += 1000)).toISOString();

  const repos = new Map<string, FakeRepo>();
  const initialTips = new Map<string, string>();
  for (const plan of REPOS) {
    const repo = fake.addRepo('octo', plan.name, { files: { '.github/merge-gate.yml': policy(plan) } });
    for (const b of [...plan.branches, QUIET_BRANCH]) {
      repo.branches.set(b, repo.branches.get('main')!);
      initialTips.set(`${plan.name}:${b}`, repo.branches.get(b)!);
    }
    repos.set(plan.name, repo);
  }
  const live = new Map<string, Live>(
    pulls.map((p) => [p.key, { planned: p, repo: repos.get(p.plan.name)!, pull: null, heads: [], last: null, inFlight: 0, askedAt: 0, evaluatedAt: 0, acted: Promise.resolve() }]),
  );
  fake.onRequest = (r) => {
    const l = r.operation === 'MergeGateFacts' ? live.get(`${r.variables!.repo}#${r.variables!.number}`) : undefined;
    if (l) l.evaluatedAt = r.at;
  };
  /** Each pull request's last change, where it changes the check or the landing (most do, by construction). */
  const decisive = new Set(pulls.filter((p) => lastChangeShows(p.steps, p.plan.mode)).map((p) => p.steps.findLast((s) => MUTATES.has(s.t))!));

  const pullEvent = (l: Live, action: string, more: Record<string, unknown> = {}) => {
    const p = pullPayload('pull_request', action, fake, l.repo, l.pull!);
    p.pull_request = { ...p.pull_request, title: l.pull!.title, base: { ...p.pull_request.base, ref: l.pull!.baseRef }, labels: l.pull!.labels.map((name) => ({ name })), ...more };
    return p;
  };

  /** Changes the fake as GitHub would have changed, and returns the webhook that tells of it. */
  function act(l: Live, step: Step): { name: string; payload: object } {
    const { repo } = l;
    const pull = l.pull;
    switch (step.t) {
      case 'open': {
        const n = l.planned.number;
        l.pull = fake.addPull(repo, { number: n, title: `Change ${n}`, baseRef: l.planned.base, headRef: `topic-${n}`, draft: step.draft, files: step.files });
        l.heads.push(l.pull.headSha);
        repo.branches.set(l.pull.headRef, l.pull.headSha);
        return { name: 'pull_request', payload: pullEvent(l, 'opened') };
      }
      case 'push': {
        const before = pull!.headSha;
        fake.push(repo, pull!);
        pull!.files = step.files;
        l.heads.push(pull!.headSha);
        repo.branches.set(pull!.headRef, pull!.headSha);
        return { name: 'pull_request', payload: { ...pullEvent(l, 'synchronize'), before, after: pull!.headSha } };
      }
      case 'ci':
      case 'suite': {
        const headSha = l.heads[step.head];
        const conclusion = step.t === 'ci' ? step.conclusion : repo.checkRuns.find((r) => r.appId === CI_APP_ID && r.headSha === headSha)!.conclusion!;
        if (step.t === 'ci') fake.addCheckRun(repo, { appId: CI_APP_ID, name: 'ci/test', headSha, conclusion, startedAt: stamp(), completedAt: stamp() });
        // GitHub lists the pull requests whose head the commit is when it sends the event.
        const pulls = pull!.state === 'OPEN' && pull!.headSha === headSha ? [pull!] : [];
        const name = step.t === 'ci' ? 'check_run' : 'check_suite';
        return { name, payload: checkPayload(name, 'completed', fake, repo, { appId: CI_APP_ID, headSha, pulls, name: 'ci/test', conclusion }) };
      }
      case 'review': {
        pull!.reviews.push({ login: step.login, state: step.state, submittedAt: stamp(), commit: pull!.headSha });
        const p = pullPayload('pull_request_review', 'submitted', fake, repo, pull!);
        p.review = { ...p.review, state: step.state.toLowerCase(), commit_id: pull!.headSha, user: { ...p.review.user, login: step.login } };
        return { name: 'pull_request_review', payload: p };
      }
      case 'label':
      case 'unlabel':
        if (step.t === 'label') pull!.labels.push(step.name);
        else pull!.labels = pull!.labels.filter((x) => x !== step.name);
        return { name: 'pull_request', payload: { ...pullEvent(l, `${step.t}ed`), label: { name: step.name } } };
      case 'edit':
        pull!.title = `${pull!.title} (edited)`;
        return { name: 'pull_request', payload: pullEvent(l, 'edited') };
      case 'ready':
      case 'to-draft':
        pull!.draft = step.t === 'to-draft';
        return { name: 'pull_request', payload: pullEvent(l, step.t === 'ready' ? 'ready_for_review' : 'converted_to_draft') };
      case 'redeliver':
        return l.last!;
    }
  }

  const statuses: Array<{ what: string; status: number | string }> = [];
  let sent = 0;
  const send = async (what: string, hook: { name: string; payload: object }, l?: Live) => {
    sent++;
    if (l) l.inFlight++;
    try {
      statuses.push({ what, status: (await sendWebhook(url, hook.name, hook.payload)).status });
    } catch (err) {
      statuses.push({ what, status: String(err) });
    }
    if (l) {
      l.inFlight--;
      if (asksForEvaluation(hook)) l.askedAt = performance.now();
    }
  };
  // Before a pull request's decisive last change: the app has taken its earlier webhooks and evaluated it
  // since. So its final check shows only if the app handles the last webhook.
  const notEvaluated: string[] = [];
  const evaluatedSinceAsked = (l: Live) =>
    waitFor(`an evaluation of ${l.planned.key} after its webhooks`, () => l.inFlight === 0 && l.evaluatedAt > l.askedAt, 30_000, 10).catch(() => {
      notEvaluated.push(l.planned.key);
    });
  // As GitHub does after a merge: `pull_request.closed`, merged.
  const announced = new Set<string>();
  const announceMerges = async () => {
    for (const l of live.values()) {
      if (l.pull?.state !== 'MERGED' || announced.has(l.planned.key)) continue;
      announced.add(l.planned.key);
      await send(`${l.planned.key} closed`, { name: 'pull_request', payload: pullEvent(l, 'closed', { merged: true }) });
    }
  };

  /** One step: after the pull request's earlier steps have changed the fake, change it and send the webhook. */
  const take = async (planned: Planned, step: Step) => {
    const l = live.get(planned.key)!;
    const previous = l.acted;
    let acted = () => {};
    l.acted = new Promise((resolve) => (acted = resolve));
    await previous;
    if (decisive.has(step)) await evaluatedSinceAsked(l);
    const hook = act(l, step); // the fake changes first, in the scenario's order
    acted();
    if (MUTATES.has(step.t) || step.t === 'suite') l.last = hook;
    await send(`${planned.key} ${step.t}`, hook, l);
    await announceMerges();
  };
  const started = Date.now();
  let next = 0;
  // A decisive last change waits on its own (for the app to catch up with its pull request); the senders go on.
  const waiting: Array<Promise<void>> = [];
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < order.length) {
        const { pull: planned, step } = order[next++];
        const done = take(planned, step);
        if (decisive.has(step)) waiting.push(done);
        else await done;
      }
    }),
  );
  await Promise.all(waiting);
  const burstMs = Date.now() - started;

  // ------------------------------------------------------------ what each pull request should end as
  const expectations = new Map(pulls.map((p) => [p.key, expected(modelOf(p.steps), p.plan.mode)]));
  const shouldLand = pulls.filter((p) => expectations.get(p.key)!.lands).map((p) => p.key);
  const latestRun = (l: Live) => fake.ourRuns(l.repo, l.pull!.headSha).at(-1);
  const shown = (l: Live) => {
    const run = latestRun(l);
    return run ? (run.status === 'completed' ? run.conclusion : run.status) : 'no check';
  };
  const mismatches = () =>
    [...live.values()]
      .filter((l) => shown(l) !== expectations.get(l.planned.key)!.conclusion)
      .map((l) => `${l.planned.key} (${l.planned.kind}): expected ${expectations.get(l.planned.key)!.conclusion}, shows ${shown(l)} — ${latestRun(l)?.title ?? ''}`);
  const deliveredFor = (key: string) => receiver.received.some((r) => `${r.json.repository.split('/')[1]}#${r.json.pull_request.number}` === key);
  const quietFor = (ms: number) => performance.now() - (fake.requests.at(-1)?.at ?? 0) >= ms;

  const settled = await waitFor(
    'every pull request in its final state, every landing delivered, and GitHub quiet for a second',
    async () => {
      await announceMerges();
      return mismatches().length === 0 && shouldLand.every((key) => deliveredFor(key)) && quietFor(1_000) && receiver.hits === receiver.received.length;
    },
    60_000,
    100,
  ).then(
    () => true,
    () => false,
  );
  const settledMs = Date.now() - started;

  // ------------------------------------------------------------ the scenario is what it says
  expect(order).toHaveLength(WEBHOOKS - shouldLand.length);
  const outcomes = new Map<string, number>();
  for (const e of expectations.values()) outcomes.set(`${e.conclusion}${e.lands ? ' landed' : ''}`, (outcomes.get(`${e.conclusion}${e.lands ? ' landed' : ''}`) ?? 0) + 1);
  // A mix: landed, passing but not landed (draft, no `land` label), people to act, failures, waiting.
  for (const outcome of ['success landed', 'success', 'action_required', 'failure', 'in_progress']) expect([outcome, (outcomes.get(outcome) ?? 0) >= 3]).toEqual([outcome, true]);

  // ------------------------------------------------------------ every check says its final state
  expect(mismatches()).toEqual([]);
  for (const key of shouldLand) {
    const l = live.get(key)!;
    expect([key, latestRun(l)?.title]).toEqual([key, `Landed as ${l.pull!.mergeCommit?.slice(0, 7)}`]);
  }

  // ------------------------------------------------------------ each that should land, merged once with its final head; nothing else
  const keyOf = (repo: string, number: number) => `${repo.split('/')[1]}#${number}`;
  expect(fake.merges.filter((m) => m.status !== 200 || !m.merged)).toEqual([]);
  const mergedKeys = fake.merges.map((m) => keyOf(m.repo, m.number));
  expect(mergedKeys.filter((k, i) => mergedKeys.indexOf(k) !== i)).toEqual([]); // none twice
  expect([...mergedKeys].sort()).toEqual([...shouldLand].sort()); // none left unlanded, none landed wrongly
  expect(fake.merges.filter((m) => m.sha !== live.get(keyOf(m.repo, m.number))!.heads.at(-1))).toEqual([]);
  expect(fake.merges.filter((m) => m.method !== live.get(keyOf(m.repo, m.number))!.planned.plan.method)).toEqual([]);
  for (const key of shouldLand) expect([key, live.get(key)!.pull!.state]).toEqual([key, 'MERGED']);

  // ------------------------------------------------------------ every landing's trunk-updated delivered, one event each
  expect(receiver.rejected).toEqual([]);
  const events = [...new Map(receiver.received.map((r) => [r.id, r.json])).values()];
  const eventKeys = events.map((e) => keyOf(e.repository, e.pull_request.number));
  expect(eventKeys.filter((k, i) => eventKeys.indexOf(k) !== i)).toEqual([]); // one webhook-id per landing
  expect([...eventKeys].sort()).toEqual([...shouldLand].sort());
  for (const e of events) {
    const l = live.get(keyOf(e.repository, e.pull_request.number))!;
    expect(e).toMatchObject({ type: 'trunk-updated', repository: `octo/${l.planned.plan.name}`, branch: l.planned.base, after: l.pull!.mergeCommit, pull_request: { head_sha: l.heads.at(-1) } });
  }
  // One landing at a time per branch: from the branch's first tip, each event's `before` is the previous one's `after`, to the branch's tip now.
  for (const plan of REPOS) {
    for (const branch of plan.branches) {
      const afterOf = new Map(events.filter((e) => e.repository === `octo/${plan.name}` && e.branch === branch).map((e) => [e.before, e.after]));
      let tip = initialTips.get(`${plan.name}:${branch}`)!;
      for (let i = afterOf.size; i > 0; i--) tip = afterOf.get(tip)!;
      expect([plan.name, branch, tip]).toEqual([plan.name, branch, repos.get(plan.name)!.branches.get(branch)]);
    }
  }
  // Tidied up after each landing: its head branch deleted (land.delete_branch defaults to true).
  expect(fake.deletedBranches.map((d) => keyOf(d.repo, Number(d.branch.replace('topic-', '')))).sort()).toEqual([...shouldLand].sort());

  // ------------------------------------------------------------ every webhook taken, nothing GitHub could not answer, no error
  expect(sent).toBe(WEBHOOKS);
  expect(notEvaluated).toEqual([]);
  expect(statuses.filter((s) => typeof s.status !== 'number' || s.status >= 300)).toEqual([]);
  expect(fake.problems).toEqual([]);
  expect(errors).toEqual([]);
  expect(settled).toBe(true);

  // ------------------------------------------------------------ the app's /metrics, beside its webhooks, says the same
  const metrics = await (await fetch(new URL('/metrics', url))).text();
  const metric = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1]);
  expect(metric('merge_gate_landings{state="landed"}')).toBe(shouldLand.length);
  expect(metric('merge_gate_landings{state="intent"}')).toBe(0);
  expect(metric('merge_gate_outbox_deliveries{state="delivered"}')).toBe(shouldLand.length);
  expect(metric('merge_gate_outbox_deliveries{state="pending"}')).toBe(0);
  expect(metric('merge_gate_pending_requests')).toBe(0);
  expect(metric('merge_gate_queue_jobs')).toBe(0);
  expect(metric('merge_gate_evaluations')).toBeGreaterThanOrEqual(live.size);
  // What it took, for docs/performance.md (not asserted: timing belongs to bench/).
  process.stdout.write(
    `load: ${sent} webhooks sent in ${burstMs} ms, all settled after ${settledMs} ms; ${fake.count().total} GitHub requests (${fake.count().writes} writes), ${shouldLand.length} landings, ${[...repos.values()].reduce((n, r) => n + fake.ourRuns(r).length, 0)} check runs\n`,
  );
}, 150_000);
