// A cgroup (v2) per revision, where the machine offers one: a service that
// leaves its process group (`setsid`, a daemonising script) stays in its
// cgroup, so cut-off, reaping, stop and adoption after a restart kill it too.
// Without cgroup v2 (or without the right to create one) the trigger says so
// once, and relies on process groups and on never handing out a bound port.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `cgroup:` in deploy.yml: `auto` (the trigger's own cgroup), `off`, or the absolute path of a parent cgroup directory. */
export type CgroupSetting = string;

export type CgroupParent = { ok: true; path: string } | { ok: false; reason: string };

/** The mount point of the cgroup v2 hierarchy (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid machine), or null. */
export function cgroup2Mount(mountinfo = readOr('/proc/self/mountinfo')): string | null {
  for (const line of mountinfo.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] === 'cgroup2') return unescapeMount(left.split(' ')[4]);
  }
  return null;
}

/** The trigger's own cgroup v2 path (the `0::` line of /proc/self/cgroup), or null. */
export function ownCgroup(procCgroup = readOr('/proc/self/cgroup')): string | null {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : null;
}

/**
 * Where revisions' cgroups go, or why there are none. `auto`: a `merge-gate-deploy` folder in the trigger's
 * own cgroup (under systemd, give the unit `Delegate=yes`). The parent must be a cgroup v2 directory the
 * trigger may create cgroups in, with `cgroup.kill` (Linux 5.14) — else nothing is half-done: no cgroups.
 */
export function cgroupParent(setting: CgroupSetting): CgroupParent {
  if (setting === 'off') return { ok: false, reason: 'cgroup: off in the config' };
  let path = setting;
  if (setting === 'auto') {
    const mount = cgroup2Mount();
    const own = ownCgroup();
    if (mount === null || own === null) return { ok: false, reason: 'this machine has no cgroup v2 hierarchy' };
    path = join(mount, own, 'merge-gate-deploy');
  }
  try {
    if (!existsSync(path)) mkdirSync(path);
    if (!existsSync(join(path, 'cgroup.procs'))) return { ok: false, reason: `${path} is not a cgroup v2 directory` };
    accessSync(path, constants.W_OK);
    // The kernel creates cgroup.kill (5.14+) in every child; a probe cgroup shows whether it is there and writable.
    const probe = join(path, `probe-${randomBytes(4).toString('hex')}`);
    mkdirSync(probe);
    try {
      if (!existsSync(join(probe, 'cgroup.kill'))) return { ok: false, reason: `${path} has no cgroup.kill (Linux 5.14 or later is needed)` };
      accessSync(join(probe, 'cgroup.procs'), constants.W_OK);
    } finally {
      rmdirSync(probe);
    }
    return { ok: true, path };
  } catch (err) {
    return { ok: false, reason: `cannot create cgroups in ${path}: ${(err as Error).message}` };
  }
}

/** A fresh cgroup for one run of a revision (a random suffix: several triggers may share a parent). */
export function createCgroup(parent: string, name: string): string {
  const path = join(parent, `${name}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path);
  return path;
}

/** The PIDs in a cgroup; none when it is gone. Throws when it cannot be read (EMFILE): never "empty" for "unknown". */
export function cgroupPids(path: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(path, 'cgroup.procs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').filter(Boolean).map(Number);
}

function signalAll(path: string, signal: NodeJS.Signals): void {
  for (const pid of cgroupPids(path)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

/** SIGKILL everything in the cgroup: `cgroup.kill` (atomic, forks included), else each PID in `cgroup.procs`. Never throws. */
export function killCgroup(path: string): void {
  try {
    writeFileSync(join(path, 'cgroup.kill'), '1');
  } catch {
    try {
      signalAll(path, 'SIGKILL');
    } catch {
      // unreadable (gone, or no descriptor left): stopCgroup says what is left
    }
  }
}

/**
 * Stop a revision's cgroup: SIGTERM to every process in it (those that left the process group too), SIGKILL
 * what is left after `graceMs`, then remove the cgroup. A cgroup already gone is nothing to do. Resolves
 * with what went wrong (a process that would not die, a cgroup that could not be removed), or null.
 */
export async function stopCgroup(path: string, graceMs: number, wait: (ms: number) => Promise<void>): Promise<string | null> {
  if (!existsSync(path)) return null;
  try {
    signalAll(path, 'SIGTERM');
    for (let waited = 0; waited < graceMs && cgroupPids(path).length > 0; waited += 25) await wait(25);
    for (let waited = 0; waited < 2000 && cgroupPids(path).length > 0; waited += 25) {
      killCgroup(path);
      await wait(25);
    }
    const left = cgroupPids(path);
    if (left.length > 0) return `processes ${left.join(', ')} are still in the cgroup ${path} after SIGKILL`;
    rmdirSync(path);
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    killCgroup(path); // one write, if anything can be written at all
    return `the cgroup ${path} could not be stopped and removed: ${(err as Error).message}`;
  }
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** mountinfo escapes spaces and the like as \040. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
