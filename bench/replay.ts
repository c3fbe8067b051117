// Local replay's speed: `replay.local.changes_per_s` over 1,000 changes of a
// real repository's first-parent history (target ≥ 50). The repository:
// MERGE_GATE_BENCH_REPO, else this machine's mirror of expressjs/express, else
// (or with MERGE_GATE_BENCH_REPO=generated) 1,000 generated commits with
// varied diffs. The table says which.
// Run alone: npx tsx bench/replay.ts
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadPolicyText } from '../src/policy/load.js';
import { needsHunksForFlags } from '../src/rules/flags.js';
import { localReplaySource } from '../src/replay/local.js';
import { runReplay } from '../src/replay/run.js';
import { summarize } from '../src/replay/summary.js';
import { printTable, writeResults } from './results-file.js';

const CHANGES = 1000;
const MIRROR = '/work/.mirror/expressjs+express/repo';

/** 1,000 commits made with one `git fast-import`: added, edited, renamed and deleted files, a few large. */
function generatedRepo(dir: string): void {
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  const out: string[] = [];
  const blob = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let t = Date.UTC(2024, 0, 1) / 1000;
  for (let i = 0; i < CHANGES; i++) {
    t += 3600 * (1 + (i % 7));
    const msg = `change ${i}: ${['fix', 'feat', 'docs', 'refactor'][i % 4]}`;
    out.push(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${t} +0000\n${blob(msg)}`);
    const lines = i % 50 === 0 ? 700 : 5 + (i % 40);
    out.push(`M 100644 inline src/mod${i % 60}.ts\n${blob(Array.from({ length: lines }, (_, k) => `export const v${k} = ${i * k};`).join('\n'))}`);
    if (i % 3 === 0) out.push(`M 100644 inline docs/page${i}.md\n${blob(`# page ${i}\n`.repeat(3))}`);
    if (i % 10 === 5) out.push(`D docs/page${i - 5 - ((i - 5) % 3)}.md\n`);
    if (i % 25 === 7) out.push(`M 100644 inline package-lock.json\n${blob(`{"v": ${i}}\n`.repeat(200))}`);
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: out.join('') });
}

const dir = mkdtempSync(join(tmpdir(), 'merge-gate-bench-replay-'));
let source: string;
try {
  const wanted = process.env.MERGE_GATE_BENCH_REPO;
  const real = wanted === 'generated' ? null : (wanted ?? (existsSync(MIRROR) ? MIRROR : null));
  if (real) {
    execFileSync('git', ['clone', '-q', '--no-checkout', real, dir]);
    source = real === MIRROR ? 'expressjs/express (first-parent history of master)' : real;
  } else {
    generatedRepo(dir);
    source = `${CHANGES} generated commits`;
  }
  const rev = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const rows: Record<string, string | number>[] = [];
  const figures = [];
  for (const [name, text] of [
    ['default preset', 'preset: default\n'],
    ['default + flags + freeze', 'preset: default\nflags: {}\nfreeze:\n  timezone: Europe/Paris\n  windows:\n    - { name: weekend, weekly: { from: "fri 18:00", to: "mon 08:00" } }\n'],
  ] as const) {
    const loaded = loadPolicyText(text, 'bench.yml');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const started = performance.now();
    const replay = await localReplaySource({ cwd: dir, rev, branch: rev, last: CHANGES, since: null, allHunks: needsHunksForFlags(loaded.policy) });
    const results = await runReplay(loaded.policy, replay);
    const seconds = (performance.now() - started) / 1000;
    const s = summarize(results);
    const perS = Number((results.length / seconds).toFixed(0));
    rows.push({ policy: name, changes: results.length, seconds: Number(seconds.toFixed(2)), 'changes/s': perS, fail: s.fail, wait: s.wait, unknown: s.unknown });
    figures.push(name === 'default preset'
      ? { name: 'replay.local.changes_per_s', value: perS, unit: 'changes/s', target: '>= 50' }
      : { name: 'replay.local.flags.changes_per_s', value: perS, unit: 'changes/s', target: null });
  }
  printTable(`local replay over ${source}`, rows);
  writeResults('replay', { source, rows }, figures);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
