// The Octokit the app is handed by Probot (an installation's or the app's own), as one type every shell shares.
import type { ProbotOctokit } from 'probot';

export type Octokit = InstanceType<typeof ProbotOctokit>;
