// Issue 18: a revision's health, cutoff and stop commands ran outside its
// cgroup, so what they started (a daemon, a `setsid` child) escaped the kill
// that stops the revision. They now run in the revision's cgroup. Real
// processes, real cgroups where the machine lets the trigger create them;
// the trigger runs in this process.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, isAlive, itReporting, killGroups, land, makeTrunk, signalToken, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';
import { cgroupParent, cgroupPids } from '../../src/deploy/cgroup.js';
import { runCommand } from '../../src/deploy/processes.js';

/**
 * `sh deploy/daemon.sh KIND`: once per checkout and kind, starts a process in a session of its own (out of the
 * command's process group) that outlives the command, and waits until its PID is in `$CHECKOUT.KIND`.
 */
const DAEMON = `#!/bin/sh
[ -e "$CHECKOUT.$1.started" ] && exit 0
: > "$CHECKOUT.$1.started"
setsid sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0"; exec sleep 3600' "$CHECKOUT.$1" </dev/null >/dev/null 2>&1 &
while [ ! -s "$CHECKOUT.$1" ]; do sleep 0.05; done
`;

const cgroups = cgroupParent('auto');
const REPOSITORY = 'octo/app';

describe("a revision's health, cutoff and stop commands", () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  let t: TestTrigger | null = null;
  const daemons = new Set<number>();
  const it = itReporting(() => t?.report() ?? '');

  beforeEach(() => {
    trunk = makeTrunk();
  });

  afterEach(async () => {
    await t?.trigger.stop().catch(() => {});
    t = null;
    killGroups(daemons); // each leads its own session
    daemons.clear();
    setup?.remove();
    trunk.remove();
  });

  (cgroups.ok ? describe : describe.skip)(`with cgroup v2 (here: ${cgroups.ok ? cgroups.path : cgroups.reason})`, () => {
    it('run in the revision’s cgroup: what they start is stopped with the revision (reaped, cut off)', async () => {
      const c1 = trunk.commit('daemons from every command', { 'deploy/daemon.sh': DAEMON });
      setup = writeConfig({
        remote: trunk.dir,
        health: '{ command: "sh deploy/daemon.sh health && grep -qx healthy behaviour.txt", interval: 100ms, timeout: 10s, failures: 3, startup: 60s }',
        signals: '{ max: 3, window: 60s }',
        keep: 1,
        extra: '    cutoff: sh deploy/daemon.sh cutoff\n    stop: sh deploy/daemon.sh stop',
      });
      t = testTrigger(setup.config);
      const trigger = t.trigger;
      const url = await trigger.start();
      /** The daemon a command of this run started, once its PID is written; it must be in the run's cgroup. */
      const daemonOf = async (slot: { dir: string; cgroup: string | null }, kind: string) => {
        const pid = await waitFor(`the ${kind} command's daemon`, () => (existsSync(`${slot.dir}.${kind}`) ? Number(readFileSync(`${slot.dir}.${kind}`, 'utf8')) : 0));
        daemons.add(pid);
        return pid;
      };
      const healthy = async (sha: string) => {
        await waitFor(`${sha.slice(0, 12)} healthy`, () => trigger.store.revision(REPOSITORY, sha)?.state === 'healthy');
        const slot = trigger.store.slot(REPOSITORY, sha)!;
        expect(slot.cgroup).toBeTruthy();
        return slot;
      };

      const slot1 = await healthy(c1);
      const health1 = await daemonOf(slot1, 'health');
      expect(cgroupPids(slot1.cgroup!)).toContain(health1);

      // keep: 1 → c2 healthy reaps c1 through its stop command.
      const c2 = land(trunk, 'healthy');
      await announce(url, c2);
      const slot2 = await healthy(c2);
      const health2 = await daemonOf(slot2, 'health');
      expect(cgroupPids(slot2.cgroup!)).toContain(health2);
      await waitFor('c1 reaped', () => trigger.store.revision(REPOSITORY, c1)?.state === 'reaped' && trigger.store.slot(REPOSITORY, c1) === null);
      const stop1 = await daemonOf(slot1, 'stop');
      await waitFor("c1's health and stop daemons gone with it", () => !isAlive(health1) && !isAlive(stop1), 15_000);
      expect(existsSync(slot1.cgroup!)).toBe(false);

      // Its own error reports cut c2 off, through its cutoff command.
      const token = signalToken(slot2.pid!);
      for (let i = 0; i < 4; i++) await fetch(`${url}/signals/${c2}?token=${token}`, { method: 'POST', body: 'failing' });
      await waitFor('c2 cut off', () => trigger.store.revision(REPOSITORY, c2)?.state === 'bad' && trigger.store.slot(REPOSITORY, c2) === null);
      const cutoff2 = await daemonOf(slot2, 'cutoff');
      await waitFor("c2's health and cutoff daemons gone with it", () => !isAlive(health2) && !isAlive(cutoff2), 15_000);
      expect(existsSync(slot2.cgroup!)).toBe(false);
    });
  });

  it('fail, saying so, when the cgroup cannot be joined; the command does not run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-gate-command-'));
    try {
      const result = await runCommand('touch ran', dir, { PATH: process.env.PATH ?? '' }, 5000, { cgroup: join(dir, 'no-such-cgroup') });
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(/^exit 125: .*merge-gate: could not join the cgroup .*no-such-cgroup$/);
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
