// What a merge queue batch costs GitHub (SPEC §4a; docs/queue.md "What a batch
// costs GitHub"): the real app with the queue's shells (Probot, landing, the
// queue's runner and batch lander, real SQLite) against the fake GitHub over
// HTTP, which records every request. Four pull requests, already passing, are
// opened; they are built into one batch on a staging branch, CI reports
// `ci/test` pending then success there, and the batch lands — by fast-forward
// (`method: merge`) and by four merges with the tree check (`squash`). GitHub's
// webhooks are delivered as GitHub sends them: a push for every branch change,
// `pull_request.closed` for every merged pull request, a `status` for each CI
// report. Every request from the first `opened` to the last tidy-up is counted,
// by kind.   npx tsx bench/queue-github.ts
import { openDb } from '../src/state/db.js';
import { pullPayload } from '../test/helpers/github-app.js';
import type { RecordedRequest } from '../test/helpers/github-fake.js';
import { pushWebhook, statusWebhook } from '../test/helpers/github-fake-webhooks.js';
import { setupRepo } from '../test/helpers/github-scenario.js';
import { queuePolicy, QueueScenario } from '../test/helpers/queue-app.js';
import { stagingRef } from '../src/queue/types.js';
import { printTable, writeResults, type Figure } from './results-file.js';

const PULLS = 4;

/** The kinds a batch's requests are told apart by, in the order of the table. */
const KINDS = ['build', 'checks', 'land', 'delete', 'checkRuns', 'evaluation', 'other'] as const;
type Kind = (typeof KINDS)[number];

const WORDS: Record<Kind, string> = {
  build: 'build: staging ref + merges',
  checks: 'checks read (staging head)',
  land: 'land: fast-forward or merges, base reads',
  delete: 'delete branches',
  checkRuns: 'check-run writes',
  evaluation: 'evaluations (facts, diffs, policy)',
  other: 'other',
};

