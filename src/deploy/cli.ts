// `merge-gate deploy-trigger`: run the trigger, check its config, or ask for a retry.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatPolicyError } from '../policy/load.js';
import type { Io } from '../cli/io.js';
import { loadDeployConfigText, type DeployConfig } from './config.js';
import { isSha } from './mirror.js';
import { Store } from './store.js';
import { DeployTrigger } from './trigger.js';

export const DEFAULT_CONFIG_PATH = 'deploy.yml';

export const DEPLOY_USAGE = `Usage:
  merge-gate deploy-trigger [--config deploy.yml] [--stop-services-on-exit]
                                                    run the deploy trigger until SIGTERM; the services keep
                                                    serving (the next start adopts them) unless the flag is given
  merge-gate deploy-trigger validate FILE           check a config file; exit 0 valid, 2 errors
  merge-gate deploy-trigger retry SHA [--config deploy.yml]
                                                    let a bad or failed revision be deployed again`;

function readConfig(file: string, io: Io): DeployConfig | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`merge-gate: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    return null;
  }
  const result = loadDeployConfigText(text, file);
  if (!result.ok) {
    for (const e of result.errors) io.err(formatPolicyError(e));
    return null;
  }
  return result.config;
}

/** Pulls `--config FILE` (or `--config=FILE`) out of the arguments. */
function takeConfig(args: string[]): { config: string; rest: string[] } | { error: string } {
  const rest: string[] = [];
  let config = DEFAULT_CONFIG_PATH;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--config') {
      if (args[i + 1] === undefined) return { error: '--config needs a file' };
      config = args[++i];
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else rest.push(a);
  }
  return { config, rest };
}

export async function deployTriggerCommand(args: string[], io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    io.out(DEPLOY_USAGE);
    return 0;
  }
  if (args[0] === 'validate') {
    if (args.length !== 2) return io.usage('deploy-trigger validate takes one file');
    const config = readConfig(args[1], io);
    if (!config) return 2;
    io.out(`${args[1]}: valid (${Object.keys(config.repositories).length} repositor${Object.keys(config.repositories).length === 1 ? 'y' : 'ies'})`);
    return 0;
  }
  const parsed = takeConfig(args);
  if ('error' in parsed) return io.usage(parsed.error);
  if (parsed.rest[0] === 'retry') {
    const sha = parsed.rest[1];
    if (parsed.rest.length !== 2 || !isSha(sha)) return io.usage('deploy-trigger retry takes one full commit SHA');
    const config = readConfig(parsed.config, io);
    if (!config) return 2;
    const store = new Store(config.state);
    try {
      store.requestRetry(sha, Date.now());
    } finally {
      store.close();
    }
    io.out(`retry of ${sha} requested; the running trigger deploys it again if it is still the desired revision`);
    return 0;
  }
  const stopServicesOnExit = parsed.rest[0] === '--stop-services-on-exit';
  if (stopServicesOnExit) parsed.rest.shift();
  if (parsed.rest.length > 0) return io.usage(`unknown deploy-trigger argument ${JSON.stringify(parsed.rest[0])}`);
  const config = readConfig(parsed.config, io);
  if (!config) return 2;
  let trigger: DeployTrigger;
  try {
    trigger = new DeployTrigger({ config, configFile: resolve(parsed.config), log: (line) => io.err(`${new Date().toISOString()} ${line}`), stopServicesOnExit });
  } catch (err) {
    io.err(`merge-gate: ${(err as Error).message}`);
    return 2;
  }
  try {
    await trigger.start();
  } catch (err) {
    // Nothing was adopted yet (listening comes first): exit, so that a supervisor sees the failure.
    io.err(`merge-gate: the deploy trigger could not start: ${(err as Error).message}`);
    await trigger.stop().catch(() => undefined);
    return 1;
  }
  await new Promise<void>((resolve) => {
    signals.once('SIGTERM', resolve);
    signals.once('SIGINT', resolve);
  });
  io.err(
    `${new Date().toISOString()} stopping: ${stopServicesOnExit ? 'every service this trigger runs is stopped' : 'the services keep serving; the next start adopts them (--stop-services-on-exit stops them)'}`,
  );
  await trigger.stop();
  return 0;
}
