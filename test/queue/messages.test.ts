// Every text the merge queue puts on a pull request's check (SPEC §4a wording),
// and how it sits on the verdict's plan: in_progress while queued,
// completed/failure once the queue lets the pull request go.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { describeNote, withLanding } from '../../src/land/check.js';
import type { CheckRunPlan } from '../../src/github/checkrun.js';
import { describeDequeued, describeQueued, ordinal, utcTime } from '../../src/queue/messages.js';

const AT = Date.UTC(2026, 11, 5, 10, 2, 59);
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

describe('ordinal', () => {
  it.each([
    [1, '1st'], [2, '2nd'], [3, '3rd'], [4, '4th'], [10, '10th'], [11, '11th'], [12, '12th'], [13, '13th'], [14, '14th'],
    [21, '21st'], [22, '22nd'], [23, '23rd'], [100, '100th'], [101, '101st'], [102, '102nd'], [111, '111th'], [112, '112th'], [113, '113th'], [1001, '1001st'],
  ])('%i → %s', (n, text) => {
    expect(ordinal(n)).toBe(text);
  });
});

describe('utcTime', () => {
  it('is the hour and minute in UTC, whatever the machine\'s zone', () => {
    expect(utcTime(AT)).toBe('10:02 UTC');
    expect(utcTime(Date.UTC(2026, 0, 1, 0, 0))).toBe('00:00 UTC');
  });
});

