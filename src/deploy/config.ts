// The deploy trigger's config file (SPEC §5): one zod schema, validated with the
// policy loader's machinery so errors read `FILE:LINE:COLUMN key: message`.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { describeInput } from '../policy/schema.js';
import { parseYaml, type PolicyError } from '../policy/load.js';
import { validateWithSchema } from '../policy/schema-errors.js';
import { parseDuration } from '../duration.js';
import { boundedDuration } from '../policy/duration.js';
import { REVISION_VARIABLES } from './environment.js';

const expected = (what: string) => (iss: { input?: unknown }) => `expected ${what}, got ${describeInput(iss.input)}`;

/**
 * Every duration has bounds: below them a loop floods (a `git ls-remote` per
 * millisecond against GitHub), above them Node's timers overflow (setTimeout
 * and setInterval clamp anything past 2^31-1 ms, about 24.8 days, to 1 ms).
 */
export const DURATION_BOUNDS = {
  'health.interval': { min: '100ms', max: '1h' },
  'health.timeout': { min: '100ms', max: '5m' },
  'health.startup': { min: '1s', max: '1h' },
  'signals.window': { min: '1s', max: '24h' },
  'logs.rate_window': { min: '1s', max: '10m' },
  reconcile: { min: '1s', max: '24h' },
  'connections.headers_timeout': { min: '1s', max: '5m' },
  'connections.request_timeout': { min: '1s', max: '10m' },
} as const;

const duration = (key: keyof typeof DURATION_BOUNDS, fallback: string) => {
  const { min, max } = DURATION_BOUNDS[key];
  return boundedDuration(min, max)
    .default(fallback)
    .transform((text) => parseDuration(text)!);
};

const positiveInt = (fallback: number) => z.int({ error: expected('a positive integer') }).min(1, { error: expected('a positive integer') }).default(fallback);
const command = () => z.string({ error: expected('a command (a string)') }).min(1, { error: 'must not be empty' });

const PORT_RANGE = /^(\d{1,5})-(\d{1,5})$/;
const portRange = z
  .string({ error: expected('a port range like "9000-9099"') })
  .default('9000-9099')
  .transform((text, ctx) => {
    const m = PORT_RANGE.exec(text.trim());
    const [from, to] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!m || from < 1 || to > 65535 || from > to) {
      ctx.addIssue({ code: 'custom', message: `expected a port range like "9000-9099" (1–65535, low-high), got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return { from, to };
  });

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = () => z.string({ error: expected('the name of an environment variable') }).regex(ENV_NAME, { error: expected('the name of an environment variable') });

/** `env:` of a repository: NAME: "literal" or NAME: { from: VARIABLE_OF_THE_TRIGGER }. */
const EnvSchema = z
  .record(
    z.string(),
    z.union([z.string(), z.strictObject({ from: envName() })], { error: expected('a value (a string) or { from: VARIABLE }') }),
    { error: expected('a mapping of variables (NAME: value or NAME: { from: VARIABLE })') },
  )
  .superRefine((env, ctx) => {
    for (const name of Object.keys(env)) {
      if (!ENV_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `expected the name of an environment variable, got ${JSON.stringify(name)}` });
      else if ((REVISION_VARIABLES as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by the trigger for each revision` });
    }
  })
  .default({});

