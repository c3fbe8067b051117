// The status page as a pure function of a snapshot, and the pieces behind it:
// escaping, the one time format, the one latency scale, start-up probes apart,
// the banner, the retry command; what an event's pull requests become; the
// bounded refused-delivery table; the bounded log tail.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakerVerdict, ruledOutCause, type RevisionState } from '../../src/deploy/core.js';
import { ago, escapeHtml, healthChart, renderPage, retryCommand, timeHtml, type RevisionSnapshot, type StateSnapshot } from '../../src/deploy/page.js';
import { REFUSED_KEPT, Store } from '../../src/deploy/store.js';
import { DeployTrigger } from '../../src/deploy/trigger.js';
import { SECRET, writeConfig } from '../helpers/deploy.js';
import { tailLines } from '../../src/deploy/tail.js';
import { landedPulls, parseTrunkUpdated } from '../../src/deploy/webhook.js';

const NOW = '2026-12-01T03:00:00.000Z';
const minutesBefore = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();

function revision(over: Partial<RevisionSnapshot> = {}): RevisionSnapshot {
  return {
    sha: 'a'.repeat(40),
    state: 'healthy',
    since: minutesBefore(3),
    startedAt: minutesBefore(4),
    reason: 'health probe passed',
    port: 9000,
    pid: 1,
    subject: 'Make checkout faster',
    pulls: [{ number: 42, title: 'Faster checkout', url: 'https://github.com/octo/app/pull/42', author: 'alice' }],
    health: [],
    history: [],
    signals: [],
    log: `/revisions/${'a'.repeat(40)}/log?repository=octo%2Fapp`,
    retry: null,
    ...over,
  };
}

function snapshot(revisions: RevisionSnapshot[], desired: string | null = revisions[0]?.sha ?? null): StateSnapshot {
  return { generatedAt: NOW, repositories: [{ name: 'octo/app', branch: 'main', desired, revisions, history: [] }], deliveries: [], refused: [] };
}

describe('the page escapes what it shows', () => {
  it('renders hostile text as text', () => {
    const s: StateSnapshot = {
      generatedAt: NOW,
      repositories: [
        {
          name: 'octo/<b>x</b>',
          branch: 'main',
          desired: 'a'.repeat(40),
          revisions: [
            revision({
              state: 'bad',
              reason: '<script>alert(1)</script>',
              subject: '<svg onload=alert(1)>',
              pulls: [{ number: 1, title: '</td><img src=x onerror=alert(1)>', url: 'https://x/"><script>', author: '<u>eve</u>' }],
              health: [{ at: 'x', ok: false, ms: 1, error: '"><img src=x>', phase: 'serving' }],
              history: [{ state: 'bad', at: NOW, reason: '<iframe>' }],
              signals: [{ at: NOW, note: '<marquee>boom</marquee>' }],
              retry: retryCommand('a'.repeat(40), "/etc/<x>/it's.yml"),
            }),
          ],
          history: [],
        },
      ],
      deliveries: [{ id: 'i', receivedAt: 'r', repository: '<i>', branch: 'main', after: null, outcome: 'ignored', note: '<u>n</u>' }],
      refused: [{ at: NOW, status: 401, reason: '<em>no</em>', webhookId: '<s>id</s>' }],
    };
    const html = renderPage(s);
    expect(html).not.toMatch(/<script>|<img|<b>x|<i>|<u>|<svg onload|<iframe|<marquee|<em>|<s>/);
    expect(html).toContain(escapeHtml('</td><img src=x onerror=alert(1)>'));
    expect(html).toContain(`href="${escapeHtml('https://x/"><script>')}"`);
    expect(html).toContain(escapeHtml(`--config '/etc/<x>/it'\\''s.yml'`));
  });
});