describe('a queued pull request (in_progress)', () => {
  it('queued: its position, as SPEC words it', () => {
    const m = describeQueued({ kind: 'queued', position: 2, of: 5, branch: 'main', held: null });
    expect(m.title).toBe('queued: 2nd of 5 for main');
    expect(m.lines).toBe(
      '**In the merge queue:** 2nd of 5 for `main`. It is tested with the pull requests next to it on a staging branch `merge-gate/queue/…` and lands once the required checks pass there. Nothing to do: merge-gate lands it by itself.',
    );
    expect(describeQueued({ kind: 'queued', position: 11, of: 111, branch: 'main', held: null }).title).toBe('queued: 11th of 111 for main');
  });

  it('queued and held: what holds it, and that it keeps its place', () => {
    const m = describeQueued({ kind: 'queued', position: 1, of: 3, branch: 'main', held: 'frozen until Mon 08:00 Europe/London (07:00 UTC)' });
    expect(m.title).toBe('queued: 1st of 3 for main, held: frozen until Mon 08:00 Europe/London (07:00 UTC)');
    expect(m.lines).toContain('It keeps its place in the queue but does not land while this holds: frozen until Mon 08:00 Europe/London (07:00 UTC). It goes on by itself once that ends.');
  });

  it('testing: its batch, the others in it, since when (UTC) and what the batch waits for, as SPEC words it', () => {
    const m = describeQueued({ kind: 'testing', batch: 12, with: [41, 43], since: AT, pending: ['ci/test'], started: true, behind: [], held: null });
    expect(m.title).toBe('testing in batch 12 with #41 #43 since 10:02 UTC (ci/test pending)');
    expect(m.lines).toBe('**In the merge queue:** testing in batch 12 with #41 #43 since 2026-12-05 10:02 UTC. Waiting for `ci/test`. Nothing to do: merge-gate lands it by itself.');
  });

  it('testing alone, before CI reported any required check: no "with", and the required checks it waits for to start (never "pending")', () => {
    const m = describeQueued({ kind: 'testing', batch: 3, with: [], since: AT, pending: [], started: false, behind: [], held: null }, ['ci/test']);
    expect(m.title).toBe('testing in batch 3 since 10:02 UTC (waiting for ci/test to start)');
    expect(m.lines).toBe('**In the merge queue:** testing in batch 3 since 2026-12-05 10:02 UTC. Waiting for CI to start `ci/test` on its staging branch. Nothing to do: merge-gate lands it by itself.');
    expect(describeQueued({ kind: 'testing', batch: 3, with: [], since: AT, pending: [], started: false, behind: [], held: null }, ['a', 'b', 'c', 'd']).title).toBe(
      'testing in batch 3 since 10:02 UTC (waiting for a, b, c and 1 more to start)',
    );
    // The required names unknown to the caller: the same, without names.
    expect(describeQueued({ kind: 'testing', batch: 3, with: [], since: AT, pending: [], started: false, behind: [], held: null }).title).toBe('testing in batch 3 since 10:02 UTC (waiting for CI to start)');
  });

  it('shortens a long pending list and a long list of pull requests', () => {
    const m = describeQueued({ kind: 'testing', batch: 7, with: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], since: AT, pending: ['a', 'b', 'c', 'd', 'e'], started: true, behind: [], held: null });
    expect(m.title).toBe('testing in batch 7 with #1 #2 #3 #4 #5 #6 #7 #8 and 2 more since 10:02 UTC (a, b, c and 2 more pending)');
    expect(m.lines).toContain('Waiting for `a`, `b`, `c` and 2 more.');
  });

  it('testing behind batches ahead: which ones it waits for', () => {
    const one = describeQueued({ kind: 'testing', batch: 12, with: [41], since: AT, pending: [], started: true, behind: [11], held: null });
    expect(one.title).toBe('testing in batch 12 with #41 since 10:02 UTC, waiting for batch 11 ahead');
    expect(one.lines).toContain('It lands after batch 11 ahead of it, on which its staging branch is built.');
    expect(describeQueued({ kind: 'testing', batch: 12, with: [], since: AT, pending: ['ci/test'], started: true, behind: [11, 10], held: null }).title).toBe(
      'testing in batch 12 since 10:02 UTC (ci/test pending), waiting for batches 11, 10 ahead',
    );
  });

  it('testing and held', () => {
    const m = describeQueued({ kind: 'testing', batch: 2, with: [], since: AT, pending: ['ci/test'], started: true, behind: [], held: 'trunk unhealthy' });
    expect(m.title).toBe('testing in batch 2 since 10:02 UTC (ci/test pending), held: trunk unhealthy');
    expect(m.lines).toContain('does not land while this holds: trunk unhealthy.');
  });

  it('building', () => {
    const m = describeQueued({ kind: 'building', batch: 12, with: [41, 43], since: AT });
    expect(m.title).toBe('building batch 12 with #41 #43 since 10:02 UTC');
    expect(m.lines).toBe('**In the merge queue:** batch 12 with #41 #43 is being built on its staging branch since 2026-12-05 10:02 UTC; its CI starts once it is pushed. Nothing to do: merge-gate lands it by itself.');
  });

  it('landing, and passed but held', () => {
    expect(describeQueued({ kind: 'landing', batch: 12, with: [41], since: AT, held: null })).toEqual({
      title: 'landing batch 12 with #41',
      lines: '**In the merge queue:** batch 12 with #41 passed its required checks and is landing (since 2026-12-05 10:02 UTC). Nothing to do: merge-gate lands it by itself.',
    });
    const held = describeQueued({ kind: 'landing', batch: 12, with: [], since: AT, held: 'frozen until 18:00 UTC' });
    expect(held.title).toBe('passed in batch 12, held: frozen until 18:00 UTC');
    expect(held.lines).toBe(
      '**In the merge queue:** batch 12 passed its required checks (since 2026-12-05 10:02 UTC). It keeps its place in the queue but does not land while this holds: frozen until 18:00 UTC. It goes on by itself once that ends.',
    );
  });
});

