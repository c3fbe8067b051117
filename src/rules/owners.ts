// The owners rule (SPEC §2, reviews.owners): approvals from the right people, not just
// enough of them. A group applies when the pull request changes a file it covers; every
// group that applies must hold, on top of the count the reviews rule asks for. Only the
// approvals that count under `reviews` (fresh, not the author, not bots) count here.
import type { ChangedFile, PullRequestFacts } from '../facts/types.js';
import { compileGlobs } from '../policy/glob.js';
import type { OwnersGroup, Policy } from '../policy/schema.js';
import { tallyReviews } from './approvals.js';
import { parseCodeowners, teamKey, type Owner } from './codeowners.js';
import { required } from './context.js';
import type { RuleContext } from './context.js';
import type { Detail, RuleResult } from './types.js';
import { plural } from './words.js';

/** One set of owners that must approve: a path group, or one distinct set of CODEOWNERS owners. */
export interface OwnersStanding {
  group: string;
  /** Who may approve, as written: `@org/team`, users (`carol` in a policy, `@carol` in CODEOWNERS), emails. */
  owners: string[];
  /** Teams among them, `@org/team` lower-cased (the keys of `facts.teams`). */
  teams: string[];
  /** Users among them (logins). */
  users: string[];
  /** The changed files that made it apply, in the pull request's order. */
  files: string[];
  required: number;
  /** Approvals that count, from its users or members of its teams. */
  approvers: string[];
  /** Why it cannot hold whatever the approvals: a team that cannot be read, an email owner, a CODEOWNERS problem. */
  blocked: string[];
  /** Members who could still approve (not the author, not already approving), alphabetically. */
  candidates: string[];
  holds: boolean;
}

const CODEOWNERS_PLACES = '.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS';
const CANDIDATES_SHOWN = 5;

/** The paths a change touches: a rename changes both its old and its new path; a copy only the new one. */
export function touchedPaths(files: readonly ChangedFile[]): string[] {
  return files.flatMap((f) => (f.status === 'renamed' && f.previousPath ? [f.path, f.previousPath] : [f.path]));
}

interface Applying {
  group: OwnersGroup;
  owners: string[];
  files: string[];
  /** Owners that can never be resolved to logins (emails), and file problems. */
  problems: string[];
}

/** The groups (and CODEOWNERS owner sets) a pull request's changed files make apply; pure. */
function applying(policy: Policy, facts: Pick<PullRequestFacts, 'files' | 'codeowners'>): Applying[] {
  const groups = policy.reviews?.owners ?? [];
  if (groups.length === 0) return [];
  const paths = touchedPaths(required(facts.files, 'changed files'));
  const out: Applying[] = [];
  for (const group of groups) {
    if (group.paths) {
      const matches = compileGlobs(group.paths);
      const files = paths.filter((p) => matches(p));
      if (files.length > 0) out.push({ group, owners: group.from ?? [], files, problems: [] });
      continue;
    }
    const file = required(facts.codeowners, 'CODEOWNERS');
    if (file === null) {
      out.push({ group, owners: [], files: [], problems: [`no CODEOWNERS file at the base (${CODEOWNERS_PLACES}): add one, or remove codeowners: true from the group`] });
      continue;
    }
    const parsed = parseCodeowners(file.text);
    if (parsed.problems.length > 0) {
      // A line GitHub skips could be the one that owns a changed file: never guess, block.
      const problems = parsed.problems.map((p) => `${file.path}:${p.line}: ${p.message}; fix the line on the base branch`);
      out.push({ group, owners: [], files: [], problems });
      continue;
    }
    const sets = new Map<string, Applying>();
    for (const path of paths) {
      const owners = parsed.ownersOf(path)?.owners ?? [];
      if (owners.length === 0) continue; // unowned, or un-owned by a line without owners
      // One set of owners however the lines that name it order them: shown in one order, so its row does not depend on which file came first.
      const written = owners.map(showOwner).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
      const key = written.map((o) => o.toLowerCase()).join(' ');
      const set = sets.get(key) ?? { group, owners: written, files: [], problems: emailProblems(owners) };
      set.files.push(path);
      sets.set(key, set);
    }
    out.push(...sets.values());
  }
  return out;
}

const showOwner = (o: Owner): string => (o.kind === 'user' ? `@${o.login}` : o.kind === 'team' ? o.team : o.email);

function emailProblems(owners: readonly Owner[]): string[] {
  return owners.flatMap((o) => (o.kind === 'email'
    ? [`owner ${o.email} is an email address, which merge-gate cannot match to a GitHub login (unsupported): name the user as @login in CODEOWNERS`]
    : []));
}

