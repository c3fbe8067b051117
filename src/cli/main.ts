// The command line: translate arguments into one command and its exit code.
import { readFileSync } from 'node:fs';
import { policyJsonSchema } from '../policy/schema.js';
import { USAGE, type Io } from './io.js';
import { validateCommand } from './validate.js';
import { checkCommand } from './check.js';
import { replayCommand } from './replay.js';
import { simulateCommand } from './simulate.js';
import { testCommand } from './test.js';
import { deployTriggerCommand } from '../deploy/cli.js';

/** The version in package.json, read next to the code (src/ or lib/). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return io.usage('a command is needed');
    case '--help':
    case '-h':
    case 'help':
      io.out(USAGE);
      return 0;
    case '--version':
    case '-V':
    case 'version':
      io.out(`merge-gate ${version()}`);
      return 0;
    case 'validate':
      return validateCommand(rest, io);
    case 'schema':
      if (rest.length > 0) return io.usage('schema takes no arguments');
      io.out(JSON.stringify(policyJsonSchema(), null, 2));
      return 0;
    case 'check':
      return checkCommand(rest, io);
    case 'replay':
      return replayCommand(rest, io);
    case 'simulate':
      return simulateCommand(rest, io);
    case 'test':
      return testCommand(rest, io);
    case 'deploy-trigger':
      return deployTriggerCommand(rest, io);
    default:
      return io.usage(`unknown command ${JSON.stringify(command)}`);
  }
}