describe('a pull request the queue let go (completed/failure), with what to do', () => {
  it('failed: the check, its link and the staging SHA, and the attempts', () => {
    const m = describeDequeued({ kind: 'failed', check: 'ci/test', url: 'https://github.com/o/r/actions/runs/1', stagingSha: SHA, attempts: 2 }, 'main');
    expect(m.title).toBe('left the queue: ci/test failed on its staging branch');
    expect(m.lines).toBe(
      `**Left the merge queue:** the required check \`ci/test\` failed on staging commit \`${SHA}\`, where this pull request was tested alone on \`main\` (2 attempts) — [details](https://github.com/o/r/actions/runs/1). Push a fix: the new head joins the queue again once it passes. Not this pull request's fault (flaky CI)? Push any new commit (\`git commit --allow-empty\`) to queue it again.`,
    );
    expect(describeDequeued({ kind: 'failed', check: 'ci/test', url: null, stagingSha: SHA, attempts: 1 }, 'main').lines).toContain('(1 attempt). Push a fix');
  });

  it('timeout: how long, the staging SHA, and where to look', () => {
    const m = describeDequeued({ kind: 'timeout', stagingSha: SHA, attempts: 1, afterMs: 90 * 60_000 }, 'main');
    expect(m.title).toBe('left the queue: the required checks did not finish within 90m');
    expect(m.lines).toBe(
      `**Left the merge queue:** the required checks did not all finish on staging commit \`${SHA}\` within 90m (\`land.queue.timeout\`, 1 attempt). Check that CI runs on pushes to \`merge-gate/queue/**\` and reports every name in \`checks.required\` (see docs/queue.md), or raise \`land.queue.timeout\`; then push any new commit (\`git commit --allow-empty\`) to queue it again.`,
    );
    expect(describeDequeued({ kind: 'timeout', stagingSha: SHA, attempts: 2, afterMs: 3_600_000 }, 'main').title).toBe('left the queue: the required checks did not finish within 1h');
  });

  it('conflict: with what', () => {
    const m = describeDequeued({ kind: 'conflict', with: '#41' }, 'main');
    expect(m.title).toBe('left the queue: conflicts with #41');
    expect(m.lines).toBe(
      '**Left the merge queue:** merging its head onto the staging branch for `main` conflicted with `#41`. Merge or rebase `main` into the branch (once what it conflicts with has landed), resolve the conflict and push: the new head joins the queue again once it passes.',
    );
  });
});

describe('what an author or a CI shaped is data, never markdown', () => {
  const BRANCH = 'rel`**x**`[y](javascript:alert(1))';
  const CHECK = 'ci/`test`*|<b>\n# heading';

  it('a base branch name with backticks and markdown is one code span (queued, conflict)', () => {
    const queued = describeQueued({ kind: 'queued', position: 1, of: 1, branch: BRANCH, held: null });
    expect(queued.lines).toContain('for ``rel`**x**`[y](javascript:alert(1))``.');
    expect(queued.title).toBe(`queued: 1st of 1 for ${BRANCH}`);
    const conflict = describeDequeued({ kind: 'conflict', with: '`#41` **and** [x](y)' }, BRANCH);
    expect(conflict.lines).toContain('conflicted with `` `#41` **and** [x](y) ``.');
    expect(conflict.lines).toContain('Merge or rebase ``rel`**x**`[y](javascript:alert(1))`` into the branch');
  });

  it('a check name with markdown, backticks and a new line: one line in the title, a code span in the lines', () => {
    const testing = describeQueued({ kind: 'testing', batch: 1, with: [], since: AT, pending: [CHECK], started: true, behind: [], held: null });
    expect(testing.title).toBe('testing in batch 1 since 10:02 UTC (ci/`test`*|<b> # heading pending)');
    expect(testing.lines).toContain('Waiting for ``ci/`test`*|<b> # heading``.');
    const toStart = describeQueued({ kind: 'testing', batch: 1, with: [], since: AT, pending: [], started: false, behind: [], held: null }, [CHECK]);
    expect(toStart.title).toBe('testing in batch 1 since 10:02 UTC (waiting for ci/`test`*|<b> # heading to start)');
    expect(toStart.lines).toContain('Waiting for CI to start ``ci/`test`*|<b> # heading`` on its staging branch.');
    const failed = describeDequeued({ kind: 'failed', check: CHECK, url: null, stagingSha: SHA, attempts: 1 }, 'main');
    expect(failed.title).toBe('left the queue: ci/`test`*|<b> # heading failed on its staging branch');
    expect(failed.lines).toContain('the required check ``ci/`test`*|<b> # heading`` failed');
  });

  it('a URL that could leave its link is shown as code, not linked', () => {
    const evil = describeDequeued({ kind: 'failed', check: 'ci', url: 'https://x.test/a) [click](javascript:alert(1)', stagingSha: SHA, attempts: 1 }, 'main');
    expect(evil.lines).toContain('details: `https://x.test/a) [click](javascript:alert(1)`.');
    expect(describeDequeued({ kind: 'failed', check: 'ci', url: 'javascript:alert(1)', stagingSha: SHA, attempts: 1 }, 'main').lines).toContain('details: `javascript:alert(1)`');
  });

  it('a hold\'s reason is escaped markdown', () => {
    const m = describeQueued({ kind: 'queued', position: 1, of: 1, branch: 'main', held: 'trunk **down** [x](y) <img>' });
    expect(m.lines).toContain('while this holds: trunk \\*\\*down\\*\\* \\[x\\](y) \\<img\\>.');
  });
});

