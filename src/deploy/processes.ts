// Child processes of the deploy trigger. Each revision's deploy command runs in
// a process group of its own (detached), so stopping it stops everything it
// started. Revisions, ports and URLs reach commands only through the
// environment; the command text is the operator's, never built from data.
// A command gets exactly the environment it is given (environment.ts builds
// it), never the trigger's own: that holds the webhook secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface Started {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: with the PID, identifies this very process across a restart. */
  startTime: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
}

/** How a process is started: `child_process.spawn`, or a stand-in in a test. */
export type Spawn = typeof spawn;

/** A revision's log: rotated at `maxBytes`, `keep` older files (`log.1` … `log.N`) kept. */
export interface LogCap {
  maxBytes: number;
  keep: number;
}

/**
 * The log writer: the leader of the revision's process group. It joins the
 * revision's cgroup first (when there is one: whatever it starts is then in
 * it, however it daemonises), runs `sh -c COMMAND` (argv: log, maxBytes,
 * keep, cgroup or '', command), writes its output to
 * the log and rotates it at the cap, and ends as the service ended (same code
 * or signal). It is not the trigger, so a service outlives a trigger restart
 * with its log still capped; it writes synchronously, so a service printing
 * faster than the disk takes it blocks on its pipe instead of filling memory.
 * A write that fails (a full disk) is dropped: the service never dies of it.
 */
const LOG_WRITER = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [log, max, keep, cgroup, command] = process.argv.slice(1);
const maxBytes = Number(max), kept = Number(keep);
let fd = fs.openSync(log, 'a');
let size = fs.fstatSync(fd).size;
const rotate = () => {
  fs.closeSync(fd);
  for (let i = kept; i >= 1; i--) try { fs.renameSync(i === 1 ? log : log + '.' + (i - 1), log + '.' + i); } catch {}
  fd = fs.openSync(log, kept === 0 ? 'w' : 'a');
  size = 0;
};
const write = (chunk) => {
  try {
    while (chunk.length > 0) {
      if (size >= maxBytes) rotate();
      const part = chunk.subarray(0, maxBytes - size);
      fs.writeSync(fd, part);
      size += part.length;
      chunk = chunk.subarray(part.length);
    }
  } catch {}
};
if (cgroup) {
  try { fs.writeFileSync(cgroup + '/cgroup.procs', String(process.pid)); }
  catch (err) { write(Buffer.from('merge-gate: could not join the cgroup ' + cgroup + ': ' + err.message + '\\n')); process.exit(125); }
}
process.on('SIGTERM', () => {}); // the group's SIGTERM is for the service; this drains its output, then ends with it
const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.on('data', write);
child.stderr.on('data', write);
child.on('error', (err) => { write(Buffer.from('merge-gate: ' + err.message + '\\n')); process.exit(127); });
child.on('close', (code, signal) => {
  if (!signal) process.exit(code ?? 1);
  process.removeAllListeners('SIGTERM');
  process.kill(process.pid, signal);
});
`;

/**
 * Start `command` (`sh -c`) in `cwd`, in its own process group (and `cgroup`,
 * when given), behind the log writer (its output in `log`, capped). Rejects with the reason when it
 * cannot start: a missing directory, EAGAIN or EMFILE arrive as the child's
 * 'error' event, not as a throw, so that event is listened for first.
 */
export async function startService(
  command: string,
  cwd: string,
  env: Record<string, string>,
  log: string,
  spawnProcess: Spawn = spawn,
  cap: LogCap = { maxBytes: 10 * 1024 * 1024, keep: 2 },
  cgroup: string | null = null,
): Promise<Started> {
  const child: ChildProcess = spawnProcess(process.execPath, ['-e', LOG_WRITER, log, String(cap.maxBytes), String(cap.keep), cgroup ?? '', command], { cwd, env, detached: true, stdio: 'ignore' });
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    void failed.then((err) => resolve(`error ${err.message}`));
  });
  if (child.pid === undefined) {
    const err = await failed;
    throw new Error(`${err.message}${existsSync(cwd) ? '' : ` (its directory ${cwd} does not exist)`}`);
  }
  const pid = child.pid;
  child.unref();
  return { pid, startTime: processStartTime(pid) ?? '', exited };
}

/** The files of a revision's log: the log and its rotated copies. */
export function logFiles(log: string, keep: number): string[] {
  return [log, ...Array.from({ length: keep }, (_, i) => `${log}.${i + 1}`)];
}

/** The start time of a live process, or null when there is none (or only a zombie). */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return null;
  return fields[19] ?? null; // field 22 overall; fields[0] is field 3
}

/**
 * The bytes a log writer has written so far (`wchar` of /proc/<pid>/io): what its revision printed, read in
 * microseconds whatever the service does (no file is opened or scanned, rotation does not matter). Counted
 * from its own start, so Node's start-up reads are not in it. Throws when it cannot be read (not Linux, no
 * task I/O accounting, the process gone).
 */
export function writtenBytes(pid: number): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/io has no wchar`);
  return Number(m[1]);
}

