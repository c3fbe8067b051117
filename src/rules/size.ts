// The size rule (SPEC §2, size): counted lines and files against the limits,
// and the verification of a pull request that claims to be mechanical.
import type { ChangedFile, DiffLine, FileDiff, PullRequestFacts } from '../facts/types.js';
import { compileGlobs } from '../policy/glob.js';
import type { SizePolicy } from '../policy/schema.js';
import { required, type RuleContext } from './context.js';
import { linguistGenerated } from './gitattributes.js';
import type { Detail, RuleResult } from './types.js';
import { outOf, plural } from './words.js';

export interface SizeCount {
  /** Additions + deletions over the files that are not excluded. */
  lines: number;
  /** How many files are counted. */
  files: number;
  /** Paths left out of the count (`exclude` globs, linguist-generated). */
  excluded: string[];
  /** The files that are counted, in the order of `facts.files`. */
  counted: ChangedFile[];
}

export interface MechanicalCheck {
  /** The pull request carries `size.mechanical.label`. */
  claimed: boolean;
  /** Claimed, and every counted change is a pure rename or a whitespace-only change. */
  verified: boolean;
  /** Counted files whose change is not mechanical, in the order of `facts.files` (empty unless claimed). */
  offenders: string[];
}

/** How many offending files the reason names before "and N more". */
const NAMED_OFFENDERS = 5;
/** How many paths a detail lists before "and N more". */
const LISTED_PATHS = 10;
/** How many offending files get a detail (an annotation) of their own. */
const LISTED_OFFENDERS = 50;

/** A predicate for the paths `size` leaves out of the count. */
function exclusion(size: SizePolicy | undefined, facts: PullRequestFacts): (path: string) => boolean {
  if (!size) return () => false;
  const globbed = size.exclude.length > 0 ? compileGlobs(size.exclude) : () => false;
  if (!size.linguist_generated) return globbed;
  const generated = linguistGenerated(required(facts.gitattributes, '.gitattributes'));
  return (path) => globbed(path) || generated(path);
}

/** Counted lines and files (SPEC §2: additions + deletions over files not excluded). */
export function countSize(size: SizePolicy | undefined, facts: PullRequestFacts): SizeCount {
  const files = required(facts.files, 'changed files');
  const isExcluded = exclusion(size, facts);
  const excluded: string[] = [];
  const counted: ChangedFile[] = [];
  let lines = 0;
  for (const file of files) {
    if (isExcluded(file.path)) {
      excluded.push(file.path);
    } else {
      counted.push(file);
      lines += file.additions + file.deletions;
    }
  }
  return { lines, files: counted.length, excluded, counted };
}

/** True when the labels include `label` (GitHub label names are case-insensitive). */
export function hasLabel(labels: readonly string[], label: string): boolean {
  const wanted = label.toLowerCase();
  return labels.some((l) => l.toLowerCase() === wanted);
}

function claimsMechanical(size: SizePolicy | undefined, facts: PullRequestFacts): boolean {
  return size?.mechanical !== undefined && hasLabel(facts.labels, size.mechanical.label);
}

/** Hunks are needed only to verify a pull request that claims to be mechanical. */
export function needsHunksForSize(size: SizePolicy | undefined, facts: PullRequestFacts): boolean {
  return claimsMechanical(size, facts);
}

/**
 * Whether a pull request labelled mechanical really is: every counted file is a
 * pure rename (renamed, no additions, no deletions) or a whitespace-only change.
 * Excluded files are mechanical by definition. Without the label nothing is
 * verified (and no hunks are read).
 */
export function mechanicalCheck(size: SizePolicy | undefined, facts: PullRequestFacts): MechanicalCheck {
  return verifyMechanical(size, facts, () => countSize(size, facts).counted);
}

function verifyMechanical(size: SizePolicy | undefined, facts: PullRequestFacts, countedFiles: () => ChangedFile[]): MechanicalCheck {
  if (!claimsMechanical(size, facts)) return { claimed: false, verified: false, offenders: [] };
  const counted = countedFiles();
  let diffs: Map<string, FileDiff> | undefined;
  const diffOf = (path: string) => {
    diffs ??= new Map(required(facts.diff, 'diff hunks').map((d) => [d.path, d]));
    return diffs.get(path);
  };
  const offenders: string[] = [];
  for (const file of counted) {
    if (isPureRename(file)) continue;
    if (isWhitespaceOnly(file, diffOf(file.path))) continue;
    offenders.push(file.path);
  }
  return { claimed: true, verified: offenders.length === 0, offenders };
}

function isPureRename(file: ChangedFile): boolean {
  return file.status === 'renamed' && file.additions === 0 && file.deletions === 0;
}

/**
 * A change whose old and new text are the same once whitespace (line breaks
 * included) is dropped wherever it does not separate two words: re-indenting
 * and re-wrapping are whitespace, `return x` → `returnx` is not. Compared hunk by hunk with the
 * context lines, so moving code past other code is not whitespace. The hunks
 * must account for every counted addition and deletion (a truncated or missing
 * patch, a binary file or a mode change cannot be verified), and there must be
 * at least one changed line. Caveat, documented: in a language where
 * indentation is syntax (Python, YAML), re-indenting can change meaning.
 * `content` is the line itself, without the diff's "+"/"-"/" " marker (src/facts/diff.ts).
 */
