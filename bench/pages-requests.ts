// What a signed-in page view costs GitHub (issue #22): the app started as
// `npm start` starts it (`probot run`, its own process) with the pages on,
// against the fake GitHub on 127.0.0.1; two repositories with a merge queue,
// a pull request under test in each; a person who may read one of them signs
// in over plain HTTP (the fake's OAuth web flow) and opens /queue, /pulls/…
// and /api/queue, each twice.
//   - pages.view.requests_cold: requests with the person's token of the first
//     view of each page after signing in (which repositories may they read);
//   - pages.view.requests_warm: the same of the second view (the access cache
//     warm): target 0;
//   - pages.view.app_requests: requests with the app's token over all views
//     (everything shown comes from the state database): target 0.
//   npx tsx bench/pages-requests.ts
import { FakeGitHub, type FakeRepo } from '../test/helpers/github-fake.js';
import { pullPayload } from '../test/helpers/github-app.js';
import { startProbotProcess, freePort, type ProbotProcess } from '../test/helpers/probot-process.js';
import { FULL_POLICY, OWNER, REGISTRY, typicalFiles, typicalPull } from '../test/helpers/github-scenario.js';
import { printTable, writeResults, type Figure } from './results-file.js';

const CLIENT = { id: 'Iv1.benchpages', secret: 'bench-pages-client-secret' };
const SESSION_SECRET = 'bench-pages-session-secret-0123456789abcdef';
const PAGES = ['/queue', `/pulls/${OWNER}/web/2`, '/api/queue'];

/** Cookies set along a chain of redirects, as a browser keeps them (name → value; an emptied one removed). */
class Jar {
  private readonly values = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0\b/i.test(line)) this.values.delete(pair.slice(0, eq));
      else this.values.set(pair.slice(0, eq), value);
    }
  }
  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Follows redirects by hand from `url` (cookies kept for the app's origin only) until an answer that is not one, or one
 * to a URL `stop` accepts; returns that answer.
 */
async function browse(url: string, jar: Jar, origin: string, stop: (next: URL) => boolean = () => false): Promise<Response> {
  for (let hops = 0; hops < 10; hops++) {
    const own = url.startsWith(origin);
    const res = await fetch(url, { redirect: 'manual', headers: own ? { cookie: jar.header() } : {} });
    if (own) jar.take(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location || stop(new URL(location, url))) return res;
    await res.arrayBuffer();
    url = new URL(location, url).href;
  }
  throw new Error(`more than 10 redirects from ${url}`);
}

/** A merge queue (batches of one) whose CI never reports on its staging branches: a pull request stays under test. */
const QUEUE_POLICY = `${FULL_POLICY}land:\n  method: merge\n  queue:\n    batch: 1\n    wait: 0s\n`;

/** A repository with a queue and one passing pull request in it (under test), so each page has something to show. */
async function queued(fake: FakeGitHub, app: ProbotProcess, name: string): Promise<FakeRepo> {
  const repo = fake.addRepo(OWNER, name, { files: { 'flags.yml': REGISTRY, '.github/merge-gate.yml': QUEUE_POLICY } });
  const pull = typicalPull(fake, repo, 2, typicalFiles(3));
  const status = await app.send('pull_request', pullPayload('pull_request', 'opened', fake, repo, pull));
  if (status >= 300) throw new Error(`the webhook was answered ${status}`);
  for (let i = 0; !/^testing/.test(fake.ourRuns(repo, pull.headSha).at(-1)?.title ?? ''); i++) {
    if (i > 600) throw new Error(`${name}#2 not under test after 30 s: ${fake.ourRuns(repo, pull.headSha).at(-1)?.title}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return repo;
}

async function main(): Promise<void> {
  const { fake, close } = await FakeGitHub.listening({ prefix: '/api/v3' });
  fake.oauth.client = CLIENT;
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await startProbotProcess(
    fake,
    { MERGE_GATE_SCHEDULE_ON_START: 'false', MERGE_GATE_COALESCE_MS: '0', MERGE_GATE_WRITE_SPACING_MS: '5', GITHUB_CLIENT_ID: CLIENT.id, GITHUB_CLIENT_SECRET: CLIENT.secret, SESSION_SECRET, MERGE_GATE_URL: origin },
    { source: true, port },
  );
  try {
    await queued(fake, app, 'web');
    await queued(fake, app, 'vault');
    fake.oauth.signInAs('alice');
    fake.oauth.grant('alice', `${OWNER}/web`);
    const jar = new Jar();
    // Signed in once the callback sends the browser back to a page: not followed, so the first view below is the first.
    const signedIn = await browse(`${origin}/login`, jar, origin, (next) => next.origin === origin && !next.pathname.startsWith('/login'));
    await signedIn.arrayBuffer();
    if (!jar.header().includes('mg_session=')) throw new Error(`signing in ended with HTTP ${signedIn.status} and no session cookie`);

    const person = () => fake.oauth.apiRequests().length;
    const appRequests = () => fake.count().total;
    const appBefore = appRequests();
    const rows: Array<{ page: string; cold: number; warm: number }> = [];
    for (const path of PAGES) {
      const view = async () => {
        const before = person();
        const res = await browse(`${origin}${path}`, jar, origin);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
        return person() - before;
      };
      rows.push({ page: path, cold: await view(), warm: await view() });
    }
    const appCost = appRequests() - appBefore;
    if (fake.problems.length) throw new Error(`fake GitHub problems:\n${fake.problems.join('\n')}`);

    const figures: Figure[] = [
      { name: 'pages.view.requests_cold', value: Math.max(...rows.map((r) => r.cold)), unit: 'requests', target: null },
      { name: 'pages.view.requests_warm', value: Math.max(...rows.map((r) => r.warm)), unit: 'requests', target: '= 0' },
      { name: 'pages.view.app_requests', value: appCost, unit: 'requests', target: '= 0' },
    ];
    printTable('GitHub requests per signed-in page view (two repositories, the person may read one)', [
      ...rows.map((r) => ({ figure: `${r.page}: first view, next view`, value: `${r.cold}, ${r.warm}`, unit: 'requests', target: '—, 0' })),
      ...figures.map((f) => ({ figure: f.name, value: f.value, unit: f.unit, target: f.target ?? '—' })),
    ]);
    writeResults('pagesRequests', { measuredAt: new Date().toISOString(), views: rows, appRequests: appCost }, figures);
    console.log('\nwrote bench/results.json (key "pagesRequests")');
  } catch (err) {
    console.error(app.output());
    throw err;
  } finally {
    await app.stop();
    await close();
  }
}

await main();
