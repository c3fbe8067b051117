// What the `merge-gate` check run says about landing, in words a maintainer
// can act on. Pure: a landing note turns the verdict's plan into the plan the
// check-run writer (src/github/checkrun.ts) writes. The verdict stays: a pass
// that could not land is still completed/success (the rules hold; a person
// may merge it by hand), and the title and the summary's first lines say why
// it did not land. The merge queue's notes are the exception: a queued pull
// request's check stays in_progress, and one the queue let go is
// completed/failure (src/queue/messages.ts words both).
import { quoted } from '../escape.js';
import type { CheckRunPlan } from '../github/checkrun.js';
import { cutTitle, fitOutput } from '../github/checkrun.js';
import { describeDequeued, describeQueued, type QueuedStatus } from '../queue/messages.js';
import type { DequeueWhy } from '../queue/types.js';

export type LandingNote =
  /** `batch`: landed by the merge queue in that batch. */
  | { kind: 'landed'; sha: string; url: string; branch: string; method: string; batch?: number }
  /** In the merge queue: the check stays in_progress. `required`: the policy's required checks (named while CI has not started). */
  | { kind: 'queue'; status: QueuedStatus; required?: readonly string[] }
  /** The merge queue let it go: the check is completed/failure. */
  | { kind: 'dequeued'; why: DequeueWhy; branch: string }
  | { kind: 'head-moved'; message: string }
  | { kind: 'refused'; status: number; message: string; workflows: boolean; branch: string }
  | { kind: 'conflicts'; branch: string }
  | { kind: 'mergeable-unknown'; attempts: number }
  | { kind: 'merge-failed'; message: string }
  | { kind: 'updating'; branch: string; baseSha: string }
  | { kind: 'update-refused'; branch: string; message: string }
  | { kind: 'off' }
  | { kind: 'label'; label: string }
  | { kind: 'draft' }
  | { kind: 'dry-run'; would: string };

const short = (sha: string) => sha.slice(0, 7);

/** Title and first lines for a note. */
export function describeNote(note: LandingNote): { title: string; lines: string } {
  switch (note.kind) {
    case 'landed': {
      const batch = note.batch === undefined ? '' : ` in batch ${note.batch}`;
      return {
        title: `Landed as ${short(note.sha)}${batch}`,
        lines: `**🛬 Landed** as [${short(note.sha)}](${note.url}) on ${quoted(note.branch)} (${note.method})${batch}.`,
      };
    }
    case 'queue':
      return describeQueued(note.status, note.required);
    case 'dequeued':
      return describeDequeued(note.why, note.branch);
    case 'head-moved':
      return {
        title: 'pass, not landed: the head moved',
        lines: `**Not landed:** the pull request's head moved after this commit was evaluated (GitHub answered 409: ${quoted(note.message)}). merge-gate never lands a commit it did not evaluate; it evaluates the new head instead.`,
      };
    case 'refused':
      if (note.workflows) {
        return {
          title: 'pass, not landed: the pull request changes .github/workflows/',
          lines:
            `**Not landed:** GitHub does not let a GitHub App merge a pull request that changes \`.github/workflows/\` without the \`workflows\` permission, and merge-gate does not ask for it (GitHub answered ${note.status}: ${quoted(note.message)}).\n\n` +
            'To land it, merge it by hand; or grant merge-gate `workflows: write` in the GitHub App settings and accept it for the installation (see docs/landing.md), then press Re-run.',
        };
      }
      return {
        title: `pass, not landed: GitHub refused the merge (${note.status})`,
        lines:
          `**Not landed:** GitHub refused to merge into ${quoted(note.branch)} (${note.status}): ${quoted(note.message)}.\n\n` +
          'This is usually branch protection or a ruleset (a required review, status check or signed commits that merge-gate does not provide), or a merge conflict. Fix what GitHub names, or change the rule, then press Re-run; merge-gate also tries again on the next event.',
      };
    case 'conflicts':
      return {
        title: `pass, not landed: conflicts with ${note.branch}`,
        lines: `**Not landed:** the pull request conflicts with ${quoted(note.branch)}. Merge or rebase ${quoted(note.branch)} into the branch and push; merge-gate evaluates the new head.`,
      };
    case 'mergeable-unknown':
      return {
        title: 'pass, not landed yet: GitHub is still checking mergeability',
        lines: `**Not landed yet:** GitHub was still computing whether the pull request can be merged after ${note.attempts} tries. merge-gate tries again on the next event; press Re-run to try now.`,
      };
    case 'merge-failed':
      return {
        title: 'pass, not landed yet: the merge call failed; retrying',
        lines: `**Not landed yet:** the merge call failed (${quoted(note.message)}), and the pull request, read again, is not merged. GitHub may still finish that merge: merge-gate reads the pull request again with backoff until its answer is certain, then lands it or tries again (nothing else lands on the branch meanwhile).`,
      };
    case 'updating':
      return {
        title: `pass, bringing the branch up to date with ${note.branch}`,
        lines: `**Not landed yet** (\`land.up_to_date\`): the head does not contain ${quoted(note.branch)} at ${short(note.baseSha)}. merge-gate merged ${quoted(note.branch)} into the branch, and lands the new head once the required checks pass on it.`,
      };
    case 'update-refused':
      return {
        title: `pass, not landed: could not bring the branch up to date with ${note.branch}`,
        lines: `**Not landed** (\`land.up_to_date\`): GitHub refused to update the branch with ${quoted(note.branch)}: ${quoted(note.message)}. Merge or rebase it by hand and push.`,
      };
    case 'off':
      return { title: 'pass (land.mode: off)', lines: '`land.mode` is `off`: merge-gate does not land pull requests here; merge it by hand.' };
    case 'label':
      return { title: `pass, lands when labelled ${note.label}`, lines: `\`land.mode\` is \`label\`: merge-gate lands this pull request once it carries the label ${quoted(note.label)}.` };
    case 'draft':
      return { title: 'pass, not landed: a draft', lines: 'A draft never lands: mark the pull request ready for review and merge-gate lands it.' };
    case 'dry-run':
      return { title: `pass (dry run: ${note.would})`, lines: `**Dry run:** merge-gate ${note.would}.` };
  }
}

/** The check's state under a note: the verdict's, except in the merge queue (waiting is in_progress; let go is a failure). */
function stateUnder(plan: CheckRunPlan, note: LandingNote): Pick<CheckRunPlan, 'status' | 'conclusion'> {
  if (note.kind === 'queue') return { status: 'in_progress', conclusion: null };
  if (note.kind === 'dequeued') return { status: 'completed', conclusion: 'failure' };
  return { status: plan.status, conclusion: plan.conclusion };
}

/** The verdict's plan with the landing note on top. */
export function withLanding(plan: CheckRunPlan, note: LandingNote): CheckRunPlan {
  const { title, lines } = describeNote(note);
  return { ...plan, ...stateUnder(plan, note), title: cutTitle(title), summary: fitOutput(`${lines}\n\n${plan.summary}`) };
}
