// The queue page, a pull request's page and /api/queue as pure renderings of
// their views: hostile text stays text, the document's shape (landmarks, one
// hashed style, the sign-out form), and what each page says.
import { createHash } from 'node:crypto';
import { PAGES_CSP } from '../../src/pages/layout.js';
import { renderPullPage } from '../../src/pages/pull-page.js';
import { queueApiJson, renderQueuePage } from '../../src/pages/queue-page.js';
import { elements, textOf, tokenize } from '../helpers/html-tokens.js';
import { evaluation, landing, MIN, NOW, pullPage, queue, queuePage, queuePull } from '../helpers/pages-views.js';

const HOSTILE = `<img src=x onerror="alert('pwned')"> & </td><script>alert(1)</script> \`x\` '"`;
const VOID = new Set(['meta', 'input', 'br', 'hr', 'img', 'link']);

/** Every element closed in order (no stray end tag a hostile value could have added or removed). */
function expectBalanced(markup: string): void {
  const stack: string[] = [];
  for (const t of tokenize(markup)) {
    if (t.type === 'start' && !VOID.has(t.name)) stack.push(t.name);
    if (t.type === 'end') expect(`</${t.name}> closing <${stack.pop()}>`).toBe(`</${t.name}> closing <${t.name}>`);
  }
  expect(stack).toEqual([]);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');
const text = (markup: string) => textOf(markup).replace(/\s+/g, ' ');

/** The raw text of the only element of that name. */
function rawText(markup: string, name: 'style' | 'script'): string {
  const tokens = tokenize(markup);
  const at = tokens.findIndex((t) => t.type === 'start' && t.name === name);
  const next = tokens[at + 1];
  return next.type === 'text' ? next.text : '';
}

function expectDocument(markup: string, scripts: number): void {
  expect(markup.startsWith('<!doctype html>')).toBe(true);
  expect(elements(markup, 'html')[0].attrs).toContainEqual(['lang', 'en']);
  expect(elements(markup, 'meta').map((m) => Object.fromEntries(m.attrs))).toContainEqual({ name: 'viewport', content: 'width=device-width, initial-scale=1' });
  for (const landmark of ['header', 'nav', 'main', 'footer', 'h1', 'title']) expect([landmark, elements(markup, landmark).length]).toEqual([landmark, 1]);
  expect(elements(markup, 'a')[0].attrs).toEqual([['class', 'skip'], ['href', '#main']]);
  expect(elements(markup, 'style')).toHaveLength(1);
  expect(PAGES_CSP).toContain(`style-src 'sha256-${sha256(rawText(markup, 'style'))}'`);
  expect(elements(markup, 'script')).toHaveLength(scripts);
  if (scripts) expect(PAGES_CSP).toContain(`script-src 'sha256-${sha256(rawText(markup, 'script'))}'`);
  // no inline style or event handler attribute: the CSP would refuse them
  for (const t of tokenize(markup)) if (t.type === 'start') for (const [name] of t.attrs) expect(name).not.toMatch(/^(style|on.*)$/);
  const [form] = elements(markup, 'form');
  expect(Object.fromEntries(form.attrs)).toEqual({ method: 'post', action: '/logout' });
  expect(elements(markup, 'input').map((i) => Object.fromEntries(i.attrs))).toEqual([{ type: 'hidden', name: 'csrf', value: 'csrf-token-1234' }]);
  expect(text(markup)).toContain('Sign out');
  expectBalanced(markup);
}

describe('the Content-Security-Policy', () => {
  it('allows nothing by default, no frame, no base, forms and fetches to this site only', () => {
    for (const part of ["default-src 'none'", "img-src 'self' data:", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) expect(PAGES_CSP).toContain(part);
    expect(PAGES_CSP).not.toMatch(/unsafe|\*/);
  });
});

describe('renderQueuePage', () => {
  it('is a whole document: landmarks, one hashed style, the refresh script, the sign-out form', () => {
    const page = renderQueuePage(queuePage());
    expectDocument(page, 1);
    expect(page).toContain('<noscript><meta http-equiv="refresh" content="30"></noscript>');
  });

  it('shows each queue under its repository and branch: position, pull request, batch, state, since when', () => {
    const out = text(renderQueuePage(queuePage()));
    expect(out).toContain('octo/shop → main');
    expect(out).toContain('#41 Make checkout faster 41');
    expect(out).toContain('by alice');
    expect(out).toContain('testing : testing in batch 12 with #43 since 10:18 UTC (ci/test pending)');
    expect(out).toContain('2026-12-05 10:18 UTC (for 12 min)');
    expect(out).toContain('A pull request queued now can expect to land in about 40 min.');
    expect(out).toContain('#39 Fix the cart (verdict of #39 ) : 38 min in the queue');
    const page = renderQueuePage(queuePage());
    expect(elements(page, 'a').map((a) => Object.fromEntries(a.attrs).href)).toEqual(expect.arrayContaining(['https://github.com/octo/shop/pull/41', '/pulls/octo/shop/41', '/pulls/octo/shop/39']));
    expect(elements(page, 'th').filter((th) => th.attrs.some(([k, v]) => k === 'scope' && v === 'col'))).toHaveLength(8);
    expect(elements(page, 'caption')).toHaveLength(2);
  });

  it('marks a held pull request, with why', () => {
    const held = queuePull({ status: { kind: 'queued', position: 1, of: 1, branch: 'main', held: 'the freeze "release" until 12:00 UTC' }, says: 'queued: 1st of 1 for main, held' });
    const page = renderQueuePage(queuePage({ queues: [queue({ pulls: [held] })] }));
    expect(elements(page, 'tr').filter((tr) => tr.attrs.some(([k, v]) => k === 'class' && v === 'held'))).toHaveLength(1);
    expect(text(page)).toContain('held (queued) : queued: 1st of 1 for main, held Held: the freeze "release" until 12:00 UTC');
  });

  it('says so when there is no queue, nobody queued, no landing and no estimate', () => {
    expect(text(renderQueuePage(queuePage({ queues: [] })))).toContain('There is no queue you can read.');
    const out = text(renderQueuePage(queuePage({ queues: [queue({ pulls: [], recent: [], expectedWaitMs: null })] })));
    expect(out).toContain('Nobody is in this queue.');
    expect(out).toContain('No landings yet');
    expect(out).not.toContain('can expect');
  });

  it('renders hostile titles, logins, branch names, check names and links as text', () => {
    const pull = queuePull({ title: HOSTILE, author: HOSTILE, url: 'javascript:alert(1)', says: `testing (${HOSTILE} pending)` });
    const page = renderQueuePage(queuePage({ login: HOSTILE, csrf: HOSTILE, queues: [queue({ branch: HOSTILE, pulls: [pull], recent: [landing({ pulls: [{ number: 7, title: HOSTILE, url: 'javascript:alert(2)', waitedMs: null }] })] })] }));
    expect(elements(page, 'img')).toEqual([]);
    expect(elements(page, 'script')).toHaveLength(1); // the page's own
    expect(elements(page, 'a').map((a) => Object.fromEntries(a.attrs).href)).not.toContainEqual(expect.stringMatching(/javascript/));
    expect(elements(page, 'input')[0].attrs).toContainEqual(['value', HOSTILE]);
    const shown = textOf(page);
    expect(shown.split(HOSTILE).length - 1).toBeGreaterThanOrEqual(6); // login, branch (heading and caption), title, author, check name, landing title
    expectBalanced(page);
  });
});

describe('queueApiJson', () => {
  it('is the view without the CSRF token, every instant also in ISO 8601', () => {
    const json = queueApiJson(queuePage());
    expect(json).not.toContain('csrf');
    const parsed = JSON.parse(json);
    expect(parsed.login).toBe('mona');
    expect(parsed.generatedAtIso).toBe('2026-12-05T10:30:00.000Z');
    expect(parsed.queues[0].pulls[0]).toMatchObject({ number: 41, joinedAtIso: '2026-12-05T10:10:00.000Z', sinceIso: '2026-12-05T10:18:00.000Z', says: expect.any(String) });
    expect(parsed.queues[0].recent[0].landedAtIso).toBe('2026-12-05T10:25:00.000Z');
    expect(parsed.queues[0].expectedWaitMs).toBe(40 * MIN);
  });
});

describe('renderPullPage', () => {
  it('is a whole document without a script', () => {
    expectDocument(renderPullPage(pullPage()), 0);
  });

  it('heads with the pull request and shows every rule in words and a symbol, with the details in the check’s words', () => {
    const page = renderPullPage(pullPage());
    const out = text(page);
    expect(elements(page, 'h1')).toHaveLength(1);
    expect(out).toContain('#41 Make checkout faster');
    expect(out).toContain('octo/shop into main , by alice , head def5678 . On GitHub');
    expect(out).toContain('Verdict: ✗ fail reviews: 0 / 1 approvals'); // the check's headline
    expect(out).toContain('reviews ✗ fail 0 / 1 approvals');
    expect(out).toContain('size ✓ pass 120 / 500 lines');
    expect(out).toContain('checks … wait ci/test pending');
    expect(out).toContain('approve the current head');
  });

  it('shows a stale approval as not counted, with its reason', () => {
    const out = text(renderPullPage(pullPage()));
    expect(out).toContain('bob approved abc1234 ✗ no stale: approved abc1234, head is now def5678');
    expect(out).toContain('carol approved def5678 ✓ yes');
  });

  it('shows owners groups: who approved, who can, the first files and how many more', () => {
    const out = text(renderPullPage(pullPage()));
    expect(out).toContain('@octo/payments ✓ yes 1 of 1 required: carol dave src/pay/a.ts , src/pay/b.ts , src/pay/c.ts , src/pay/d.ts , src/pay/e.ts +2 more');
  });

  it('shows where it is in the queue, held or not, or that it is not queued', () => {
    expect(text(renderPullPage(pullPage()))).toContain('Not queued.');
    const pull = queuePull({ position: 2, status: { kind: 'queued', position: 2, of: 3, branch: 'main', held: 'the trunk is red' }, says: 'queued: 2nd of 3 for main' });
    const out = text(renderPullPage(pullPage({ queue: { branch: 'main', pull, of: 3 } })));
    expect(out).toContain('Position 2 of 3 for main : queued: 2nd of 3 for main Held: the trunk is red');
    expect(out).toContain('In the queue for 20 min.');
  });

  it('lists the evaluations newest first: when, why, verdict, head, what changed', () => {
    const blocked = evaluation({ at: NOW - 30 * MIN, lastAt: NOW - 25 * MIN, seen: 3, causes: ['pull_request.opened'], outcome: 'fail', headSha: 'abc1234'.padEnd(40, '0') });
    const passed = evaluation({ at: NOW - 20 * MIN, lastAt: NOW - 20 * MIN, causes: ['pull_request_review.submitted', 'check_suite.completed'], outcome: 'pass' });
    const page = renderPullPage(pullPage({ latest: passed, history: [{ record: passed, changes: ['reviews: fail → pass', 'checks: wait → pass'] }, { record: blocked, changes: [] }] }));
    const out = text(page);
    expect(out).toContain('2026-12-05 10:10 UTC pull_request_review.submitted, check_suite.completed ✓ pass def5678 reviews: fail → pass checks: wait → pass');
    expect(out).toContain('2026-12-05 10:00 UTC (the same 3 times, until 2026-12-05 10:05 UTC ) pull_request.opened ✗ fail abc1234 —');
    expect(out.indexOf('10:10 UTC pull_request_review')).toBeLessThan(out.indexOf('10:00 UTC'));
  });

  it('says when merge-gate has not evaluated it yet', () => {
    const page = renderPullPage(pullPage({ latest: null, history: [] }));
    expectDocument(page, 0);
    expect(text(page)).toContain('#41 in octo/shop');
    expect(text(page)).toContain('merge-gate has not evaluated this pull request yet.');
  });

  it('renders hostile titles, logins, file names, check names and details as text', () => {
    const record = evaluation({
      title: HOSTILE,
      author: HOSTILE,
      base: HOSTILE,
      url: 'javascript:alert(1)',
      causes: [HOSTILE],
      results: [{ rule: 'checks', outcome: 'fail', reason: `${HOSTILE} failed`, details: [{ message: HOSTILE, path: HOSTILE, line: 3 }] }],
      approvals: [{ login: HOSTILE, state: 'APPROVED', commitSha: HOSTILE, submittedAt: HOSTILE, counted: false, why: HOSTILE }],
      owners: [{ group: HOSTILE, owners: [HOSTILE], files: [HOSTILE], required: 1, approvers: [HOSTILE], candidates: [HOSTILE], blocked: [HOSTILE], holds: false }],
    });
    const page = renderPullPage(pullPage({ login: HOSTILE, latest: record, history: [{ record, changes: [HOSTILE] }] }));
    expect(elements(page, 'img')).toEqual([]);
    expect(elements(page, 'script')).toEqual([]);
    expect(elements(page, 'a').map((a) => Object.fromEntries(a.attrs).href)).not.toContainEqual(expect.stringMatching(/javascript/));
    expect(elements(page, 'title')).toHaveLength(1);
    expect(textOf(page).split(HOSTILE).length - 1).toBeGreaterThanOrEqual(14);
    expectBalanced(page);
  });
});
