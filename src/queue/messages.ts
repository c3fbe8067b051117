// What the `merge-gate` check run says about a pull request in the merge queue
// (SPEC §4a), in words a maintainer can act on. Pure. A title is plain text on
// one line; the lines are markdown, so whatever an author or a CI could have
// shaped (a base branch's name, a check's name, a URL, a hold's reason) is
// quoted or escaped. src/land/check.ts puts these on top of the verdict's plan.
import { formatDuration } from '../duration.js';
import { escapeControls, escapeMarkdown, quoted } from '../escape.js';
import type { DequeueWhy, PullStatus } from './types.js';

export interface QueueMessage {
  title: string;
  lines: string;
}

/** A queued pull request's status: every kind but `absent`, which has nothing to say. */
export type QueuedStatus = Exclude<PullStatus, { kind: 'absent' }>;

/** How many names a title lists before it says "and N more". */
const LISTED = 3;
const LISTED_PULLS = 8;

/** 1st 2nd 3rd 4th … 11th 12th 13th … 21st 22nd … 101st 111th. */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** `10:02 UTC` from an instant in ms (the title's short form). */
export function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

/** `2026-12-05 10:02 UTC` (the lines' full form: a batch may wait past midnight). */
export function utcDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Plain text for a title: one line, no control characters. */
const plain = (text: string) => escapeControls(text.replace(/\s+/g, ' ').trim());

/** `a, b, c and 2 more`. */
function shortList(items: readonly string[], max: number, sep = ', '): string {
  if (items.length <= max) return items.join(sep);
  return `${items.slice(0, max).join(sep)} and ${items.length - max} more`;
}

const pulls = (numbers: readonly number[]) => shortList(numbers.map((n) => `#${n}`), LISTED_PULLS, ' ');
const withPulls = (numbers: readonly number[]) => (numbers.length ? ` with ${pulls(numbers)}` : '');
const batches = (ids: readonly number[]) => `${ids.length === 1 ? 'batch' : 'batches'} ${shortList(ids.map(String), LISTED)}`;
const attempts = (n: number) => `${n} ${n === 1 ? 'attempt' : 'attempts'}`;

/** A link to what a CI reported, when it is a plain http(s) URL that cannot leave the link's parentheses; otherwise the URL as code. */
function link(url: string, text: string): string {
  return /^https?:\/\/[^\s()<>[\]`"'\\]+$/.test(url) ? `[${text}](${url})` : `${text}: ${quoted(url)}`;
}

const NOTHING_TO_DO = 'Nothing to do: merge-gate lands it by itself.';
const HELD_BY = (held: string) => `It keeps its place in the queue but does not land while this holds: ${escapeMarkdown(held)}. It goes on by itself once that ends.`;

/** Title and first lines while the pull request is in the queue (its check stays in_progress). `required`: `checks.required`, named while CI has not started. */
export function describeQueued(status: QueuedStatus, required: readonly string[] = []): QueueMessage {
  const held = 'held' in status ? status.held : null;
  const heldTitle = held === null ? '' : `, held: ${plain(held)}`;
  const then = held === null ? NOTHING_TO_DO : HELD_BY(held);
  switch (status.kind) {
    case 'queued':
      return {
        title: `queued: ${ordinal(status.position)} of ${status.of} for ${plain(status.branch)}${heldTitle}`,
        lines: `**In the merge queue:** ${ordinal(status.position)} of ${status.of} for ${quoted(status.branch)}. It is tested with the pull requests next to it on a staging branch \`merge-gate/queue/…\` and lands once the required checks pass there. ${then}`,
      };
    case 'building':
      return {
        title: `building batch ${status.batch}${withPulls(status.with)} since ${utcTime(status.since)}`,
        lines: `**In the merge queue:** batch ${status.batch}${withPulls(status.with)} is being built on its staging branch since ${utcDateTime(status.since)}; its CI starts once it is pushed. ${NOTHING_TO_DO}`,
      };
    case 'testing': {
      // "pending" only for what CI reported; before it reported any required check, what it waits for to start.
      const toStart = status.started ? null : required.length ? shortList(required.map(plain), LISTED) : 'CI';
      const toStartLines = status.started ? null : required.length ? shortList(required.map(quoted), LISTED) : null;
      const pending =
        toStart !== null ? ` (waiting for ${toStart} to start)` : status.pending.length ? ` (${shortList(status.pending.map(plain), LISTED)} pending)` : '';
      const behind = status.behind.length ? `, waiting for ${batches(status.behind)} ahead` : '';
      const pendingLines = !status.started
        ? ` Waiting for CI to start${toStartLines === null ? '' : ` ${toStartLines}`} on its staging branch.`
        : status.pending.length ? ` Waiting for ${shortList(status.pending.map(quoted), LISTED)}.` : '';
      const behindLines = status.behind.length ? ` It lands after ${batches(status.behind)} ahead of it, on which its staging branch is built.` : '';
      return {
        title: `testing in batch ${status.batch}${withPulls(status.with)} since ${utcTime(status.since)}${pending}${behind}${heldTitle}`,
        lines: `**In the merge queue:** testing in batch ${status.batch}${withPulls(status.with)} since ${utcDateTime(status.since)}.${pendingLines}${behindLines} ${then}`,
      };
    }
    case 'landing':
      return {
        title: held === null ? `landing batch ${status.batch}${withPulls(status.with)}` : `passed in batch ${status.batch}${withPulls(status.with)}${heldTitle}`,
        lines: `**In the merge queue:** batch ${status.batch}${withPulls(status.with)} passed its required checks${held === null ? ' and is landing' : ''} (since ${utcDateTime(status.since)}). ${then}`,
      };
  }
}

/** Title and first lines when the queue let the pull request go (its check is completed/failure), with what to do. */
export function describeDequeued(why: DequeueWhy, branch: string): QueueMessage {
  const again = 'Push a fix: the new head joins the queue again once it passes.';
  // The queue never takes back a head it sent away: only a new commit rejoins.
  const flaky = 'Not this pull request\'s fault (flaky CI)? Push any new commit (`git commit --allow-empty`) to queue it again.';
  switch (why.kind) {
    case 'failed':
      return {
        title: `left the queue: ${plain(why.check)} failed on its staging branch`,
        lines:
          `**Left the merge queue:** the required check ${quoted(why.check)} failed on staging commit ${quoted(why.stagingSha)}, where this pull request was tested alone on ${quoted(branch)} (${attempts(why.attempts)})` +
          `${why.url === null ? '.' : ` — ${link(why.url, 'details')}.`} ${again} ${flaky}`,
      };
    case 'timeout':
      return {
        title: `left the queue: the required checks did not finish within ${formatDuration(why.afterMs)}`,
        lines:
          `**Left the merge queue:** the required checks did not all finish on staging commit ${quoted(why.stagingSha)} within ${formatDuration(why.afterMs)} (\`land.queue.timeout\`, ${attempts(why.attempts)}). ` +
          'Check that CI runs on pushes to `merge-gate/queue/**` and reports every name in `checks.required` (see docs/queue.md), or raise `land.queue.timeout`; then push any new commit (`git commit --allow-empty`) to queue it again.',
      };
    case 'conflict':
      return {
        title: `left the queue: conflicts with ${plain(why.with)}`,
        lines: `**Left the merge queue:** merging its head onto the staging branch for ${quoted(branch)} conflicted with ${quoted(why.with)}. Merge or rebase ${quoted(branch)} into the branch (once what it conflicts with has landed), resolve the conflict and push: the new head joins the queue again once it passes.`,
      };
  }
}
