// Revisions are data: they reach commands through the environment only and
// are never interpolated into a shell string.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, runCommand } from '../../src/deploy/processes.js';
import { Mirror } from '../../src/deploy/mirror.js';
import { announce, itReporting, makeTrunk, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

const EVIL = `$(touch pwned-1); \`touch pwned-2\`; touch pwned-3 && echo "$HOME" | touch pwned-4 #'`;

describe('a revision string with shell metacharacters cannot run anything', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-shell-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pwned = () => ['pwned-1', 'pwned-2', 'pwned-3', 'pwned-4'].filter((f) => existsSync(join(dir, f)));

  it('reaches the deploy command as the literal value of REVISION', async () => {
    const log = join(dir, 'out.log');
    const started = await startService('printf "%s" "$REVISION" > seen.txt', dir, { REVISION: EVIL, PORT: '1' }, log);
    expect(await started.exited).toBe('code 0');
    expect(readFileSync(join(dir, 'seen.txt'), 'utf8')).toBe(EVIL);
    const cutoff = await runCommand('printf "%s" "$REVISION" > cutoff.txt', dir, { REVISION: EVIL }, 5000);
    expect(cutoff.ok).toBe(true);
    expect(readFileSync(join(dir, 'cutoff.txt'), 'utf8')).toBe(EVIL);
    expect(pwned()).toEqual([]);
  });

  it('is refused by the mirror before any git command sees it', async () => {
    const mirror = new Mirror(join(dir, 'mirror.git'), dir, 'main');
    await expect(mirror.checkout(EVIL, join(dir, 'x'))).rejects.toThrow('not a revision');
    expect(await mirror.has(EVIL)).toBe(false);
  });

  let t: TestTrigger;
  itReporting(() => t.report())('is refused over HTTP with 400 (not a commit SHA), and nothing is started', async () => {
    const trunk = makeTrunk();
    const setup = writeConfig({ remote: trunk.dir });
    t = testTrigger(setup.config);
    const { trigger } = t;
    try {
      const url = await trigger.start();
      const head = trunk.git('rev-parse', 'HEAD').trim();
      await waitFor('the head deployed', () => trigger.store.revision('octo/app', head)?.state === 'healthy');
      const res = await announce(url, EVIL);
      expect(res.status).toBe(400);
      expect(trigger.store.revisions('octo/app').map((r) => r.sha)).toEqual([head]);
      expect(pwned()).toEqual([]);
      expect(['pwned-1', 'pwned-2', 'pwned-3', 'pwned-4'].filter((f) => existsSync(join(setup.dir, f)))).toEqual([]);
    } finally {
      await trigger.stop();
      setup.remove();
      trunk.remove();
    }
  });
});