/** The kind of one request (the queue's own calls by path and GraphQL operation: src/queue/github.ts, src/land/github.ts). */
function kindOf(r: RecordedRequest, base = 'main'): Kind {
  const path = decodeURIComponent(r.path);
  if (r.kind === 'graphql') return r.operation === 'MergeGateQueueChecks' ? 'checks' : 'evaluation';
  if (/\/check-runs(\/\d+)?$/.test(path)) return r.method === 'GET' ? 'evaluation' : 'checkRuns';
  if (r.method === 'DELETE' && /\/git\/refs\/heads\//.test(path)) return 'delete';
  // The staging branch created (or reset) and each head merged into it.
  if (/\/merges$/.test(path) || (r.method === 'POST' && /\/git\/refs$/.test(path)) || /\/git\/refs\/heads\/merge-gate\/queue\//.test(path)) return 'build';
  // The fast-forward, or each merge; the base's head and tree read around them (src/queue/land-batch.ts).
  if (path.endsWith(`/git/refs/heads/${base}`) || /\/pulls\/\d+\/merge$/.test(path) || /\/git\/commits\//.test(path) || path.endsWith(`/branches/${base}`)) return 'land';
  // The rest are the gate's reads: facts, diffs, the policy file, the open pull requests.
  if (r.method === 'GET') return 'evaluation';
  return 'other';
}

interface BatchCost {
  method: string;
  pulls: number;
  byKind: Record<Kind, number>;
  total: number;
  perPull: number;
  /** Every request, `METHOD path` or `graphql Operation`, with its count (bench/details.txt). */
  requests: Record<string, number>;
}

async function oneBatch(method: 'merge' | 'squash'): Promise<BatchCost> {
  const q = await QueueScenario.start();
  try {
    const { fake } = q;
    const repo = setupRepo(fake, queuePolicy(method, `batch: ${PULLS}\nspeculative: 1\nwait: 30s`));
    const pulls = Array.from({ length: PULLS }, (_, i) => q.pull(repo, i + 2));
    for (const pull of pulls) repo.branches.set(pull.headRef, pull.headSha); // land.delete_branch deletes them
    const app = await q.app(openDb(':memory:'));
    await app.settle();
    // GitHub's webhooks: a push for every branch change; `pull_request.closed` for every merged pull request.
    const deliveries: Array<Promise<unknown>> = [];
    fake.git.onRefChange = (r, branch, move) => {
      const hook = pushWebhook(fake, r, branch, move, `${fake.appSlug}[bot]`);
      deliveries.push(app.receive(hook.name, hook.payload));
    };
    const closed = new Set<number>();
    const settle = async () => {
      for (let round = 0; round < 10; round++) {
        await app.settle();
        for (const pull of pulls) {
          if (pull.state !== 'MERGED' || closed.has(pull.number)) continue;
          closed.add(pull.number);
          const payload = pullPayload('pull_request', 'closed', fake, repo, pull);
          payload.pull_request.merged = true;
          payload.pull_request.merge_commit_sha = pull.mergeCommit ?? null;
          deliveries.push(app.receive('pull_request', payload));
        }
        if (deliveries.length === 0) return;
        await Promise.all(deliveries.splice(0));
      }
    };
    fake.resetRequests();

    for (const pull of pulls) {
      await app.receive('pull_request', q.opened(repo, pull));
      await settle();
    }
    const staged = fake.git.stagingMerges.map((m) => m.head);
    if (staged.join() !== pulls.map((p) => p.headSha).join()) throw new Error(`expected one batch of ${PULLS} (the queue chose its size otherwise): merged into staging ${staged.join(', ')}`);
    const sha = repo.branches.get(stagingRef('main', 1));
    if (!sha) throw new Error('no staging branch for batch 1');
    for (const state of ['PENDING', 'SUCCESS'] as const) {
      const hook = statusWebhook(fake, repo, fake.git.ciStatus(repo, sha, 'ci/test', state));
      await app.receive(hook.name, hook.payload);
      await settle();
    }
    const titles = pulls.map((p) => q.title(repo, p) ?? '');
    if (!titles.every((t) => /^Landed as \w+ in batch 1$/.test(t))) throw new Error(`the batch did not land: ${titles.join(' | ')}`);
    if (q.announced().length !== 1) throw new Error(`expected one trunk-updated, got ${JSON.stringify(q.announced())}`);
    if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);

    const counted = fake.apiRequests().filter((r) => r.status !== 304);
    const byKind = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
    const requests: Record<string, number> = {};
    for (const r of counted) {
      byKind[kindOf(r)]++;
      const name = `${kindOf(r)}: ${r.kind === 'graphql' ? `graphql ${r.operation}` : `${r.method} ${r.path.replace(/\/[0-9a-f]{40}\b/g, '/{sha}')}`}`;
      requests[name] = (requests[name] ?? 0) + 1;
    }
    const total = counted.length;
    return { method, pulls: PULLS, byKind, total, perPull: +(total / PULLS).toFixed(2), requests };
  } finally {
    await q.close();
  }
}

async function main(): Promise<void> {
  const results = [await oneBatch('merge'), await oneBatch('squash')];
  printTable(
    `Requests a batch of ${PULLS} costs GitHub, from the pull requests' opening to the batch landed and tidied (REST and GraphQL; 304s not counted)`,
    [
      ...KINDS.map((k) => ({ kind: WORDS[k], ...Object.fromEntries(results.map((r) => [r.method, r.byKind[k]])) })),
      { kind: 'total', ...Object.fromEntries(results.map((r) => [r.method, r.total])) },
      { kind: 'per pull request', ...Object.fromEntries(results.map((r) => [r.method, r.perPull])) },
    ],
  );
  for (const r of results) {
    console.log(`\n${r.method}: every request`);
    for (const [name, n] of Object.entries(r.requests).sort()) console.log(`  ${String(n).padStart(3)}  ${name}`);
  }
  const figures: Figure[] = results.flatMap((r) => [
    { name: `queue.requests.per_batch.${r.method}`, value: r.total, unit: 'requests', target: null },
    { name: `queue.requests.per_pull.${r.method}`, value: r.perPull, unit: 'requests', target: null },
    ...KINDS.filter((k) => k !== 'other' || r.byKind.other > 0).map((k) => ({ name: `queue.requests.per_batch.${r.method}.${k}`, value: r.byKind[k], unit: 'requests', target: null })),
  ]);
  writeResults('queueGithub', { measuredAt: new Date().toISOString(), note: `one batch of ${PULLS}, from the pull requests' opening (their first evaluation included) to the batch landed and tidied; installation-token requests and 304s not counted`, batches: results }, figures);
  console.log('\nwrote bench/results.json (key "queueGithub")');
}

await main();