/** Is this the process we recorded (same PID, same start time)? */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime;
}

/** Is any process of the group still there? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGKILL what is left of a recorded group whose leader is gone. Only when no
 * process has the leader's PID at all: while any member of group P lives, the
 * kernel hands out P to no new process, so the group is still the one we
 * started; a live process with that PID and another start time means the PID
 * was reused, and nothing is signalled.
 */
export function killOrphanGroup(pgid: number): void {
  if (existsSync(`/proc/${pgid}`)) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // no such group: nothing left
  }
}

/** SIGTERM the process group, then SIGKILL whatever is left after `graceMs`. */
export async function stopGroup(pgid: number, graceMs: number, wait: (ms: number) => Promise<void>): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // already gone
    }
  };
  if (!groupAlive(pgid)) return;
  signal('SIGTERM');
  for (let waited = 0; waited < graceMs && groupAlive(pgid); waited += 25) await wait(25);
  if (groupAlive(pgid)) signal('SIGKILL');
  for (let waited = 0; waited < 2000 && groupAlive(pgid); waited += 25) await wait(25);
}

export interface CommandResult {
  ok: boolean;
  /** Exit code, signal or timeout, and the end of the output: what a person needs to see. */
  detail: string;
}

/**
 * `sh -c` with the cgroup as `$1` and the command as `$2` (data, never part of the script): the shell moves
 * itself into the cgroup, then becomes the command, so all the command starts is in it from the first fork.
 */
const IN_CGROUP = 'echo $$ > "$1/cgroup.procs" || { echo "merge-gate: could not join the cgroup $1" >&2; exit 125; }; exec /bin/sh -c "$2"';

export interface CommandOptions {
  /** Where its output goes (appended); else the end of it is kept for `detail`. */
  log?: string;
  /** The revision's cgroup (cgroup.ts): what the command starts, even a daemon, is stopped with the revision. */
  cgroup?: string | null;
}

/** Run a short command (`sh -c`) to completion, killing its group after `timeoutMs`. */
export function runCommand(command: string, cwd: string, env: Record<string, string>, timeoutMs: number, { log, cgroup }: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const fd = log ? openSync(log, 'a') : null;
    const argv = cgroup ? ['-c', IN_CGROUP, 'sh', cgroup, command] : ['-c', command];
    const child = spawn('/bin/sh', argv, { cwd, env, detached: true, stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
    if (fd !== null) closeSync(fd);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-300);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    const tail = () => (output.trim() ? `: ${output.trim().split('\n').slice(-2).join(' / ')}` : '');
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: err.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, detail: `timed out after ${timeoutMs}ms` });
      else if (code === 0) resolve({ ok: true, detail: 'exit 0' });
      else resolve({ ok: false, detail: `${signal ? `killed by ${signal}` : `exit ${code}`}${tail()}` });
    });
  });
}
