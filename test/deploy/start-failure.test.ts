// A deploy command that cannot be started at all (a missing directory,
// EAGAIN, EMFILE: Node reports these as the child's 'error' event, not as a
// throw) marks that revision failed with the reason; the trigger keeps running.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type Spawn } from '../../src/deploy/processes.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, itReporting, land, makeTrunk, serviceRevision, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';

describe('startService', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-start-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects with the reason when its directory is missing (and nothing is left to crash the process)', async () => {
    const missing = join(dir, 'gone');
    await expect(startService('exec sleep 5', missing, {}, join(dir, 'out.log'))).rejects.toThrow(`spawn ${process.execPath} ENOENT (its directory ${missing} does not exist)`);
    // The child's 'error' event has been emitted by now; had nobody listened, it would have been thrown.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('a deploy that cannot start', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger;
  const it = itReporting(() => t.report());
  let failures = 1;

  beforeAll(() => {
    trunk = makeTrunk();
    setup = writeConfig({ remote: trunk.dir });
    // The first deploy command fails to start the way Node reports EAGAIN or a
    // vanished directory: no PID, an 'error' event on the next tick (here a real
    // spawn into a directory that does not exist); later ones start for real.
    const flaky: Spawn = ((command: string, args: readonly string[], options: Parameters<typeof spawn>[2]) => {
      // The service starts behind its log writer (processes.ts): Node, which runs `sh -c` in turn.
      if (command === process.execPath && failures > 0) {
        failures--;
        return spawn(command, args, { ...options, cwd: join(setup.dir, 'no-such-directory') });
      }
      return spawn(command, args, options);
    }) as Spawn;
    t = testTrigger(setup.config, { spawn: flaky });
  });

  afterAll(async () => {
    await t.trigger.stop();
    setup.remove();
    trunk.remove();
  });

  it('marks that revision failed with the reason, and deploys the next one', async () => {
    const url = await t.trigger.start();
    const head = trunk.git('rev-parse', 'HEAD').trim();
    await waitFor('the head failed', () => t.trigger.store.revision('octo/app', head)?.state === 'failed');
    expect(t.trigger.store.revision('octo/app', head)!.reason).toBe(`could not start: spawn ${process.execPath} ENOENT`);
    expect(t.trigger.store.slot('octo/app', head)).toBeNull();
    const next = land(trunk, 'healthy');
    expect((await announce(url, next)).status).toBe(202);
    await waitFor('the next revision healthy', () => t.trigger.store.revision('octo/app', next)?.state === 'healthy');
    expect(await serviceRevision(t.trigger.store.slot('octo/app', next)!.port)).toBe(next);
  });
});