function isWhitespaceOnly(file: ChangedFile, diff: FileDiff | undefined): boolean {
  if (!diff) return false;
  const words = (l: DiffLine) => l.content.trim().replace(/\s+/gu, ' ');
  // Whitespace only separates words: where one side is punctuation it can come and go.
  // Word characters are letters, marks, digits and `_` in every script, not just ASCII.
  const tokens = (parts: string[]) => parts.join(' ').replace(/ (?=[^\p{L}\p{M}\p{N}_])|(?<=[^\p{L}\p{M}\p{N}_]) /gu, '');
  let adds = 0;
  let dels = 0;
  const oldText: string[] = [];
  const newText: string[] = [];
  let lastOld: number | undefined;
  let lastNew: number | undefined;
  for (const line of diff.lines) {
    // A jump in either line number starts a new hunk: unchanged text lies between.
    // (Hunks with context, as git and GitHub give them, always show the jump.)
    const jumped =
      (line.oldLine !== undefined && lastOld !== undefined && line.oldLine !== lastOld + 1) ||
      (line.newLine !== undefined && lastNew !== undefined && line.newLine !== lastNew + 1);
    if (jumped) {
      oldText.push('\n');
      newText.push('\n');
    }
    if (line.oldLine !== undefined) lastOld = line.oldLine;
    if (line.newLine !== undefined) lastNew = line.newLine;
    const t = words(line);
    if (line.type === 'add') adds++;
    else if (line.type === 'del') dels++;
    if (t === '') continue; // blank lines are whitespace
    if (line.type !== 'add') oldText.push(t);
    if (line.type !== 'del') newText.push(t);
  }
  if (adds + dels === 0) return false;
  if (adds !== file.additions || dels !== file.deletions) return false;
  return tokens(oldText) === tokens(newText);
}

function listPaths(paths: readonly string[], max: number): string {
  const shown = paths.slice(0, max).join(', ');
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

/** The size rule: counted lines and files against `max_lines` and `max_files`, and mechanical claims. */
export function sizeRule(ctx: RuleContext): RuleResult {
  const size = ctx.policy.size;
  if (!size) return { rule: 'size', outcome: 'skip', reason: 'not configured', details: [] };
  const count = countSize(size, ctx.facts);
  const mech = verifyMechanical(size, ctx.facts, () => count.counted);

  const overLines = size.max_lines !== undefined && count.lines > size.max_lines;
  const overFiles = size.max_files !== undefined && count.files > size.max_files;
  const parts = [size.max_lines !== undefined ? outOf(count.lines, size.max_lines, 'line') : plural(count.lines, 'line')];
  if (size.max_files !== undefined) parts.push(outOf(count.files, size.max_files, 'file'));
  if (count.excluded.length > 0) parts.push(`${plural(count.excluded.length, 'file')} excluded`);
  const figure = parts.join(', ');

  const details: Detail[] = [];
  if (count.excluded.length > 0) {
    details.push({ message: `Not counted (excluded or linguist-generated): ${listPaths(count.excluded, LISTED_PATHS)}` });
  }

  if (mech.claimed && !mech.verified) {
    const label = size.mechanical!.label;
    return {
      rule: 'size',
      outcome: 'fail',
      reason: `labelled ${label} but not mechanical: ${listPaths(mech.offenders, NAMED_OFFENDERS)} (${figure})`,
      details: [
        {
          message: `The "${label}" label claims a purely mechanical change (renames, whitespace, excluded files), but ${plural(mech.offenders.length, 'file is', 'files are')} not. Remove the label, or move the other changes to another pull request.`,
        },
        ...mech.offenders.slice(0, LISTED_OFFENDERS).map((path) => ({ message: 'not a pure rename or a whitespace-only change', path })),
        ...(mech.offenders.length > LISTED_OFFENDERS ? [{ message: `and ${plural(mech.offenders.length - LISTED_OFFENDERS, 'more file')}` }] : []),
        ...details,
      ],
      // Within the limits, removing the label is all it takes.
      actionRequired: !overLines && !overFiles,
    };
  }

  if (mech.verified) {
    return {
      rule: 'size',
      outcome: 'pass',
      reason: `${figure}; verified mechanical`,
      details: [{ message: `Every counted change is a pure rename or whitespace-only; size.mechanical.required (${size.mechanical!.required}) approvals apply.` }, ...details],
    };
  }

  if (overLines || overFiles) {
    const biggest = [...count.counted].sort((a, b) => b.additions + b.deletions - (a.additions + a.deletions)).slice(0, 5);
    if (overLines) details.unshift({ message: `${plural(count.lines, 'counted line')} exceed size.max_lines (${size.max_lines}). Split the pull request${size.mechanical ? `, or if it is purely mechanical (renames, whitespace) add the "${size.mechanical.label}" label` : ''}.` });
    if (overFiles) details.unshift({ message: `${plural(count.files, 'counted file')} exceed size.max_files (${size.max_files}). Split the pull request.` });
    for (const f of biggest) details.push({ message: plural(f.additions + f.deletions, 'counted line'), path: f.path });
    if (count.counted.length > biggest.length) details.push({ message: `${count.counted.length - biggest.length} more counted files not shown (the ${biggest.length} largest are listed)` });
    return { rule: 'size', outcome: 'fail', reason: figure, details };
  }

  return { rule: 'size', outcome: 'pass', reason: figure, details };
}
