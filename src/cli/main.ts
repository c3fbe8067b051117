// The command line: translate arguments into one command and its exit code.
import { policyJsonSchema } from '../policy/schema.js';
import { USAGE, type Io } from './io.js';
import { validateCommand } from './validate.js';
import { checkCommand } from './check.js';
import { deployTriggerCommand } from '../deploy/cli.js';

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
    case 'validate':
      return validateCommand(rest, io);
    case 'schema':
      if (rest.length > 0) return io.usage('schema takes no arguments');
      io.out(JSON.stringify(policyJsonSchema(), null, 2));
      return 0;
    case 'check':
      return checkCommand(rest, io);
    case 'deploy-trigger':
      return deployTriggerCommand(rest, io);
    default:
      return io.usage(`unknown command ${JSON.stringify(command)}`);
  }
}
