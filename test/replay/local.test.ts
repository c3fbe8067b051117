// `merge-gate replay` in local mode, as a user runs it: a real git repository in
// a temp folder, the real CLI in a child process, history made at known instants.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo, linesOf, type TempRepo } from '../helpers/git-repo.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { chromium, type Browser } from 'playwright-core';

const POLICY = `version: 1
preset: none
reviews:
  required: 1
size:
  max_lines: 50
  mechanical:
    label: mechanical
    required: 1
freeze:
  timezone: Europe/Paris
  windows:
    - name: weekend
      weekly: { from: "sat 00:00", to: "mon 00:00" }
flags:
  registry: flags.yml
  feature_paths: ["features/**"]
`;

/** Author data that must stay data: an escape sequence, markup, emphasis. */
const BIG_TITLE = 'big change \u001b[2J<b>x</b> *y*';

let repo: TempRepo;
const sha: Record<string, string> = {};
/** `replay --json` over the whole history, read once. */
let full: ReturnType<typeof replayJson>;

function replay(...args: string[]): CliRun {
  return runCli(['replay', ...args], repo.dir);
}
/** The JSON report, or the child's output when it is not JSON (so a failure shows why). */
function replayJson(...args: string[]) {
  const run = replay('--json', ...args);
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`replay --json exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}

beforeAll(() => {
  repo = makeRepo();
  // Mon 2 Nov 2026; Paris is UTC+1 all November.
  sha.init = repo.commit('init', { '.github/merge-gate.yml': POLICY, 'flags.yml': 'flags: {}\n', 'README.md': 'hello\n' }, '2026-11-02T10:00:00Z');
  repo.git('checkout', '-q', '-b', 'topic');
  sha.side1 = repo.commit('side one', { 'docs/a.md': linesOf(10) }, '2026-11-03T10:00:00Z');
  sha.side2 = repo.commit('side two', { 'docs/b.md': linesOf(10) }, '2026-11-03T11:00:00Z');
  repo.git('checkout', '-q', 'main');
  repo.gitAt('2026-11-04T10:00:00Z', 'merge', '-q', '--no-ff', 'topic', '-m', 'Merge topic');
  sha.merge = repo.git('rev-parse', 'HEAD').trim();
  sha.big = repo.commit(BIG_TITLE, { 'src/big.txt': linesOf(80) }, '2026-11-05T10:00:00Z');
  // Whitespace only, 160 counted lines: over the limit, verifiably mechanical.
  sha.reindent = repo.commit('reindent', { 'src/big.txt': linesOf(80).replace(/^(?=.)/gm, '  ') }, '2026-11-06T10:00:00Z');
  // Sat 7 Nov 12:00 UTC, 13:00 in Paris: the weekend freeze holds until Mon 00:00 Paris (Sun 23:00 UTC), 35 hours.
  sha.saturday = repo.commit('weekend fix', { 'README.md': 'hello there\n' }, '2026-11-07T12:00:00Z');
  sha.flagOn = repo.commit('new flag, on by default', { 'flags.yml': 'flags:\n  new-thing:\n    default: true\n    lifecycle: experimental\n' }, '2026-11-09T09:00:00Z');
  sha.last = repo.commit('small', { 'README.md': 'hello again\n' }, '2026-11-10T09:00:00Z');
});

beforeAll(() => {
  full = replayJson();
});

afterAll(() => repo.remove());

describe('merge-gate replay (local)', () => {
  test('JSON exactly in the shape of SPEC §6, newest first, first-parent history only', () => {
    const out = full;
    expect(Object.keys(out)).toEqual(['summary', 'changes']);
    expect(Object.keys(out.summary)).toEqual(['total', 'pass', 'fail', 'wait', 'unknown', 'by_rule']);
    for (const counts of Object.values(out.summary.by_rule)) expect(Object.keys(counts as object)).toEqual(['fail', 'wait', 'unknown']);
    for (const c of out.changes) {
      expect(Object.keys(c)).toEqual(['sha', 'pull_request', 'title', 'at', 'result', 'rules', 'reasons']);
      expect(c.pull_request).toBeNull();
    }
    // The merge is one change; the commits on its side branch are not changes.
    expect(out.changes.map((c: { sha: string }) => c.sha)).toEqual([sha.last, sha.flagOn, sha.saturday, sha.reindent, sha.big, sha.merge, sha.init]);
    expect(out.summary).toEqual({
      total: 7,
      pass: 0,
      fail: 3,
      wait: 1,
      unknown: 3,
      by_rule: {
        reviews: { fail: 0, wait: 0, unknown: 7 },
        size: { fail: 2, wait: 0, unknown: 0 },
        freeze: { fail: 0, wait: 1, unknown: 0 },
        flags: { fail: 1, wait: 0, unknown: 0 },
        checks: { fail: 0, wait: 0, unknown: 0 },
        trunk: { fail: 0, wait: 0, unknown: 0 },
      },
    });
  });

  test('each rule as of the commit time; what git cannot know is unknown', () => {
    const out = full;
    const bySha = Object.fromEntries(out.changes.map((c: { sha: string }) => [c.sha, c]));
    // The merge is judged on its diff against its first parent: both side commits, 20 lines.
    expect(bySha[sha.merge]).toMatchObject({ title: 'Merge topic', at: '2026-11-04T10:00:00Z', result: 'unknown', reasons: [] });
    expect(bySha[sha.merge].rules).toEqual({ reviews: 'unknown', size: 'pass', freeze: 'pass', flags: 'pass', checks: 'skip', trunk: 'skip' });
    expect(bySha[sha.big]).toMatchObject({ result: 'fail', reasons: ['size: 80 / 50 lines'] });
    expect(bySha[sha.reindent].result).toBe('fail');
    expect(bySha[sha.reindent].reasons).toEqual(['size: 160 / 50 lines', 'size: verifiably mechanical (renames, whitespace): the "mechanical" label could have let it through']);
    // A Saturday change in the weekend freeze waits; the same policy passes it on a weekday.
    expect(bySha[sha.saturday].rules.freeze).toBe('wait');
    expect(bySha[sha.saturday].result).toBe('wait');
    expect(bySha[sha.saturday].reasons[0]).toMatch(/^freeze: frozen \(weekend\) until Mon 00:00 Europe\/Paris \(Sun 23:00 UTC\)/);
    expect(bySha[sha.last].rules.freeze).toBe('pass');
    // A flag added on by default fails, naming the flag (registry at the parent and at the change).
    expect(bySha[sha.flagOn].rules.flags).toBe('fail');
    expect(bySha[sha.flagOn].reasons.join('\n')).toMatch(/new-thing/);
    expect(bySha[sha.init].rules.flags).toBe('pass');
    expect(bySha[sha.last].rules.reviews).toBe('unknown');
  });

  test('--last N and --since DATE choose the changes', () => {
    expect(replayJson('--last', '2').changes.map((c: { sha: string }) => c.sha)).toEqual([sha.last, sha.flagOn]);
    expect(replayJson('--since', '2026-11-07').changes.map((c: { sha: string }) => c.sha)).toEqual([sha.last, sha.flagOn, sha.saturday]);
    // An instant with an offset: 13:00 in Paris is 12:00 UTC, the Saturday change's instant, included.
    expect(replayJson('--since', '2026-11-07T13:00:00+01:00', '--last', '5').summary.total).toBe(3);
    expect(replayJson('--since', '2026-11-07T13:00:01+01:00', '--last', '1').summary.total).toBe(1);
  });

  test('the report: summary, freeze hours, one escaped line per change that would not have passed', () => {
    const run = replay();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would have passed 0, failed 3, waited 1, unknown 3');
    expect(run.stdout).toContain('by rule: reviews unknown 7; size fail 2; freeze wait 1; flags fail 1');
    expect(run.stdout).toContain('a freeze would have held 1 landing for 35 hours in total');
    expect(run.stdout).toContain('unknown here (never guessed): reviews');
    expect(run.stdout).toContain(`${sha.big.slice(0, 12)}  fail  2026-11-05T10:00:00Z  big change \\u001b[2J<b>x</b> *y*\n      size: 80 / 50 lines`);
    expect(run.stdout).not.toContain(sha.merge.slice(0, 12));
    const md = replay('--markdown', '--last', '1', '--since', '2026-11-01');
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('| size | | 0 | 0 | 0 |');
  });

  test('titles are data in every format', () => {
    // The title reaches the JSON as it is (JSON.stringify escapes it) …
    expect(full.changes.find((c: { sha: string }) => c.sha === sha.big).title).toBe(BIG_TITLE);
    // … and no format prints the escape sequence or renders the markup.
    const md = replay('--markdown');
    expect(md.stdout).not.toContain('\u001b');
    expect(md.stdout).toContain('big change \\\\u001b\\[2J\\<b\\>x\\</b\\> \\*y\\*');
    expect(replay('--json').stdout).not.toContain('\u001b');
  });

  test('a bare repository (a mirror) replays too', () => {
    const bare = `${repo.dir}-bare.git`;
    repo.git('clone', '-q', '--bare', repo.dir, bare);
    try {
      const run = runCli(['replay', '--json', '--last', '2'], bare);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).changes.map((c: { sha: string }) => c.sha)).toEqual([sha.last, sha.flagOn]);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  test('usage, policy and repository errors exit 2 with one line', () => {
    expect(replay('--last', 'lots').code).toBe(2);
    expect(replay('--since', 'yesterday').code).toBe(2);
    expect(replay('--json', '--markdown').code).toBe(2);
    const missing = replay('--branch', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--branch nope: no such branch');
    // A policy with errors: each with its line and column; a policy that does not gate the branch: said so.
    writeFileSync(join(repo.dir, 'broken.yml'), 'version: 1\nsize:\n  max_lines: lots\n');
    const broken = replay('--policy', 'broken.yml');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.yml:3:14 size.max_lines: expected a positive integer');
    writeFileSync(join(repo.dir, 'release-only.yml'), 'version: 1\nbranches: ["release/*"]\n');
    const ungated = replay('--policy', 'release-only.yml');
    expect(ungated.code).toBe(2);
    expect(ungated.stderr).toContain('the policy does not gate main (branches: release/*)');
    const notRepo = runCli(['replay'], '/');
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('is not a git repository: run merge-gate replay');
  });
});

describe('merge-gate replay --html, in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('a self-contained page: the timeline coloured by outcome, titles as text', async () => {
    const run = replay('--html', 'report.html');
    expect(run.code).toBe(0);
    const html = readFileSync(join(repo.dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${join(repo.dir, 'report.html')}`);
    const marks = await page.$$eval('svg.timeline circle.change', (els) => els.map((e) => ({ cls: e.getAttribute('class'), fill: (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill })));
    expect(marks.map((m) => m.cls)).toEqual(['change unknown', 'change fail', 'change wait', 'change fail', 'change fail', 'change unknown', 'change unknown']);
    expect(new Set(marks.filter((m) => m.cls === 'change fail').map((m) => m.fill))).toEqual(new Set(['rgb(207, 34, 46)']));
    const box = await page.$eval('svg.timeline', (e) => e.getBoundingClientRect().width);
    expect(box).toBeGreaterThan(300);
    // The title's markup is text in the table, not an element.
    expect(await page.$$eval('table.blocked b', (els) => els.length)).toBe(0);
    expect(await page.$$eval('table.blocked tr', (rows) => rows.map((r) => r.textContent))).toEqual(expect.arrayContaining([expect.stringContaining('big change \\u001b[2J<b>x</b> *y*')]));
    expect(await page.textContent('ul.summary')).toContain('would have passed 0, failed 3, waited 1, unknown 3');
    expect(requests).toEqual([]);
    await page.close();
  });
});
