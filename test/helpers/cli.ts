// Runs the real command line as a child process, from the source compiled afresh (test/helpers/compiled.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiled } from './compiled.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd = ROOT, extraEnv: Record<string, string> = {}): CliRun {
  const env = { ...process.env, NODE_OPTIONS: '', ...extraEnv };
  const result = spawnSync(process.execPath, [compiled('src/cli/index.js'), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking this process (a fake GitHub in it must answer the child); `child` can be killed part way. */
export function startCli(args: string[], cwd = ROOT, extraEnv: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const env = { ...process.env, NODE_OPTIONS: '', ...extraEnv };
  const child = spawn(process.execPath, [compiled('src/cli/index.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}
