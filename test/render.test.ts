import { describe, expect, it } from '@jest/globals';
import { headline, renderMarkdown, renderTerminal } from '../src/render.js';
import type { Verdict } from '../src/rules/types.js';

const verdict: Verdict = {
  outcome: 'fail',
  headSha: 'h'.repeat(40),
  nextChangeAt: null,
  results: [
    { rule: 'reviews', outcome: 'pass', reason: '2 / 2 approvals (@bob, @carol)', details: [] },
    { rule: 'size', outcome: 'fail', reason: '612 / 500 lines, 3 files excluded', details: [] },
    { rule: 'freeze', outcome: 'wait', reason: 'frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC)', details: [] },
    {
      rule: 'flags',
      outcome: 'fail',
      reason: '2 flag violations',
      details: [
        { message: 'flag "turbo" is not in the registry', path: 'src/a.ts', line: 12 },
        { message: 'a | pipe', path: 'flags.yml' },
      ],
    },
    { rule: 'checks', outcome: 'skip', reason: 'not configured', details: [] },
  ],
};

describe('the verdict renderer', () => {
  it('headlines the first failing rule and counts the others', () => {
    expect(headline(verdict)).toBe('size: 612 / 500 lines, 3 files excluded (+1 more)');
    expect(headline({ ...verdict, outcome: 'pass', results: [verdict.results[0]] })).toBe('all rules pass');
  });

  it('renders a markdown table with one row per rule, pipes escaped, and details with file:line', () => {
    const md = renderMarkdown(verdict);
    expect(md.title).toBe('fail: size: 612 / 500 lines, 3 files excluded (+1 more)');
    const rows = md.summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| rule') && !l.startsWith('| ---'));
    expect(rows).toEqual([
      '| reviews | ✅ pass | 2 / 2 approvals (@bob, @carol) |',
      '| size | ❌ fail | 612 / 500 lines, 3 files excluded |',
      '| freeze | ⏳ wait | frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC) |',
      '| flags | ❌ fail | 2 flag violations |',
      '| checks | ➖ skip | not configured |',
    ]);
    expect(md.text).toBe('### flags\n\n- `src/a.ts:12` flag "turbo" is not in the registry\n- `flags.yml` a | pipe');
  });

  it('renders the same table for a terminal', () => {
    expect(renderTerminal(verdict).split('\n')).toEqual([
      'rule     result  measured',
      '-------  ------  --------',
      'reviews  pass    2 / 2 approvals (@bob, @carol)',
      'size     fail    612 / 500 lines, 3 files excluded',
      'freeze   wait    frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC)',
      'flags    fail    2 flag violations',
      'checks   skip    not configured',
      '',
      'flags:',
      '  src/a.ts:12: flag "turbo" is not in the registry',
      '  flags.yml: a | pipe',
      '',
      'FAIL: size: 612 / 500 lines, 3 files excluded (+1 more)',
    ]);
  });
});
