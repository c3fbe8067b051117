// Local replay's facts: a branch's first-parent history, each change (a merge
// or a squashed commit alike) diffed against its first parent, as of its commit
// time. Git cannot know reviews, labels, checks or deployments: those rules are
// `unknown`. Two `git log` streams and one `git cat-file` process serve every change.
import { DateTime } from 'luxon';
import type { FactNeeds, FactsSource, FileDiff, PullRequestFacts } from '../facts/types.js';
import { DIFF_OPTIONS, git, GitError, parseChangedFiles } from '../facts/git.js';
import { parseUnifiedDiff } from '../facts/diff.js';
import { BlobReader, logOf, splitPatchStream, splitZStream } from './git-stream.js';
import type { ReplayChange, ReplaySource } from './types.js';

export interface LocalHistoryOptions {
  cwd: string;
  /** The revision to walk back from (a branch). */
  rev: string;
  /** Its branch name, which decides gating (`branches`). */
  branch: string;
  /** At most this many changes (newest first); null: no limit. */
  last: number | null;
  /** Only changes committed at or after this instant. */
  since: DateTime | null;
  /** Every change's hunks will be needed (the flags rule): read them in one stream. */
  allHunks: boolean;
}

interface LocalChange extends ReplayChange {
  parent: string | null;
  author: string;
}

const PATCH_OPTIONS = [...DIFF_OPTIONS, '--no-color', '--src-prefix=a/', '--dst-prefix=b/', '-U3'];

/** The branch's first-parent changes, newest first, by committer date. */
export async function firstParentHistory(options: LocalHistoryOptions): Promise<LocalChange[]> {
  const args = ['log', '--first-parent', '-z', '--format=%H%x00%P%x00%cI%x00%an%x00%s'];
  // Committer dates need not grow along the history: with --since every change is read and filtered here.
  if (options.last !== null && options.since === null) args.push(`-n${options.last}`);
  const fields = (await git(options.cwd, [...args, options.rev, '--'])).split('\0');
  const changes: LocalChange[] = [];
  for (let i = 0; i + 4 < fields.length; i += 5) {
    const [sha, parents, committed, author, title] = fields.slice(i, i + 5);
    const at = DateTime.fromISO(committed, { setZone: true });
    if (!at.isValid) throw new GitError(`commit ${sha} has an unreadable committer date ${JSON.stringify(committed)}`);
    if (options.since && at < options.since) continue;
    const parent = parents.split(' ')[0] || null;
    changes.push({ sha, parent, pullRequest: null, url: null, title, at: at.toUTC().toISO({ suppressMilliseconds: true })!, author });
    if (options.last !== null && changes.length >= options.last) break;
  }
  return changes;
}

/** The replay source for a local repository. */
export async function localReplaySource(options: LocalHistoryOptions): Promise<ReplaySource> {
  const { cwd, branch } = options;
  const changes = await firstParentHistory(options);
  const shas = changes.map((c) => c.sha);
  const blobs = new BlobReader(cwd);
  let files: Promise<{ status: Map<string, string>; numstat: Map<string, string> }> | null = null;
  let patches: Promise<Map<string, string>> | null = null;
  const allPatches = () => (patches ??= logOf(cwd, shas, ['-p', ...PATCH_OPTIONS]).then(splitPatchStream));
  const fileLists = () =>
    (files ??= Promise.all([logOf(cwd, shas, ['--name-status', '-z', ...DIFF_OPTIONS]), logOf(cwd, shas, ['--numstat', '-z', ...DIFF_OPTIONS])]).then(([s, n]) => ({
      status: splitZStream(s, 'name-status'),
      numstat: splitZStream(n, 'numstat'),
    })));

  const factsOf = (change: LocalChange): FactsSource => ({
    async load(needs: FactNeeds): Promise<PullRequestFacts> {
      const facts: PullRequestFacts = {
        repository: cwd,
        number: 0,
        title: change.title,
        url: '',
        author: { login: change.author, bot: false },
        base: { ref: branch, sha: change.parent ?? '' },
        head: { ref: branch, sha: change.sha },
        labels: [],
        draft: false,
        state: 'merged',
        // Unknown offline: present so the rules run; their results are reported `unknown`.
        reviews: [],
        checks: [],
        ...(needs.trunk ? { deployment: null } : {}),
      };
      if (needs.files) {
        const { status, numstat } = await fileLists();
        facts.files = parseChangedFiles(status.get(change.sha) ?? '', numstat.get(change.sha) ?? '');
      }
      const atParent = (path: string) => (change.parent ? blobs.read(change.parent, path) : Promise.resolve(null));
      if (needs.registryPath) {
        const [base, head] = await Promise.all([atParent(needs.registryPath), blobs.read(change.sha, needs.registryPath)]);
        facts.registry = { base, head };
      }
      if (needs.gitattributes) facts.gitattributes = await atParent('.gitattributes');
      return facts;
    },
    async diff(): Promise<FileDiff[]> {
      // Flags need every change's hunks: one stream. A lone mechanical check reads its own.
      if (options.allHunks) return parseUnifiedDiff((await allPatches()).get(change.sha) ?? '');
      const text = change.parent
        ? await git(cwd, ['diff', ...PATCH_OPTIONS, change.parent, change.sha])
        : await logOf(cwd, [change.sha], ['-p', ...PATCH_OPTIONS]).then((t) => splitPatchStream(t).get(change.sha) ?? '');
      return parseUnifiedDiff(text);
    },
  });

  return {
    unknown: ['reviews', 'checks', 'trunk'],
    async *changes() {
      for (const change of changes) yield { change, facts: factsOf(change) };
    },
    close: () => blobs.close(),
  };
}
