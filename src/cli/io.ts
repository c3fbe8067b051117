import { escapeControls } from '../escape.js';

/** Where a command writes, so tests can run commands in-process. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Print a usage error and return exit code 2. */
  usage(message: string): number;
  cwd: string;
}

export const USAGE = `merge-gate — gate and land pull requests for continuous deployment

Usage:
  merge-gate check [--base REF] [--policy FILE] [--now ISO] [--approvals N]
                   [--changes-requested N] [--label L]... [--check NAME=STATE]...
                   [--deployment STATE] [--json]
      Evaluate the current branch of a local git repository against the policy.
      Exit 0 pass, 1 fail, 3 wait, 2 usage or policy error.
  merge-gate validate [FILE]
      Check a policy file (default .github/merge-gate.yml). Exit 0 valid, 2 errors.
  merge-gate schema
      Print the JSON Schema of the policy file.
  merge-gate deploy-trigger [--config deploy.yml] | validate FILE | retry SHA
      Run the deploy trigger, check its config, or let a bad revision deploy again.
  merge-gate --help
`;

export function processIo(): Io {
  // A last guard: whatever a command prints, no escape sequence reaches the terminal (line breaks and tabs stay).
  const safe = (line: string) => `${escapeControls(line, '\n\t')}\n`;
  const io: Io = {
    out: (line) => process.stdout.write(safe(line)),
    err: (line) => process.stderr.write(safe(line)),
    usage: (message) => {
      io.err(`merge-gate: ${message}\n\n${USAGE}`);
      return 2;
    },
    cwd: process.cwd(),
  };
  return io;
}
