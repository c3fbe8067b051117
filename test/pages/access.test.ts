// What GitHubRepoAccess remembers and how it asks, with a stand-in for GitHub's
// answers (the real round trip is in routes.test.ts, against the fake GitHub).
import { GitHubRepoAccess } from '../../src/pages/access.js';
import type { GitHubRequest } from '../../src/pages/oauth.js';
import type { Session } from '../../src/pages/types.js';

const session = (userId = 1): Session => ({ login: `u${userId}`, userId, token: `ghu_${userId}`, expiresAt: Infinity, nonce: 'n' });

function github(answer: (repo: string) => number) {
  let inFlight = 0;
  const seen = { maxInFlight: 0, asked: [] as string[] };
  const request = (async (_route: string, params: { owner: string; repo: string }) => {
    const full = `${params.owner}/${params.repo}`;
    seen.asked.push(full);
    seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight--;
    const status = answer(full);
    if (status !== 200) throw Object.assign(new Error(status === 403 && full.includes('limited') ? 'API rate limit exceeded' : 'Not Found'), { status });
    return { status, data: {} };
  }) as unknown as GitHubRequest;
  return { request, seen };
}

describe('GitHubRepoAccess', () => {
  let now = 0;
  const clock = { now: () => new Date(now) };

  it('asks at most a few at once, and answers per person', async () => {
    const { request, seen } = github((repo) => (repo.endsWith('-ok') ? 200 : 404));
    const access = new GitHubRepoAccess({ request, clock, accessTtlMs: 60_000, concurrency: 3 });
    const repos = Array.from({ length: 10 }, (_, i) => `o/r${i}${i % 2 ? '-ok' : ''}`);
    expect([...((await access.readable(session(1), repos)) as Set<string>)].sort()).toEqual(repos.filter((r) => r.endsWith('-ok')).sort());
    expect(seen.maxInFlight).toBe(3);
    await access.readable(session(2), repos);
    expect(access.requests).toBe(20);
  });

  it('fails closed without remembering on an answer that is not about the repository (500, rate limit)', async () => {
    let status = 500;
    const { request } = github((repo) => (repo === 'o/limited' ? 403 : status));
    const access = new GitHubRepoAccess({ request, clock, accessTtlMs: 60_000 });
    expect(await access.readable(session(), ['o/r', 'o/limited'])).toEqual(new Set());
    status = 200;
    expect(await access.readable(session(), ['o/r', 'o/limited'])).toEqual(new Set(['o/r']));
    expect(access.requests).toBe(4);
    expect(await access.readable(session(), ['o/r'])).toEqual(new Set(['o/r']));
    expect(access.requests).toBe(4);
  });

  it('remembers at most maxEntries answers, the least recently used dropped first', async () => {
    const { request } = github(() => 200);
    const access = new GitHubRepoAccess({ request, clock, accessTtlMs: 60_000, maxEntries: 3 });
    await access.readable(session(), ['o/a', 'o/b', 'o/c']);
    await access.readable(session(), ['o/a']); // a used again: b is now the oldest
    await access.readable(session(), ['o/d']);
    expect(access.size).toBe(3);
    const before = access.requests;
    await access.readable(session(), ['o/a', 'o/c', 'o/d']);
    expect(access.requests).toBe(before);
    await access.readable(session(), ['o/b']);
    expect(access.requests).toBe(before + 1);
  });
});
