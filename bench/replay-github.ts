// `replay --github`'s cost: `replay.requests_per_pull`, GitHub requests per merged
// pull request over 200 of them (target ≤ 2), under a policy with every rule
// that reads GitHub (flags included: one diff each), and without flags; the
// fake GitHub the tests use, over HTTP on 127.0.0.1, the real client and source.
// Run alone: npx tsx bench/replay-github.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeGitHub, addedPatch } from '../test/helpers/github-fake.js';
import { addMergedPull } from '../test/helpers/github-fake-history.js';
import { loadPolicyText } from '../src/policy/load.js';
import { factNeeds } from '../src/rules/index.js';
import { systemClock } from '../src/clock.js';
import { tokenOctokit } from '../src/octokit/token.js';
import { ReplayCache } from '../src/replay/cache.js';
import { githubReplaySource, listMergedPulls, needsSignature, type GatheredPull } from '../src/replay/github.js';
import { runReplay } from '../src/replay/run.js';
import type { FileDiff } from '../src/facts/types.js';
import { printTable, writeResults } from './results-file.js';

const PULLS = 200;
const RULES = `version: 1
preset: none
reviews: { required: 1, fresh: true }
size: { max_lines: 400 }
freeze:
  timezone: UTC
  windows: [{ name: weekend, weekly: { from: "sat 00:00", to: "mon 00:00" } }]
checks: { required: [ci/test] }
trunk: { environment: production }
`;
const WITH_FLAGS = `${RULES}flags: { registry: flags.yml, feature_paths: ["src/**"] }\n`;

async function measure(policyText: string): Promise<{ requests: number; perPull: number; seconds: number }> {
  const { fake, close } = await FakeGitHub.listening();
  const dir = mkdtempSync(join(tmpdir(), 'merge-gate-bench-replay-github-'));
  try {
    const repo = fake.addRepo('octo', 'app', { files: { '.github/merge-gate.yml': policyText } });
    for (let n = 1; n <= PULLS; n++) {
      const mergedAt = new Date(Date.UTC(2026, 9, 1) + n * 3_600_000).toISOString();
      const lines = Array.from({ length: 5 + (n % 30) }, (_, k) => `export const v${k} = ${n};`);
      const pull = addMergedPull(fake, repo, {
        number: n,
        mergedAt,
        files: [{ path: `src/m${n}.ts`, additions: lines.length, deletions: 0, status: 'added', patch: addedPatch(lines) }],
        checks: [{ name: 'ci/test', startedAt: new Date(Date.parse(mergedAt) - 7_200_000).toISOString(), completedAt: new Date(Date.parse(mergedAt) - 3_600_000).toISOString() }],
        labelEvents: n % 5 === 0 ? [{ name: 'feature', added: true, at: mergedAt }] : [],
        before: { 'flags.yml': 'flags: {}\n' },
      });
      pull.reviews = [{ login: 'bob', state: 'APPROVED', submittedAt: new Date(Date.parse(mergedAt) - 1_800_000).toISOString(), commit: pull.headSha }];
    }
    fake.addDeploymentStatus(fake.addDeployment(repo, { sha: 'a'.repeat(40), createdAt: '2026-09-30T00:00:00Z' }), 'SUCCESS', { createdAt: '2026-09-30T00:01:00Z' });
    const octokit = tokenOctokit({ token: 'bench', baseUrl: fake.baseUrl, clock: systemClock, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), say: () => {} });
    const t0 = performance.now();
    const list = await listMergedPulls(octokit, { owner: 'octo', repo: 'app', branch: null, last: PULLS, since: null, policyPath: '.github/merge-gate.yml', say: () => {} });
    const loaded = loadPolicyText(list.policy ?? '', 'policy');
    if (!loaded.ok) throw new Error('bench policy has errors');
    const needs = factNeeds(loaded.policy);
    const cache = new ReplayCache<GatheredPull, FileDiff[]>(join(dir, 'cache.jsonl'), needsSignature(needs));
    const results = await runReplay(loaded.policy, githubReplaySource({ octokit, owner: 'octo', repo: 'app', list, policy: loaded.policy, needs, cache, say: () => {} }));
    const seconds = (performance.now() - t0) / 1000;
    if (results.length !== PULLS) throw new Error(`replayed ${results.length} of ${PULLS}`);
    if (fake.problems.length) throw new Error(`fake GitHub problems: ${fake.problems.join('\n')}`);
    const requests = fake.count().total;
    return { requests, perPull: requests / PULLS, seconds };
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const flags = await measure(WITH_FLAGS);
const plain = await measure(RULES);
const rows = [
  { policy: 'every GitHub rule + flags (a diff each)', pulls: PULLS, requests: flags.requests, per_pull: flags.perPull.toFixed(3), seconds: flags.seconds.toFixed(1) },
  { policy: 'every GitHub rule, no flags', pulls: PULLS, requests: plain.requests, per_pull: plain.perPull.toFixed(3), seconds: plain.seconds.toFixed(1) },
];
printTable('replay --github against the fake GitHub (HTTP on 127.0.0.1)', rows);
writeResults('replay-github', { rows }, [
  { name: 'replay.requests_per_pull', value: Number(flags.perPull.toFixed(3)), unit: 'requests', target: '<= 2' },
  { name: 'replay.requests_per_pull.no_flags', value: Number(plain.perPull.toFixed(3)), unit: 'requests', target: null },
]);
