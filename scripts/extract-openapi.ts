// Extracts from GitHub's OpenAPI description just the request-body schemas of
// the REST operations merge-gate calls, into test/fixtures/openapi-requests.json,
// so tests can validate every request body they capture without loading the
// 70 MB description. Run after upgrading @octokit/openapi or calling a new
// endpoint:   npx tsx scripts/extract-openapi.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Every REST operation the app sends (METHOD path, as in the OpenAPI `paths`). */
export const OPERATIONS = [
  'GET /app',
  'GET /app/installations',
  'POST /app/installations/{installation_id}/access_tokens',
  'GET /installation/repositories',
  'GET /repos/{owner}/{repo}/contents/{path}',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/files',
  'GET /repos/{owner}/{repo}/compare/{basehead}',
  'POST /repos/{owner}/{repo}/check-runs',
  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/labels',
  // reviews.request: ask an owners group for a review
  'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers',
  // landing (src/land)
  'GET /repos/{owner}/{repo}/pulls',
  'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge',
  'PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch',
  'DELETE /repos/{owner}/{repo}/git/refs/{ref}',
  'GET /repos/{owner}/{repo}/git/commits/{commit_sha}',
  'POST /repos/{owner}/{repo}/dispatches',
  // the merge queue (src/queue/github.ts)
  'GET /repos/{owner}/{repo}/branches/{branch}',
  'POST /repos/{owner}/{repo}/git/refs',
  'PATCH /repos/{owner}/{repo}/git/refs/{ref}',
  'GET /repos/{owner}/{repo}/git/matching-refs/{ref}',
  'POST /repos/{owner}/{repo}/merges',
  // the trunk rule's revert of a merge queue batch (src/trunk/revert.ts)
  'POST /repos/{owner}/{repo}/git/commits',
  'POST /repos/{owner}/{repo}/pulls',
] as const;

/**
 * What the deploy trigger sends (src/deploy/github.ts) with its own token: not
 * the app, so kept apart (`deployTriggerOperations`) from what the app may send.
 */
export const DEPLOY_TRIGGER_OPERATIONS = [
  'POST /repos/{owner}/{repo}/deployments',
  'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const DROP = new Set(['description', 'example', 'examples', 'title', 'externalDocs', 'deprecated', 'x-github']);

/**
 * OpenAPI 3.0 → JSON Schema for ajv: `nullable` becomes a null alternative, prose
 * is dropped, and objects that list their properties reject unknown ones (outside
 * anyOf/oneOf/allOf branches, which only add constraints), so a misspelt field
 * fails the test instead of being silently ignored by GitHub.
 */
function convert(node: Json, inBranch = false): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n, inBranch));
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROP.has(key) || key === 'nullable') continue;
    if (key === 'properties' && value && typeof value === 'object' && !Array.isArray(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = (value as Json[]).map((v) => convert(v, true));
    } else {
      out[key] = convert(value, inBranch);
    }
  }
  if (!inBranch && out.type === 'object' && out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  if ((node as Schema).nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

function main(): void {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { info: { version: string }; paths: Record<string, Record<string, Schema>> };
  const extract = (ops: readonly string[]) => {
    const operations: Record<string, { operationId: string; requestBody: Json }> = {};
    for (const op of ops) {
      const [method, path] = op.split(' ');
      const operation = spec.paths[path]?.[method.toLowerCase()];
      if (!operation) throw new Error(`${op} is not in the OpenAPI description`);
      const body = (operation.requestBody as Schema | undefined)?.content as Schema | undefined;
      const schema = (body?.['application/json'] as Schema | undefined)?.schema ?? null;
      operations[op] = { operationId: String(operation.operationId), requestBody: schema === null ? null : convert(schema) };
    }
    return operations;
  };
  const out = {
    source: `@octokit/openapi ${spec.info.version} (api.github.com.deref.json)`,
    operations: extract(OPERATIONS),
    deployTriggerOperations: extract(DEPLOY_TRIGGER_OPERATIONS),
  };
  const target = new URL('../test/fixtures/openapi-requests.json', import.meta.url);
  writeFileSync(target, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote ${OPERATIONS.length} + ${DEPLOY_TRIGGER_OPERATIONS.length} operations to ${target.pathname}`);
}

main();
