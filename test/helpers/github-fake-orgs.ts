// The fake GitHub's organisations: teams with members (GraphQL
// `organization(login).team(slug).members`), teams the app cannot see, the
// organisation members permission not granted, and requested reviewers
// (REST POST …/pulls/{n}/requested_reviewers). Kept apart from github-fake.ts,
// which routes to it.

/** A GraphQL error GitHub itself answers (with its `type`): an answer, not a problem of the fake. */
export class FakeGraphQLError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeTeam {
  org: string;
  slug: string;
  members: string[];
  /** Secret and not visible to the app: GitHub answers `team: null`, as for a team that does not exist. */
  hidden?: boolean;
}

/** A review request as the fake saw it. */
export interface FakeReviewRequest {
  repo: string;
  number: number;
  reviewers: string[];
  teamReviewers: string[];
}

export class FakeOrgs {
  /** By `org/slug`, lower-cased. */
  readonly teams = new Map<string, FakeTeam>();
  /** Organisations that exist, lower-cased (every team's organisation is added). */
  readonly logins = new Set<string>();
  /** The installation was granted "Members: read" (organisation permission). */
  membersPermission = true;
  /** Every POST …/requested_reviewers, in order. */
  readonly reviewRequests: FakeReviewRequest[] = [];

  addTeam(org: string, slug: string, members: string[], options: { hidden?: boolean } = {}): FakeTeam {
    const team: FakeTeam = { org, slug, members, ...options };
    this.logins.add(org.toLowerCase());
    this.teams.set(`${org}/${slug}`.toLowerCase(), team);
    return team;
  }

  /** The GraphQL `organization(login:)` resolver. */
  organization(login: string) {
    if (!this.logins.has(login.toLowerCase())) throw new FakeGraphQLError('NOT_FOUND', `Could not resolve to an Organization with the login of '${login}'.`);
    return {
      login,
      team: ({ slug }: { slug: string }) => {
        if (!this.membersPermission) throw new FakeGraphQLError('FORBIDDEN', 'Resource not accessible by integration');
        const team = this.teams.get(`${login}/${slug}`.toLowerCase());
        if (!team || team.hidden) return null;
        return {
          slug: team.slug,
          combinedSlug: `${team.org}/${team.slug}`,
          members: (args: { first?: number; after?: string }) => {
            let start = args.after ? Number(args.after) + 1 : 0;
            const end = Math.min(team.members.length, start + (args.first ?? team.members.length));
            const nodes = team.members.slice(start, end).map((l) => ({ login: l }));
            start = Math.min(start, end);
            return { totalCount: team.members.length, nodes, pageInfo: { hasNextPage: end < team.members.length, endCursor: nodes.length ? String(end - 1) : null, hasPreviousPage: start > 0, startCursor: null } };
          },
        };
      },
    };
  }

  /**
   * POST …/pulls/{n}/requested_reviewers, with GitHub's refusals: the author
   * (422), a team of another organisation or unknown to it (422).
   */
  requestReviewers(
    repo: { owner: string; name: string },
    pull: { number: number; author: string; requestedReviewers?: string[]; requestedTeams?: string[] },
    body: { reviewers?: string[]; team_reviewers?: string[] },
  ): [number, unknown] {
    const reviewers = body.reviewers ?? [];
    const teamReviewers = body.team_reviewers ?? [];
    this.reviewRequests.push({ repo: `${repo.owner}/${repo.name}`, number: pull.number, reviewers, teamReviewers });
    if (reviewers.some((r) => r.toLowerCase() === pull.author.toLowerCase())) return [422, { message: 'Review cannot be requested from pull request author.' }];
    if (teamReviewers.some((slug) => !this.teams.has(`${repo.owner}/${slug}`.toLowerCase()))) {
      return [422, { message: `Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the ${repo.owner}/${repo.name} repository.` }];
    }
    pull.requestedReviewers = [...new Set([...(pull.requestedReviewers ?? []), ...reviewers])];
    pull.requestedTeams = [...new Set([...(pull.requestedTeams ?? []), ...teamReviewers])];
    return [
      201,
      {
        number: pull.number,
        requested_reviewers: pull.requestedReviewers.map((login) => ({ login, type: 'User' })),
        requested_teams: pull.requestedTeams.map((slug) => ({ slug, name: slug })),
      },
    ];
  }
}
