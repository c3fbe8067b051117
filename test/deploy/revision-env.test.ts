// What a deployed revision can reach (docs/security.md): its deploy script
// dumps its environment, and neither the trigger's webhook secret nor its
// GitHub token is there, nor anything outside the allow-list and `env:`; the
// state file keeps no revision's signal token in plain text.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { itReporting, makeTrunk, SECRET, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';
import { PASSED_THROUGH, REVISION_VARIABLES } from '../../src/deploy/environment.js';

const GITHUB_TOKEN = 'ghs_revision_env_test_token';
/** Variables of the trigger's environment that no command may see unless `env:` names them. */
const PLANTED = { TRUNK_WEBHOOK_SECRET: SECRET, DEPLOY_GITHUB_TOKEN: GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY: 'unlisted', APP_DATABASE_URL: 'postgres://app@db/app' };
/** Set by /bin/sh itself. */
const SHELL_OWN = ['PWD', 'OLDPWD', 'SHLVL', '_'];

describe("a revision's environment and the state file", () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  let url: string;
  let dumps: string;
  let first: string;
  const saved: Record<string, string | undefined> = {};
  const it = itReporting(() => t.report());

  const dumped = (sha: string) => JSON.parse(readFileSync(join(dumps, `${sha}.json`), 'utf8')) as Record<string, string>;
  const tokenOf = (sha: string) => new URL(dumped(sha).SIGNAL_URL).searchParams.get('token')!;

  beforeAll(async () => {
    // In the test process's own environment too: before the fix, commands got all of process.env.
    for (const [name, value] of Object.entries(PLANTED)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    dumps = mkdtempSync(join(tmpdir(), 'merge-gate-env-dumps-'));
    trunk = makeTrunk();
    const script = `#!/bin/sh
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))' "${dumps}/$REVISION.json"
exec node server.mjs
`;
    trunk.write({ 'deploy/start.sh': script });
    chmodSync(join(trunk.dir, 'deploy/start.sh'), 0o755);
    first = trunk.commit('a deploy script that dumps its environment');
    setup = writeConfig({
      remote: trunk.dir,
      extra: `    env: { NODE_ENV: production, DATABASE_URL: { from: APP_DATABASE_URL } }
    github: { token_env: DEPLOY_GITHUB_TOKEN, environment: production, api_url: "http://127.0.0.1:9" }`,
    });
    t = testTrigger(setup.config, { env: process.env });
    url = await t.trigger.start();
    try {
      await waitFor(`${first.slice(0, 12)} healthy`, () => t.trigger.store.revision('octo/app', first)?.state === 'healthy');
    } catch (error) {
      throw new Error(`${(error as Error).message}\n\n${t.report()}`); // the trigger's log and every revision's state
    }
  }, 150_000); // on a busy machine the first deploy can take longer than jest's 30 s default for a hook

  afterAll(async () => {
    await t?.trigger.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    setup?.remove();
    trunk?.remove();
    rmSync(dumps, { recursive: true, force: true });
  });

  it("refuses to start when an env: variable is to come from one the trigger's environment lacks", () => {
    const other = writeConfig({ remote: trunk.dir, extra: '    env: { DSN: { from: MERGE_GATE_UNSET_VARIABLE } }' });
    try {
      expect(() => testTrigger(other.config)).toThrow("octo/app: env.DSN comes from MERGE_GATE_UNSET_VARIABLE, which is not set in the deploy trigger's environment");
    } finally {
      other.remove();
    }
  });

  it('the deploy command gets the allow-list, `env:` and its revision\'s variables: no secret, nothing else', async () => {
    const env = dumped(first);
    const allowed = new Set<string>([...PASSED_THROUGH, ...REVISION_VARIABLES, ...SHELL_OWN, 'NODE_ENV', 'DATABASE_URL']);
    expect(Object.keys(env).filter((name) => !allowed.has(name))).toEqual([]);
    for (const value of Object.values(env)) {
      expect(value).not.toContain(SECRET);
      expect(value).not.toContain(GITHUB_TOKEN);
    }
    expect(env).toMatchObject({ REVISION: first, REPOSITORY: 'octo/app', NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db/app', PATH: process.env.PATH });
    expect(env.SIGNAL_URL).toMatch(new RegExp(`^${url}/signals/${first}\\?token=[0-9a-f]{48}$`));
  });

  it('the state file holds no signal token in plain text, in any row or in its bytes', async () => {
    const token = tokenOf(first);
    const db = new Database(setup.config.state, { readonly: true, fileMustExist: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
      const rows = tables.flatMap((name) => db.prepare(`SELECT * FROM "${name}"`).all());
      expect(rows.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toContain(token);
    } finally {
      db.close();
    }
    for (const file of [setup.config.state, `${setup.config.state}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(token)).toBe(false);
    }
  });

  it('the state file is 0600 in a folder 0700; the revisions\' folder is 0700', () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect([mode(dirname(setup.config.state)), mode(setup.config.state), mode(setup.config.workdir)]).toEqual([0o700, 0o600, 0o700]);
  });

  it("a signal with the revision's token is recorded (202); without it, or with another, refused (403)", async () => {
    const token = tokenOf(first);
    const post = (t: string | null) => fetch(`${url}/signals/${first}${t === null ? '' : `?token=${t}`}`, { method: 'POST', body: 'an error' }).then((r) => r.status);
    expect([await post(null), await post('0'.repeat(48)), await post(token.toUpperCase()), await post(token)]).toEqual([403, 403, 403, 202]);
    expect(t.trigger.store.recentSignals('octo/app', first).map((s) => s.note)).toEqual(['an error']);
  });
});
