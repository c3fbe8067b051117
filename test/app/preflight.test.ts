import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileProblem, startProblem } from '../../src/preflight.js';
import { compiled } from '../helpers/compiled.js';


function preflight(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PRIVATE_KEY' && k !== 'PRIVATE_KEY_PATH'));
  return spawnSync(process.execPath, [compiled('src/preflight.js')], { env: { ...clean, NODE_OPTIONS: '', ...env }, encoding: 'utf8' });
}

describe('npm start preflight: a missing key file is one line, not a stack trace', () => {
  it('names the variable, the path and what is wrong, and exits 1', () => {
    const run = preflight({ PRIVATE_KEY_PATH: '/nonexistent/app.pem' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('merge-gate: PRIVATE_KEY_PATH="/nonexistent/app.pem": no such file. Point it at the GitHub App\'s private key (.pem), or set PRIVATE_KEY instead.');
  });

  it('lets Probot start with a readable key file, a key in the environment, or none at all (its setup page)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-gate-key-'));
    try {
      writeFileSync(join(dir, 'app.pem'), 'not checked here: Probot reads it');
      const envs: Record<string, string>[] = [{ PRIVATE_KEY_PATH: join(dir, 'app.pem') }, { PRIVATE_KEY: 'x', PRIVATE_KEY_PATH: '/nonexistent' }, {}];
      for (const env of envs) {
        const run = preflight(env);
        expect({ env, status: run.status, stderr: run.stderr }).toEqual({ env, status: 0, stderr: '' });
      }
      expect(startProblem({ PRIVATE_KEY_PATH: dir }, fileProblem)).toMatch(/is a directory, not a key file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
