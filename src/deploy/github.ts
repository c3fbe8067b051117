// GitHub Deployments for each revision (optional): a deployment when a
// revision starts and a status for each change of state, so GitHub shows what
// is deployed and the gate's deployment rule can read it.
import { Octokit } from '@octokit/rest';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive' | 'error';

export interface Deployments {
  /** Create the deployment of `sha`; returns its id. */
  create(repository: string, sha: string, description: string): Promise<number>;
  status(repository: string, id: number, state: DeploymentState, description: string, logUrl?: string): Promise<void>;
}

/** GitHub keeps at most 140 characters of a status description. */
export function clip(text: string, max = 140): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function octokitDeployments(token: string, environment: string, baseUrl?: string): Deployments {
  const octokit = new Octokit({ auth: token, baseUrl, userAgent: 'merge-gate-deploy-trigger', request: { retries: 0 } });
  const split = (repository: string) => {
    const [owner, repo] = repository.split('/');
    return { owner, repo };
  };
  return {
    async create(repository, sha, description) {
      const { data } = await octokit.rest.repos.createDeployment({
        ...split(repository),
        ref: sha,
        environment,
        description: clip(description),
        auto_merge: false,
        // The revision has landed through the gate already; GitHub need not re-check its statuses.
        required_contexts: [],
        production_environment: environment === 'production',
      });
      if (!('id' in data)) throw new Error(`GitHub did not create a deployment: ${JSON.stringify(data).slice(0, 200)}`);
      return data.id;
    },
    async status(repository, id, state, description, logUrl) {
      await octokit.rest.repos.createDeploymentStatus({
        ...split(repository),
        deployment_id: id,
        state,
        description: clip(description),
        environment,
        ...(logUrl ? { log_url: logUrl } : {}),
        // A newer deployment does not make the older ones inactive: they run side by side until reaped.
        auto_inactive: false,
      });
    },
  };
}