describe('times', () => {
  it('are shown one way: UTC to the second and how long ago, relative to the snapshot (the injected clock)', () => {
    expect(timeHtml(minutesBefore(3), NOW)).toBe(`<time datetime="${minutesBefore(3)}">2026-12-01 02:57:00 UTC</time> <span class="ago">(3 min ago)</span>`);
    const html = renderPage(snapshot([revision()]));
    expect(html).toContain('2026-12-01 02:57:00 UTC</time> <span class="ago">(3 min ago)</span>');
    expect(html).not.toMatch(/\d\d:\d\d:\d\d\.\d{3}Z</); // no other format anywhere
  });

  it("come from the trigger's injected clock, not the machine's", () => {
    const setup = writeConfig({ remote: '/nonexistent' });
    const now = Date.parse('2031-06-01T12:00:00Z');
    const trigger = new DeployTrigger({ config: setup.config, env: { ...process.env, TRUNK_WEBHOOK_SECRET: SECRET }, log: () => {}, now: () => now, stopServicesOnExit: true });
    try {
      trigger.store.recordRefused({ at: now - 3 * 60_000, status: 401, reason: 'signature not accepted', webhookId: null });
      const html = renderPage(trigger.snapshot());
      expect(html).toContain('2031-06-01 12:00:00 UTC</time> <span class="ago">(just now)</span>');
      expect(html).toContain('2031-06-01 11:57:00 UTC</time> <span class="ago">(3 min ago)</span>');
    } finally {
      trigger.store.close(); // never started: nothing else to stop
      setup.remove();
    }
  });

  it('say how long ago in words a person reads at a glance', () => {
    const now = Date.parse(NOW);
    expect([0, 4_000, 42_000, 180_000, 7_200_000, 3 * 86_400_000].map((d) => ago(now - d, now))).toEqual(['just now', 'just now', '42 s ago', '3 min ago', '2 h ago', '3 days ago']);
    expect(ago(now + 10_000, now)).toBe('in 10 s');
  });
});