const HealthSchema = z
  .strictObject({
    url: z.string({ error: expected('a URL such as "http://127.0.0.1:${PORT}/healthz"') }).regex(/^https?:\/\/\S+$/, { error: expected('a URL such as "http://127.0.0.1:${PORT}/healthz"') }).optional(),
    command: command().optional(),
    interval: duration('health.interval', '2s'),
    timeout: duration('health.timeout', '1s'),
    failures: positiveInt(3),
    startup: duration('health.startup', '60s'),
  })
  .superRefine((h, ctx) => {
    if ((h.url === undefined) === (h.command === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of url or command' });
  });

const SIZE = /^(\d+)\s*(B|KB|MB|GB)?$/;
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
/** Bytes, from a size as written (`2048`, `64KB`, `10MB`), or NaN. */
const sizeBytes = (v: unknown): number => {
  const m = SIZE.exec(String(v).trim());
  return m ? Number(m[1]) * SIZE_UNITS[m[2] ?? 'B'] : NaN;
};

/** A size: bytes, or a number with KB, MB or GB (1024-based); at least 1 KB. */
const size = (fallback: string) =>
  z
    .union([z.number().int(), z.string()], { error: expected('a size such as 10MB') })
    .default(fallback)
    .transform((v, ctx) => {
      const bytes = sizeBytes(v);
      if (!(bytes >= 1024)) {
        ctx.addIssue({ code: 'custom', message: `expected a size of at least 1KB such as "10MB", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return bytes;
    });

/** Bounds of `logs.max_rate`: below 1KB/s a service's normal start-up chatter would trip it. */
const RATE_BOUNDS = { min: 1024, max: 1024 ** 3, text: '1KB/s to 1GB/s' } as const;
const RATE_ERROR = `expected a rate from ${RATE_BOUNDS.text} such as "1MB/s", or off`;

/** Bytes a second (`1MB/s`, `512KB/s`, a number of bytes), or null for `off`. */
const rate = (fallback: string) =>
  z
    .union([z.number().int(), z.string()], { error: expected('a rate such as 1MB/s, or off') })
    .default(fallback)
    .transform((v, ctx) => {
      if (v === 'off') return null;
      const bytes = sizeBytes(String(v).trim().replace(/\/s$/, ''));
      if (!(bytes >= RATE_BOUNDS.min && bytes <= RATE_BOUNDS.max)) {
        ctx.addIssue({ code: 'custom', message: `${RATE_ERROR}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return bytes;
    });

/**
 * A revision's output: its log file is rotated at `max_bytes`, `keep` older ones kept; past `max_rate`
 * averaged over `rate_window` (a service printing in a loop) the revision is cut off.
 */
const LogsSchema = z
  .strictObject({
    max_bytes: size('10MB'),
    keep: z.number({ error: expected('a whole number, 0 or more') }).int().min(0).max(10).default(2),
    max_rate: rate('1MB/s'),
    rate_window: duration('logs.rate_window', '60s'),
  })
  .prefault({});

const RepositorySchema = z.strictObject({
  remote: z.string({ error: expected('a git remote (URL or local path)') }).min(1, { error: 'must not be empty' }),
  branch: z.string({ error: expected('a branch name') }).regex(/^[A-Za-z0-9._/-]+$/, { error: expected('a branch name') }).default('main'),
  deploy: command(),
  ports: portRange,
  health: HealthSchema,
  signals: z.strictObject({ max: positiveInt(5), window: duration('signals.window', '60s') }).prefault({}),
  cutoff: command().optional(),
  stop: command().optional(),
  keep: positiveInt(2),
  logs: LogsSchema,
  reconcile: duration('reconcile', '60s'),
  env: EnvSchema,
  github: z
    .strictObject({
      token_env: envName().default('GITHUB_TOKEN'),
      environment: z.string({ error: expected('an environment name') }).min(1, { error: 'must not be empty' }).default('production'),
      api_url: z.string({ error: expected('a URL') }).url({ error: expected('a URL') }).optional(),
    })
    .optional(),
});

const LISTEN = /^(.+):(\d{1,5})$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** host:port, IPv6 hosts in brackets. */
const hostPort = () =>
  z.string({ error: expected('host:port, like "127.0.0.1:8787"') }).transform((text, ctx) => {
    const m = LISTEN.exec(text);
    if (!m || Number(m[2]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected host:port, like "127.0.0.1:8787", got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  });

/**
 * Limits of both listeners: a connection cap (below the descriptors the trigger
 * has, so its own probes and commands still get some) and short deadlines for
 * a request's headers and body, so a slow client cannot hold a connection.
 */
const ConnectionsSchema = z
  .strictObject({
    max: positiveInt(500),
    /** Open connections from one host at most (server.ts): behind a reverse proxy every connection is the proxy's. */
    per_address: positiveInt(64),
    headers_timeout: duration('connections.headers_timeout', '10s'),
    request_timeout: duration('connections.request_timeout', '30s'),
  })
  .prefault({});

export const DeployConfigSchema = z.strictObject({
  listen: hostPort().prefault('127.0.0.1:8787'),
  /** When set: the status page, /api/state, logs and /metrics listen here, and `listen` serves only hooks and signals. */
  status_listen: hostPort().optional(),
  connections: ConnectionsSchema,
  public_url: z.string({ error: expected('a URL') }).url({ error: expected('a URL') }).optional(),
  secret_env: envName().default('TRUNK_WEBHOOK_SECRET'),
  state: z.string({ error: expected('a file path') }).min(1).default('.merge-gate/deploy.sqlite'),
  workdir: z.string({ error: expected('a directory path') }).min(1).default('.merge-gate/revisions'),
  /** Each revision in a cgroup v2 of its own (cgroup.ts): `auto` (under the trigger's own), `off`, or a parent cgroup's path. */
  cgroup: z
    .string({ error: expected('auto, off, or the absolute path of a cgroup v2 directory') })
    .regex(/^(auto|off|\/.+)$/, { error: expected('auto, off, or the absolute path of a cgroup v2 directory') })
    .default('auto'),
  repositories: z
    .record(z.string(), RepositorySchema, { error: expected('a mapping of repositories ("owner/name": settings)') })
    .superRefine((repos, ctx) => {
      if (Object.keys(repos).length === 0) ctx.addIssue({ code: 'custom', message: 'list at least one repository' });
      for (const name of Object.keys(repos)) {
        if (!REPOSITORY.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `expected a repository name "owner/name", got ${JSON.stringify(name)}` });
      }
    }),
})
  .superRefine((config, ctx) => {
    // A revision's code is not trusted with the trigger's secrets (docs/security.md).
    const secrets = new Map<string, string>([[config.secret_env, 'the webhook secret (secret_env)']]);
    for (const [name, repo] of Object.entries(config.repositories)) if (repo.github) secrets.set(repo.github.token_env, `the GitHub token (github.token_env of ${name})`);
    for (const [name, repo] of Object.entries(config.repositories)) {
      for (const [key, entry] of Object.entries(repo.env)) {
        const from = typeof entry === 'string' ? null : entry.from;
        for (const [variable, path] of [[key, [key]], [from, [key, 'from']]] as const) {
          const what = variable === null ? undefined : secrets.get(variable);
          if (what) ctx.addIssue({ code: 'custom', path: ['repositories', name, 'env', ...path], message: `${variable} is ${what}: a revision never gets it` });
        }
      }
    }
  });

export type DeployConfig = z.output<typeof DeployConfigSchema>;
export type RepositoryConfig = DeployConfig['repositories'][string];

export type ConfigResult = { ok: true; config: DeployConfig } | { ok: false; errors: PolicyError[] };

/**
 * Load the config from its text. Relative paths (`state`, `workdir`, local
 * remotes) are resolved against the config file's folder, so the trigger
 * behaves the same from any working directory.
 */
export function loadDeployConfigText(text: string, file: string): ConfigResult {
  const parsed = parseYaml(text, file);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
  const result = validateWithSchema(DeployConfigSchema, parsed.value ?? {}, file, parsed.locate);
  if (!result.ok) return result;
  const base = dirname(resolve(file));
  const config = result.value;
  config.state = resolve(base, config.state);
  config.workdir = resolve(base, config.workdir);
  for (const repo of Object.values(config.repositories)) repo.remote = resolveRemote(base, repo.remote);
  return { ok: true, config };
}

/** A relative local path becomes absolute; URLs and `host:path` remotes are kept. */
function resolveRemote(base: string, remote: string): string {
  if (isAbsolute(remote) || /^[a-z][a-z0-9+.-]*:\/\//i.test(remote) || /^[^/]+:/.test(remote)) return remote;
  return resolve(base, remote);
}