describe('on the verdict\'s plan (src/land/check.ts)', () => {
  const PASS: CheckRunPlan = { status: 'completed', conclusion: 'success', title: 'pass', summary: '| rule | result |', text: '', externalId: 'x', detailsUrl: null, annotations: [] };

  it('a queue note makes the check in_progress, its title and first lines the queue\'s', () => {
    const plan = withLanding(PASS, { kind: 'queue', status: { kind: 'queued', position: 2, of: 5, branch: 'main', held: null } });
    expect(plan).toMatchObject({ status: 'in_progress', conclusion: null, title: 'queued: 2nd of 5 for main', externalId: 'x' });
    expect(plan.summary).toMatch(/^\*\*In the merge queue:\*\* 2nd of 5 for `main`\. [^\n]*\n\n\| rule \| result \|$/);
  });

  it('a dequeued note makes it completed/failure', () => {
    const plan = withLanding(PASS, { kind: 'dequeued', why: { kind: 'conflict', with: '#41' }, branch: 'main' });
    expect(plan).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'left the queue: conflicts with #41' });
  });

  it('landed in a batch says which; other notes keep the verdict\'s state', () => {
    const note = { kind: 'landed', sha: SHA, url: `https://github.com/o/r/commit/${SHA}`, branch: 'main', method: 'merge', batch: 12 } as const;
    expect(describeNote(note)).toEqual({
      title: 'Landed as abcdef0 in batch 12',
      lines: `**🛬 Landed** as [abcdef0](https://github.com/o/r/commit/${SHA}) on \`main\` (merge) in batch 12.`,
    });
    expect(withLanding(PASS, note)).toMatchObject({ status: 'completed', conclusion: 'success', title: 'Landed as abcdef0 in batch 12' });
    expect(describeNote({ ...note, batch: undefined }).title).toBe('Landed as abcdef0');
  });

  it('a title past GitHub\'s limit is cut', () => {
    const plan = withLanding(PASS, { kind: 'queue', status: { kind: 'queued', position: 1, of: 1, branch: 'main', held: 'x'.repeat(5000) } });
    expect(plan.title.length).toBeLessThanOrEqual(1000);
  });
});

describe('docs/queue.md shows every title as the code words it', () => {
  const doc = readFileSync(new URL('../../docs/queue.md', import.meta.url), 'utf8');
  const at = Date.UTC(2026, 11, 5, 10, 2);
  const REASON = '<reason>';
  it.each([
    describeQueued({ kind: 'queued', position: 2, of: 5, branch: 'main', held: null }).title,
    describeQueued({ kind: 'queued', position: 2, of: 5, branch: 'main', held: REASON }).title,
    describeQueued({ kind: 'building', batch: 12, with: [41, 43], since: at }).title,
    describeQueued({ kind: 'testing', batch: 12, with: [41, 43], since: at, pending: ['ci/test'], started: true, behind: [], held: null }).title,
    describeQueued({ kind: 'testing', batch: 12, with: [], since: at, pending: [], started: true, behind: [11], held: null }).title,
    describeQueued({ kind: 'testing', batch: 12, with: [41, 43], since: at, pending: [], started: false, behind: [], held: null }, ['ci/test']).title,
    describeQueued({ kind: 'landing', batch: 12, with: [41], since: at, held: null }).title,
    describeQueued({ kind: 'landing', batch: 12, with: [41], since: at, held: REASON }).title,
    describeNote({ kind: 'landed', sha: '1a2b3c4d', url: 'https://github.com/o/r/commit/1a2b3c4d', branch: 'main', method: 'merge', batch: 12 }).title,
    describeDequeued({ kind: 'failed', check: 'ci/test', url: null, stagingSha: SHA, attempts: 2 }, 'main').title,
    describeDequeued({ kind: 'timeout', stagingSha: SHA, attempts: 1, afterMs: 3_600_000 }, 'main').title,
    describeDequeued({ kind: 'conflict', with: '#41' }, 'main').title,
  ])('%s', (title) => {
    expect(doc).toContain(`| \`${title}\` |`);
  });
});