describe('the health chart', () => {
  const probe = (ms: number, ok = true, phase: 'startup' | 'serving' = 'serving') => ({ at: NOW, ok, ms, error: ok ? null : 'ECONNREFUSED', phase });

  it('draws start-up probes apart, grey and low, not as failures; a line where it became healthy', () => {
    const svg = healthChart([probe(0, false, 'startup'), probe(0, false, 'startup'), probe(5, true, 'startup'), probe(5), probe(5, false)], 10, NOW);
    expect(svg.match(/class="startup"/g)).toHaveLength(2);
    expect(svg.match(/class="fail"/g)).toHaveLength(1);
    expect(svg.match(/class="became-healthy"/g)).toHaveLength(1);
    expect(svg).toContain('aria-label="health history: 5 probes, 3 while starting, 1 failed after"');
    expect(svg).toContain('<title>2026-12-01 03:00:00 UTC (just now): not up yet: ECONNREFUSED</title>');
  });

  it('uses one latency scale for every row of the page', () => {
    const fast = revision({ sha: 'b'.repeat(40), health: [probe(10)] });
    const slow = revision({ sha: 'c'.repeat(40), health: [probe(100)] });
    const html = renderPage(snapshot([fast, slow]));
    const heights = [...html.matchAll(/<rect class="ok" [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toEqual([2.6, 26]); // 10 ms is a tenth of the full 26 px, not full height in its own row
    expect(html).toContain('full height 100 ms');
  });

  it('is not flattened by one slow probe: full height is the 95th percentile, slower bars reach the top', () => {
    const steady = revision({ sha: 'b'.repeat(40), health: Array.from({ length: 39 }, () => probe(10)) });
    const spike = revision({ sha: 'c'.repeat(40), health: [probe(5), probe(900)] });
    const html = renderPage(snapshot([steady, spike]));
    const heights = [...html.matchAll(/<rect class="ok" [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights.slice(0, 39).every((h) => h === 26)).toBe(true);
    expect(heights.slice(39)).toEqual([13, 26]);
    expect(html).toContain('full height 10 ms');
  });
});

describe('the desired revision is bad', () => {
  const sha = 'd'.repeat(40);
  const bad = revision({ sha, state: 'bad', reason: 'cut off: 3 consecutive failed health probes (last: HTTP 500)', retry: retryCommand(sha, 'deploy.yml') });

  it('shows a banner: nothing new deploys until a new landing or a retry, with the command', () => {
    const html = renderPage(snapshot([bad]));
    expect(html).toContain('role="alert"');
    expect(html).toContain(`The desired revision ${sha.slice(0, 12)} is bad</strong>: cut off: 3 consecutive failed health probes (last: HTTP 500).`);
    expect(html).toContain(`Nothing new deploys until a new landing or <code>merge-gate deploy-trigger retry ${sha} --config deploy.yml</code>`);
  });

  it('shows no banner when the bad revision is not the desired one', () => {
    expect(renderPage(snapshot([revision(), bad], 'a'.repeat(40)))).not.toContain('role="alert"');
  });
});

describe('ruled-out causes (a metric label from a fixed set)', () => {
  const config = { failures: 3, startupMs: 1000, maxSignals: 1, signalWindowMs: 60_000, maxOutputRate: 1024, outputWindowMs: 1000 };
  const facts = (state: RevisionState, over = {}) => ({ state, startedAt: 0, consecutiveFailures: 0, lastError: 'HTTP 500', signalTimes: [], ...over });

  it('classifies every reason the breaker gives, exits and failed starts', () => {
    expect(ruledOutCause(`cut off: ${breakerVerdict(facts('healthy', { consecutiveFailures: 3 }), config, 10)}`)).toBe('health');
    expect(ruledOutCause(`cut off: ${breakerVerdict(facts('starting'), config, 1000)}`)).toBe('startup');
    expect(ruledOutCause(`cut off: ${breakerVerdict(facts('healthy', { signalTimes: [1, 2] }), config, 10)}`)).toBe('signals');
    expect(ruledOutCause(`cut off: ${breakerVerdict(facts('healthy', { output: [{ at: 0, bytes: 0 }, { at: 10, bytes: 4096 }] }), config, 10)}`)).toBe('output');
    expect(ruledOutCause('exited by itself (code 1); see /x.log')).toBe('exited');
    expect(ruledOutCause('could not start: no free port in 9000-9001')).toBe('start_failed');
    expect(ruledOutCause('cut off: <anything else>')).toBe('other');
  });
});

describe("an event's pull requests", () => {
  const event = (extra: object) => {
    const parsed = parseTrunkUpdated(Buffer.from(JSON.stringify({ type: 'trunk-updated', repository: 'octo/app', branch: 'main', after: 'e'.repeat(40), ...extra })));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.event;
  };

  it('are kept from pull_request and pull_requests, once each, clipped; a non-http URL is dropped', () => {
    const pulls = landedPulls(
      event({
        pull_request: { number: 3, title: 'x'.repeat(1000), url: 'javascript:alert(1)', author: 'mallory', head_sha: 'f'.repeat(40) },
        pull_requests: [{ number: 3, title: 'again', url: 'https://a', author: 'a' }, { number: 4, title: 'four', url: 'https://github.com/octo/app/pull/4', author: 'bob' }, 'junk', { number: -1 }],
      }),
    );
    expect(pulls.map((p) => [p.number, p.title.length, p.url, p.author])).toEqual([
      [3, 300, '', 'mallory'],
      [4, 4, 'https://github.com/octo/app/pull/4', 'bob'],
    ]);
  });

  it('never make a delivery invalid when missing or malformed', () => {
    expect(landedPulls(event({}))).toEqual([]);
    expect(landedPulls(event({ pull_request: 'nope', pull_requests: { a: 1 } }))).toEqual([]);
  });
});

describe('bounded records', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'merge-gate-page-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps only the last ${REFUSED_KEPT} refused deliveries, however many an unauthenticated sender makes`, () => {
    const store = new Store(join(dir, 's.sqlite'));
    for (let i = 0; i < REFUSED_KEPT * 3; i++) store.recordRefused({ at: i, status: 401, reason: `r${i}`, webhookId: null });
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM refused_deliveries').get() as { n: number }).n).toBe(REFUSED_KEPT);
    expect(store.recentRefused(2).map((r) => r.reason)).toEqual([`r${REFUSED_KEPT * 3 - 1}`, `r${REFUSED_KEPT * 3 - 2}`]);
    store.close();
  });

  it('serves the last 200 lines of a log, reading only its end', () => {
    const file = join(dir, 'x.log');
    writeFileSync(file, Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const text = tailLines(file, 200)!;
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe('line 99800');
    expect(lines.at(-1)).toBe('line 99999');
    expect(tailLines(file, 200, 100)!.trimEnd().split('\n').every((l) => /^line \d+$/.test(l))).toBe(true); // never a cut line
    expect(tailLines(join(dir, 'missing.log'))).toBeNull();
  });
});
