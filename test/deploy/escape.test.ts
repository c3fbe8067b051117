// Issue 18 item 5: a service that leaves its process group (`setsid`, a
// daemonising script) outlived cut-off, reaping, stop and adoption. With
// cgroup v2 each revision runs in a cgroup of its own and its stop kills the
// cgroup; without, the escaped service's port is never handed out again while
// it is bound, and the log says why. Also: adoption kills what is left of a
// recorded process group whose leader is gone (killOrphanGroup). Real
// processes, real ports on 127.0.0.1; the trigger runs in this process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from '../helpers/git-repo.js';
import { announce, isAlive, itReporting, killGroups, land, makeTrunk, serviceRevision, signalToken, testTrigger, waitFor, writeConfig, type TestTrigger } from '../helpers/deploy.js';
import { cgroupParent } from '../../src/deploy/cgroup.js';

/** Starts the service in a session of its own (out of the revision's process group), then waits on nothing of it. */
const DAEMONISES = `#!/bin/sh
setsid sh -c 'echo $$ > "$CHECKOUT.daemon"; exec node server.mjs' </dev/null >/dev/null 2>&1 &
exec sleep 3600
`;

const cgroups = cgroupParent('auto');
const REPOSITORY = 'octo/app';

/** The process group of a live process (field 5 of /proc/<pid>/stat), or null. */
function pgid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/** The live members of a process group. */
const members = (group: number) => readdirSync('/proc').filter((f) => /^\d+$/.test(f) && pgid(Number(f)) === group).map(Number);

