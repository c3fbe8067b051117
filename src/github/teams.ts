// Team membership for `reviews.owners`: every team an evaluation needs, in ONE
// GraphQL query (each team an alias; names travel as variables, never inside
// the document), paged only for a team past 100 members. Members are kept per
// installation for a few minutes (TEAMS_TTL_MS): re-evaluations of a pull
// request (a review, a status, a label) cost no team request, and a change of
// membership shows within minutes. GraphQL has no conditional requests, so the
// lifetime is what bounds the cost. A team that cannot be read is never cached
// (the administrator's fix shows at the next evaluation) and never a pass: its
// reason, with what to do, goes to the rule, which blocks the group.
import type { Clock } from '../clock.js';
import type { TeamMembership } from '../facts/types.js';
import type { Octokit } from '../octokit/types.js';
import { TEAM } from '../rules/codeowners.js';

/** How long members read from GitHub are trusted: short, as approvals hang on them; long enough that a burst of events on a pull request reads them once. */
export const TEAMS_TTL_MS = 5 * 60_000;
/** Teams per query (a policy names a handful; this only bounds a pathological one). */
export const TEAMS_PER_QUERY = 50;

/** `@org/team` → its organisation and slug; null when it is not a team name (the policy's own test of one). */
export function parseTeam(name: string): { org: string; slug: string } | null {
  if (!TEAM.test(name)) return null;
  const [org, slug] = name.slice(1).split('/');
  return { org, slug };
}

/** The members query for `count` teams: `t<i>: organization(login: $o<i>) { team(slug: $s<i>) { members(after: $a<i>) } }`. */
export function teamsQuery(count: number): string {
  const vars: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < count; i++) {
    vars.push(`$o${i}: String!, $s${i}: String!, $a${i}: String`);
    fields.push(`t${i}: organization(login: $o${i}) { team(slug: $s${i}) { members(first: 100, after: $a${i}) { pageInfo { hasNextPage endCursor } nodes { login } } } }`);
  }
  return `query MergeGateTeams(${vars.join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
}

interface TeamNode {
  team: { members: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ login: string } | null> } } | null;
}
interface GraphQLErrorEntry {
  type?: string;
  message?: string;
  path?: Array<string | number>;
}

/** Members per installation and team, for TEAMS_TTL_MS; the oldest entries go first past `maxEntries`. */
export class TeamsCache {
  private readonly map = new Map<string, { members: string[]; at: number }>();
  constructor(
    private readonly clock: Clock,
    readonly ttlMs = TEAMS_TTL_MS,
    private readonly maxEntries = 10_000,
  ) {}

  get(installationId: number, team: string): string[] | undefined {
    const key = `${installationId} ${team}`;
    const hit = this.map.get(key);
    if (!hit) return undefined;
    const age = this.clock.now().getTime() - hit.at;
    if (age < 0 || age >= this.ttlMs) {
      this.map.delete(key);
      return undefined;
    }
    return hit.members;
  }

  set(installationId: number, team: string, members: string[]): void {
    const key = `${installationId} ${team}`;
    this.map.delete(key);
    this.map.set(key, { members, at: this.clock.now().getTime() });
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }
}

/** Why a team cannot be read, and what an administrator does about it (for the check). */
function unreadable(name: string, org: string, error: GraphQLErrorEntry | null): string {
  const said = error?.message ? ` (GitHub: ${error.message})` : '';
  if (error?.type === 'FORBIDDEN') {
    return `team ${name} cannot be read${said}: merge-gate lacks the organisation permission "Members: read"; an owner of ${org} must grant it (GitHub: the organisation's settings, GitHub Apps, merge-gate, accept the new permission)`;
  }
  if (error?.type === 'NOT_FOUND') return `team ${name} cannot be read${said}: there is no organisation ${org} merge-gate can see; check the name in the policy or CODEOWNERS`;
  return `team ${name} cannot be read: GitHub shows merge-gate no such team (it does not exist, or it is secret and merge-gate lacks the organisation permission "Members: read"); check the name, or have an owner of ${org} grant merge-gate "Members: read"`;
}

/** Only what GitHub says about a team's own alias is that team's answer; anything else is the query's failure. */
const PERMANENT = new Set(['NOT_FOUND', 'FORBIDDEN']);

/**
 * Members of every team in `names` (`@org/team`; keys lower-cased), from the
 * cache or one query; a team that cannot be read gets `{ error }`. Throws only
 * what retrying may fix (GitHub's side, the rate limit, the network).
 */
export async function readTeams(
  octokit: Octokit,
  names: readonly string[],
  cache?: { store: TeamsCache; installationId: number },
): Promise<Record<string, TeamMembership>> {
  const out: Record<string, TeamMembership> = {};
  let toRead: Array<{ key: string; org: string; slug: string; members: string[]; after: string | null }> = [];
  for (const key of new Set(names.map((n) => n.trim().toLowerCase()))) {
    const cached = cache?.store.get(cache.installationId, key);
    const team = parseTeam(key);
    if (cached) out[key] = { members: cached };
    else if (!team) out[key] = { error: `${key} is not a team name: a team is written @organisation/team` };
    else toRead.push({ key, ...team, members: [], after: null });
  }
  while (toRead.length > 0) {
    const round = toRead.slice(0, TEAMS_PER_QUERY);
    const variables: Record<string, string | null> = {};
    round.forEach((t, i) => Object.assign(variables, { [`o${i}`]: t.org, [`s${i}`]: t.slug, [`a${i}`]: t.after }));
    let data: Record<string, TeamNode | null>;
    let errors: GraphQLErrorEntry[] = [];
    try {
      data = await octokit.graphql<Record<string, TeamNode | null>>(teamsQuery(round.length), variables);
    } catch (err) {
      // A partial answer: GitHub's errors about some teams, with the others' data.
      const partial = err as { data?: Record<string, TeamNode | null> | null; errors?: GraphQLErrorEntry[] };
      const aliased = (e: GraphQLErrorEntry) => typeof e.path?.[0] === 'string' && /^t\d+$/.test(String(e.path[0])) && PERMANENT.has(e.type ?? '');
      if (!partial.data || !Array.isArray(partial.errors) || !partial.errors.every(aliased)) throw err;
      data = partial.data;
      errors = partial.errors;
    }
    const next: typeof toRead = [];
    round.forEach((t, i) => {
      const members = data[`t${i}`]?.team?.members;
      if (!members) {
        out[t.key] = { error: unreadable(t.key, t.org, errors.find((e) => e.path?.[0] === `t${i}`) ?? null) };
        return;
      }
      t.members.push(...members.nodes.flatMap((n) => (n ? [n.login] : [])));
      if (members.pageInfo.hasNextPage && members.pageInfo.endCursor) next.push({ ...t, after: members.pageInfo.endCursor });
      else {
        out[t.key] = { members: t.members };
        cache?.store.set(cache.installationId, t.key, t.members);
      }
    });
    toRead = [...toRead.slice(TEAMS_PER_QUERY), ...next];
  }
  return out;
}
