// Validates captured REST request bodies against GitHub's OpenAPI description
// (the request-body schemas scripts/extract-openapi.ts extracted into
// test/fixtures/openapi-requests.json).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

interface Fixture {
  source: string;
  operations: Record<string, { operationId: string; requestBody: object | null }>;
  /** What the deploy trigger sends with its own token (not the app). */
  deployTriggerOperations: Record<string, { operationId: string; requestBody: object | null }>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/openapi-requests.json', import.meta.url), 'utf8')) as Fixture;
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

interface Route {
  key: string;
  method: string;
  pattern: RegExp;
  validate: ValidateFunction | null;
}

const routesOf = (operations: Fixture['operations']): Route[] =>
  Object.entries(operations).map(([key, op]) => {
    const [method, path] = key.split(' ');
    const pattern = new RegExp(`^${path.replace(/\{path\}/, '(.+)').replace(/\{[a-z_]+\}/g, '[^/]+')}$`);
    return { key, method, pattern, validate: op.requestBody ? ajv.compile(op.requestBody) : null };
  });
const ROUTES = { app: routesOf(fixture.operations), 'deploy-trigger': routesOf(fixture.deployTriggerOperations) };

/** Who sends the request: the GitHub App, or the deploy trigger with its own token. */
export type Client = keyof typeof ROUTES;

/** The OpenAPI operation (`METHOD /path/{template}`) a request is for, or null when the app has no business sending it. */
export function operationOf(method: string, path: string, client: Client = 'app'): string | null {
  const routes = ROUTES[client];
  // Specific templates first: `/pulls/{pull_number}/files` before `/pulls/{pull_number}`.
  const candidates = routes.filter((r) => r.method === method.toUpperCase() && r.pattern.test(path));
  candidates.sort((a, b) => b.key.length - a.key.length);
  return candidates[0]?.key ?? null;
}

/** Problems with a REST request: an operation the app does not declare, or a body GitHub's schema rejects. */
export function restRequestProblems(method: string, path: string, body: unknown, client: Client = 'app'): string[] {
  const key = operationOf(method, path, client);
  if (!key) return [`${method} ${path}: not one of the operations in test/fixtures/openapi-requests.json${client === 'app' ? '' : ` for the ${client}`}`];
  const route = ROUTES[client].find((r) => r.key === key)!;
  if (!route.validate) {
    return body === undefined || body === null || body === '' || (typeof body === 'object' && Object.keys(body).length === 0)
      ? []
      : [`${key}: sends a body, but the operation takes none`];
  }
  if (route.validate(body ?? {})) return [];
  return (route.validate.errors ?? []).map((e) => `${key}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
