// A setting the app cannot start with, through `probot run` in its own process:
// one line naming the variable on stderr and exit 1 — never a stack trace, and
// never a silent spin (Node's recursive mkdir loops forever under /proc).
import { describe, expect, test } from '@jest/globals';
import { startProbotRun, stopProbotRun } from '../helpers/probot-process.js';
import { testPrivateKey } from '../helpers/github-app.js';

/** `probot run` with `env` until it exits (killed after `timeoutMs`): its exit code and everything it wrote. */
async function runUntilExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const run = await startProbotRun({ NODE_ENV: 'production', APP_ID: '1', PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: 's', LOG_LEVEL: 'warn', MERGE_GATE_SCHEDULE_ON_START: 'false', ...env }, { source: true });
  const timer = setTimeout(() => void stopProbotRun(run.child, run.exited), timeoutMs);
  await run.exited;
  clearTimeout(timer);
  return { code: run.child.exitCode, output: run.output() };
}

describe('the app refuses a bad setting at start with one line', () => {
  test.each([
    ['MERGE_GATE_COALESCE_MS', 'abc', 'merge-gate: MERGE_GATE_COALESCE_MS must be a number ≥ 0, got "abc"'],
    ['OUTBOX_MAX_AGE', 'soon', 'merge-gate: OUTBOX_MAX_AGE must be a duration such as 3d, 72h, 90m or 3600s, got "soon"'],
    ['MERGE_SETTLE', '-5m', 'merge-gate: MERGE_SETTLE must be a duration such as 3d, 72h, 90m or 3600s, got "-5m"'],
    ['GITHUB_CLIENT_ID', 'Iv1.half', 'merge-gate: GITHUB_CLIENT_ID is set but GITHUB_CLIENT_SECRET and SESSION_SECRET are not: the pages (/queue) need all three, or none to stay off'],
    ['OUTBOX_PATH', '/proc/merge-gate/outbox.sqlite', `merge-gate: OUTBOX_PATH="/proc/merge-gate/outbox.sqlite": cannot create the folder /proc/merge-gate (ENOENT: no such file or directory, mkdir '/proc/merge-gate')`],
  ])('%s=%s', async (name, value, line) => {
    const { code, output } = await runUntilExit({ [name]: value, OUTBOX_PATH: name === 'OUTBOX_PATH' ? value : ':memory:' });
    expect({ code, output }).toEqual({ code: 1, output: `${line}\n` });
  }, 60_000);
});
