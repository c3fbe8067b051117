// Announces the head of a local trunk to a deploy trigger exactly as merge-gate
// does after a landing: the app's own body (trunkUpdated, src/land/decide.ts)
// signed by the app's own code (signedHeaders, src/outbox/http.ts) with
// TRUNK_WEBHOOK_SECRET; `before` is the commit before it, the pull request is
// made up from the commit (its subject, its author).
//   npx tsx examples/service/announce.ts TRIGGER_URL OWNER/NAME BRANCH TRUNK_DIR [PULL_NUMBER]
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { trunkUpdated, type TrunkUpdatedInput } from '../../src/land/decide.js';
import { signedHeaders } from '../../src/outbox/http.js';

export interface Announcement {
  body: string;
  headers: Record<string, string>;
}

/** The body and headers merge-gate's outbox would send for this landing, signed at `at`. */
export function announcement(event: Omit<TrunkUpdatedInput, 'id'>, secret: string, at: Date, id: string = randomUUID()): Announcement {
  const body = JSON.stringify(trunkUpdated({ id, ...event }));
  return { body, headers: signedHeaders(new Webhook(secret), { eventId: id, body }, at) };
}

function main(args: string[]): Promise<void> | void {
  const [base, repository, branch, trunk, number = '1'] = args;
  if (!trunk || !/^\d+$/.test(number)) {
    console.error('usage: npx tsx examples/service/announce.ts TRIGGER_URL OWNER/NAME BRANCH TRUNK_DIR [PULL_NUMBER]');
    process.exit(2);
  }
  const secret = process.env.TRUNK_WEBHOOK_SECRET;
  if (!secret) {
    console.error('announce: TRUNK_WEBHOOK_SECRET is not set (the deploy trigger\'s secret: see the README walkthrough)');
    process.exit(2);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', trunk, ...a], { encoding: 'utf8' }).trim();
  const after = git('rev-parse', 'HEAD');
  const [before, title, author, committed] = git('log', '-1', '--format=%P%n%s%n%an%n%cI', 'HEAD').split('\n');
  const { body, headers } = announcement(
    {
      repository,
      branch,
      before: before.split(' ')[0],
      after,
      pull_requests: [{ number: Number(number), title, url: `https://github.com/${repository}/pull/${number}`, author, head_sha: after }],
      landed_at: new Date(committed).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    secret,
    new Date(),
  );
  return fetch(`${base}/hooks/trunk-updated`, { method: 'POST', body, headers }).then(async (res) => {
    console.log(res.status, await res.text());
    if (!res.ok) process.exitCode = 1;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
