import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployConfigText } from '../../src/deploy/config.js';
import { parseDuration } from '../../src/duration.js';
import { formatPolicyError } from '../../src/policy/load.js';
import { runCli } from '../helpers/cli.js';

const errorsOf = (text: string) => {
  const r = loadDeployConfigText(text, 'deploy.yml');
  return r.ok ? [] : r.errors.map(formatPolicyError);
};

const MINIMAL = `repositories:
  octo/app:
    remote: ./trunk
    deploy: ./deploy/start.sh
    health: { url: "http://127.0.0.1:\${PORT}/healthz" }
`;

describe('deploy config', () => {
  it('fills in the defaults of SPEC §5 and resolves paths against the config file', () => {
    const r = loadDeployConfigText(MINIMAL, '/srv/deploy/deploy.yml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(r.config.state).toBe('/srv/deploy/.merge-gate/deploy.sqlite');
    const app = r.config.repositories['octo/app'];
    expect(app.remote).toBe('/srv/deploy/trunk');
    expect(app.ports).toEqual({ from: 9000, to: 9099 });
    expect(app.health).toMatchObject({ interval: 2000, timeout: 1000, failures: 3, startup: 60_000 });
    expect(app.signals).toEqual({ max: 5, window: 60_000 });
    expect([app.keep, app.reconcile, app.branch]).toEqual([2, 60_000, 'main']);
  });

  it('reads status_listen and the connection limits, with defaults and bounds', () => {
    const r = loadDeployConfigText(MINIMAL, 'deploy.yml');
    expect(r.ok && r.config.status_listen).toBeUndefined();
    expect(r.ok && r.config.connections).toEqual({ max: 500, per_address: 64, headers_timeout: 10_000, request_timeout: 30_000 });
    const set = loadDeployConfigText(`status_listen: "[::1]:8788"\nconnections: { max: 50, per_address: 500, headers_timeout: 2s }\n${MINIMAL}`, 'deploy.yml');
    expect(set.ok && set.config.status_listen).toEqual({ host: '::1', port: 8788 });
    expect(set.ok && set.config.connections).toEqual({ max: 50, per_address: 500, headers_timeout: 2000, request_timeout: 30_000 });
    expect(errorsOf(`status_listen: nowhere\n${MINIMAL}`)).toEqual(['deploy.yml:1:16 status_listen: expected host:port, like "127.0.0.1:8787", got "nowhere"']);
    expect(errorsOf(`connections: { max: 0, per_address: 0, request_timeout: 1h }\n${MINIMAL}`)).toHaveLength(3);
  });

  it('keeps URL and scp-style remotes as written', () => {
    for (const remote of ['https://github.com/octo/app.git', 'git@github.com:octo/app.git', '/abs/trunk']) {
      const r = loadDeployConfigText(MINIMAL.replace('./trunk', remote), '/srv/deploy.yml');
      expect(r.ok && r.config.repositories['octo/app'].remote).toBe(remote);
    }
  });

  it('reports every mistake with FILE:LINE:COLUMN key: message and "did you mean"', () => {
    const errors = errorsOf(`listen: nowhere
repositories:
  octo/app:
    remote: ./trunk
    deploy: ./deploy/start.sh
    helth: {}
    health: { url: "http://127.0.0.1:\${PORT}/healthz", interval: 2x, failures: 0 }
    ports: 9100-9000
    keep: two
`);
    expect(errors).toEqual([
      'deploy.yml:1:9 listen: expected host:port, like "127.0.0.1:8787", got "nowhere"',
      'deploy.yml:6:5 repositories.octo/app.helth: unknown key; did you mean "health"? (allowed: remote, branch, deploy, ports, health, signals, cutoff, stop, keep, logs, reconcile, env, github)',
      'deploy.yml:7:66 repositories.octo/app.health.interval: expected a duration like "30s", "500ms", "5m" or "2h", got "2x"',
      'deploy.yml:7:80 repositories.octo/app.health.failures: expected a positive integer, got 0',
      'deploy.yml:8:12 repositories.octo/app.ports: expected a port range like "9000-9099" (1–65535, low-high), got "9100-9000"',
      'deploy.yml:9:11 repositories.octo/app.keep: expected a positive integer, got "two"',
    ]);
  });

  it('needs exactly one of health.url and health.command, and a repository name owner/name', () => {
    expect(errorsOf(MINIMAL.replace('url: "http://127.0.0.1:${PORT}/healthz"', 'interval: 1s'))).toEqual(['deploy.yml:5:13 repositories.octo/app.health: give exactly one of url or command']);
    expect(errorsOf(MINIMAL.replace('octo/app', 'app'))[0]).toMatch(/^deploy\.yml:3:5 repositories\.app: expected a repository name "owner\/name"/);
    expect(errorsOf('repositoris: {}\n')).toContain('deploy.yml:1:1 repositoris: unknown key; did you mean "repositories"? (allowed: listen, status_listen, connections, public_url, secret_env, state, workdir, cgroup, repositories)');
  });

  it('reads cgroup: auto by default, off, or an absolute path; refuses anything else', () => {
    const cgroupOf = (line: string) => {
      const r = loadDeployConfigText(`${line}\n${MINIMAL}`, 'deploy.yml');
      return r.ok ? r.config.cgroup : r.errors.map((e) => e.message);
    };
    expect([cgroupOf(''), cgroupOf('cgroup: off'), cgroupOf('cgroup: /sys/fs/cgroup/deploy')]).toEqual(['auto', 'off', '/sys/fs/cgroup/deploy']);
    expect(cgroupOf('cgroup: sys/fs/cgroup')).toEqual(['expected auto, off, or the absolute path of a cgroup v2 directory, got "sys/fs/cgroup"']);
  });

  it('reads env: (literals and { from: VARIABLE }) and refuses one naming a secret of the trigger or a revision variable', () => {
    const withEnv = (env: string, top = '') => `${top}repositories:
  octo/app:
    remote: ./trunk
    deploy: ./deploy/start.sh
    health: { url: "http://127.0.0.1:\${PORT}/healthz" }
    github: { token_env: DEPLOY_TOKEN }
    env: ${env}
`;
    const r = loadDeployConfigText(withEnv('{ NODE_ENV: production, DATABASE_URL: { from: APP_DATABASE_URL } }'), 'deploy.yml');
    expect(r.ok && r.config.repositories['octo/app'].env).toEqual({ NODE_ENV: 'production', DATABASE_URL: { from: 'APP_DATABASE_URL' } });
    expect(errorsOf(withEnv('{ TRUNK_WEBHOOK_SECRET: x, TOKEN: { from: DEPLOY_TOKEN } }'))).toEqual([
      'deploy.yml:7:34 repositories.octo/app.env.TRUNK_WEBHOOK_SECRET: TRUNK_WEBHOOK_SECRET is the webhook secret (secret_env): a revision never gets it',
      'deploy.yml:7:52 repositories.octo/app.env.TOKEN.from: DEPLOY_TOKEN is the GitHub token (github.token_env of octo/app): a revision never gets it',
    ]);
    expect(errorsOf(withEnv('{ HOOK: { from: HOOK_SECRET } }', 'secret_env: HOOK_SECRET\n'))).toEqual([
      'deploy.yml:8:26 repositories.octo/app.env.HOOK.from: HOOK_SECRET is the webhook secret (secret_env): a revision never gets it',
    ]);
    expect(errorsOf(withEnv('{ PORT: "80", 1X: y }'))).toEqual([
      'deploy.yml:7:18 repositories.octo/app.env.PORT: PORT is set by the trigger for each revision',
      'deploy.yml:7:28 repositories.octo/app.env.1X: expected the name of an environment variable, got "1X"',
    ]);
    expect(errorsOf(withEnv('{ Z: { form: Q } }'))).toEqual(['deploy.yml:7:15 repositories.octo/app.env.Z: expected a value (a string) or { from: VARIABLE }, got a mapping']);
  });

  describe('bounds every duration (a tiny one floods, a huge one overflows Node\'s timers to 1 ms)', () => {
    // key, where it sits in the text below, its bounds, a value just outside each bound.
    const BOUNDS = [
      { key: 'health.interval', line: 5, min: '100ms', max: '1h', below: '99ms', above: '3600001ms' },
      { key: 'health.timeout', line: 5, min: '100ms', max: '5m', below: '0.6ms', above: '301s' },
      { key: 'health.startup', line: 5, min: '1s', max: '1h', below: '999ms', above: '61m' },
      { key: 'signals.window', line: 6, min: '1s', max: '24h', below: '999ms', above: '1441m' },
      { key: 'reconcile', line: 7, min: '1s', max: '24h', below: '500ms', above: '720h' },
    ];
    const withDurations = (d: Record<string, string>) => `repositories:
  octo/app:
    remote: ./trunk
    deploy: ./deploy/start.sh
    health: { url: "http://127.0.0.1:\${PORT}/healthz", interval: ${d['health.interval'] ?? '2s'}, timeout: ${d['health.timeout'] ?? '1s'}, startup: ${d['health.startup'] ?? '60s'} }
    signals: { window: ${d['signals.window'] ?? '60s'} }
    reconcile: ${d.reconcile ?? '60s'}
`;

    it.each(BOUNDS)('$key: refuses a value below $min or above $max, naming the key, its place and the bounds', ({ key, line, min, max, below, above }) => {
      for (const value of [below, above]) {
        const text = withDurations({ [key]: value });
        const column = text.split('\n')[line - 1].indexOf(value) + 1;
        expect(errorsOf(text)).toEqual([`deploy.yml:${line}:${column} repositories.octo/app.${key}: expected a duration from ${min} to ${max}, got "${value}"`]);
      }
    });

    it.each(BOUNDS)('$key: accepts $min and $max themselves', ({ key, min, max }) => {
      for (const value of [min, max]) {
        const r = loadDeployConfigText(withDurations({ [key]: value }), 'deploy.yml');
        expect(r.ok ? 'ok' : r.errors.map(formatPolicyError)).toBe('ok');
        if (!r.ok) continue;
        const app = r.config.repositories['octo/app'];
        const got = { 'health.interval': app.health.interval, 'health.timeout': app.health.timeout, 'health.startup': app.health.startup, 'signals.window': app.signals.window, reconcile: app.reconcile }[key];
        expect(got).toBe(parseDuration(value));
      }
    });
  });

  it('reads logs: { max_bytes, keep, max_rate, rate_window } (default 10MB, 2, 1MB/s, 60s) and refuses a size under 1KB or without a unit it knows', () => {
    const logsOf = (logs: string) => {
      const r = loadDeployConfigText(`${MINIMAL}    logs: ${logs}\n`, 'deploy.yml');
      return r.ok ? r.config.repositories['octo/app'].logs : r.errors.map(formatPolicyError);
    };
    const rates = { max_rate: 1024 * 1024, rate_window: 60_000 };
    expect(logsOf('{}')).toEqual({ max_bytes: 10 * 1024 * 1024, keep: 2, ...rates });
    expect(logsOf('{ max_bytes: 64KB, keep: 0 }')).toEqual({ max_bytes: 65536, keep: 0, ...rates });
    expect(logsOf('{ max_bytes: 2048 }')).toEqual({ max_bytes: 2048, keep: 2, ...rates });
    expect(logsOf('{ max_bytes: 10 }')).toEqual(['deploy.yml:6:24 repositories.octo/app.logs.max_bytes: expected a size of at least 1KB such as "10MB", got 10']);
    expect(logsOf('{ max_bytes: 5XB }')).toEqual(['deploy.yml:6:24 repositories.octo/app.logs.max_bytes: expected a size of at least 1KB such as "10MB", got "5XB"']);
  });

  it('reads logs.max_rate (per second, or off) and rate_window within their bounds, and names the bounds when refused', () => {
    const logsOf = (logs: string) => {
      const r = loadDeployConfigText(`${MINIMAL}    logs: ${logs}\n`, 'deploy.yml');
      return r.ok ? [r.config.repositories['octo/app'].logs.max_rate, r.config.repositories['octo/app'].logs.rate_window] : r.errors.map(formatPolicyError);
    };
    expect(logsOf('{ max_rate: 64KB/s, rate_window: 2s }')).toEqual([65536, 2000]);
    expect(logsOf('{ max_rate: 1GB/s }')).toEqual([1024 ** 3, 60_000]);
    expect(logsOf('{ max_rate: 4096 }')).toEqual([4096, 60_000]);
    expect(logsOf('{ max_rate: off }')).toEqual([null, 60_000]);
    expect(logsOf('{ max_rate: 512B/s }')).toEqual(['deploy.yml:6:23 repositories.octo/app.logs.max_rate: expected a rate from 1KB/s to 1GB/s such as "1MB/s", or off, got "512B/s"']);
    expect(logsOf('{ max_rate: 2GB/s }')).toEqual(['deploy.yml:6:23 repositories.octo/app.logs.max_rate: expected a rate from 1KB/s to 1GB/s such as "1MB/s", or off, got "2GB/s"']);
    expect(logsOf('{ max_rate: fast }')).toEqual(['deploy.yml:6:23 repositories.octo/app.logs.max_rate: expected a rate from 1KB/s to 1GB/s such as "1MB/s", or off, got "fast"']);
    expect(logsOf('{ rate_window: 1h }')).toEqual(['deploy.yml:6:26 repositories.octo/app.logs.rate_window: expected a duration from 1s to 10m, got "1h"']);
  });

  it('reads durations in ms, s, m and h', () => {
    expect(['150ms', '2s', '1.5s', '5m', '1h', '2 s', '-1s', '2'].map(parseDuration)).toEqual([150, 2000, 1500, 300_000, 3_600_000, null, null, null]);
  });
});

describe('merge-gate deploy-trigger validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-deploy-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on a valid file and 2 with positioned errors on a bad one', () => {
    writeFileSync(join(dir, 'good.yml'), MINIMAL);
    writeFileSync(join(dir, 'bad.yml'), MINIMAL.replace('deploy:', 'deplo:'));
    const good = runCli(['deploy-trigger', 'validate', 'good.yml'], dir);
    expect([good.code, good.stdout.trim()]).toEqual([0, 'good.yml: valid (1 repository)']);
    const bad = runCli(['deploy-trigger', 'validate', 'bad.yml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.yml:4:5 repositories.octo/app.deplo: unknown key; did you mean "deploy"?');
    // A missing key points at the mapping that lacks it.
    expect(bad.stderr).toContain('bad.yml:2:3 repositories.octo/app.deploy: expected a command (a string), got nothing');
  });

  it('validates the example shipped with the sample service', () => {
    const r = runCli(['deploy-trigger', 'validate', 'examples/service/deploy.yml']);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });
});