/** Split as-written owners into team keys and user logins. */
function splitOwners(owners: readonly string[]): { teams: string[]; users: string[] } {
  const teams: string[] = [];
  const users: string[] = [];
  for (const o of owners) {
    if (o.startsWith('@') && o.includes('/')) teams.push(teamKey(o));
    else if (!o.includes('@') || o.startsWith('@')) users.push(o.replace(/^@/, ''));
  }
  return { teams, users };
}

/**
 * Every group that applies, and where it stands. Teams come from `facts.teams`; one that
 * is missing there or could not be read blocks its group (never a pass).
 */
export function ownersStanding(policy: Policy, facts: PullRequestFacts): OwnersStanding[] {
  const sets = applying(policy, facts);
  if (sets.length === 0) return [];
  const approvers = tallyReviews(policy.reviews, facts).approvers;
  const author = facts.author.login.toLowerCase();
  return sets.map(({ group, owners, files, problems }) => {
    const { teams, users } = splitOwners(owners);
    const members = new Map<string, string>(users.map((u) => [u.toLowerCase(), u]));
    const blocked = [...problems];
    for (const team of teams) {
      const membership = facts.teams?.[team];
      if (membership === undefined) blocked.push(`membership of team ${team} was not read`);
      else if ('error' in membership) blocked.push(`team ${team} cannot be read: ${membership.error}`);
      else for (const m of membership.members) if (!members.has(m.toLowerCase())) members.set(m.toLowerCase(), m);
    }
    const counted = approvers.filter((a) => members.has(a.toLowerCase()));
    const approving = new Set(counted.map((a) => a.toLowerCase()));
    const candidates = [...members]
      .filter(([key]) => key !== author && !approving.has(key))
      .map(([, login]) => login)
      .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const holds = blocked.length === 0 && counted.length >= group.required;
    return { group: group.name, owners, teams, users, files, required: group.required, approvers: counted, blocked, candidates, holds };
  });
}

/**
 * The teams whose members an evaluation needs: those of the groups the changed files make
 * apply (`from`, and CODEOWNERS owners of the changed files). The GitHub side reads exactly
 * these, so a pull request that touches no group costs no membership request.
 */
export function ownersTeamsToRead(policy: Policy, facts: Pick<PullRequestFacts, 'files' | 'codeowners'>): string[] {
  const teams = new Set<string>();
  for (const set of applying(policy, facts)) for (const t of splitOwners(set.owners).teams) teams.add(t);
  return [...teams].sort();
}

/** `db/migrate/001.sql, +2 files`. */
function filesShown(files: readonly string[]): string {
  if (files.length === 0) return '';
  return files.length === 1 ? files[0] : `${files[0]}, +${plural(files.length - 1, 'file')}`;
}

const atLogins = (logins: readonly string[]) => logins.map((l) => `@${l}`).join(', ');

function row(s: OwnersStanding): RuleResult {
  const files = filesShown(s.files);
  const figure = s.owners.length > 0
    ? `${s.group}: ${s.approvers.length} / ${s.required} from ${s.owners.join(', ')}${files ? ` (${files})` : ''}`
    : `${s.group}: cannot be decided`;
  const details: Detail[] = [];
  if (s.files.length > 0) details.push({ message: `${s.group} applies: ${s.files.slice(0, 10).join(', ')}${s.files.length > 10 ? ` and ${s.files.length - 10} more` : ''}.` });
  if (s.approvers.length > 0) details.push({ message: `${s.group}: approved by ${atLogins(s.approvers)}.` });
  for (const b of s.blocked) details.push({ message: `${s.group}: ${b}.` });
  if (s.blocked.length > 0) {
    return { rule: 'owners', outcome: 'fail', reason: `${figure}; blocked: ${s.blocked[0]}`, details };
  }
  if (!s.holds) {
    const shown = s.candidates.slice(0, CANDIDATES_SHOWN);
    const more = s.candidates.length - shown.length;
    details.push({
      message: shown.length > 0
        ? `${s.group}: could approve: ${atLogins(shown)}${more > 0 ? ` and ${more} more` : ''}.`
        : `${s.group}: nobody else can approve (every owner is the author or has approved already).`,
    });
    return { rule: 'owners', outcome: 'fail', reason: figure, details, actionRequired: true };
  }
  return { rule: 'owners', outcome: 'pass', reason: figure, details };
}

/** One row per group (or CODEOWNERS owner set) that applies; none when reviews.owners is not configured. */
export function ownersRule(ctx: RuleContext): RuleResult[] {
  const groups = ctx.policy.reviews?.owners ?? [];
  if (groups.length === 0) return [];
  const standing = ownersStanding(ctx.policy, ctx.facts);
  if (standing.length === 0) {
    return [{ rule: 'owners', outcome: 'pass', reason: `no group applies (${groups.map((g) => g.name).join(', ')})`, details: [] }];
  }
  return standing.map(row);
}
