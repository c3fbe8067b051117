// Gate benchmark: evaluation latency for synthetic pull requests of growing
// size, with every rule configured; diff parsing throughput beside a bare
// line-splitting baseline over the same diff text (`parse.ratio`); and the
// peak memory the huge pull request costs (`memory.huge.mb`).
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { loadPolicyText } from '../src/policy/load.js';
import { evaluate, needsHunks } from '../src/rules/index.js';
import { parseUnifiedDiff } from '../src/facts/diff.js';
import type { PullRequestFacts } from '../src/facts/types.js';
import { printTable, writeResults, type Figure } from './results-file.js';

/** Resident memory before any pull request is built: the huge one's peak is measured against it. */
const rssAtStart = process.memoryUsage().rss;

const POLICY = `
preset: default
reviews: { required: 2, scale: [{ over_lines: 200, required: 3 }], fresh: true }
size: { max_lines: 500, max_files: 100, exclude: ["**/package-lock.json", "vendor/**"], mechanical: { label: mechanical, required: 1 } }
freeze:
  timezone: Europe/London
  windows:
    - { name: weekend, weekly: { from: "fri 16:00", to: "mon 08:00" } }
    - { name: release, from: "2026-12-18 00:00", to: "2027-01-04 09:00" }
flags: { registry: flags.yml, feature_paths: ["src/**"], feature_label: feature }
checks: { required: [ci/test, ci/lint] }
`;
const REGISTRY = 'flags:\n' + Array.from({ length: 200 }, (_, i) => `  flag-${i}:\n    default: false\n    lifecycle: experimental\n`).join('');

/** A unified diff of `files` files and about `lines` changed lines, some of them flag references. */
function syntheticDiff(files: number, lines: number): string {
  const per = Math.max(1, Math.floor(lines / files));
  const out: string[] = [];
  for (let f = 0; f < files; f++) {
    const path = f % 10 === 0 ? `vendor/lib${f}.js` : `src/module${f}/file${f}.ts`;
    const body: string[] = [];
    for (let l = 0; l < per; l++) {
      // Mostly additions, one in eight a deletion, one in fifty references a flag.
      if (l % 8 === 7) body.push(`-  const old${l} = compute(${l});`);
      else body.push(l % 50 === 0 ? `+  if (isEnabled('flag-${l % 200}')) { run${l}(); }` : `+  const value${l} = compute(${l}) + ${f};`);
    }
    const dels = body.filter((l) => l.startsWith('-')).length;
    out.push(`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`, `@@ -1,${dels} +1,${body.length - dels} @@`, ...body);
  }
  return `${out.join('\n')}\n`;
}

function factsFor(diffText: string): PullRequestFacts {
  const diff = parseUnifiedDiff(diffText);
  const now = '2026-11-23T10:00:00Z';
  return {
    repository: 'octo/app', number: 1, title: 'bench', url: '', author: { login: 'alice', bot: false },
    base: { ref: 'main', sha: 'b'.repeat(40) }, head: { ref: 'topic', sha: 'h'.repeat(40) },
    labels: ['feature'], draft: false, state: 'open',
    reviews: ['bob', 'carol', 'dave'].map((login) => ({ author: { login, bot: false }, state: 'APPROVED' as const, commitSha: 'h'.repeat(40), submittedAt: now })),
    files: diff.map((d) => ({ path: d.path, status: 'modified' as const, additions: d.lines.filter((l) => l.type === 'add').length, deletions: d.lines.filter((l) => l.type === 'del').length })),
    diff,
    registry: { base: REGISTRY, head: REGISTRY },
    gitattributes: '*.generated.ts linguist-generated\n',
    checks: [{ name: 'ci/test', source: 'check_run', state: 'success', updatedAt: now }, { name: 'ci/lint', source: 'status', state: 'success', updatedAt: now }],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, runs: number): number {
  fn(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

const loaded = loadPolicyText(POLICY);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
const policy = loaded.policy;
const now = DateTime.fromISO('2026-11-23T10:00:00Z');

const sizes = [
  { name: 'small', files: 10, lines: 200 },
  { name: 'large', files: 300, lines: 20_000 },
  { name: 'huge', files: 3_000, lines: 100_000 },
];
const evaluation = sizes.map(({ name, files, lines }) => {
  const text = syntheticDiff(files, lines);
  const facts = factsFor(text);
  if (!needsHunks(policy, facts)) throw new Error('the bench policy should need hunks');
  const runs = files >= 3000 ? 7 : 21;
  const parseMs = time(() => parseUnifiedDiff(text), runs);
  const evaluateMs = time(() => evaluate(policy, facts, now), runs);
  const verdict = evaluate(policy, facts, now);
  return {
    pr: name,
    files,
    lines: facts.files!.reduce((n, f) => n + f.additions + f.deletions, 0),
    'parse ms': Number(parseMs.toFixed(2)),
    'evaluate ms': Number(evaluateMs.toFixed(2)),
    'total ms': Number((parseMs + evaluateMs).toFixed(2)),
    verdict: verdict.outcome,
  };
});
printTable('Gate evaluation (median; every rule configured, hunks parsed)', evaluation);
// Peak resident memory so far (the huge pull request is the largest), over what the process held at the start.
const memoryHugeMb = (process.resourceUsage().maxRSS * 1024 - rssAtStart) / 1e6;

// The diff parser against the least any parser must do: split the text into lines.
const text = syntheticDiff(3_000, 100_000);
const mb = Buffer.byteLength(text) / 1e6;
const parseMs = time(() => parseUnifiedDiff(text), 7);
const splitMs = time(() => {
  let adds = 0;
  for (const line of text.split('\n')) if (line.charCodeAt(0) === 43) adds++;
  if (adds < 0) throw new Error('unreachable');
}, 7);
const throughput = [
  { parser: 'parseUnifiedDiff → FileDiff', 'ms': Number(parseMs.toFixed(2)), 'MB/s': Number((mb / (parseMs / 1000)).toFixed(1)) },
  { parser: 'split lines (baseline)', 'ms': Number(splitMs.toFixed(2)), 'MB/s': Number((mb / (splitMs / 1000)).toFixed(1)) },
];
printTable(`Diff parsing, ${mb.toFixed(1)} MB diff (ratio parser / baseline = ${(parseMs / splitMs).toFixed(1)}×)`, throughput);

writeResults('gate', {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
  evaluation,
  diffParsing: { megabytes: Number(mb.toFixed(2)), parseMs: Number(parseMs.toFixed(2)), baselineMs: Number(splitMs.toFixed(2)), ratio: Number((parseMs / splitMs).toFixed(2)) },
  memoryHugeMb: Number(memoryHugeMb.toFixed(1)),
}, [
  { name: 'eval.huge.ms', value: evaluation.find((e) => e.pr === 'huge')!['total ms'], unit: 'ms', target: null },
  { name: 'parse.ratio', value: Number((parseMs / splitMs).toFixed(2)), unit: '×', target: '<= 3' },
  { name: 'memory.huge.mb', value: Number(memoryHugeMb.toFixed(1)), unit: 'MB', target: null },
] satisfies Figure[]);

// The worst cases a pull request author controls (YAML reading, flags.reference).
await import('./hostile-input.js');