describe('a service that leaves its process group', () => {
  let trunk: TempRepo;
  let setup: ReturnType<typeof writeConfig>;
  const triggers: TestTrigger[] = [];
  const pids = new Set<number>();
  const it = itReporting(() => triggers.map((t, i) => `[trigger ${i + 1}]\n${t.report()}`).join('\n'));

  /** Every daemon a revision started (each wrote its PID beside its checkout). */
  const daemons = () => {
    const dir = join(setup.config.workdir, 'octo__app');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.daemon')).map((f) => Number(readFileSync(join(dir, f), 'utf8'))) : [];
  };

  function start(top = '', stopServicesOnExit = true): TestTrigger {
    setup = writeConfig({ remote: trunk.dir, signals: '{ max: 3, window: 60s }', top });
    const t = testTrigger(setup.config, { stopServicesOnExit });
    triggers.push(t);
    return t;
  }
  const again = (stopServicesOnExit = true) => {
    const t = testTrigger(setup.config, { stopServicesOnExit });
    triggers.push(t);
    return t;
  };

  const healthy = async (t: TestTrigger, sha: string) => {
    await waitFor(`${sha.slice(0, 12)} healthy`, () => t.trigger.store.revision(REPOSITORY, sha)?.state === 'healthy');
    const slot = t.trigger.store.slot(REPOSITORY, sha)!;
    pids.add(slot.pid!);
    return slot;
  };

  /** Its own error reports, over `signals.max`: the breaker cuts it off. */
  const cutOff = async (t: TestTrigger, sha: string, leader: number) => {
    const token = signalToken(leader);
    for (let i = 0; i < 4; i++) await fetch(`${t.trigger.url}/signals/${sha}?token=${token}`, { method: 'POST', body: 'failing' });
    await waitFor(`${sha.slice(0, 12)} cut off`, () => t.trigger.store.revision(REPOSITORY, sha)?.state === 'bad');
  };

  beforeEach(() => {
    trunk = makeTrunk();
  });

  afterEach(async () => {
    for (const t of triggers.splice(0)) await t.trigger.stop().catch(() => {});
    killGroups([...pids, ...daemons()]);
    pids.clear();
    setup.remove();
    trunk.remove();
  });

  (cgroups.ok ? describe : describe.skip)(`with cgroup v2 (here: ${cgroups.ok ? cgroups.path : cgroups.reason})`, () => {
    it('is stopped with its revision when it is cut off: its cgroup is killed and removed', async () => {
      const sha = trunk.commit('daemonises', { 'deploy/start.sh': DAEMONISES });
      const t = start();
      await t.trigger.start();
      const slot = await healthy(t, sha);
      const daemon = await waitFor('the daemon', () => daemons()[0]);
      expect(pgid(daemon)).not.toBe(slot.pid); // it did leave the revision's process group
      expect(await serviceRevision(slot.port)).toBe(sha);

      await cutOff(t, sha, slot.pid!);
      await waitFor('the daemon gone', () => !isAlive(daemon), 15_000);
      expect(await serviceRevision(slot.port)).toBeNull();
      expect(slot.cgroup && existsSync(slot.cgroup)).toBe(false);
    });

    it('is killed at adoption after a restart when the revision it came from is gone (its cgroup is in the state)', async () => {
      const sha = trunk.commit('daemonises', { 'deploy/start.sh': DAEMONISES });
      const first = start('', false);
      await first.trigger.start();
      const slot = await healthy(first, sha);
      const daemon = await waitFor('the daemon', () => daemons()[0]);
      expect(slot.cgroup).toBeTruthy();
      await first.trigger.stop(); // the services keep serving
      killGroups([slot.pid!]); // the revision's process group dies while the trigger is down; the daemon does not
      await waitFor('the process group gone', () => !isAlive(slot.pid!));
      expect(isAlive(daemon)).toBe(true);

      const second = again();
      await second.trigger.start();
      await waitFor('the daemon killed at adoption', () => !isAlive(daemon), 15_000);
      expect(second.log.join('\n')).not.toContain(`adopted ${sha}`);
    });
  });

  describe('without cgroups (cgroup: off)', () => {
    it('never hands the port of a service that outlived its revision to another, and says why', async () => {
      const daemonised = trunk.commit('daemonises', { 'deploy/start.sh': DAEMONISES });
      const t = start('cgroup: off');
      await t.trigger.start();
      const slot = await healthy(t, daemonised);
      const daemon = await waitFor('the daemon', () => daemons()[0]);
      await cutOff(t, daemonised, slot.pid!);
      await waitFor('its process group stopped', () => !isAlive(slot.pid!));
      // The documented limit: the daemon outlives its revision. Its port stays its own.
      expect(isAlive(daemon)).toBe(true);
      await waitFor('the log says the port is still in use', () => t.log.some((l) => l.includes(`port ${slot.port} of ${daemonised} is still in use after its process group was stopped`)));

      trunk.commit('an ordinary start again', { 'deploy/start.sh': '#!/bin/sh\nexec node server.mjs\n' });
      const next = land(trunk, 'healthy');
      await announce(t.trigger.url, next);
      const nextSlot = await healthy(t, next);
      expect(nextSlot.port).not.toBe(slot.port);
      expect(await serviceRevision(slot.port)).toBe(daemonised);
      expect(await serviceRevision(nextSlot.port)).toBe(next);
      if (nextSlot.port > slot.port) expect(t.log.join('\n')).toContain(`port ${slot.port} is in use though no running revision has it`);
      expect(t.log.join('\n')).toContain('no cgroups for revisions (cgroup: off in the config)');
    });

    it('adoption kills what is left of a recorded process group whose leader is gone (killOrphanGroup)', async () => {
      const sha = trunk.git('rev-parse', 'HEAD').trim();
      const first = start('cgroup: off', false);
      await first.trigger.start();
      const slot = await healthy(first, sha);
      await first.trigger.stop(); // the service keeps serving
      // Only the leader (the log writer) dies; the service, a member of its group, still listens on the port.
      const service = members(slot.pid!).filter((pid) => pid !== slot.pid);
      expect(service.length).toBeGreaterThan(0);
      process.kill(slot.pid!, 'SIGKILL');
      await waitFor('the leader gone', () => !existsSync(`/proc/${slot.pid}`));
      expect(await serviceRevision(slot.port)).toBe(sha);

      const second = again();
      await second.trigger.start();
      await waitFor('the orphaned group killed at adoption', () => members(slot.pid!).length === 0, 15_000);
      expect(service.filter(isAlive)).toEqual([]);
      expect(second.log.join('\n')).not.toContain(`adopted ${sha}`);
    });
  });
});
