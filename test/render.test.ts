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
  it('headlines every failing rule with its reason (else every waiting one)', () => {
    expect(headline(verdict)).toBe('size: 612 / 500 lines, 3 files excluded; flags: 2 flag violations');
    const waiting = verdict.results.filter((r) => r.outcome !== 'fail');
    expect(headline({ ...verdict, outcome: 'wait', results: waiting })).toBe('freeze: frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC)');
    expect(headline({ ...verdict, outcome: 'pass', results: [verdict.results[0]] })).toBe('all rules pass');
  });

  it('renders a markdown table with one row per rule, pipes escaped, and details with file:line', () => {
    const md = renderMarkdown(verdict);
    expect(md.title).toBe('fail: size: 612 / 500 lines, 3 files excluded; flags: 2 flag violations');
    const rows = md.summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| rule') && !l.startsWith('| ---'));
    expect(rows).toEqual([
      '| reviews | ✅ pass | 2 / 2 approvals (@bob, @carol) |',
      '| size | ❌ fail | 612 / 500 lines, 3 files excluded |',
      '| freeze | ⏳ wait | frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC) |',
      '| flags | ❌ fail | 2 flag violations |',
      '| checks | ➖ skip | not configured |',
    ]);
    expect(md.text).toBe('### flags\n\n- `src/a.ts:12` flag "turbo" is not in the registry\n- `flags.yml` a \\| pipe');
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
      'FAIL: size: 612 / 500 lines, 3 files excluded; flags: 2 flag violations',
    ]);
  });

  describe('names and text from a pull request are data (escaped where shown)', () => {
    const ESC = '\u001b';
    const hostile: Verdict = {
      outcome: 'fail',
      headSha: 'h'.repeat(40),
      nextChangeAt: null,
      results: [
        {
          rule: 'size',
          outcome: 'fail',
          reason: `labelled mechanical but not mechanical: src/${ESC}[2J${ESC}[Hx.js, **PASS** | ok | [ok](https://evil.example) <img src=x> \`code\` &#10004; ~~no~~ _em_\n\nPASS: all rules pass`,
          details: [
            { message: `not a pure rename ${ESC}]0;title\u0007`, path: `src/\`a\`|**b**\n[c](d)\u202e.js`, line: 3 },
            { message: 'label "**x**" by @evil <script>' },
          ],
        },
        { rule: 'flags', outcome: 'pass', reason: 'no violations (0 flags referenced)', details: [] },
      ],
    };

    it('the terminal gets no control character, and a fake PASS line cannot start a line', () => {
      const out = renderTerminal(hostile);
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u);
      expect(out).toContain('src/\\u001b[2J\\u001b[Hx.js');
      expect(out.split('\n').filter((l) => /^(PASS|FAIL)\b/.test(l))).toEqual([expect.stringMatching(/^FAIL: size: /)]);
    });

    it('the check run table keeps one row per rule with three cells, and nothing renders as markdown', () => {
      const md = renderMarkdown(hostile);
      const unescaped = (text: string, chars: string) => [...text.matchAll(new RegExp(`(?<!\\\\)(?:\\\\\\\\)*[${chars}]`, 'g'))].length;
      const rows = md.summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| rule') && !l.startsWith('| ---'));
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(unescaped(row, '|')).toBe(4);
      // The verdict line is the first line and the only bold one; no link, image, HTML, code span, entity or emphasis.
      const [first, ...rest] = md.summary.split('\n');
      expect(first.startsWith('**❌ fail** — ')).toBe(true);
      expect(unescaped(first.slice('**❌ fail**'.length), '*`\\[\\]<>&~_')).toBe(0);
      for (const line of rest) expect(unescaped(line, '*`\\[\\]<>&~_')).toBe(0);
      expect(md.summary).not.toMatch(/\u001b/);
      expect(md.title).not.toMatch(/[\u0000-\u001f]/);
      // The path is a code span that its own backticks cannot close; the message is escaped.
      const [detail, label] = md.text.split('\n').filter((l) => l.startsWith('- '));
      expect(detail).toBe('- ``src/`a`|**b**\\n[c](d)\\u202e.js:3`` not a pure rename \\\\u001b\\]0;title\\\\u0007');
      expect(label).toBe('- label "\\*\\*x\\*\\*" by @evil \\<script\\>');
    });

    it('keeps an underscore inside a word, which cannot start emphasis', () => {
      const md = renderMarkdown({ ...hostile, results: [{ rule: 'size', outcome: 'fail', reason: 'exceeds size.max_lines (5)', details: [] }] });
      expect(md.summary).toContain('| exceeds size.max_lines (5) |');
    });
  });
});
